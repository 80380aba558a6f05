"""ONNX export runs in onnxruntime with the studio's own predictions; the contact sheet is an image."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.checkpoint import Model, load_checkpoint, save_checkpoint
from engine.config import ACTIVATIONS, TrainConfig
from engine.data.images import normalize
from engine.errors import UserError
from engine.export import contact_sheet, export_onnx
from engine.model.build import build_network
from engine.predict import predict_arrays
from tests.engine.test_cli import cli as run_cli

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is a test extra: pip install -e '.[test]'")


def _model(act: str, hidden=(20, 12), classes=5, size=(6, 5), seed=0) -> Model:
    config = TrainConfig(hidden=list(hidden), act=act, seed=seed)
    net = build_network(config, size[0] * size[1], classes)
    return Model(net, [f"c{i}" for i in range(classes)], size, config, name="a run")


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_onnx_gives_the_same_probabilities(tmp_path, act):
    model = _model(act)
    path = export_onnx(model, tmp_path / "m.onnx")
    x = np.random.default_rng(1).integers(0, 256, (9, 5, 6), dtype=np.uint8)  # [N, H, W], W=6, H=5
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inp = x.astype(np.float32).reshape(9, 1, 5, 6)  # raw pixels: the graph normalises them
    logits, probs = session.run(None, {"pixels": inp})
    np.testing.assert_allclose(probs, predict_arrays(model, x), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(logits, model.network.logits(model.network.prepare(normalize(x))), atol=1e-4)
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["class_names"]) == model.classes and meta["run_name"] == "a run"
    assert json.loads(meta["preprocessing"])["norm_size"] == [6, 5]


def test_export_cli_on_the_course_checkpoint(tmp_path):
    from tests.conftest import ROOT

    ckpt = ROOT.parent / "shared" / "checkpoints" / "letters-course-2022.pth"
    if not ckpt.exists():
        pytest.skip(f"{ckpt} is not here")
    out = tmp_path / "course.onnx"
    r = run_cli("export", "--checkpoint", str(ckpt), "--onnx", str(out))
    assert r.returncode == 0, r.stderr
    assert "input pixels [N, 1, 32, 32]" in r.stdout and "26 classes" in r.stdout
    model = load_checkpoint(ckpt)
    letters = ROOT.parent / "shared" / "datasets" / "character_classification" / "new_images"
    from engine.data.images import load_image

    imgs = np.stack([load_image(p, (32, 32)) for p in sorted(letters.glob("*.png"))])
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    _, probs = session.run(None, {"pixels": imgs.astype(np.float32).reshape(len(imgs), 1, 32, 32)})
    assert [model.classes[i] for i in probs.argmax(1)] == [
        model.classes[i] for i in predict_arrays(model, imgs).argmax(1)
    ]


def test_export_cli_bad_input_is_one_line(tmp_path):
    r = run_cli("export", "--checkpoint", str(tmp_path / "missing.pt"), "--onnx", str(tmp_path / "x.onnx"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "missing.pt" in r.stderr
    model = _model("relu")
    save_checkpoint(tmp_path / "m.pt", model)
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "x.onnx").mkdir()  # a folder where the file should go
    with pytest.raises(UserError, match="x.onnx"):
        export_onnx(model, tmp_path / "ro" / "x.onnx")


def test_contact_sheet_is_a_png(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, (13, 8, 8), dtype=np.uint8)
    path = contact_sheet(imgs, [f"A→B {i}" for i in range(13)], tmp_path / "sheet.png", cols=5, scale=2)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (5 * (16 + 12), 3 * (16 + 26))
    with pytest.raises(UserError, match="no images"):
        contact_sheet(imgs[:0], [], tmp_path / "none.png")
