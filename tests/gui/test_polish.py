"""The defects a new user hit in the window, each reproduced and checked, and the plot features
TensorBoard users expect (smoothing, x axis, hover readout, legends, export)."""

from __future__ import annotations

import csv
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QFileDialog

from engine.checkpoint import Model, save_checkpoint
from engine.config import TrainConfig
from engine.training.run import FailedEvent, TrainingRun
from gui.views.training import X_AXES, off_scale_cap


@pytest.fixture
def trained(small_letters):
    run = TrainingRun(TrainConfig(epochs=3, batch_size=16), small_letters)
    run.run()
    return Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history, name="three")


def _train(window, qtbot, **config):
    window.hyper.set_config(TrainConfig(**config))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.start_training()
    window.dirty = False
    return sig.args[0]


# -- 1. plots after a divergence --------------------------------------------------------------
def test_off_scale_cap_ignores_absurd_values():
    sane = np.r_[3.3, np.linspace(2.0, 0.3, 200)]
    assert off_scale_cap([sane], log=False) == math.inf  # nothing is cut from a normal run
    normal_init = np.r_[40.0, 25.0, np.linspace(5, 0.4, 200)]  # N(0,1) weights start high: still shown
    assert off_scale_cap([normal_init], log=False) == math.inf
    diverged = np.r_[3.3, 2.9, 150.0, 1e8, 1e27, np.inf]
    cap = off_scale_cap([sane, diverged], log=False)
    assert 3.3 < cap < 1e4


def test_divergence_keeps_the_plot_readable(window, qtbot):
    _train(window, qtbot, epochs=2, batch_size=64)
    final = _train(window, qtbot, epochs=3, batch_size=64, lr=100.0, optim="sgd")
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


# -- 2. and naming: no blank legend entry -----------------------------------------------------
def test_open_checkpoint_then_train_has_no_blank_legend(window, qtbot, trained, tmp_path):
    save_checkpoint(tmp_path / "opened.pt", trained)
    with qtbot.waitSignal(window.model_changed, timeout=20000):
        window.open_checkpoint(str(tmp_path / "opened.pt"))
    window.dirty = False
    _train(window, qtbot, epochs=1, batch_size=64)
    for plot in (window.plots.loss_plot, window.plots.acc_plot):
        labels = [label.text for _, label in plot.getPlotItem().legend.items]
        assert all(labels) and "three" in labels  # the earlier run is named by its run name


def test_each_training_sample_is_labelled_with_its_class(window, qtbot):
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=30000)
    ds, panel = window.dataset, window.dataset_panel
    n = min(len(ds.train), 160)
    assert len(panel.sample_labels) == n
    for i in (0, 17, n - 1):
        assert panel.sample_labels[i].textItem.toPlainText() == ds.classes[int(ds.train.y[i])][:6]
    h, w = ds.train.x.shape[1:3]
    x, y = panel.sample_labels[17].pos().x(), panel.sample_labels[17].pos().y()
    assert (x, y) == (2 + 1 * (w + 2), 2 + 1 * (h + 2))  # tile 17: row 1, column 1 of 16


# -- 3. legends outside the data --------------------------------------------------------------
def test_legends_never_cover_the_data(window, qtbot):
    _train(window, qtbot, epochs=3, batch_size=64)
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


# -- 4. the plot is not behind the progress text ----------------------------------------------
def test_plot_is_drawn_with_each_update(window, qtbot):
    seen = []

    def check(update):
        if update.steps:
            x, _ = window.plots.items["step_raw"].getData()
            last = update.steps[-1]
            seen.append((x[-1], (last.epoch - 1) + last.step / last.steps_per_epoch))

    window.controller.updated.connect(check)  # after the window's own handler
    _train(window, qtbot, epochs=2, batch_size=16)
    assert seen and all(abs(a - b) < 1e-9 for a, b in seen)


# -- 5. empty plots ---------------------------------------------------------------------------
def test_empty_plots_have_plain_axes(window):
    for plot in (window.plots.loss_plot, window.plots.acc_plot):
        axis = plot.getAxis("bottom")
        assert not axis.autoSIPrefix and axis.labelText == "epoch"
        x0, x1 = plot.getViewBox().viewRange()[0]
        assert x0 <= 0 and x1 >= 1


# -- 6. small screens -------------------------------------------------------------------------
def test_window_fits_a_1024x700_screen(window, qtbot):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700
    window.resize(1024, 700)
    qtbot.wait(50)
    assert window.width() <= 1024
    rc = window.run_controls
    for button in (rc.start_button, rc.pause_button, rc.stop_button):  # not scrolled out of reach
        top_left = button.mapTo(window, button.rect().topLeft())
        assert 0 <= top_left.y() and top_left.y() + button.height() <= window.height()


# -- 7. status bar ----------------------------------------------------------------------------
def test_long_status_messages_are_elided(window, qtbot):
    long = "Training diverged at epoch 3 step 17: loss is nan — lower the learning rate " * 4
    window.show_status(long)
    qtbot.wait(20)
    label = window.status_message
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert label.text().endswith("…") and label.toolTip() == " ".join(long.split())


# -- 8. predictions ---------------------------------------------------------------------------
def test_predictions_follow_split_and_model(window, qtbot, trained):
    b = window.browser
    with qtbot.waitSignal(window.session.evaluated, timeout=20000):
        window.session.set_model(trained, None)  # opening a model evaluates it at once
    assert b.ev.split == "val" and "three" in b.summary.text()
    with qtbot.waitSignal(window.session.evaluated, timeout=20000):
        b.split.setCurrentText("test")
        b.split.activated.emit(b.split.currentIndex())
    assert b.ev.split == "test" and "on test" in b.summary.text()
    wrong = np.flatnonzero(b.ev.pred != b.ev.y)
    i = int(wrong[0]) if len(wrong) else 0
    b.confusion.setCurrentCell(int(b.ev.y[i]), int(b.ev.pred[i]))
    b.confusion.cellClicked.emit(int(b.ev.y[i]), int(b.ev.pred[i]))
    assert b.confusion.selectedItems()
    b.clear_cell.click()
    assert not b.confusion.selectedItems() and b.confusion.currentRow() == -1
    window.session.model = None


def test_per_class_accuracy_marks_empty_classes(qtbot):
    from gui.session import Session
    from gui.tasks import Tasks
    from gui.views.predictions import Evaluation, PredictionBrowser

    b = PredictionBrowser(Session(Tasks()))
    qtbot.addWidget(b)
    y = np.array([0, 0, 1])
    probs = np.array([[0.1, 0.8, 0.1], [0.9, 0.05, 0.05], [0.1, 0.8, 0.1]])
    b.set_evaluation(Evaluation("val", np.zeros((3, 4, 4), np.uint8), y, probs, ["A", "B", "Q"]))
    assert np.isnan(b.ev.per_class_accuracy()[2]) and b.ev.per_class_accuracy()[0] == 0.5
    assert list(b.empty_bars.opts["x"]) == [2] and list(b.bars.opts["x"]) == [0, 1]
    # "n/a" stands upright inside the hatched bar (a second tick line was cut off under the axis)
    (label,) = b.empty_labels
    assert label.textItem.toPlainText() == "n/a" and label.pos().x() == 2 and 0 < label.pos().y() < 1
    assert [t for _, t in b.per_class.getAxis("bottom")._tickLevels[0]] == ["A", "B", "Q"]
    b.set_evaluation(Evaluation("val", np.zeros((3, 4, 4), np.uint8), np.array([0, 1, 2]), probs, ["A", "B", "Q"]))
    assert b.empty_labels == [] and not any(isinstance(i, type(label)) for i in b.per_class.getPlotItem().items)


# -- 11. Save As starts where models were last saved, never in the dataset's folder --------------
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


# -- 12. no internals in messages ----------------------------------------------------------------
def test_unexpected_errors_are_said_in_words():
    from gui.tasks import describe_error

    assert (
        describe_error(FileNotFoundError(2, "No such file or directory", "/x/y.pt"))
        == "/x/y.pt: no such file or directory"
    )
    text = describe_error(EOFError("Ran out of input"))
    assert "EOFError" not in text and "Ran out of input" in text
    assert "memory" in describe_error(MemoryError())


# -- 14. smaller ones ----------------------------------------------------------------------------
def test_hidden_size_out_of_range_says_why(window):
    spin = window.hyper.layer_spins[0]
    spin.setValue(0)
    assert window.hyper.config() is None and "1 to 65,536" in window.hyper.error_label.text()
    assert spin.value() == 0  # not silently reverted
    spin.setValue(999999)
    assert window.hyper.config() is None and "999,999" in window.hyper.error_label.text()
    spin.setValue(64)
    assert window.hyper.config() is not None


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


def test_classify_results_go_when_another_model_opens(window, qtbot, trained, tmp_path):
    window.session.set_model(trained, None)
    img = tmp_path / "a.png"
    Image.fromarray(window.dataset.test.x[0]).save(img)
    with qtbot.waitSignal(window.classification_done, timeout=20000):
        window.classify_paths([str(img)])
    assert window.classify_panel.table.rowCount() == 1
    window.session.set_model(trained, None)
    assert window.classify_panel.table.rowCount() == 0 and "previous model" in window.classify_panel.labelled.text()
    # a drop of a checkpoint with images: the new model's results replace the note at once
    from engine.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "m.pt", trained)
    with qtbot.waitSignal(window.classification_done, timeout=60000):
        window.open_paths([str(img), str(tmp_path / "m.pt")])
    assert window.classify_panel.table.rowCount() == 1 and "previous model" not in window.classify_panel.labelled.text()
    window.session.model = None


def test_failed_checkpoint_with_images_classifies_nothing_later(window, qtbot, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_text("not a checkpoint")
    img = tmp_path / "a.png"
    Image.fromarray(window.dataset.test.x[0]).save(img)
    window.open_paths([str(bad), str(img)])
    qtbot.waitUntil(lambda: "bad.pt" in window._last_error, timeout=20000)
    done = []
    window.classification_done.connect(done.append)
    _train(window, qtbot, epochs=1, batch_size=64)
    qtbot.wait(200)
    assert not done  # no one-shot classify left connected


def test_classify_is_disabled_during_training(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=50, batch_size=1))
    window.start_training()
    assert not window.actions.classify.isEnabled() and not window.classify_panel.add_button.isEnabled()
    window.classify_paths(["/nonexistent.png"])
    assert "once the training run" in window._last_error
    with qtbot.waitSignal(window.training_finished, timeout=20000):
        window.controller.stop()
    assert window.actions.classify.isEnabled()
    window.dirty = False


# -- TensorBoard-style features -------------------------------------------------------------------
def test_smoothing_x_axis_and_hover(window, qtbot):
    _train(window, qtbot, epochs=2, batch_size=16)
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


def test_drop_zone_shows_while_dragging(window, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "x.png"))])
    window.dragEnterEvent(QDragEnterEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert window.drop_zone.isVisible() and "model" in window.drop_zone.text
    from PySide6.QtGui import QDragLeaveEvent

    window.dragLeaveEvent(QDragLeaveEvent())
    assert not window.drop_zone.isVisible()


def test_add_images_button(window, qtbot, trained, tmp_path, monkeypatch):
    window.session.set_model(trained, None)
    img = tmp_path / "a.png"
    Image.fromarray(window.dataset.test.x[0]).save(img)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(img)], ""))
    with qtbot.waitSignal(window.classification_done, timeout=20000):
        window.classify_panel.add_button.click()
    assert window.classify_panel.table.rowCount() == 1
    window.session.model = None


def test_exports_write_files_that_open(window, qtbot, tmp_path, monkeypatch):
    _train(window, qtbot, epochs=2, batch_size=16)
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
