"""The four data layouts, the cache, and every bad-input message."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
from PIL import Image

from engine.data import images as images_mod
from engine.data.dataset import LETTERS
from engine.data.idx import read_idx
from engine.data.images import load_image
from engine.data.layouts import open_dataset
from engine.errors import UserError
from tests.conftest import FASHION_DIR, LETTERS_DIR, write_course_layout


def test_course_layout(tmp_path):
    root = write_course_layout(tmp_path / "course")
    ds = open_dataset(root)
    assert ds.layout == "course" and ds.classes == LETTERS
    assert (len(ds.train), len(ds.val), len(ds.test)) == (12, 4, 4)
    assert ds.train.x.dtype == np.uint8 and ds.train.x.shape[1:] == (32, 32)
    # lower-case labels map to the same class; images are decoded exactly as prediction does
    assert ds.train.y[2] == LETTERS.index(LETTERS[3 % 26])
    expected = load_image(root / "images" / ds.train.names[0], (32, 32))
    np.testing.assert_array_equal(ds.train.x[0], expected)


def test_cache_makes_a_second_open_decode_nothing(tmp_path, monkeypatch):
    root = write_course_layout(tmp_path / "course")
    first = open_dataset(root)

    def boom(*a, **k):
        raise AssertionError("decoded again")

    monkeypatch.setattr(images_mod, "load_image", boom)
    second = open_dataset(root)
    np.testing.assert_array_equal(first.train.x, second.train.x)
    # a changed file changes the key: the dataset is decoded anew
    Image.new("L", (10, 10), 0).save(root / "images" / first.train.names[0])
    with pytest.raises(AssertionError, match="decoded again"):
        open_dataset(root)


def test_corrupt_image_is_skipped_and_named(tmp_path):
    root = write_course_layout(tmp_path / "course")
    bad = root / "images" / "0002.png"
    bad.write_bytes(bad.read_bytes()[:300])  # truncated mid-data
    ds = open_dataset(root)
    assert len(ds.train) == 11
    assert any("0002.png" in s and "damaged or cut short" in s for s in ds.skipped)


def test_course_layout_bad_label_and_bad_json(tmp_path):
    root = write_course_layout(tmp_path / "course")
    (root / "test.json").write_text('{"0001.png": "7"}')
    with pytest.raises(UserError, match=r"test.json: label '7' of 0001.png is not a letter"):
        open_dataset(root)
    (root / "test.json").write_text("{not json")
    with pytest.raises(UserError, match="test.json: not valid JSON"):
        open_dataset(root)


def _write_idx(path, arr, gz=False):
    header = struct.pack(">HBB", 0, 8, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape)
    raw = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_layout(tmp_path, gz):
    rng = np.random.default_rng(0)
    sfx = ".gz" if gz else ""
    x = rng.integers(0, 256, (50, 28, 28))
    y = rng.integers(0, 10, 50)
    _write_idx(tmp_path / f"train-images-idx3-ubyte{sfx}", x, gz)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{sfx}", y, gz)
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{sfx}", x[:10], gz)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{sfx}", y[:10], gz)
    ds = open_dataset(tmp_path)
    assert ds.layout == "idx" and ds.classes == [str(i) for i in range(10)] and ds.norm_size == (28, 28)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (45, 5, 10)
    # validation is a seeded slice of train, nothing lost or duplicated
    both = np.concatenate([ds.train.x, ds.val.x]).reshape(50, -1)
    assert sorted(map(bytes, both)) == sorted(map(bytes, x.astype(np.uint8).reshape(50, -1)))


def test_idx_single_pair_is_split_80_10_10(tmp_path):
    x = np.zeros((100, 8, 8))
    _write_idx(tmp_path / "train-images-idx3-ubyte", x)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(100) % 3)
    ds = open_dataset(tmp_path)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (80, 10, 10)


def test_truncated_and_malformed_idx_are_named(tmp_path):
    p = tmp_path / "train-images-idx3-ubyte"
    _write_idx(p, np.zeros((10, 28, 28)))
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(UserError, match=r"train-images-idx3-ubyte: truncated: expected 7,840 bytes .* found 7,740"):
        read_idx(p)
    p.write_bytes(b"\x12\x34\x56\x78" + bytes(100))
    with pytest.raises(UserError, match="not an unsigned-byte IDX file"):
        read_idx(p)
    g = tmp_path / "x-idx3-ubyte.gz"
    g.write_bytes(b"not gzip at all")
    with pytest.raises(UserError, match="cannot read"):
        read_idx(g)


def test_idx_label_count_mismatch(tmp_path):
    _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((10, 4, 4)))
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(9))
    with pytest.raises(UserError, match="9 labels for 10 images"):
        open_dataset(tmp_path)


@pytest.mark.parametrize("with_splits", [False, True])
def test_folder_per_class(tmp_path, with_splits):
    rng = np.random.default_rng(0)
    for split in ["train", "val", "test"] if with_splits else [""]:
        for cls in ("cat", "dog"):
            d = tmp_path / split / cls
            d.mkdir(parents=True)
            for i in range(10):
                Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8)).save(d / f"{i}.png")
    (tmp_path / ("train" if with_splits else "") / "cat" / "notes.txt").write_text("not an image")
    ds = open_dataset(tmp_path)
    assert ds.layout == "folders" and ds.classes == ["cat", "dog"]
    total = len(ds.train) + len(ds.val) + len(ds.test)
    assert total == (60 if with_splits else 20)
    assert set(np.unique(ds.train.y)) == {0, 1}


def test_missing_split_folders_are_carved_from_train(tmp_path):
    for cls in ("cat", "dog"):
        d = tmp_path / "train" / cls
        d.mkdir(parents=True)
        for i in range(25):
            Image.new("L", (12, 12), i * 9).save(d / f"{i}.png")
    ds = open_dataset(tmp_path)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (40, 5, 5)
    names = ds.train.names + ds.val.names + ds.test.names
    assert len(set(names)) == 50  # nothing lost or duplicated
    assert not set(ds.val.names) & set(ds.test.names)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(UserError, match="no such file or folder"):
        open_dataset(tmp_path / "nope")
    with pytest.raises(UserError, match="no dataset found"):
        open_dataset(tmp_path)
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(UserError, match="a dataset is a folder"):
        open_dataset(f)


def test_builtin_letters_are_deterministic():
    from engine.data.letters import generate

    a = generate({"train": 2}, seed=1)["train"]
    b = generate({"train": 2}, seed=1)["train"]
    np.testing.assert_array_equal(a.x, b.x)
    assert sorted(np.bincount(a.y)) == [2] * 26
    assert a.x.std() > 20  # real images, not blanks


def test_builtin_letters_never_read_a_system_font(monkeypatch):
    """The same letters on a machine with 10, 3 or no system fonts: only Pillow's own font."""
    from PIL import ImageFont

    from engine.data import letters

    expected = letters.generate({"train": 2}, seed=3)["train"].x
    letters._font.cache_clear()

    real = ImageFont.truetype

    def only_pillows_own(font=None, *a, **k):
        if isinstance(font, (str, os.PathLike)):  # Pillow's own font comes as bytes, never as a path
            raise AssertionError(f"a system font was read: {font}")
        return real(font, *a, **k)

    monkeypatch.setattr(ImageFont, "truetype", only_pillows_own)
    try:
        np.testing.assert_array_equal(letters.generate({"train": 2}, seed=3)["train"].x, expected)
    finally:
        letters._font.cache_clear()


@pytest.mark.skipif(not LETTERS_DIR.exists(), reason=f"the shared letters set is not at {LETTERS_DIR}")
def test_shared_letters_set():
    ds = open_dataset(LETTERS_DIR)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (1200, 400, 400)
    assert ds.classes == LETTERS and not ds.skipped


@pytest.mark.skipif(
    not FASHION_DIR.exists(), reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
)
def test_fashion_mnist_opens():
    ds = open_dataset(FASHION_DIR)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (54000, 6000, 10000)
    assert ds.classes[0] == "T-shirt/top" and ds.norm_size == (28, 28)


def test_a_link_loop_is_read_once_and_a_duplicate_across_splits_is_a_leak(tmp_path):
    """``loop -> .`` inside a class folder turned 24 images into 344 and reported test accuracy
    1.000 in silence; a loop to itself crashed the CLI."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for split, n in (("train", 8), ("test", 4)):
        for c in ("a", "b"):
            d = root / split / c
            d.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(d / f"{split}{i}.png")
    (root / "train" / "a" / "loop").symlink_to(".")
    (root / "train" / "b" / "self").symlink_to(root / "train" / "b" / "self")  # a link to itself
    (root / "train" / "b" / "twin.png").symlink_to(root / "train" / "b" / "train0.png")
    import shutil

    shutil.copy(root / "train" / "a" / "train1.png", root / "test" / "a" / "copied.png")  # the same image
    ds = open_dataset(root, norm_size=(8, 8), use_cache=False)
    assert len(ds.train) + len(ds.val) == 16 and len(ds.test) == 9  # each real file once
    said = " | ".join(ds.skipped)
    assert "already read (a link loop?)" in said and "a link loop or a broken link" in said
    assert "counted once" in said and "1 test image(s) have the same content as a training image" in said
