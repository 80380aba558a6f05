"""Controls as a person uses them: the button clicked with the mouse, the menu item triggered,
the key pressed. Each of these once did nothing or harm because ``clicked(bool)`` landed in an
optional parameter, and the suite, calling the methods, never saw it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from engine.config import TrainConfig
from engine.runs.store import RunStore

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "userfn"
LETTERS = [FIX / "letters" / n for n in ("network.py", "losses.py", "activations.py")]


def menu_action(window, *path: str):
    """The QAction at a menu path, e.g. ("Tools", "Run Store Location…"), by visible text."""
    menus = window.menuBar().actions()
    items = menus
    for i, name in enumerate(path):
        found = next(a for a in items if a.text().replace("&", "") == name)
        if i == len(path) - 1:
            return found
        items = found.menu().actions()
    raise AssertionError(path)


def train(window, qtbot, **kw):
    window.hyper.set_config(TrainConfig(epochs=kw.pop("epochs", 2), batch_size=32, engine="numpy", **kw))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.actions.start.trigger()


def one_run_selected(window, qtbot, tmp_path):
    """A run trained in the window, selected in the Runs tab."""
    window.controller.set_store(str(tmp_path / "runs.db"))
    train(window, qtbot)
    view = window.runs_view
    window.tabs.setCurrentWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 1, timeout=10000)
    view.table.selectRow(0)
    return view


def test_race_the_reference_button_races_and_finds_an_8x_wrong_backward(window, qtbot, tmp_path):
    view = window.functions_view
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for f in LETTERS:
        shutil.copy(f, wrong / f.name)
    shutil.copy(FIX / "mistakes" / "batch_factor.py", wrong / "losses.py")  # backward omits 1/N
    with qtbot.waitSignal(view.checked, timeout=60000):
        view.load([str(wrong / f.name) for f in LETTERS])
    window.tabs.setCurrentWidget(view)
    assert not view.race_plots.isVisible()  # no race yet: no empty axes, a line saying what will be here
    with qtbot.waitSignal(view.raced, timeout=180000) as blocker:
        qtbot.mouseClick(view.race_button, Qt.LeftButton)
    res = blocker.args[0]
    assert view.race_plots.isVisible()
    assert "False" not in view.race_label.text()
    assert len(res.yours) > 0 and len(view.loss_plot.listDataItems()) == 2
    assert res.first_difference is not None and "agree at every step" not in view.race_label.text()


def test_runs_delete_asks_first_and_cancel_keeps_the_run(window, qtbot, tmp_path, answers):
    script, asked = answers
    view = one_run_selected(window, qtbot, tmp_path)
    script.append(QMessageBox.Cancel)
    qtbot.mouseClick(view.buttons["delete"], Qt.LeftButton)
    assert asked[-1] == "Delete Runs"
    assert len(RunStore(tmp_path / "runs.db").runs()) == 1
    script.append(QMessageBox.Yes)
    qtbot.mouseClick(view.buttons["delete"], Qt.LeftButton)
    assert RunStore(tmp_path / "runs.db").runs() == []


def test_runs_export_rows_and_curves_buttons_write_files(window, qtbot, tmp_path, monkeypatch):
    view = one_run_selected(window, qtbot, tmp_path)
    target = {"path": str(tmp_path / "rows.tex")}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (target["path"], ""))
    qtbot.mouseClick(view.buttons["export"], Qt.LeftButton)
    assert r"\begin{tabular}" in (tmp_path / "rows.tex").read_text(encoding="utf-8")
    target["path"] = str(tmp_path / "curves.csv")
    qtbot.mouseClick(view.buttons["curves"], Qt.LeftButton)
    assert (tmp_path / "curves.csv").read_text(encoding="utf-8").startswith("run")
    target["path"] = str(tmp_path / "figure.pdf")
    qtbot.mouseClick(view.buttons["figure"], Qt.LeftButton)
    assert (tmp_path / "figure.pdf").read_bytes().startswith(b"%PDF")
    assert "Wrote a figure of 1 run(s)" in view.status.text()


def test_run_store_location_menu_opens_its_dialog_and_cancel_changes_nothing(window, qtbot, monkeypatch, tmp_path):
    from gui import settings

    asked = []

    def get_text(parent, title, label, *a, **k):
        asked.append(title)
        return answer.pop(0)

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    answer = [("", False)]
    menu_action(window, "Tools", "Run Store Location…").trigger()
    assert asked == ["Run Store"] and settings.read("runs_db") == ""
    mine = tmp_path / "mine.db"
    answer.append((str(mine), True))
    menu_action(window, "Tools", "Run Store Location…").trigger()
    assert settings.read("runs_db") == str(mine) and mine.exists()


def test_space_pauses_a_run_started_with_ctrl_r(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=500, batch_size=1, engine="numpy"))
    window.activateWindow()
    with qtbot.waitSignal(window.controller.started, timeout=60000):
        qtbot.keyClick(window, Qt.Key_R, Qt.ControlModifier)
    name = window.run_controls.name.text()
    focus = QApplication.focusWidget()
    assert focus is not window.run_controls.name
    qtbot.keyClick(focus or window, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.controller.paused, timeout=10000)
    assert window.run_controls.name.text() == name
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        qtbot.keyClick(window, Qt.Key_Escape)


def test_a_paused_run_shows_no_eta_and_another_model_clears_the_last_runs_progress(window, qtbot, tmp_path):
    from engine.checkpoint import Model, save_checkpoint
    from engine.training.run import TrainingRun

    label = window.run_controls.progress_label
    window.hyper.set_config(TrainConfig(epochs=500, batch_size=1, engine="numpy"))
    with qtbot.waitSignal(window.controller.started, timeout=60000):
        window.actions.start.trigger()
    qtbot.waitUntil(lambda: "ETA" in label.text(), timeout=60000)
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.controller.paused, timeout=10000)
    assert "Paused" in label.text() and "ETA" not in label.text() and label.text().startswith("Epoch ")
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.actions.stop.trigger()
    assert "Stopped" in label.text() or "Finished" in label.text()
    other = TrainingRun(TrainConfig(epochs=1, batch_size=32, hidden=[8]), window.dataset, health=False)
    other.run()
    model = Model(other.network, window.dataset.classes, window.dataset.norm_size, other.config, other.history)
    model.name = "another model"
    save_checkpoint(tmp_path / "other.pt", model)
    window.open_paths([str(tmp_path / "other.pt")])  # as a drop or a second launch opens it
    qtbot.waitUntil(lambda: window.model is not None and window.model.name == "another model", timeout=60000)
    assert label.text() == "" and window.run_controls.progress.value() == 0


def test_the_first_window_fits_a_1366x768_laptop():
    from gui.main_window import first_size

    laptop = first_size(QRect(0, 0, 1366, 728))  # what a 1366×768 screen has above its taskbar
    assert laptop.width() <= 1366 - 16 and laptop.height() <= 728 - 40
    big = first_size(QRect(0, 0, 2560, 1400))
    assert (big.width(), big.height()) == (1400, 880)


def test_a_restored_window_is_kept_on_the_screen(window, qtbot):
    avail = window.screen().availableGeometry()
    window.resize(avail.width() + 900, avail.height() + 700)
    window.move(avail.right() + 400, avail.bottom() + 300)  # saved on a monitor since unplugged
    window._keep_on_screen()
    frame = window.frameGeometry()
    assert avail.contains(frame.topLeft())
    assert frame.width() <= max(avail.width(), window.minimumSizeHint().width() + 40)


def test_a_drop_is_taken_as_a_copy_never_a_move(window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    image = tmp_path / "a.png"
    from PIL import Image

    Image.new("L", (8, 8)).save(image)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image))])
    enter = QDragEnterEvent(
        QPointF(50, 50).toPoint(), Qt.MoveAction | Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier
    )
    enter.setDropAction(Qt.MoveAction)
    window.dragEnterEvent(enter)
    assert enter.isAccepted() and enter.dropAction() == Qt.CopyAction
    drop = QDropEvent(QPointF(50, 50), Qt.MoveAction | Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    drop.setDropAction(Qt.MoveAction)
    window.dropEvent(drop)
    assert drop.dropAction() == Qt.CopyAction and image.exists()


def test_a_new_run_asks_about_the_last_model_only_when_it_would_be_lost(window, qtbot, tmp_path, answers):
    """A finished run is kept in the run store: iterating on hyperparameters asks nothing. A model
    kept nowhere (a run not recorded) is still asked about."""
    script, asked = answers
    window.controller.set_store(str(tmp_path / "runs.db"))
    train(window, qtbot)
    assert window.session.kept_copy and window.dirty
    train(window, qtbot, lr=0.01)
    assert asked == []
    window.controller.set_store(str(tmp_path / "no such folder" / "runs.db"))  # nowhere to record it
    window.controller.store_problem.disconnect()
    train(window, qtbot, lr=0.02)
    assert window.session.kept_copy is None
    script.append(QMessageBox.Cancel)
    window.actions.start.trigger()
    assert asked == ["Unsaved Model"] and not window.training
    window.dirty = False


def test_stop_then_resume_keeps_the_clock_and_the_progress_of_the_whole_run(window, qtbot):
    """After Stop + Resume the time said and the progress bar cover the whole run, and the wall-time
    axis does not fold the earlier epochs onto 0."""
    from gui.views.training import X_AXES

    window.hyper.set_config(TrainConfig(epochs=12, batch_size=1, engine="numpy", hidden=[256]))
    from engine.training.run import EpochEvent

    epochs = []
    window.controller.updated.connect(lambda u: epochs.extend(e for e in u.events if isinstance(e, EpochEvent)))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.actions.start.trigger()
        qtbot.waitUntil(lambda: len(epochs) >= 2, timeout=60000)  # the events the window shows
        window.actions.stop.trigger()
    first = window.model.history.seconds
    assert window.model.history.epochs_completed < 12
    assert first > 0
    rc = window.run_controls
    with qtbot.waitSignal(window.training_finished, timeout=60000) as done:
        window.actions.resume.trigger()
        assert rc.progress.value() == window.controller.info.start_step >= 2 * 312  # where the first part stopped
    assert done.args[0].elapsed > first and window.model.history.seconds > first
    assert rc.progress.value() == rc.progress.maximum()
    x = np.array([0.5, 1.0])
    wall = window.plots.current.map_x(x, X_AXES[2])
    assert np.all(wall > 0) and wall[1] > wall[0]


def test_a_relaunch_reopens_the_last_model_with_its_curves(qtbot, tmp_path, small_letters, answers):
    """Closing after a run asks nothing (the model is kept in the run store) and the next launch
    opens it again, curves included."""
    from gui.main_window import MainWindow

    script, asked = answers
    w = MainWindow(load_default=False)
    qtbot.addWidget(w)
    w.session.set_dataset(small_letters)
    w.controller.set_store(str(tmp_path / "runs.db"))
    train(w, qtbot, epochs=3)
    name = w.model.name
    w.close()
    assert asked == [] and not w.isVisible()
    again = MainWindow(load_default=False)
    qtbot.addWidget(again)
    again.session.set_dataset(small_letters)
    with qtbot.waitSignal(again.model_changed, timeout=30000):
        assert again.reopen_last_model()
    assert again.model.name == name and again.model.history.epoch == [1, 2, 3]
    assert again.plots.current.buffers["epoch_loss"].n == 3
    again.dirty = False


def test_f1_lists_every_shortcut_including_the_views_own(window, qtbot):
    qtbot.keyClick(window, Qt.Key_F1)
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes, "F1 opened no list"
    text = boxes[-1].text()
    for keys in ("Ctrl+R", "Space", "Esc", "F6", "Alt+← / Alt+→", "Ctrl+1"):
        assert keys in text, keys
    boxes[-1].close()
    assert "true" in window.browser.confusion_axes.text() and "predicted" in window.browser.confusion_axes.text()


def test_one_step_after_a_finished_run_leaves_the_epochs_the_user_set(window, qtbot):
    train(window, qtbot, epochs=2)
    assert window.hyper.epochs.value() == 2
    with qtbot.waitSignal(window.training_finished, timeout=120000):
        qtbot.keyClick(window, Qt.Key_T, Qt.ControlModifier)
    assert len(window.model.history.step_loss) > 0 and window.hyper.epochs.value() == 2
    window.dirty = False


def test_use_best_validation_weights_is_what_predictions_use_and_switches_back(window, qtbot):
    window.hyper.set_config(TrainConfig(epochs=4, batch_size=16, seed=3))
    with qtbot.waitSignal(window.training_finished, timeout=60000) as sig:
        window.actions.start.trigger()
    final = sig.args[0]
    assert window.actions.use_best.isEnabled() and not window.actions.use_best.isChecked()
    final_weights = [w.copy() for w in window.model.network.weights()]
    window.browser.split.setCurrentText("test")
    with qtbot.waitSignal(window.session.evaluated, timeout=30000, check_params_cb=lambda ev: ev.split == "test"):
        window.actions.use_best.trigger()
    assert window.session.weights_choice == "best" and window.actions.use_best.isChecked()
    assert all((a == b).all() for a, b in zip(window.model.network.weights(), window.session.best[1], strict=True))
    assert window.session.best[0] == final.best_epoch
    # the run's own "test accuracy at the best validation epoch", now what the Predictions tab shows
    assert window.browser.ev.accuracy == pytest.approx(final.best_test_acc)
    window.actions.use_best.trigger()
    assert window.session.weights_choice == "final"
    assert all((a == b).all() for a, b in zip(window.model.network.weights(), final_weights, strict=True))


def test_a_damaged_run_store_is_said_on_the_runs_tab_not_shown_as_empty(window, qtbot, tmp_path):
    import sqlite3

    path = tmp_path / "runs.db"
    RunStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(path, "r+b") as fh:  # the first table's page header overwritten
        fh.seek(4096)
        fh.write(b"\x0d\xff\xff\xff\xff\xff\xff\xff" * 4)
    window.controller.set_store(str(path))
    window.tabs.setCurrentWidget(window.runs_view)
    qtbot.mouseClick(window.runs_view.buttons["refresh"], Qt.LeftButton)
    assert "the run store is damaged" in window.runs_view.status.text()
    assert window.runs_view.model.rowCount() == 0


def test_file_import_a_run_puts_a_course_log_in_the_runs_tab(window, qtbot, tmp_path, monkeypatch):
    log = tmp_path / "exp1.log"
    log.write_text("[0] Accuracy: 0.9485\n[1] Accuracy: 0.9621\n[2] Accuracy: 0.9693\n")
    window.controller.set_store(str(tmp_path / "runs.db"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(log), "")))
    menu_action(window, "File", "Import a Run…").trigger()
    view = window.runs_view
    assert window.tabs.currentWidget() is view and view.selected_ids() == [1]
    row = RunStore(tmp_path / "runs.db").run(1)
    assert (
        row.name == "exp1"
        and row.test_acc == 0.9693
        and "Imported exp1.log as run #1" in window.status_message.message()
    )


def test_the_run_panels_buttons_stay_put_as_status_lines_come_and_go(window, qtbot):
    from PySide6.QtCore import QPoint

    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    panel = window.run_controls

    def where():
        QApplication.processEvents()
        return panel.start_button.mapTo(window, QPoint(0, 0)), panel.progress.mapTo(window, QPoint(0, 0))

    before = where()
    assert panel.result_label.text() == ""
    train(window, qtbot, epochs=1)
    assert panel.result_label.text() and panel.progress_label.text() != "Ready."
    assert where() == before  # the result line appeared: nothing above it moved


def test_cancel_stops_opening_a_dataset_and_keeps_the_one_open_before(window, qtbot, tmp_path, monkeypatch):
    import threading

    from PIL import Image

    import engine.data.images as images

    root = tmp_path / "big"
    for cls in ("A", "B"):
        (root / cls).mkdir(parents=True)
        for i in range(70):
            Image.new("L", (8, 8), color=(i * 3) % 256).save(root / cls / f"{i}.png")
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=30000)
    before = window.dataset
    reached, release = threading.Event(), threading.Event()
    real, calls = images.load_image, []

    def slow_load(path, norm_size):  # the 70th image takes until the test has clicked Cancel
        calls.append(path)
        if len(calls) == 70:
            reached.set()
            release.wait(30)
        return real(path, norm_size)

    monkeypatch.setattr(images, "load_image", slow_load)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(root))
    button = window.cancel_open_button
    assert not button.isVisible()
    menu_action(window, "File", "Open Dataset…").trigger()
    qtbot.waitUntil(reached.is_set, timeout=30000)
    qtbot.waitUntil(button.isVisible, timeout=5000)
    qtbot.mouseClick(button, Qt.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: not button.isVisible(), timeout=30000)
    assert window.dataset is before  # the data open before is still the data
    assert "cancelled" in window.status_message.message() and len(calls) < 140  # stopped, not finished
    assert "cancelled" not in window._last_error  # a choice, not an error dialog
