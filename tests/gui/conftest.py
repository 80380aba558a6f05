"""GUI fixtures: offscreen Qt, a private settings file, no thread may outlive a test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QThreadPool  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402


@pytest.fixture(autouse=True)
def _settings_file(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_SETTINGS", str(tmp_path / "settings" / "settings.ini"))


@pytest.fixture(autouse=True, scope="session")
def _plot_theme(qapp):
    from gui.style import apply_plot_theme

    apply_plot_theme()


@pytest.fixture(autouse=True)
def _no_thread_left(qapp):
    yield
    pool = QThreadPool.globalInstance()
    finished = pool.waitForDone(15000)
    assert finished and pool.activeThreadCount() == 0, "a test left a worker thread running"
    import multiprocessing

    left = multiprocessing.active_children()  # also reaps the ones that have ended
    assert not left, f"a test left worker processes running: {left}"


@pytest.fixture
def answers(monkeypatch):
    """Scripted answers to QMessageBox.question, in order; Discard when the script runs out."""
    script: list = []
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(title)
        return script.pop(0) if script else QMessageBox.Discard

    monkeypatch.setattr(QMessageBox, "question", question)
    return script, asked


@pytest.fixture
def window(qtbot, small_letters, answers):
    from gui.main_window import MainWindow

    w = MainWindow(load_default=False)
    qtbot.addWidget(w)
    w.session.set_dataset(small_letters)
    w.show()
    yield w
    w.shutdown_workers()
    w.dirty = False


@pytest.fixture
def trained(small_letters):
    """A model trained three epochs on the small letters, named "three"."""
    from engine.checkpoint import Model
    from engine.config import TrainConfig
    from engine.training.run import TrainingRun

    run = TrainingRun(TrainConfig(epochs=3, batch_size=16), small_letters)
    run.run()
    return Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history, name="three")


def train_in_window(window, qtbot, **config):
    """Train in the window with these settings; the final event (the model counts as saved)."""
    from engine.config import TrainConfig

    window.hyper.set_config(TrainConfig(**config))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.start_training()
    window.dirty = False
    return sig.args[0]
