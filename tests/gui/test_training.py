"""A real training run through the worker: signals, plots, pause/resume/stop, divergence, closing mid-run."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMessageBox

from engine.checkpoint import Model
from engine.config import TrainConfig
from engine.training.run import EpochEvent, EvalEvent, FailedEvent, FinishedEvent, TrainingRun
from gui.worker import start_training


def test_worker_signal_sequence(qtbot, small_letters):
    run = TrainingRun(TrainConfig(epochs=3, batch_size=32), small_letters)
    model = Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history)
    worker = start_training(run, model, None)
    updates = []
    worker.yielded.connect(updates.append)
    with qtbot.waitSignals([worker.started, worker.returned, worker.finished], order="strict", timeout=60000):
        worker.start()
    events = [e for u in updates for e in u.events]
    assert [type(e) for e in events] == [EpochEvent, EvalEvent] * 3 + [FinishedEvent]
    steps = [s.global_step for u in updates for s in u.steps]
    assert steps == list(range(1, 3 * (-(-len(small_letters.train) // 32)) + 1))
    assert updates[-1].first_layer is not None and updates[-1].first_layer.shape == (64, 1024)


def test_train_from_the_window(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=3, batch_size=16))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.act_start.trigger()
        assert window.run is not None and not window.hyper.lr.isEnabled()  # locked mid-run
    final = sig.args[0]
    assert isinstance(final, FinishedEvent) and not final.stopped
    p = window.plots
    steps = 3 * (-(-len(window.dataset.train) // 16))
    assert p.buffers["step_raw"].n == steps and p.buffers["epoch_loss"].n == 3 and p.buffers["val_acc"].n == 3
    p._redraw(everything=True)
    x, y = p.step_smooth.getData()
    assert len(x) == steps and np.isfinite(y).all()
    assert p.best_line.isVisible()
    assert window.progress.value() == window.progress.maximum()
    assert "Finished" in window.progress_label.text() and "test accuracy" in window.result_label.text()
    assert window.hyper.lr.isEnabled() and window.act_save.isEnabled()
    window.tabs.setCurrentWidget(window.weights_panel)
    assert window.weights_panel.image.image is not None and window.weights_panel.image.image.shape[0] > 32
    qtbot.waitUntil(lambda: window.browser.ev is not None, timeout=10000)  # evaluated on val afterwards
    assert window.browser.model.rowCount() == len(window.dataset.val)
    assert window.windowTitle().endswith("unsaved model*")


def test_pause_resume_stop(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=5000, batch_size=1))
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.buffers["step_raw"].n > 10, timeout=20000)
    window.act_pause.trigger()
    assert window.run.paused and window.pause_button.text() == "Resume"
    qtbot.wait(300)
    n = window.plots.buffers["step_raw"].n
    qtbot.wait(400)
    assert window.plots.buffers["step_raw"].n == n
    window.act_pause.trigger()
    qtbot.waitUntil(lambda: window.plots.buffers["step_raw"].n > n, timeout=10000)
    with qtbot.waitSignal(window.training_finished, timeout=10000) as sig:
        window.act_stop.trigger()
    assert sig.args[0].stopped
    assert window.run is None and window.start_button.isEnabled()


def test_divergence_is_reported_and_curves_kept(window, qtbot):
    window.hyper.set_config(TrainConfig(optim="sgd", lr=90, act="identity", weight_decay=0, epochs=50))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.start_training()
    assert isinstance(sig.args[0], FailedEvent)
    assert "diverged at epoch" in window._last_error and "lower the learning rate" in window._last_error
    assert window.plots.buffers["step_raw"].n > 0
    assert window.model.network.weights_finite()


def test_best_validation_weights_are_autosaved(window, qtbot):
    from engine.checkpoint import load_checkpoint
    from gui.main_window import autosave_path

    window.hyper.set_config(TrainConfig(epochs=2, batch_size=32))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start_training()
    saved = load_checkpoint(autosave_path())
    assert saved.history.val_epoch and saved.classes == window.dataset.classes


def test_closing_mid_run_stops_the_thread(window, qtbot, answers):
    script, asked = answers
    window.hyper.set_config(TrainConfig(epochs=5000, batch_size=1))
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.buffers["step_raw"].n > 5, timeout=20000)
    script += [QMessageBox.Cancel]
    window.close()
    assert window.isVisible() and window.run is not None  # cancelled: still training
    script += [QMessageBox.Yes, QMessageBox.Discard]
    window.close()
    assert asked == ["Training in Progress", "Training in Progress", "Unsaved Model"]
    assert not window.isVisible()
    # the autouse fixture then checks that no worker thread is left


def test_previous_runs_stay_faint_and_log_scale(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=1, batch_size=64))
    for _ in range(2):
        with qtbot.waitSignal(window.training_finished, timeout=60000):
            window.start_training()
        window.dirty = False
    p = window.plots
    assert len(p._previous) == 1 and len(p._previous[0]) == 4
    legend = {label.text: label for _, label in p.loss_plot.getPlotItem().legend.items}
    previous = [label for text, label in legend.items() if text.startswith("adamw lr 0.002")]
    assert previous and "batch_size: 64" in previous[0].toolTip()  # hyperparameters on hover
    window.act_log.trigger()
    assert p.log_box.isChecked() and p.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    p.clear_previous()
    assert not p._previous


def test_resume_training_from_an_opened_checkpoint(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window.hyper.set_config(TrainConfig(epochs=2, batch_size=64))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start_training()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "r.pt"), ""))
    assert window.save()
    with qtbot.waitSignal(window.model_changed, timeout=20000):
        window.open_checkpoint(str(tmp_path / "r.pt"))
    window.hyper.epochs.setValue(4)
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.act_resume_training.trigger()
    assert sig.args[0].epoch == 4 and window.model.history.epoch == [1, 2, 3, 4]
    assert window.plots.buffers["epoch_loss"].n == 4


def test_bad_dataset_folder_is_reported(window, qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    window.open_dataset(str(tmp_path / "empty"))
    qtbot.waitUntil(lambda: "no dataset found" in getattr(window, "_last_error", ""), timeout=20000)
    assert window.dataset.name == "small letters"  # the open dataset stays
