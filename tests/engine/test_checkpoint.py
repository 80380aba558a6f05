"""Checkpoints: round trips, the course's format both ways, refusal of code, clear errors, atomic saves."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch import nn

from engine.checkpoint import Model, load_checkpoint, save_checkpoint
from engine.config import TrainConfig
from engine.errors import UserError
from engine.predict import predict_arrays
from engine.training.run import TrainingRun


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
