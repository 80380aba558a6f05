"""The four data layouts, the cache, and every bad-input message."""

from __future__ import annotations

import gzip
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data import cache
from engine.data import images as images_mod
from engine.data.dataset import LETTERS, Split, assign_splits
from engine.data.idx import read_idx
from engine.data.images import load_image
from engine.data.layouts import open_dataset
from engine.errors import UserError
from tests.conftest import (
    FASHION_DIR,
    LETTERS_DIR,
    class_folders,
    idx_folder,
    noise_folders,
    write_course_layout,
    write_gz_idx,
)


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


@pytest.mark.parametrize("layout", ["course", "folders-flat", "folders-train-only", "idx-with-test", "idx-single"])
def test_the_three_splits_are_disjoint_for_every_layout(tmp_path, layout):
    if layout == "course":
        root = write_course_layout(tmp_path / "c", (30, 10, 10))
    elif layout == "folders-flat":
        root = noise_folders(tmp_path / "f", 40)
    elif layout == "folders-train-only":
        root = noise_folders(tmp_path / "t" / "train", 40).parent
    elif layout == "idx-with-test":
        root = idx_folder(tmp_path / "i")
    else:
        root = idx_folder(tmp_path / "s", with_test=False)
        for name in list(root.iterdir()):
            name.rename(root / name.name.replace("train-", "data-"))
    for split_seed in (0, 5):
        ds = open_dataset(root, norm_size=(8, 8), split_seed=split_seed, val_split=0.2)
        assert len(ds.train) and len(ds.val) and len(ds.test)
        if ds.train.names:  # image files: names identify them
            tr, va, te = set(ds.train.names), set(ds.val.names), set(ds.test.names)
            assert not (tr & va or tr & te or va & te)
            assert len(tr) + len(va) + len(te) == len(ds.train) + len(ds.val) + len(ds.test)
        elif layout == "idx-single":  # carved from one pool: indices of one permutation
            total = len(ds.train) + len(ds.val) + len(ds.test)
            assert total == 300 and len(ds.test) == 30 and len(ds.val) == 60


def test_split_rule_carves_disjoint_index_sets():
    pool = Split(
        np.arange(100, dtype=np.uint8).reshape(100, 1, 1), np.zeros(100, np.int64), [str(i) for i in range(100)]
    )
    for pools in ({"all": pool}, {"train": pool}, {"train": pool, "val": Split(pool.x[:0], pool.y[:0], [])}):
        tr, va, te, _ = assign_splits(pools, 3, 0.2, (1, 1))
        names = [set(s.names) for s in (tr, va, te)]
        assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
        assert sum(map(len, names)) == 100 and len(te) == 10 and len(va) == 20
    a = assign_splits({"all": pool}, 3, 0.2, (1, 1))
    b = assign_splits({"all": pool}, 4, 0.2, (1, 1))
    assert set(a[2].names) != set(b[2].names)  # the split seed decides the split


def test_split_seed_is_separate_from_the_training_seed(tmp_path):
    root = noise_folders(tmp_path / "f", 30)
    a = open_dataset(root, norm_size=(8, 8), split_seed=0)
    b = open_dataset(root, norm_size=(8, 8), split_seed=0)
    assert a.test.names == b.test.names
    assert a.fingerprint == b.fingerprint and a.fingerprint


IS_ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_special_files_as_images(tmp_path, kind):
    p = tmp_path / "x.png"
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "dev-zero":
        p = Path("/dev/zero")
    else:
        p.mkdir()
    with pytest.raises(UserError, match="not a regular file|is a folder"):
        load_image(p, (32, 32))


def _idx_bytes(arr_shape, data: bytes, ndim=None) -> bytes:
    ndim = len(arr_shape) if ndim is None else ndim
    return bytes([0, 0, 8, ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr_shape) + data


@pytest.mark.parametrize(
    "header,data,message",
    [
        ((0, 28, 28), b"", "holds no items"),
        ((5, 0, 28), b"", "are empty"),
        ((2**31, 2**31, 2**31), b"", "too large"),
        ((60000, 4000, 4000), b"", "declares 960,000,000,000 bytes"),
        ((10, 28, 28), b"\0" * 100, "truncated"),
        ((3, 2), b"\0" * 6, "not an unsigned-byte IDX file of 1 or 3 dimensions"),
    ],
)
def test_degenerate_idx_headers(tmp_path, header, data, message):
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(_idx_bytes(header, data))
    with pytest.raises(UserError, match=message):
        read_idx(p)


def test_gzip_idx_is_read_only_as_far_as_its_header_declares(tmp_path):
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(_idx_bytes((2, 2, 2), b"\1" * 8) + b"\0" * 50_000_000))
    assert read_idx(p).shape == (2, 2, 2)  # the 50 MB of trailing zeros were never inflated


@pytest.mark.parametrize("case", ["only-test", "3d-labels", "test-size-differs", "labels-count", "one-class"])
def test_idx_folders_that_cannot_train(tmp_path, case):
    x, y = np.zeros((20, 4, 4)), np.arange(20) % 2
    if case != "only-test":
        write_gz_idx(tmp_path / "train-images-idx3-ubyte.gz", x)
        write_gz_idx(
            tmp_path / "train-labels-idx1-ubyte.gz",
            np.zeros((20, 2, 2))
            if case == "3d-labels"
            else (np.zeros(20) if case == "one-class" else (y[:15] if case == "labels-count" else y)),
        )
    write_gz_idx(
        tmp_path / "t10k-images-idx3-ubyte.gz",
        np.zeros((5, 5, 5)) if case == "test-size-differs" else np.zeros((5, 4, 4)),
    )
    write_gz_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(5))
    message = {
        "only-test": "no train-images-idx3-ubyte",
        "3d-labels": "has 3 dimensions, expected 1",
        "test-size-differs": "test images are 5×5, training images 4×4",
        "labels-count": "15 labels for 20",
        "one-class": "only 1 class",
    }[case]
    with pytest.raises(UserError, match=message):
        open_dataset(tmp_path, use_cache=False)


def test_an_idx_label_far_beyond_the_others_is_refused_and_a_missing_class_is_said(tmp_path):
    x, y = np.zeros((30, 4, 4)), np.arange(30) % 10
    write_gz_idx(tmp_path / "train-images-idx3-ubyte.gz", x)
    write_gz_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.where(np.arange(30) == 7, 255, y))  # one damaged label
    write_gz_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((5, 4, 4)))
    write_gz_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(5))
    with pytest.raises(UserError, match=r"train-labels-idx1-ubyte.gz: label 255 \(1 image\(s\)\) is far beyond"):
        open_dataset(tmp_path, use_cache=False)
    write_gz_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.where(y == 3, 4, y))  # no image of class 3
    write_gz_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2, 4, 5]))
    ds = open_dataset(tmp_path, use_cache=False)
    assert len(ds.classes) == 10 and any("no image has label 3" in n for n in ds.skipped)


@pytest.mark.parametrize(
    "key,message",
    [
        ("../../../../etc/passwd", "points outside"),
        ("/etc/passwd", "absolute path"),
        ("", "is not a file name"),
        ("../train.json", "points outside"),
    ],
)
def test_course_json_keys_may_not_escape_the_folder(tmp_path, key, message):
    root = write_course_layout(tmp_path / "c", (6, 2, 2))
    labels = json.loads((root / "test.json").read_text())
    labels[key] = "A"
    (root / "test.json").write_text(json.dumps(labels))
    with pytest.raises(UserError, match=f"test.json key: .*{message}"):
        open_dataset(root)


def test_course_keys_naming_one_image_many_ways_read_it_once(tmp_path):
    """A label file that names one image under many spellings (and a test key naming a training
    image) reads each image once, keeps it in the split that listed it first, and says so."""
    root = write_course_layout(tmp_path / "c", (6, 2, 2))
    train = json.loads((root / "train.json").read_text())
    first = next(iter(train))
    for i in range(3000):
        train["./" * (i % 60 + 1) + "sub/../" * (i // 60) + first] = "A"
    (root / "train.json").write_text(json.dumps(train))
    test = json.loads((root / "test.json").read_text())
    test["./" + first] = "A"  # a training image in the test split: a leak, kept out
    (root / "test.json").write_text(json.dumps(test))
    (root / "images" / "sub").mkdir()
    ds = open_dataset(root, use_cache=False)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (6, 2, 2)
    notes = [n for n in ds.skipped if "already listed" in n]
    assert notes[0].startswith("train.json: 3,000 key(s) name an image already listed")
    assert notes[1].startswith("test.json: 1 key(s)") and "of train.json" in notes[1]


def test_course_key_naming_a_fifo_is_skipped_not_read(tmp_path):
    root = write_course_layout(tmp_path / "c", (6, 2, 2))
    os.mkfifo(root / "images" / "pipe.png")
    labels = json.loads((root / "train.json").read_text())
    labels["pipe.png"] = "A"
    (root / "train.json").write_text(json.dumps(labels))
    ds = open_dataset(root, use_cache=False)
    assert len(ds.train) == 6 and any("pipe.png: not a regular file" in s for s in ds.skipped)


def test_deeply_nested_json_is_one_line(tmp_path):
    root = write_course_layout(tmp_path / "c", (6, 2, 2))
    (root / "train.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(UserError, match="train.json: (JSON nested too deeply|not valid JSON|expected an object)"):
        open_dataset(root)


def test_one_class_folder_dataset_is_refused(tmp_path):
    with pytest.raises(UserError, match="only 1 class .a.; a classifier needs at least 2"):
        open_dataset(class_folders(tmp_path / "f", ("a",)))


def test_links_leading_out_of_the_dataset_are_skipped_and_named(tmp_path):
    root = class_folders(tmp_path / "f")
    outside = tmp_path / "secret.png"
    Image.new("L", (8, 8)).save(outside)
    (root / "a" / "link.png").symlink_to(outside)
    ds = open_dataset(root, use_cache=False)
    assert any("link.png: points outside" in s for s in ds.skipped)
    assert len(ds.train) + len(ds.val) + len(ds.test) == 24


@pytest.mark.skipif(IS_ROOT, reason="root reads unreadable folders anyway; run as a normal user to check this")
def test_unreadable_class_folder_is_named(tmp_path):
    root = class_folders(tmp_path / "f")
    (root / "b").chmod(0)
    try:
        with pytest.raises(UserError, match="permission denied"):
            open_dataset(root, use_cache=False)
    finally:
        (root / "b").chmod(0o755)


def test_exif_orientation_is_applied(tmp_path):
    a = np.full((40, 20), 255, np.uint8)
    a[:, :5] = 0  # a bar on the left
    rotated = Image.fromarray(np.rot90(a).copy())  # stored sideways…
    exif = Image.Exif()
    exif[0x0112] = 6  # …with "rotate 90° clockwise to display"
    p = tmp_path / "photo.jpg"
    rotated.save(p, exif=exif.tobytes(), quality=100)
    img = load_image(p, (20, 40))
    assert img[:, :4].mean() < 60 and img[:, 10:].mean() > 200  # upright: the bar is on the left again


def test_a_crafted_cache_entry_is_not_trusted(tmp_path):
    root = class_folders(tmp_path / "f")
    ds = open_dataset(root)
    key = f"{ds.fingerprint}-32x32"
    header = {
        "classes": ["a", "b"],
        "norm_size": [32, 32],
        "pools": ["all"],
        "names": {"all": []},
        "counts": {"all": 3},
    }
    np.savez(
        cache.cache_dir() / f"{key}.npz",
        meta=np.frombuffer(json.dumps(header).encode(), np.uint8),
        all_x=np.zeros((3, 32, 32), np.uint8),
        all_y=np.array([0, 7, 1]),
    )
    again = open_dataset(root)  # labels ≥ class count: the entry is ignored and rebuilt
    assert len(again.train) + len(again.val) + len(again.test) == 24 and again.train.y.max() < 2


def test_cache_is_keyed_by_content_only_capped_and_cleaned(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_CACHE", str(tmp_path / "cache"))
    root = class_folders(tmp_path / "f")
    for seed in (0, 1, 2):
        open_dataset(root, split_seed=seed)
    assert cache.info()[0] == 1  # one entry, whatever the split seed
    stale = cache.cache_dir() / ".old.123.tmp.npz"
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    other = class_folders(tmp_path / "g", ("x", "y", "z"))
    monkeypatch.setenv("BACKPROP_STUDIO_CACHE_MAX", "1")
    open_dataset(other)  # over the cap: the least recently used entry goes
    assert cache.info()[0] == 1 and not stale.exists()
    assert cache.clear() == 1 and cache.info() == (0, 0)


def test_a_failing_cache_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_CACHE", str(tmp_path / "cache"))

    def full(*a, **k):
        Path(a[0]).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    open_dataset(class_folders(tmp_path / "f"))
    assert list((tmp_path / "cache").iterdir()) == []
