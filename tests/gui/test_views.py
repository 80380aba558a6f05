"""Prediction browser, drag and drop, menus (dialogs patched), gradient check, dataset opening, start-up."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from engine.checkpoint import Model, save_checkpoint
from engine.config import TrainConfig
from engine.training.run import TrainingRun
from gui.views.predictions import SORTS, Evaluation, PredictionBrowser
from tests.conftest import ROOT, write_course_layout
from tests.gui.conftest import train_in_window


@pytest.fixture
def trained_model(small_letters):
    run = TrainingRun(TrainConfig(epochs=4, batch_size=16), small_letters)
    run.run()
    return Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history)


def _evaluation():
    classes = ["a", "b", "c"]
    y = np.array([0, 0, 1, 1, 2, 2])
    probs = np.array(
        [[0.9, 0.05, 0.05], [0.4, 0.5, 0.1], [0.2, 0.7, 0.1], [0.1, 0.45, 0.45], [0.6, 0.1, 0.3], [0.1, 0.1, 0.8]]
    )
    x = np.zeros((6, 8, 8), np.uint8)
    return Evaluation("val", x, y, probs, classes, [f"img{i}.png" for i in range(6)])


def test_gallery_filter_sort_and_confusion_cells(qtbot):
    from gui.session import Session
    from gui.tasks import Tasks

    b = PredictionBrowser(Session(Tasks()))
    qtbot.addWidget(b)
    b.set_evaluation(_evaluation())
    assert "accuracy <b>66.7%</b>" in b.summary.text()
    assert b.model.rowCount() == 6
    b.wrong_only.setChecked(True)
    assert list(b.visible_indices()) == [1, 4]
    b.wrong_only.setChecked(False)
    b.sort.setCurrentText(SORTS[2])  # highest-confidence wrong first
    assert list(b.visible_indices()[:2]) == [4, 1]
    b.sort.setCurrentText(SORTS[1])  # lowest-confidence correct first
    assert list(b.visible_indices()[:2]) == [3, 2]
    assert b.confusion.matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    b.confusion.cellClicked.emit(2, 0)  # true c, predicted a
    assert list(b.visible_indices()) == [4] and "true c → predicted a" in b.cell_label.text()
    b.clear_cell.click()
    assert b.model.rowCount() == 6
    b.gallery.setCurrentIndex(b.model.index(0))
    assert b.detail_bars.items[0][0] == b.model.ev.classes[b.model.ev.pred[int(b.visible_indices()[0])]]
    assert len(b.detail_bars.items) == 3 and b.detail_image.pixmap().width() >= 8


def _drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(QDropEvent(QPointF(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


def test_drop_images_classifies_with_error_rows(window, qtbot, trained_model, tmp_path):
    window.session.set_model(trained_model, None)
    window._update_controls()
    good = tmp_path / "a.png"
    Image.fromarray(window.dataset.test.x[0]).resize((50, 60)).save(good)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff broken")
    with qtbot.waitSignal(window.classification_done, timeout=20000) as sig:
        _drop(window, [good, bad])
    results = sig.args[0]
    assert [bool(r.error) for r in results] == [False, True]
    t = window.classify_panel.table
    assert t.rowCount() == 2
    assert t.item(0, 2).text().split()[0] in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # letters in upper case
    assert t.item(1, 2).text() == "error" and "broken.jpg" in t.item(1, 2).toolTip()
    assert window.tabs.currentWidget() is window.classify_panel


def test_drop_labelled_folder_is_scored(window, qtbot, trained_model, tmp_path):
    window.session.set_model(trained_model, None)
    for letter in ("A", "b"):
        d = tmp_path / "set" / letter
        d.mkdir(parents=True)
        idx = np.flatnonzero(window.dataset.test.y == "AB".index(letter.upper()))[:2]
        for i in idx:
            Image.fromarray(window.dataset.test.x[i]).save(d / f"{i}.png")
    with qtbot.waitSignal(window.classification_done, timeout=20000):
        _drop(window, [tmp_path / "set"])
    assert "4 labelled images, accuracy" in window.classify_panel.labelled.text()
    assert window.classify_panel.confusion.matrix.sum() == 4


def test_drop_checkpoint_opens_it(window, qtbot, trained_model, tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, trained_model)
    with qtbot.waitSignal(window.model_changed, timeout=20000):
        _drop(window, [path])
    assert window.checkpoint_path == str(path) and not window.dirty
    assert window.hyper.config().epochs == 4 and window.plots.current.buffers["epoch_loss"].n == 4
    assert "model.pt" in window.windowTitle() and window.actions.classify.isEnabled()


def test_classify_without_a_model_says_what_to_do(window, tmp_path):
    window.classify_paths([str(tmp_path)])
    assert "Open a checkpoint or train a model first" in window._last_error


def test_save_as_and_open_through_menus(window, qtbot, trained_model, tmp_path, monkeypatch):
    window.session.set_model(trained_model, None)
    window._update_controls()
    target = tmp_path / "saved"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.actions.save_as.trigger()
    assert (tmp_path / "saved.pt").exists() and not window.dirty
    assert window.windowTitle().endswith("saved.pt")
    window.session.model = None
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "saved.pt"), ""))
    with qtbot.waitSignal(window.model_changed, timeout=20000):
        window.actions.open_ckpt.trigger()
    assert window.model is not None and window.actions.recent.actions()[0].text() == str(tmp_path / "saved.pt")
    window.actions.resume.setEnabled(True)


def test_opening_a_bad_checkpoint_shows_the_problem(window, qtbot, tmp_path, monkeypatch):
    bad = tmp_path / "notes.pt"
    bad.write_text("not a checkpoint")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    window.actions.open_ckpt.trigger()
    qtbot.waitUntil(lambda: "notes.pt" in getattr(window, "_last_error", ""), timeout=20000)
    assert "not a checkpoint" in window._last_error and window.model is None


def test_open_dataset_through_the_menu(window, qtbot, tmp_path, monkeypatch):
    root = write_course_layout(tmp_path / "course")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(root))
    with qtbot.waitSignal(window.dataset_loaded, timeout=30000):
        window.actions.open_data.trigger()
    assert window.dataset.layout == "course" and "course: 12/4/4" in window.dataset_status.text()
    assert "course" in window.dataset_panel.info.text() and len(window.dataset_panel.bar_items) == 3


def test_gradient_check_dialog(window, qtbot):
    dialog = window.gradient_check()
    from engine.inspect.gradcheck import run_all

    n = len(run_all())
    qtbot.waitUntil(lambda: dialog.table.rowCount() == n, timeout=60000)
    results = [dialog.table.item(i, 2).text() for i in range(n)]
    assert results == ["PASS"] * n and f"{n} of {n} checks passed" in dialog.status.text()
    errors = [float(dialog.table.item(i, 3).text()) for i in range(n)]  # numbers, torch rows too
    assert max(errors) < 1e-5


def test_shortcuts_are_wired(window):
    assert {s.toString() for s in window.actions.start.shortcuts()} == {"Ctrl+R", "F5"}
    assert window.actions.pause.shortcut().toString() == "Space" and window.actions.stop.shortcut().toString() == "Esc"
    assert (
        window.actions.save.shortcut().toString() == "Ctrl+S"
        and window.actions.open_ckpt.shortcut().toString() == "Ctrl+O"
    )


def test_start_up_smoke(tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "BACKPROP_STUDIO_SETTINGS": str(tmp_path / "s.ini"),
        "PYTHONPATH": str(ROOT),
    }
    r = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--quit-when-ready"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "ready: Built-in letters | Built-in letters: 8320/520/520" in r.stdout and "26 classes" in r.stdout


def test_plots_follow_a_palette_switch(window, qapp):
    from PySide6.QtGui import QColor, QPalette

    old = qapp.palette()
    dark = QPalette(old)
    dark.setColor(QPalette.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.Text, QColor("#eeeeee"))
    dark.setColor(QPalette.Window, QColor("#2b2b2b"))
    try:
        qapp.setPalette(dark)
        qapp.processEvents()
        bg = window.plots.loss_plot.backgroundBrush().color()
        assert bg.lightness() < 60
        assert window.plots.loss_plot.getPlotItem().getAxis("left").textPen().color().lightness() > 200
        # legends made before the switch follow it too (their text was left dark on dark)
        for legend in window.plots.legends:
            assert legend.items and all(label.opts["color"].lightness() > 200 for _s, label in legend.items)
    finally:
        qapp.setPalette(old)
        qapp.processEvents()
    assert window.plots.loss_plot.backgroundBrush().color().lightness() > 200


def test_window_geometry_and_splitter_are_remembered(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QSplitter

    from gui import settings
    from gui.main_window import MainWindow

    window.splitter.setSizes([420, 880])
    window.dirty = False
    window.close()
    saved = settings.read("splitter")
    assert saved == bytes(window.splitter.saveState()) and settings.read("geometry")
    restored = []
    monkeypatch.setattr(QSplitter, "restoreState", lambda self, state: restored.append(bytes(state)) or True)
    again = MainWindow(load_default=False)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: restored == [saved], timeout=2000)
    # (sizes themselves cannot be compared here: the offscreen screen is smaller than the window)


def test_vectorised_smoothing_matches_the_recurrence():
    from gui.views.training import ema, envelope

    v = np.random.default_rng(0).random(4500) * 3
    expected, e = [], 1.5
    for x in v:
        e = 0.98 * e + 0.02 * x
        expected.append(e)
    np.testing.assert_allclose(ema(v, 0.98, 1.5), expected, rtol=1e-12)
    x, y = np.arange(10_000.0), v.repeat(3)[:10_000]
    ex, ey = envelope(x, y, max_points=1000)
    assert len(ex) <= 1100 and ey.max() == y.max() and ey.min() == y.min()  # peaks survive


def test_smoothing_a_growing_curve_piece_by_piece_equals_smoothing_it_whole():
    """The live curve smooths only each update's new steps; the result must not drift from the whole."""
    from gui.views.training import Smoother, smooth, thin

    v = np.random.default_rng(1).random(3000) * 2
    v[[5, 700, 701, 2999]] = [np.nan, np.inf, np.nan, np.nan]  # skipped, as a diverged step is
    s = Smoother()
    for end in (1, 2, 26, 27, 500, 1500, 2998, 3000):
        np.testing.assert_allclose(s(v[:end], 0.95), smooth(v[:end], 0.95), rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(s(v, 0.6), smooth(v, 0.6), rtol=1e-9, equal_nan=True)  # a new factor: redone
    ok = np.isfinite(v)
    e, expected = 0.0, []  # the debiased recurrence over the finite values, for a low factor on a long run
    for i, x in enumerate(v[ok]):
        e = 0.6 * e + 0.4 * x
        expected.append(e / (1 - 0.6 ** (i + 1)))
    np.testing.assert_allclose(smooth(v, 0.6)[ok], expected, rtol=1e-9)
    np.testing.assert_allclose(s(v[:40], 0.6), smooth(v[:40], 0.6), rtol=1e-9, equal_nan=True)  # a new run
    np.testing.assert_array_equal(s(v[:40], 0.0), v[:40])
    x, y = thin(np.arange(1001.0), np.arange(1001.0), max_points=400)
    assert len(x) == 400 and x[-1] == 1000 and np.all(np.diff(x) > 0)


def test_app_icon_ships():
    from PySide6.QtGui import QIcon

    from gui.app import icon_path

    assert icon_path().is_file() and not QIcon(str(icon_path())).isNull()


def test_closing_cancels_a_long_dataset_decode(window, qtbot, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        d = tmp_path / "big" / cls
        d.mkdir(parents=True)
        for i in range(1500):
            Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)).save(d / f"{i}.png")
    import engine.data.folders as folders

    real = folders.decode_files

    def decode_until_closed(files, norm_size, progress, *args, **kw):
        """The decode is still running when the window closes, however fast or busy the machine:
        it reports once, then waits for close to ask it to give up before reporting again."""

        def held(done, total, message=""):
            progress(done, total, message)
            window.tasks.cancelled.wait(60)
            progress(done, total, message)  # raises: the opening was cancelled

        return real(files, norm_size, held, *args, **kw)

    monkeypatch.setattr(folders, "decode_files", decode_until_closed)
    window.open_dataset(str(tmp_path / "big"))
    qtbot.waitUntil(lambda: window.task_progress.value() > 0, timeout=20000)
    window.close()  # waits for the decoding thread, which gives up at its next progress report
    assert not window.isVisible() and window.dataset.name == "small letters"
    qtbot.waitUntil(lambda: "opening cancelled" in getattr(window, "_last_error", ""), timeout=5000)


def test_qt_bindings_keep_none_alive(qapp):
    """PySide6 6.12.0 released one reference to None on every call of a C++ method returning
    void; on Python 3.11 the app then aborts ("none_dealloc") after enough painting. The
    version requirement excludes it; this keeps any such binding out."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter, QPen

    img = QImage(16, 16, QImage.Format_ARGB32)
    painter = QPainter(img)
    pen = QPen()
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.setPen(pen)
        painter.drawLine(QPointF(0, 0), QPointF(1, 1))
    after = sys.getrefcount(None)
    painter.end()
    assert after - before > -100, f"None lost {before - after} references in 4000 calls"


def test_a_late_result_for_an_earlier_split_does_not_replace_the_chosen_one(qtbot):
    from gui.session import Session
    from gui.tasks import Tasks
    from gui.views.predictions import PredictionBrowser

    b = PredictionBrowser(Session(Tasks()))
    qtbot.addWidget(b)
    v = _evaluation()
    test_ev = Evaluation("test", v.x, v.y, v.probs, v.classes, v.names)
    b._requested = "test"  # the user chose test after val had been asked for
    b.set_evaluation(test_ev)
    b.set_evaluation(_evaluation())  # val's result arrives late
    assert b.ev is test_ev and b.split.currentText() == "test"
    b._pending = ("test", 3)
    b.set_evaluation(test_ev)  # an image waiting for its split is selected when it comes
    assert b.model.data(b.gallery.currentIndex(), 256) == 3


def test_cyclic_garbage_is_collected_only_by_the_gui_thread(window, qtbot):
    """A collection in a task's thread could destroy a Qt object there and deadlock (it did, in
    this suite): automatic collection is off and a GUI-thread timer collects instead."""
    import gc

    from gui import runtime

    assert not gc.isenabled()
    assert runtime._collector is not None and runtime._collector.timer.isActive()
    gc.collect()
    before = gc.get_count()[0]
    junk = []
    for _ in range(5000):  # cycles: only a collection frees them
        a = []
        a.append(a)
        junk.append(a)
    del junk
    assert gc.get_count()[0] > before
    qtbot.waitUntil(lambda: gc.get_count()[0] < 700, timeout=3000)  # the timer collected, in this thread


def test_a_full_collection_waits_while_a_run_draws_live_and_young_garbage_does_not(qtbot, monkeypatch):
    """A full collection (60–80 ms) waits while the window animates a run or a sweep; the young
    generations are still collected, and the full one comes once the app is idle (or late enough)."""
    import gc
    import weakref

    from gui import runtime

    class Cycle:
        pass

    busy = {"now": True}
    collector = runtime._Collector(lambda: busy["now"], interval_ms=10_000)  # checked by hand below
    collector.timer.stop()
    monkeypatch.setattr(gc, "get_threshold", lambda: (1, 1, 1))
    monkeypatch.setattr(gc, "get_count", lambda: (5, 5, 5))  # every generation past its threshold

    def young_cycle():
        c = Cycle()
        c.me = c
        return weakref.ref(c)

    for _ in range(3):
        ref = young_cycle()
        collector.check()
        assert ref() is None  # collected (a young generation) …
    assert collector.full_collections == 0  # … but never the full one while busy
    busy["now"] = False
    collector.check()
    assert collector.full_collections == 1
    busy["now"] = True
    monkeypatch.setattr(runtime.time, "monotonic", lambda: collector.last_full + runtime.FULL_WHILE_BUSY_S + 1)
    collector.check()
    assert collector.full_collections == 2  # busy for too long: it runs anyway


def test_closing_waits_for_a_task_started_just_before(window, qtbot):
    """Started inside a running event loop, a superqt worker joins the thread pool only on a 1 ms
    timer: a task started in the same handler as the close used to run after the window was gone."""
    import threading
    import time

    from PySide6.QtCore import QEventLoop, QThreadPool, QTimer

    ran = threading.Event()
    seen = {}

    def late_task():
        time.sleep(0.2)
        ran.set()

    def in_the_loop():
        window.tasks.run(late_task, on_done=lambda _r: None, label="late")
        seen["waited"] = window.tasks.cancel_all(5000)
        seen["ran"] = ran.is_set()
        seen["active"] = QThreadPool.globalInstance().activeThreadCount()
        loop.quit()

    loop = QEventLoop()
    QTimer.singleShot(0, in_the_loop)
    loop.exec()
    assert seen == {"waited": True, "ran": True, "active": 0}


OPEN_WITHOUT_TORCH = """
import os, sys, tempfile
os.environ["BACKPROP_STUDIO_SETTINGS"] = os.path.join(tempfile.mkdtemp(), "settings.ini")
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
w = MainWindow(load_default=False)
w.show()
app.processEvents()
print("torch imported:", "torch" in sys.modules, "devices:", w.hyper.device.count())
w.dirty = False
w.close()
"""


def test_the_window_opens_without_importing_torch():
    """torch's import is most of a second of the launch: the window shows first, and torch is
    imported in the background (warm_up), by the first torch network, or by a checkpoint."""
    from tests.conftest import ROOT

    out = subprocess.run(
        [sys.executable, "-c", OPEN_WITHOUT_TORCH],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "torch imported: False devices: 1" in out.stdout


def test_devices_are_listed_once_torch_is_imported_keeping_the_chosen_one(window, monkeypatch):
    from engine.config import TrainConfig
    from gui.views import hyperparameters

    panel = window.hyper
    panel.device.clear()
    panel.device.addItem("cpu")  # as the window opens, before torch is imported
    panel.set_config(TrainConfig(device="cuda"))  # remembered from last time, not listed yet
    assert panel.device.currentText() == "cpu"
    monkeypatch.setattr(hyperparameters, "available_devices", lambda: ["cpu", "cuda"])
    panel.refresh_devices()
    assert [panel.device.itemText(i) for i in range(panel.device.count())] == ["cpu", "cuda"]
    assert panel.device.currentText() == "cuda" and panel.device.isEnabled()


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


def test_long_status_messages_are_elided(window, qtbot):
    long = "Training diverged at epoch 3 step 17: loss is nan — lower the learning rate " * 4
    window.show_status(long)
    qtbot.wait(20)
    label = window.status_message
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert label.text().endswith("…") and label.toolTip() == " ".join(long.split())


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


def test_unexpected_errors_are_said_in_words():
    from gui.tasks import describe_error

    assert (
        describe_error(FileNotFoundError(2, "No such file or directory", "/x/y.pt"))
        == "/x/y.pt: no such file or directory"
    )
    text = describe_error(EOFError("Ran out of input"))
    assert "EOFError" not in text and "Ran out of input" in text
    assert "memory" in describe_error(MemoryError())


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
    train_in_window(window, qtbot, epochs=1, batch_size=64)
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
