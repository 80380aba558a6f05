"""Checkpoints: round trips, the course's format both ways, refusal of code, clear errors, atomic saves."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from engine import checkpoint as ckpt_mod
from engine.checkpoint import Model, load_checkpoint, save_checkpoint
from engine.config import TrainConfig
from engine.errors import UserError
from engine.predict import predict_arrays
from engine.training.run import TrainingRun
from tests.conftest import LETTERS_DIR, ROOT, checkpoint_variant, setting
from tests.conftest import main_py as _cli


@pytest.fixture(scope="module")
def trained(small_letters):
    run = TrainingRun(TrainConfig(hidden=[32, 16], epochs=2), small_letters)
    run.run()
    return Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history)


def test_round_trip_predicts_identically(trained, small_letters, tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, trained)
    loaded = load_checkpoint(path)
    x = small_letters.test.x
    np.testing.assert_array_equal(predict_arrays(trained, x), predict_arrays(loaded, x))
    assert loaded.classes == trained.classes and loaded.config == trained.config
    assert loaded.history.val_acc == trained.history.val_acc
    raw = torch.load(path, weights_only=True)
    assert raw["configs"] == {
        "norm_size": (32, 32),
        "output_size": 26,
        "hidden_size": [32, 16],
        "n_layers": 3,
        "act_type": "relu",
    }
    assert list(raw["state_dict"]) == ["net.0.W", "net.0.b", "net.2.W", "net.2.b", "net.4.W", "net.4.b"]
    assert raw["state_dict"]["net.0.W"].shape == (32, 1024)
    assert not [f for f in os.listdir(tmp_path) if f != "m.pt"], "temporary files left behind"


class CourseLinear(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.W = nn.Parameter(torch.randn(o, i) * 0.1)
        self.b = nn.Parameter(torch.randn(o) * 0.1)

    def forward(self, x):
        return x @ self.W.t() + self.b


class CourseMLP(nn.Module):
    """A course-style model: nn.Sequential of Linear / activation, as the course's script builds it."""

    def __init__(self, configs):
        super().__init__()
        sizes = [configs["norm_size"][0] * configs["norm_size"][1], *configs["hidden_size"], configs["output_size"]]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(CourseLinear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.reshape(len(x), -1))


def test_course_checkpoint_loads_and_predicts_the_same(small_letters, tmp_path):
    configs = {"norm_size": (32, 32), "output_size": 26, "hidden_size": [20, 12], "n_layers": 3, "act_type": "tanh"}
    torch.manual_seed(0)
    course = CourseMLP(configs)
    path = tmp_path / "course.pth"
    torch.save({"state_dict": course.state_dict(), "configs": configs}, path)
    model = load_checkpoint(path)
    x = small_letters.test.x
    xf = torch.from_numpy(((x.astype(np.float32) / 255 - 0.5) / 0.5).reshape(len(x), -1))
    with torch.no_grad():
        expected = torch.softmax(course(xf), 1).numpy()
    np.testing.assert_allclose(predict_arrays(model, x), expected, atol=1e-6)
    assert model.classes[0] == "A" and model.config.act == "tanh"


def test_our_checkpoint_loads_in_the_course_model(trained, tmp_path):
    path = tmp_path / "ours.pt"
    save_checkpoint(path, trained)
    ckpt = torch.load(path, weights_only=True)
    course = CourseMLP(ckpt["configs"])
    course.net = nn.Sequential(*[m if isinstance(m, CourseLinear) else nn.ReLU() for m in course.net])
    course.load_state_dict(ckpt["state_dict"])  # strict: every key and shape matches


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ.get('EVIL_MARKER', '/tmp/evil-marker')}",))


def test_pickle_with_code_is_refused_and_not_run(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("EVIL_MARKER", str(marker))
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {}, "configs": {}, "x": _Evil()}, path)
    with pytest.raises(UserError, match=r"evil.pt: refused: the file holds Python code or objects \(posix.system\)"):
        load_checkpoint(path)
    assert not marker.exists()


def test_shape_mismatch_names_tensor_and_shapes(trained, tmp_path):
    path = tmp_path / "bad.pt"
    save_checkpoint(path, trained)
    ckpt = torch.load(path, weights_only=True)
    ckpt["state_dict"]["net.2.W"] = torch.zeros(16, 31)
    torch.save(ckpt, path)
    msg = r"bad.pt: .state_dict.net.2.W. has shape \[16, 31\], the configs imply \[16, 32\]"
    with pytest.raises(UserError, match=msg):
        load_checkpoint(path)
    del ckpt["state_dict"]["net.2.W"]
    torch.save(ckpt, path)
    with pytest.raises(UserError, match="'state_dict' lacks net.2.W"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "the file is empty"),
        (b"garbage bytes, not a zip or a pickle", "not"),
    ],
)
def test_not_a_checkpoint(tmp_path, content, message):
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_checkpoint(path)


def test_plain_pickle_with_code_is_refused(tmp_path, monkeypatch):
    import pickle

    marker = tmp_path / "pwned"
    monkeypatch.setenv("EVIL_MARKER", str(marker))
    path = tmp_path / "raw.pkl"
    path.write_bytes(pickle.dumps({"state_dict": _Evil()}, protocol=4))
    with pytest.raises(UserError, match="raw.pkl: refused: the file holds Python code or objects.*nothing .* run"):
        load_checkpoint(path)
    assert not marker.exists()


def test_wrong_dictionary_and_missing_file(tmp_path):
    path = tmp_path / "dict.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(UserError, match="not a Backprop Studio or course checkpoint .no 'state_dict' key."):
        load_checkpoint(path)
    with pytest.raises(UserError, match="no such file"):
        load_checkpoint(tmp_path / "missing.pt")


def test_nan_weights_are_refused(trained, tmp_path):
    path = tmp_path / "nan.pt"
    save_checkpoint(path, trained)
    ckpt = torch.load(path, weights_only=True)
    ckpt["state_dict"]["net.0.b"][0] = float("nan")
    torch.save(ckpt, path)
    with pytest.raises(UserError, match="'state_dict.net.0.b' holds NaN"):
        load_checkpoint(path)


def test_failed_save_keeps_the_old_file(trained, tmp_path, monkeypatch):
    path = tmp_path / "keep.pt"
    save_checkpoint(path, trained)
    before = path.read_bytes()

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(UserError, match="keep.pt: could not save"):
        save_checkpoint(path, trained)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.pt"]


COURSE_CKPT = ROOT.parent / "shared" / "checkpoints" / "letters-course-2022.pth"


def _saved_after_an_epoch(ds, path, optim: str) -> dict:
    """Train one epoch with ``optim``, save to ``path``; the saved payload, to change."""
    run = TrainingRun(TrainConfig(epochs=1, batch_size=64, optim=optim), ds)
    run.run()
    save_checkpoint(path, Model(run.network, ds.classes, ds.norm_size, run.config, run.history))
    return torch.load(path, weights_only=True)


def test_format_1_adam_was_adamw_and_stays_so(small_letters, tmp_path):
    path = tmp_path / "old.pt"
    ckpt = _saved_after_an_epoch(small_letters, path, "adamw")
    ckpt["format_version"], ckpt["hyperparameters"]["optim"] = 1, "adam"
    ckpt["optimizer_state"]["name"] = "adam"
    torch.save(ckpt, path)
    assert load_checkpoint(path).config.optim == "adamw"


needs_course = pytest.mark.skipif(
    not COURSE_CKPT.exists() or not LETTERS_DIR.exists(),
    reason="../shared course checkpoint or letters dataset not present",
)


@needs_course
@pytest.mark.parametrize("state_dict_only", [False, True])
def test_the_real_course_checkpoint(tmp_path, state_dict_only):
    path = COURSE_CKPT
    if state_dict_only:  # a later course version saves no configs
        path = tmp_path / "sd_only.pth"
        torch.save({"state_dict": torch.load(COURSE_CKPT, weights_only=True)["state_dict"]}, path)
        m = load_checkpoint(path)
        assert m.notes and "assumed relu" in m.notes[0] and m.norm_size == (32, 32) and m.config.hidden == [64]
    t = _cli("test", "--checkpoint", path, "--data", LETTERS_DIR)
    assert t.returncode == 0, t.stderr
    assert "accuracy=0.8425" in t.stdout
    p = _cli(
        "predict",
        "--checkpoint",
        path,
        LETTERS_DIR / "new_images" / "predict01.png",
        LETTERS_DIR / "new_images" / "predict02.png",
    )
    labels = [line.split("\t")[1] for line in p.stdout.splitlines()]
    assert p.returncode == 0 and labels == ["A", "B"]


def test_state_dict_only_checkpoint_with_a_non_square_input_is_refused_clearly(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save(
        {
            "state_dict": {
                "net.0.W": torch.zeros(4, 30),
                "net.0.b": torch.zeros(4),
                "net.2.W": torch.zeros(3, 4),
                "net.2.b": torch.zeros(3),
            }
        },
        path,
    )
    from engine.errors import UserError

    with pytest.raises(UserError, match="30 inputs: not a square image"):
        load_checkpoint(path)


def _laughs():
    x = [0]
    for _ in range(40):
        x = [x, x]  # 2^40 leaves, a few hundred bytes on disk
    return x


MALFORMED = [
    ("class_names=5", setting("class_names", value=5), "'class_names' must be a list of 26"),
    ("class_names short", setting("class_names", value=["A"]), "'class_names' must be a list of 26"),
    ("hyperparameters list", setting("hyperparameters", value=[1, 2]), "'hyperparameters' must be a dictionary"),
    ("hyperparameters str", setting("hyperparameters", value="adam"), "'hyperparameters' must be a dictionary"),
    ("hp lr string", setting("hyperparameters", "lr", value="fast"), "'hyperparameters': learning rate: 'fast'"),
    ("hp optim unknown", setting("hyperparameters", "optim", value="lbfgs"), "optimizer: unknown 'lbfgs'"),
    ("hp batch negative", setting("hyperparameters", "batch_size", value=-3), "batch size: -3"),
    ("n_layers x", setting("configs", "n_layers", value="x"), "'configs.n_layers': 'x'"),
    ("n_layers 2e9", setting("configs", "n_layers", value=2e9), "'configs.n_layers': 2000000000.0"),
    (
        "hidden int n_layers huge",
        setting(
            "configs", value={"norm_size": (32, 32), "output_size": 26, "hidden_size": 64, "n_layers": 2_000_000_000}
        ),
        "'configs.n_layers'",
    ),
    ("norm_size len 1", setting("configs", "norm_size", value=(32,)), "'configs.norm_size': (32,)"),
    ("norm_size len 3", setting("configs", "norm_size", value=(32, 32, 3)), "'configs.norm_size'"),
    ("norm_size negative", setting("configs", "norm_size", value=(-32, 32)), "'configs.norm_size': -32"),
    ("norm_size huge", setting("configs", "norm_size", value=(100000, 100000)), "'configs.norm_size': 100000"),
    ("output_size 1", setting("configs", "output_size", value=1), "'configs.output_size': 1"),
    ("act unknown", setting("configs", "act_type", value="gelu"), "'configs.act_type': 'gelu'"),
    ("configs list", setting("configs", value=[1]), "'configs' must be a dictionary"),
    ("state_dict list", setting("state_dict", value=[1]), "'state_dict' must be a dictionary"),
    ("history 7", setting("history", value=7), "'history': history is not a dictionary"),
    ("history laughs", setting("history", "step_loss", value=lambda p: _laughs()), "'history': history 'step_loss'"),
    ("history lengths", setting("history", "epoch", value=[1, 2, 3]), "'history': history lists"),
    ("history position bad", setting("history", "position", value={"epoch": -1, "step": 2}), "position"),
    ("optimizer state list", setting("optimizer_state", value=[1]), "'optimizer_state' must be a dictionary"),
    (
        "optimizer step inf",
        setting("optimizer_state", "torch", "state", 0, "step", value=torch.tensor(float("inf"))),
        "'optimizer_state': optimizer step",
    ),
    (
        "optimizer buffer shape",
        setting("optimizer_state", "torch", "state", 0, "exp_avg", value=torch.zeros(3)),
        "'optimizer_state': optimizer buffer 'exp_avg' has shape",
    ),
    ("optimizer torch not dict", setting("optimizer_state", "torch", value=5), "not a torch optimizer state"),
    (
        "int64 weights",
        setting("state_dict", "net.0.b", value=torch.zeros(16, dtype=torch.int64)),
        "'state_dict.net.0.b' holds int64 values",
    ),
    (
        "complex weights",
        setting("state_dict", "net.0.b", value=torch.zeros(16, dtype=torch.complex64)),
        "'state_dict.net.0.b' holds complex64",
    ),
    (
        "zero-stride weights",
        setting("state_dict", "net.0.W", value=torch.zeros(1).expand(16, 1024)),
        "'state_dict.net.0.W' is not a plain tensor",
    ),
    (
        "zero-stride giant",
        lambda p: p.update(
            configs={**p["configs"], "hidden_size": [65536, 65536], "n_layers": 3}, state_dict={**p["state_dict"]}
        ),
        "parameters is more than the limit",
    ),
    ("weights not tensor", setting("state_dict", "net.0.W", value=[[1.0]]), "'state_dict.net.0.W' is not a tensor"),
    ("nan weights", setting("state_dict", "net.2.b", value=torch.full((26,), float("nan"))), "NaN or infinite"),
    ("extra tensor", setting("state_dict", "net.9.W", value=torch.zeros(1)), "tensors the configs do not explain"),
    ("dataset not str", setting("dataset", value=[1]), "'dataset' must be a name"),
    ("dataset_record list", setting("dataset_record", value=[1]), "'dataset_record' must be a dictionary"),
    ("laughs in an unknown key", setting("junk", value=lambda p: _laughs()), None),  # ignored, loads
]


@pytest.mark.parametrize("name,change,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_checkpoint_content_is_one_clear_message(good, tmp_path, name, change, message):
    path = checkpoint_variant(good, tmp_path, change)
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


def test_resumed_optimizer_state_cannot_change_the_learning_rate(small_letters, tmp_path):
    path = tmp_path / "m.pt"
    ckpt = _saved_after_an_epoch(small_letters, path, "adam")
    ckpt["optimizer_state"]["torch"]["param_groups"][0]["lr"] = -5.0
    torch.save(ckpt, path)
    m = load_checkpoint(path)
    assert all(g["lr"] == pytest.approx(2e-3) for g in m.network._opt.param_groups)
