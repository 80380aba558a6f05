"""A real training run through the worker: signals, plots, pause/resume/stop, divergence, closing mid-run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.checkpoint import save_checkpoint
from engine.config import TrainConfig
from engine.runs.record import Recording
from engine.training.launch import RunPlan, start_run
from engine.training.run import EpochEvent, EvalEvent, FailedEvent, FinishedEvent
from gui.views.training import X_AXES, off_scale_cap
from gui.worker import start_stream
from tests.gui.conftest import train_in_window


def test_worker_signal_sequence(qtbot, small_letters):
    run = start_run(RunPlan(TrainConfig(epochs=3, batch_size=32), small_letters))  # in this process
    worker = start_stream(Recording(run, None, source="test"), None)
    updates = []
    worker.yielded.connect(updates.append)
    with qtbot.waitSignals([worker.started, worker.returned, worker.finished], order="strict", timeout=60000):
        worker.start()
    events = [e for u in updates for e in u.events]
    health = [e for e in events if type(e).__name__ == "HealthEvent"]
    assert health  # layer health travels with the other events
    assert [type(e) for e in events if e not in health] == [EpochEvent, EvalEvent] * 3 + [FinishedEvent]
    steps = [s.global_step for u in updates for s in u.steps]
    assert steps == list(range(1, 3 * (-(-len(small_letters.train) // 32)) + 1))
    assert updates[-1].first_layer is not None and updates[-1].first_layer.shape == (64, 1024)


def test_train_from_the_window(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=3, batch_size=16))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.actions.start.trigger()
        assert window.training and not window.hyper.lr.isEnabled()  # locked mid-run
    final = sig.args[0]
    assert isinstance(final, FinishedEvent) and not final.stopped
    p = window.plots
    steps = 3 * (-(-len(window.dataset.train) // 16))
    b = p.current.buffers
    assert b["step_raw"].n == steps and b["epoch_loss"].n == 3 and b["val_acc"].n == 3
    x, y = p.items["step_smooth"].getData()  # drawn with the last batch, no redraw pending
    assert len(x) == steps and np.isfinite(y).all()
    assert p.best_line.isVisible()
    # "best val" stays inside the plot: left of its line when the line is at the right edge
    label, view = p.best_line.label, p.acc_plot.getPlotItem().vb
    epoch = p.current.best[0]
    assert label.anchor.x() == (1 if epoch == 3 else 0)
    assert view.sceneBoundingRect().contains(label.sceneBoundingRect())  # whole, at any font size
    assert window.run_controls.progress.value() == window.run_controls.progress.maximum()
    rc = window.run_controls
    assert "Finished" in rc.progress_label.text() and "test accuracy" in rc.result_label.text()
    assert window.hyper.lr.isEnabled() and window.actions.save.isEnabled()
    window.tabs.setCurrentWidget(window.weights_panel)
    assert window.weights_panel.image.image is not None and window.weights_panel.image.image.shape[0] > 32
    qtbot.waitUntil(lambda: window.browser.ev is not None, timeout=10000)  # evaluated on val afterwards
    assert window.browser.model.rowCount() == len(window.dataset.val)
    assert window.windowTitle().endswith(window.model.name + "*") and "Backprop Studio" not in window.windowTitle()


def test_pause_resume_stop(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=5000, batch_size=1))
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.current.buffers["step_raw"].n > 10, timeout=20000)
    window.actions.pause.trigger()
    assert window.controller.paused and window.run_controls.pause_button.text() == "Resume"
    qtbot.wait(300)
    n = window.plots.current.buffers["step_raw"].n
    qtbot.wait(400)
    assert window.plots.current.buffers["step_raw"].n == n
    window.actions.pause.trigger()
    qtbot.waitUntil(lambda: window.plots.current.buffers["step_raw"].n > n, timeout=10000)
    with qtbot.waitSignal(window.training_finished, timeout=10000) as sig:
        window.actions.stop.trigger()
    assert sig.args[0].stopped
    assert not window.training and window.run_controls.start_button.isEnabled()


def test_live_curves_are_drawn_plainly_while_training_and_smooth_at_rest(window, qtbot):
    """Antialiased paths were most of each live update's paint (the event loop ran late); a run
    draws without, and its curves are smooth again once it ends."""

    def smooth():
        items = [window.plots.items[k] for k in window.plots.LIVE_KEYS]
        return {(i.curve.opts["antialias"], i.scatter.opts["antialias"]) for i in items}

    assert smooth() == {(True, True)}
    window.hyper.set_config(TrainConfig(epochs=5000, batch_size=1))
    window.actions.start.trigger()
    qtbot.waitUntil(lambda: window.plots.current.buffers["step_raw"].n > 5, timeout=20000)
    assert smooth() == {(False, False)}
    with qtbot.waitSignal(window.training_finished, timeout=10000):
        window.actions.stop.trigger()
    assert smooth() == {(True, True)}


def test_divergence_is_reported_and_curves_kept(window, qtbot):
    window.hyper.set_config(TrainConfig(optim="sgd", lr=90, act="identity", weight_decay=0, epochs=50))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.start_training()
    assert isinstance(sig.args[0], FailedEvent)
    assert "diverged at epoch" in window._last_error and "lower the learning rate" in window._last_error
    assert window.plots.current.buffers["step_raw"].n > 0
    assert window.model.network.weights_finite()


def test_best_validation_weights_are_autosaved(window, qtbot):
    from engine.checkpoint import load_checkpoint
    from gui.session import autosave_path

    window.hyper.set_config(TrainConfig(epochs=2, batch_size=32))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start_training()
    saved = load_checkpoint(autosave_path())
    assert saved.history.val_epoch and saved.classes == window.dataset.classes


def test_closing_mid_run_stops_the_thread(window, qtbot, answers):
    script, asked = answers
    window.hyper.set_config(TrainConfig(epochs=5000, batch_size=1))
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.current.buffers["step_raw"].n > 5, timeout=20000)
    seen_paused = []
    question = QMessageBox.question

    def spy(*args, **kwargs):  # the run must be paused while the question is on screen
        n = window.plots.current.buffers["step_raw"].n
        qtbot.wait(300)
        seen_paused.append((window.controller.paused, window.plots.current.buffers["step_raw"].n - n))
        return question(*args, **kwargs)

    QMessageBox.question = spy
    script += [QMessageBox.Cancel]
    window.close()
    assert window.isVisible() and window.training and not window.controller.paused  # cancelled: trains on
    assert seen_paused[0][0]
    assert not window.tasks.is_cancelled()  # a cancelled quit leaves opening and classifying working
    script += [QMessageBox.Discard]
    window.close()
    assert asked == ["Training in Progress", "Training in Progress"]  # one question per attempt
    assert not window.isVisible() and not window.training
    # the autouse fixture then checks that no worker thread is left


def test_cancelled_quit_leaves_opening_working(window, qtbot, answers, tmp_path):
    script, asked = answers
    window.hyper.set_config(TrainConfig(epochs=5000, batch_size=1))
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.current.buffers["step_raw"].n > 5, timeout=20000)
    script += [QMessageBox.Cancel]
    window.close()
    window.controller.stop()
    qtbot.waitUntil(lambda: not window.training, timeout=20000)
    window.dirty = False
    with qtbot.waitSignal(window.dataset_loaded, timeout=60000):
        window.open_dataset("builtin")
    assert window.dataset.name == "Built-in letters"


def test_quit_with_save_asks_for_the_file_before_stopping(window, qtbot, answers, monkeypatch, tmp_path):

    script, asked = answers
    window.hyper.set_config(TrainConfig(epochs=5000, batch_size=1))
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.current.buffers["step_raw"].n > 5, timeout=20000)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))  # the save dialog cancelled
    script += [QMessageBox.Save]
    window.close()
    assert window.isVisible() and window.training and not window.controller.paused  # nothing was stopped
    target = tmp_path / "quit.pt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    script += [QMessageBox.Save]
    window.close()
    assert not window.isVisible() and target.exists() and not window.training


def test_previous_runs_stay_faint_and_log_scale(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=1, batch_size=64))
    for _ in range(2):
        with qtbot.waitSignal(window.training_finished, timeout=60000):
            window.start_training()
        window.dirty = False
    p = window.plots
    assert len(p.previous) == 1 and len(p.previous[0][1]) == 4
    legend = {label.text: label for _, label in p.loss_plot.getPlotItem().legend.items}
    previous = [label for text, label in legend.items() if text.startswith("adamw lr 0.002 wd")]
    assert previous and "batch_size: 64" in previous[0].toolTip()  # hyperparameters on hover
    window.actions.log.trigger()
    assert p.log_box.isChecked() and p.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    p.clear_previous()
    assert not p.previous
    assert all(label.text for _, label in p.loss_plot.getPlotItem().legend.items)  # no blank entry


def test_resume_training_from_an_opened_checkpoint(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    window.hyper.set_config(TrainConfig(epochs=2, batch_size=64))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.start_training()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "r.pt"), ""))
    assert window.save()
    with qtbot.waitSignal(window.model_changed, timeout=20000):
        window.open_checkpoint(str(tmp_path / "r.pt"))
    asked = []
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (asked.append(a[2]), (2, True))[1])
    legend = window.plots.loss_plot.getPlotItem().legend
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.actions.resume.trigger()
    assert "finished all 2 epochs" in asked[0] and "how many more" in asked[0]  # asked, not silently +1
    assert sig.args[0].epoch == 4 and window.model.history.epoch == [1, 2, 3, 4]
    assert window.plots.current.buffers["epoch_loss"].n == 4 and window.hyper.epochs.value() == 4
    assert all(label.text for _, label in legend.items)  # no blank legend entry
    # the run's name travelled in the file: the one it was given when it started (2 epochs)
    assert window.model.name == TrainConfig.from_dict({**window.model.config.to_dict(), "epochs": 2}).auto_name()


def test_bad_dataset_folder_is_reported(window, qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    window.open_dataset(str(tmp_path / "empty"))
    qtbot.waitUntil(lambda: "no dataset found" in getattr(window, "_last_error", ""), timeout=20000)
    assert window.dataset.name == "small letters"  # the open dataset stays


def test_a_killed_training_process_is_a_failed_run_and_the_app_goes_on(window, qtbot):
    import os
    import signal

    window.hyper.set_config(TrainConfig(epochs=5000, batch_size=1))
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.current.buffers["step_raw"].n > 5, timeout=30000)
    pid = window.controller.run.pid
    assert pid != os.getpid()  # training runs in another process
    with qtbot.waitSignal(window.training_finished, timeout=20000) as sig:
        os.kill(pid, signal.SIGKILL)
    assert "killed (signal 9" in sig.args[0].reason and "killed (signal 9" in window._last_error
    assert window.run_controls.start_button.isEnabled()
    window.dirty = False
    window.hyper.set_config(TrainConfig(epochs=1, batch_size=64))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.start_training()  # at once: a fresh worker
    assert sig.args[0].__class__.__name__ == "FinishedEvent"


def test_the_window_takes_the_same_route_as_the_cli_and_sweeps(window, qtbot, monkeypatch):
    """Plan → start_run (in the host's worker) → Recording: the lifecycle the CLI and sweeps use."""
    from gui import runner

    seen = []
    real_start, real_recording = runner.start_run, runner.Recording

    def start(plan, host=None):
        seen.append(("start_run", host is window.controller.host))
        return real_start(plan, host)

    def recording(run, store=None, **kw):
        seen.append(("Recording", kw["source"], type(run).__name__))
        return real_recording(run, store, **kw)

    monkeypatch.setattr(runner, "start_run", start)
    monkeypatch.setattr(runner, "Recording", recording)
    window.hyper.set_config(TrainConfig(epochs=1, batch_size=32))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.actions.start.trigger()
    assert isinstance(sig.args[0], FinishedEvent)
    assert seen == [("start_run", True), ("Recording", "gui", "HostedRun")]


def test_log_loss_labels_never_overlap_on_an_empty_plot(window, qtbot):
    """Log loss on a short plot before any run: the decades are labelled, the 2…9 between them
    are not (they overlapped as "10 9 8 7 …")."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    window.resize(1024, 700)
    p = window.plots
    qtbot.mouseClick(p.log_box, Qt.LeftButton)
    assert p.log_box.isChecked()
    axis = p.loss_plot.getAxis("left")
    p.loss_plot.getPlotItem().vb.setYRange(-1.05, 1.05, padding=0)  # 0.09 … 11 on the log axis
    qtbot.waitUntil(lambda: axis.height() > 0)
    image = QImage(10, 10, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    rects = [r for r, _flags, _text in specs[2]]
    texts = [t for _r, _f, t in specs[2]]
    assert len(texts) >= 2
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.intersects(b), texts


def test_progress_text_changes_without_laying_out_the_window_again(window, qtbot):
    """The progress line changes with every update; a QLabel there asked the whole window to lay
    itself out again each time (about 7 ms here, eight times a second)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.dataset is not None and window.tasks.count() == 0, timeout=30000)
    QApplication.processEvents()

    class Count(QObject):
        n = 0

        def eventFilter(self, obj, ev):  # noqa: N802 - Qt's
            if ev.type() == QEvent.LayoutRequest:
                Count.n += 1
            return False

    spy = Count()
    label = window.run_controls.progress_label
    label.setText("Epoch 1/20 · step 1/1040\n15,000 samples/s · ETA epoch 0:09 · run 0:19")  # its first lines
    for _ in range(10):  # a layout request climbs one parent per pass of the event loop
        QApplication.processEvents()
    window.installEventFilter(spy)
    for i in range(5):
        label.setText(f"Epoch {i + 1}/20 · step {10 * i}/1040\n{15000 + i:,} samples/s · ETA epoch 0:0{i} · run 0:1{i}")
        QApplication.processEvents()
    window.removeEventFilter(spy)
    assert Count.n == 0
    two = label.height()
    assert label.text().startswith("Epoch 5/20") and two >= 2 * label.fontMetrics().lineSpacing()
    label.setText("Failed: diverged at epoch 1 step 10: loss is nan — lower the learning rate " * 4)
    QApplication.processEvents()
    assert label.height() > two  # a long reason is shown whole, not cut after two lines
    label.setText("Ready.")
    QApplication.processEvents()
    assert label.height() == 2 * label.fontMetrics().lineSpacing() + 2  # back to the two lines it keeps


def test_earlier_runs_are_not_drawn_again_while_the_current_one_trains(window):
    from engine.training.run import StepEvent

    plots = window.plots
    plots.start_run("first", config=TrainConfig(seed=0).to_dict())
    plots.add_update([StepEvent(1, 10, 10, 10, 1.0, 0.1, 100.0)], [EpochEvent(1, 2, 1.0, 0.5, 0.1, 0.1)])
    plots.start_run("second", config=TrainConfig(seed=1).to_dict())
    ((_curves, items),) = plots.previous
    pushed = []
    for _key, item in items:
        real = item.setData
        item.setData = lambda *a, real=real, **k: (pushed.append(1), real(*a, **k))
    for step in range(1, 4):
        plots.add_update([StepEvent(1, step, 10, step, 2.0 / step, 0.1 * step, 100.0)], [])
    assert pushed == []  # frozen data, unchanged view: nothing to push
    plots.x_axis.setCurrentIndex(1)  # the view changes: drawn again on the new axis
    assert pushed


def test_off_scale_cap_ignores_absurd_values():
    sane = np.r_[3.3, np.linspace(2.0, 0.3, 200)]
    assert off_scale_cap([sane], log=False) == math.inf  # nothing is cut from a normal run
    normal_init = np.r_[40.0, 25.0, np.linspace(5, 0.4, 200)]  # N(0,1) weights start high: still shown
    assert off_scale_cap([normal_init], log=False) == math.inf
    diverged = np.r_[3.3, 2.9, 150.0, 1e8, 1e27, np.inf]
    cap = off_scale_cap([sane, diverged], log=False)
    assert 3.3 < cap < 1e4


def test_divergence_keeps_the_plot_readable(window, qtbot):
    train_in_window(window, qtbot, epochs=2, batch_size=64)
    final = train_in_window(window, qtbot, epochs=3, batch_size=64, lr=100.0, optim="sgd")
    assert isinstance(final, FailedEvent)
    p = window.plots
    lo, hi = p.loss_plot.getViewBox().viewRange()[1]
    assert hi < 1e3 and p.off_scale_points  # the range ignores the blow-up; a marker shows where it left
    assert p.off_scale_text.isVisible() and "off scale" in p.off_scale_text.toPlainText()
    assert not p.loss_plot.getAxis("left").autoSIPrefix  # never "loss (x1e+27)"
    p.set_log_loss(True)
    lo, hi = p.loss_plot.getViewBox().viewRange()[1]
    assert -3 < lo and hi < 4  # decades: the earlier run's ~1 is not drawn at 1e-27
    mark_y = p.off_scale.getData()[1]
    assert len(mark_y) and lo <= mark_y[0] <= hi  # the marker is inside the view in log mode too
    x, y = p.previous[0][1][0][1].getData()  # the earlier run's smoothed loss, as drawn
    assert np.nanmin(y) > 1e-3


def test_open_checkpoint_then_train_has_no_blank_legend(window, qtbot, trained, tmp_path):
    save_checkpoint(tmp_path / "opened.pt", trained)
    with qtbot.waitSignal(window.model_changed, timeout=20000):
        window.open_checkpoint(str(tmp_path / "opened.pt"))
    window.dirty = False
    train_in_window(window, qtbot, epochs=1, batch_size=64)
    for plot in (window.plots.loss_plot, window.plots.acc_plot):
        labels = [label.text for _, label in plot.getPlotItem().legend.items]
        assert all(labels) and "three" in labels  # the earlier run is named by its run name


def test_legends_never_cover_the_data(window, qtbot):
    train_in_window(window, qtbot, epochs=3, batch_size=64)
    qtbot.wait(50)
    for plot in (window.plots.loss_plot, window.plots.acc_plot):
        item = plot.getPlotItem()
        view = item.vb.sceneBoundingRect()
        legend = item.legend.sceneBoundingRect()
        assert legend.height() > 0 and not legend.intersects(view)
    ds = window.dataset_panel
    assert not ds.legend.sceneBoundingRect().intersects(ds.balance.getPlotItem().vb.sceneBoundingRect())
    window.actions.legends.trigger()  # toggleable
    assert window.plots.legends[0].parentItem() is None and not window.plots.legend_box.isChecked()
    window.actions.legends.trigger()
    assert window.plots.legends[0].parentItem() is not None


def test_plot_is_drawn_with_each_update(window, qtbot):
    seen = []

    def check(update):
        if update.steps:
            x, _ = window.plots.items["step_raw"].getData()
            last = update.steps[-1]
            seen.append((x[-1], (last.epoch - 1) + last.step / last.steps_per_epoch))

    window.controller.updated.connect(check)  # after the window's own handler
    train_in_window(window, qtbot, epochs=2, batch_size=16)
    assert seen and all(abs(a - b) < 1e-9 for a, b in seen)


def test_empty_plots_have_plain_axes(window):
    for plot in (window.plots.loss_plot, window.plots.acc_plot):
        axis = plot.getAxis("bottom")
        assert not axis.autoSIPrefix and axis.labelText == "epoch"
        x0, x1 = plot.getViewBox().viewRange()[0]
        assert x0 <= 0 and x1 >= 1


def test_stopped_mid_epoch_is_said_so(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=50, batch_size=1))
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.current.buffers["step_raw"].n > 3, timeout=20000)
    with qtbot.waitSignal(window.training_finished, timeout=20000) as sig:
        window.controller.stop()
    ev = sig.args[0]
    assert ev.partial and "epoch not finished" in window.run_controls.progress_label.text()
    assert "after epoch" not in window.run_controls.progress_label.text()
    window.dirty = False


def test_smoothing_x_axis_and_hover(window, qtbot):
    train_in_window(window, qtbot, epochs=2, batch_size=16)
    p = window.plots
    raw = p.current.buffers["step_raw"].view()[1]
    p.smoothing.setValue(0)
    _, y0 = p.items["step_smooth"].getData()
    np.testing.assert_allclose(y0, raw)  # no smoothing: the raw curve
    p.smoothing.setValue(990)
    _, y1 = p.items["step_smooth"].getData()
    assert np.std(np.diff(y1)) < 0.5 * np.std(np.diff(raw))  # smoother
    assert abs(y1[0] - raw[0]) < 1e-9  # debiased: starts at the first value, not at 0
    steps = len(raw)
    p.x_axis.setCurrentText(X_AXES[1])
    x, _ = p.items["step_raw"].getData()
    assert x[-1] == pytest.approx(steps) and p.loss_plot.getAxis("bottom").labelText == "step"
    p.x_axis.setCurrentText(X_AXES[2])
    x, _ = p.items["step_raw"].getData()
    assert np.all(np.diff(x) >= 0) and 0 < x[-1] < 120  # seconds
    p.x_axis.setCurrentText(X_AXES[0])
    ex, ey = p.current.buffers["val_acc"].view()
    text = p.readout_at(p.acc_plot, QPointF(ex[-1], ey[-1]))
    assert p.current.name in text and "epoch 2" in text and "validation accuracy" in text


def test_reset_weights_and_one_step(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=2, batch_size=16))
    assert window.reset_weights()
    assert window.model is not None and not window.model.history.step_loss
    # generous caps: a worker may be starting (spawn, import torch) on a loaded machine
    with qtbot.waitSignal(window.training_finished, timeout=180000) as sig:
        window.actions.one_step.trigger()
    assert len(window.model.history.step_loss) == 1 and sig.args[0].step == 1
    with qtbot.waitSignal(window.training_finished, timeout=180000):
        window.actions.one_step.trigger()
    assert len(window.model.history.step_loss) == 2  # continues the same model
    window.dirty = False
