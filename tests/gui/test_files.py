"""Opening, saving and exporting from the window: where Save As starts, exports that open, ONNX,
and the engine's checks on the way (malicious files, full disks)."""

from __future__ import annotations

import csv
import io
import os
import xml.etree.ElementTree as ET

import pytest
import torch
from PIL import Image
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.config import TrainConfig
from tests.gui.conftest import train_in_window


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ.get('EVIL_MARKER', '/tmp/never')}",))


def test_a_malicious_checkpoint_is_refused_through_the_window(window, qtbot, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    monkeypatch.setenv("EVIL_MARKER", str(marker))
    bad = tmp_path / "evil.pt"
    buf = io.BytesIO()
    torch.save({"state_dict": {}, "x": _Evil()}, buf, pickle_protocol=2)
    bad.write_bytes(buf.getvalue())
    window.open_checkpoint(str(bad))
    qtbot.waitUntil(lambda: "evil.pt" in getattr(window, "_last_error", ""), timeout=20000)
    assert "refused: the file holds Python code" in window._last_error and window.model is None
    assert not marker.exists()


def test_a_malformed_checkpoint_names_the_key_in_the_window(window, qtbot, tmp_path):
    window.hyper.set_config(TrainConfig(epochs=1, batch_size=64))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start_training()
    path = tmp_path / "m.pt"
    assert window._save_to(str(path))
    payload = torch.load(path, weights_only=True)
    payload["class_names"] = 5
    torch.save(payload, path)
    window.dirty = False
    window.session.model = None
    window.open_checkpoint(str(path))
    qtbot.waitUntil(lambda: "class_names" in getattr(window, "_last_error", ""), timeout=20000)
    assert window.model is None


def test_a_save_on_quit_that_fails_keeps_the_window_open(window, qtbot, tmp_path, monkeypatch, answers):
    script, asked = answers
    window.controller.set_store(str(tmp_path / "no such folder" / "runs.db"))  # kept nowhere: close asks
    window.controller.store_problem.disconnect()
    window.hyper.set_config(TrainConfig(epochs=1, batch_size=64))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start_training()
    assert window.dirty and window.session.kept_copy is None
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out / "m.pt"), ""))

    def disk_full(obj, fh, *a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:603] unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", disk_full)
    script.append(QMessageBox.Save)
    assert not window.close()  # the close is refused
    assert window.isVisible() and window.dirty and window.model is not None
    assert "could not save" in window._last_error and "m.pt" in window._last_error
    assert list(out.iterdir()) == []  # no temporary file left behind


def test_save_as_defaults(window, trained, tmp_path, monkeypatch):
    from PySide6.QtCore import QStandardPaths

    from gui import settings

    window.session.set_model(trained, None)
    docs = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    start = window.session.default_save_path()
    assert start.endswith("three.pt") and (docs in start or str(tmp_path) not in start)
    settings.write("last_dir", str(tmp_path / "data-parent"))  # where a dataset came from: not used
    seen = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (seen.append(a[2]), (str(tmp_path / "s/m.pt"), ""))[1]
    )
    assert window.save_as()
    assert settings.read("last_save_dir") == str(tmp_path / "s") and "data-parent" not in seen[0]
    assert window.session.default_save_path() == str(tmp_path / "s" / "three.pt")


def test_exports_write_files_that_open(window, qtbot, tmp_path, monkeypatch):
    train_in_window(window, qtbot, epochs=2, batch_size=16)
    qtbot.waitUntil(lambda: window.browser.ev is not None, timeout=20000)
    answers = iter(
        [str(tmp_path / "plots.png"), str(tmp_path / "plots.svg"), str(tmp_path / "c.csv"), str(tmp_path / "m.png")]
    )
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (next(answers), ""))
    window.actions.export_plots.trigger()
    with Image.open(tmp_path / "plots.png") as im:
        assert im.width == 2400 and im.height > 1000
    window.actions.export_plots.trigger()
    root = ET.parse(tmp_path / "plots.svg").getroot()
    assert root.tag.endswith("svg") and len(list(root.iter())) > 50  # a drawing, not an empty file
    window.actions.export_curves.trigger()
    rows = list(csv.DictReader(open(tmp_path / "c.csv", encoding="utf-8")))
    steps = [r for r in rows if r["series"] == "step_raw"]
    assert len(steps) == window.plots.current.buffers["step_raw"].n and rows[0]["run"] == window.model.name
    window.actions.export_sheet.trigger()
    with Image.open(tmp_path / "m.png") as im:
        assert im.format == "PNG"


def test_onnx_export_from_the_menu(window, qtbot, trained, tmp_path, monkeypatch):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is a test extra")
    window.session.set_model(trained, None)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "m.onnx"), ""))
    window.actions.export_onnx.trigger()
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["logits", "probabilities"]
    window.session.model = None
