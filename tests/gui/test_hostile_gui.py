"""The window's open and save paths share the engine's checks: malicious files, full disks."""

from __future__ import annotations

import io
import os

import torch
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.config import TrainConfig


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
