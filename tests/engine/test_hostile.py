"""The attack suite: hostile files, inputs and faults. Each case asserts the exact outcome: a one-line
message naming the file/key/value, nothing run, memory bounded, nothing written or lost."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine import checkpoint as ckpt_mod
from engine.checkpoint import Model, load_checkpoint, save_checkpoint
from engine.config import TrainConfig
from engine.data import cache
from engine.data.idx import read_idx
from engine.data.images import load_image
from engine.data.layouts import open_dataset
from engine.errors import UserError
from engine.training.run import TrainingRun
from tests.conftest import ROOT, write_course_layout
from tests.conftest import main_py as _cli

IS_ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


@pytest.fixture(scope="module")
def good(small_letters, tmp_path_factory):
    """(path of a good checkpoint, its payload as a dict) to mutate."""
    run = TrainingRun(TrainConfig(epochs=1, batch_size=64, hidden=[16]), small_letters)
    run.run()
    path = tmp_path_factory.mktemp("good") / "good.pt"
    save_checkpoint(path, Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history))
    return path, torch.load(path, weights_only=True)


def _variant(good, tmp_path, change) -> Path:
    payload = torch.load(good[0], weights_only=True)
    change(payload)
    path = tmp_path / "bad.pt"
    torch.save(payload, path)
    return path


def _set(*keys, value):
    def change(p):
        d = p
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value(p) if callable(value) else value

    return change


def _laughs():
    x = [0]
    for _ in range(40):
        x = [x, x]  # 2^40 leaves, a few hundred bytes on disk
    return x


MALFORMED = [
    ("class_names=5", _set("class_names", value=5), "'class_names' must be a list of 26"),
    ("class_names short", _set("class_names", value=["A"]), "'class_names' must be a list of 26"),
    ("hyperparameters list", _set("hyperparameters", value=[1, 2]), "'hyperparameters' must be a dictionary"),
    ("hyperparameters str", _set("hyperparameters", value="adam"), "'hyperparameters' must be a dictionary"),
    ("hp lr string", _set("hyperparameters", "lr", value="fast"), "'hyperparameters': learning rate: 'fast'"),
    ("hp optim unknown", _set("hyperparameters", "optim", value="lbfgs"), "optimizer: unknown 'lbfgs'"),
    ("hp batch negative", _set("hyperparameters", "batch_size", value=-3), "batch size: -3"),
    ("n_layers x", _set("configs", "n_layers", value="x"), "'configs.n_layers': 'x'"),
    ("n_layers 2e9", _set("configs", "n_layers", value=2e9), "'configs.n_layers': 2000000000.0"),
    (
        "hidden int n_layers huge",
        _set("configs", value={"norm_size": (32, 32), "output_size": 26, "hidden_size": 64, "n_layers": 2_000_000_000}),
        "'configs.n_layers'",
    ),
    ("norm_size len 1", _set("configs", "norm_size", value=(32,)), "'configs.norm_size': (32,)"),
    ("norm_size len 3", _set("configs", "norm_size", value=(32, 32, 3)), "'configs.norm_size'"),
    ("norm_size negative", _set("configs", "norm_size", value=(-32, 32)), "'configs.norm_size': -32"),
    ("norm_size huge", _set("configs", "norm_size", value=(100000, 100000)), "'configs.norm_size': 100000"),
    ("output_size 1", _set("configs", "output_size", value=1), "'configs.output_size': 1"),
    ("act unknown", _set("configs", "act_type", value="gelu"), "'configs.act_type': 'gelu'"),
    ("configs list", _set("configs", value=[1]), "'configs' must be a dictionary"),
    ("state_dict list", _set("state_dict", value=[1]), "'state_dict' must be a dictionary"),
    ("history 7", _set("history", value=7), "'history': history is not a dictionary"),
    ("history laughs", _set("history", "step_loss", value=lambda p: _laughs()), "'history': history 'step_loss'"),
    ("history lengths", _set("history", "epoch", value=[1, 2, 3]), "'history': history lists"),
    ("history position bad", _set("history", "position", value={"epoch": -1, "step": 2}), "position"),
    ("optimizer state list", _set("optimizer_state", value=[1]), "'optimizer_state' must be a dictionary"),
    (
        "optimizer step inf",
        _set("optimizer_state", "torch", "state", 0, "step", value=torch.tensor(float("inf"))),
        "'optimizer_state': optimizer step",
    ),
    (
        "optimizer buffer shape",
        _set("optimizer_state", "torch", "state", 0, "exp_avg", value=torch.zeros(3)),
        "'optimizer_state': optimizer buffer 'exp_avg' has shape",
    ),
    ("optimizer torch not dict", _set("optimizer_state", "torch", value=5), "not a torch optimizer state"),
    (
        "int64 weights",
        _set("state_dict", "net.0.b", value=torch.zeros(16, dtype=torch.int64)),
        "'state_dict.net.0.b' holds int64 values",
    ),
    (
        "complex weights",
        _set("state_dict", "net.0.b", value=torch.zeros(16, dtype=torch.complex64)),
        "'state_dict.net.0.b' holds complex64",
    ),
    (
        "zero-stride weights",
        _set("state_dict", "net.0.W", value=torch.zeros(1).expand(16, 1024)),
        "'state_dict.net.0.W' is not a plain tensor",
    ),
    (
        "zero-stride giant",
        lambda p: p.update(
            configs={**p["configs"], "hidden_size": [65536, 65536], "n_layers": 3}, state_dict={**p["state_dict"]}
        ),
        "parameters is more than the limit",
    ),
    ("weights not tensor", _set("state_dict", "net.0.W", value=[[1.0]]), "'state_dict.net.0.W' is not a tensor"),
    ("nan weights", _set("state_dict", "net.2.b", value=torch.full((26,), float("nan"))), "NaN or infinite"),
    ("extra tensor", _set("state_dict", "net.9.W", value=torch.zeros(1)), "tensors the configs do not explain"),
    ("dataset not str", _set("dataset", value=[1]), "'dataset' must be a name"),
    ("dataset_record list", _set("dataset_record", value=[1]), "'dataset_record' must be a dictionary"),
    ("laughs in an unknown key", _set("junk", value=lambda p: _laughs()), None),  # ignored, loads
]


@pytest.mark.parametrize("name,change,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_checkpoint_content_is_one_clear_message(good, tmp_path, name, change, message):
    path = _variant(good, tmp_path, change)
    if message is None:
        assert load_checkpoint(path).classes  # unknown keys are never walked
        return
    with pytest.raises(UserError) as exc:
        load_checkpoint(path)
    text = str(exc.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_bit_flipped_weights_fail_the_archive_checksum(good, tmp_path):
    data = bytearray(good[0].read_bytes())
    with zipfile.ZipFile(good[0]) as zf:
        info = next(i for i in zf.infolist() if "/data/" in i.filename)
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 100
    data[offset] ^= 0x10
    path = tmp_path / "flipped.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="checksum mismatch"):
        load_checkpoint(path)


def test_an_inflating_record_is_refused_before_it_is_read(good, tmp_path, monkeypatch):
    monkeypatch.setattr(ckpt_mod, "MAX_FILE_BYTES", 8 * 1024**2)
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\0" * (16 * 1024**2))
    assert path.stat().st_size < 100_000
    with pytest.raises(UserError, match="would unpack to 16,777,216 bytes"):
        load_checkpoint(path)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "empty", "missing", "huge-sparse", "text"])
def test_special_and_wrong_files_as_checkpoint(tmp_path, kind, monkeypatch):
    p = tmp_path / "x.pt"
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "dev-zero":
        p = Path("/dev/zero")
    elif kind == "folder":
        p.mkdir()
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "huge-sparse":
        with open(p, "wb") as fh:
            fh.truncate(ckpt_mod.MAX_FILE_BYTES + 1)
    elif kind == "text":
        p.write_text("hello")
    expected = {
        "fifo": "not a regular file",
        "dev-zero": "not a regular file",
        "folder": "is a folder",
        "empty": "the file is empty",
        "missing": "no such file",
        "huge-sparse": "larger than any checkpoint",
        "text": "not a checkpoint",
    }[kind]
    with pytest.raises(UserError, match=expected):
        load_checkpoint(p)


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


# -- datasets ---------------------------------------------------------------------------------


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


def _write_idx(root, name, arr):
    (root / name).write_bytes(gzip.compress(_idx_bytes(arr.shape, arr.astype(np.uint8).tobytes())))


@pytest.mark.parametrize("case", ["only-test", "3d-labels", "test-size-differs", "labels-count", "one-class"])
def test_idx_folders_that_cannot_train(tmp_path, case):
    x, y = np.zeros((20, 4, 4)), np.arange(20) % 2
    if case != "only-test":
        _write_idx(tmp_path, "train-images-idx3-ubyte.gz", x)
        _write_idx(
            tmp_path,
            "train-labels-idx1-ubyte.gz",
            np.zeros((20, 2, 2))
            if case == "3d-labels"
            else (np.zeros(20) if case == "one-class" else (y[:15] if case == "labels-count" else y)),
        )
    _write_idx(
        tmp_path,
        "t10k-images-idx3-ubyte.gz",
        np.zeros((5, 5, 5)) if case == "test-size-differs" else np.zeros((5, 4, 4)),
    )
    _write_idx(tmp_path, "t10k-labels-idx1-ubyte.gz", np.zeros(5))
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
    _write_idx(tmp_path, "train-images-idx3-ubyte.gz", x)
    _write_idx(tmp_path, "train-labels-idx1-ubyte.gz", np.where(np.arange(30) == 7, 255, y))  # one damaged label
    _write_idx(tmp_path, "t10k-images-idx3-ubyte.gz", np.zeros((5, 4, 4)))
    _write_idx(tmp_path, "t10k-labels-idx1-ubyte.gz", np.arange(5))
    with pytest.raises(UserError, match=r"train-labels-idx1-ubyte.gz: label 255 \(1 image\(s\)\) is far beyond"):
        open_dataset(tmp_path, use_cache=False)
    _write_idx(tmp_path, "train-labels-idx1-ubyte.gz", np.where(y == 3, 4, y))  # no image of class 3
    _write_idx(tmp_path, "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2, 4, 5]))
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


def _folders(root, classes=("a", "b"), n=12):
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n):
            Image.new("L", (8, 8), i * 20).save(root / c / f"{i}.png")
    return root


def test_one_class_folder_dataset_is_refused(tmp_path):
    with pytest.raises(UserError, match="only 1 class .a.; a classifier needs at least 2"):
        open_dataset(_folders(tmp_path / "f", ("a",)))


def test_links_leading_out_of_the_dataset_are_skipped_and_named(tmp_path):
    root = _folders(tmp_path / "f")
    outside = tmp_path / "secret.png"
    Image.new("L", (8, 8)).save(outside)
    (root / "a" / "link.png").symlink_to(outside)
    ds = open_dataset(root, use_cache=False)
    assert any("link.png: points outside" in s for s in ds.skipped)
    assert len(ds.train) + len(ds.val) + len(ds.test) == 24


@pytest.mark.skipif(IS_ROOT, reason="root reads unreadable folders anyway; run as a normal user to check this")
def test_unreadable_class_folder_is_named(tmp_path):
    root = _folders(tmp_path / "f")
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


# -- cache --------------------------------------------------------------------------------------


def test_a_crafted_cache_entry_is_not_trusted(tmp_path):
    root = _folders(tmp_path / "f")
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
    root = _folders(tmp_path / "f")
    for seed in (0, 1, 2):
        open_dataset(root, split_seed=seed)
    assert cache.info()[0] == 1  # one entry, whatever the split seed
    stale = cache.cache_dir() / ".old.123.tmp.npz"
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    other = _folders(tmp_path / "g", ("x", "y", "z"))
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
    open_dataset(_folders(tmp_path / "f"))
    assert list((tmp_path / "cache").iterdir()) == []


# -- saving under faults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        RuntimeError("[enforce fail at inline_container.cc] unexpected pos 123"),
        OSError(28, "No space left on device"),
        KeyboardInterrupt(),
    ],
)
def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp(good, tmp_path, monkeypatch, fault):
    m = load_checkpoint(good[0])
    path = tmp_path / "model.pt"
    save_checkpoint(path, m)
    before = path.read_bytes()

    def broken(obj, fh, *a, **k):
        fh.write(b"partial")
        raise fault

    monkeypatch.setattr(torch, "save", broken)
    if isinstance(fault, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint(path, m)
    else:
        with pytest.raises(UserError, match="model.pt: could not save .*previous file is unchanged"):
            save_checkpoint(path, m)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_a_save_removes_the_temporary_files_of_killed_earlier_saves(good, tmp_path):
    """A writer killed mid-save (kill -9: no cleanup) leaves its hidden temporary file; the next
    save of that checkpoint removes it. A live writer's is left alone."""
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    target = tmp_path / "model.pt"
    stale = tmp_path / f".model.pt.{gone.pid}.k3j2.tmp"
    stale.write_bytes(b"\0" * 1_000_000)
    live = tmp_path / f".model.pt.{os.getppid()}.x9q1.tmp"  # the test runner's parent: alive
    live.write_bytes(b"partial")
    model = load_checkpoint(good[0])
    save_checkpoint(target, model)
    assert target.is_file() and not stale.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name])


def test_checkpoints_get_normal_permissions(good, tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "m.pt"
        save_checkpoint(path, load_checkpoint(good[0]))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# -- the CLI: one line, exit 2, nothing lost ------------------------------------------------------


def _one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--norm-size", "0"], "norm size: 0×0"),
        (["--norm-size", "-5"], "norm size: -5×-5"),
        (["--norm-size", "100000"], "norm size: 100000×100000"),
        (["--hsize", "65536,65536"], "parameters is more than the limit"),
        (["--hsize", "0"], "hidden sizes: 0 must be at least 1"),
        (["--lr", "-1"], "learning rate: -1.0 must be greater than 0"),
        (["--optim", "lbfgs"], "optimizer: unknown 'lbfgs'"),
        (["--preset", "nope"], "invalid choice: 'nope'"),
        (["--val-split", "0.9"], "validation split: 0.9"),
    ],
)
def test_bad_training_values(tmp_path, args, needle):
    root = _folders(tmp_path / "f")
    _one_line_error(_cli("train", "--data", root, "--epochs", "1", *args, limit_gb=6), needle)


def test_a_tiny_checkpoint_declaring_a_giant_layer_stays_in_bounds(good, tmp_path):
    path = _variant(good, tmp_path, _set("state_dict", "net.0.W", value=torch.zeros(1).expand(65536, 65536)))
    _one_line_error(_cli("predict", "--checkpoint", path, "x.png", limit_gb=6), "has shape [65536, 65536]")
    cfg = _variant(good, tmp_path, lambda p: p["configs"].update(hidden_size=[65536, 65536], n_layers=3))
    _one_line_error(_cli("predict", "--checkpoint", cfg, "x.png", limit_gb=6), "parameters is more than the limit")


def test_a_tiny_checkpoint_claiming_a_huge_history_is_refused_before_it_is_read(good, tmp_path):
    """A stride-0 tensor of 10⁸ step losses is bytes on disk and 4.9 GB as a list: the length is
    checked first, so the refusal costs nothing."""
    path = _variant(good, tmp_path, _set("history", "step_loss", value=torch.zeros(1).expand(10**8)))
    _one_line_error(
        _cli("predict", "--checkpoint", path, "x.png", limit_gb=3), "100,000,000 entries in 'step_loss' is more"
    )


def test_an_unwritable_output_is_refused_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = _cli("train", "--data", _folders(tmp_path / "f"), "--epochs", "1", "--out", blocker / "m.pt")
    _one_line_error(r, "is not writable; nothing was trained")
    (tmp_path / "dir.pt").mkdir()
    r = _cli("train", "--data", tmp_path / "f", "--epochs", "1", "--out", tmp_path / "dir.pt")
    _one_line_error(r, "exists and is not a regular file")


def test_a_diverged_run_never_replaces_a_good_checkpoint(tmp_path):
    root = _folders(tmp_path / "f")
    out = tmp_path / "m.pt"
    assert _cli("train", "--data", root, "--epochs", "2", "--out", out).returncode == 0
    before = out.read_bytes()
    r = _cli(
        "train",
        "--data",
        root,
        "--epochs",
        "30",
        "--optim",
        "sgd",
        "--lr",
        "100",
        "--momentum",
        "0.9",
        "--act",
        "identity",
        "--out",
        out,
    )
    assert r.returncode == 1 and "diverged" in r.stderr and "m.recovered.pt" in r.stderr
    assert out.read_bytes() == before
    recovered = load_checkpoint(tmp_path / "m.recovered.pt")
    assert recovered.network.weights_finite()
    p = _cli("predict", "--checkpoint", tmp_path / "m.recovered.pt", root / "a" / "0.png")
    assert p.returncode == 0 and "nan" not in p.stdout


def test_file_names_cannot_split_the_predict_output(good, tmp_path):
    img = tmp_path / "evil\tname\nA\t1.0.png"
    Image.new("L", (32, 32), 128).save(img)
    r = _cli("predict", "--checkpoint", good[0], img)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and lines[0].split("\t")[0].endswith("evil\\tname\\nA\\t1.0.png")
    assert len(lines[0].split("\t")) == 3


def test_unreadable_image_name_with_a_newline_is_one_error_line(good, tmp_path):
    img = tmp_path / "bad\nname.png"
    img.write_text("not an image")
    r = _cli("predict", "--checkpoint", good[0], img)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "bad\\nname.png" in r.stderr


def test_cache_commands(tmp_path):
    env_cache = tmp_path / "c"
    r = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "cache", "info"],
        capture_output=True,
        text=True,
        env={**os.environ, "BACKPROP_STUDIO_CACHE": str(env_cache)},
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0 and "0 dataset(s)" in r.stdout


def test_pickles_with_code_never_run(tmp_path):
    marker = tmp_path / "ran"
    for proto in (2, 4):
        path = tmp_path / f"evil{proto}.pt"

        class Evil:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))

        buf = io.BytesIO()
        torch.save({"state_dict": {}, "x": Evil()}, buf, pickle_protocol=proto)
        path.write_bytes(buf.getvalue())
        with pytest.raises(UserError, match="refused: the file holds Python code or objects"):
            load_checkpoint(path)
    assert not marker.exists()
