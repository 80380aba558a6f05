"""Every menu item and every enabled button of every view, clicked as a person clicks, in a window
with a trained model and an open dataset. A new control is covered without new code.

Dialogs are answered by stubs (file dialogs get a path in the test's folder, questions are
answered Cancel/No, modal dialogs are rejected, dialogs left open are closed). The walk fails on
any uncaught exception (pytest-qt reports exceptions raised in slots), any Qt critical message,
any settings value of the wrong type (``settings.write`` refuses one) and any file written
outside the temporary folders (the suite's autouse fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTabBar,
    QToolButton,
)

from engine.config import TrainConfig

SKIP_ACTIONS = {"Quit"}  # closes the window: the walk would end; closing is tested on its own


def _stub_dialogs(monkeypatch, folder: Path, seen: list[str]) -> None:
    def save_name(parent, caption="", directory="", *a, **k):
        seen.append(f"save dialog: {caption}")
        name = Path(str(directory)).name or "export.csv"
        if "." not in name:
            name += ".csv"
        return str(folder / name), ""

    def cancel_open(parent, caption="", *a, **k):
        seen.append(f"open dialog: {caption}")
        return "", ""

    def cancel_open_many(parent, caption="", *a, **k):
        seen.append(f"open dialog: {caption}")
        return [], ""

    def cancel_folder(parent, caption="", *a, **k):
        seen.append(f"folder dialog: {caption}")
        return ""

    def answer_no(parent, title, text, buttons=None, *a, **k):
        seen.append(f"question: {title}")
        return QMessageBox.No if buttons is not None and buttons & QMessageBox.No else QMessageBox.Cancel

    def note(parent, title, text, *a, **k):
        seen.append(f"message: {title}")
        return QMessageBox.Ok

    def input_cancelled(kind):
        def ask(parent, title, label, *a, **k):
            seen.append(f"input: {title}")
            return kind, False

        return ask

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", cancel_open)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", cancel_open_many)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", cancel_folder)
    monkeypatch.setattr(QMessageBox, "question", answer_no)
    for name in ("information", "warning", "critical", "about"):
        monkeypatch.setattr(QMessageBox, name, note)
    monkeypatch.setattr(QInputDialog, "getText", input_cancelled(""))
    monkeypatch.setattr(QInputDialog, "getInt", input_cancelled(0))
    monkeypatch.setattr(QInputDialog, "getDouble", input_cancelled(0.0))
    monkeypatch.setattr(QInputDialog, "getItem", input_cancelled(""))
    monkeypatch.setattr(QInputDialog, "getMultiLineText", input_cancelled(""))

    def rejected(self, *a, **k):
        seen.append(f"modal dialog: {self.windowTitle()}")
        return QDialog.Rejected

    monkeypatch.setattr(QDialog, "exec", rejected)
    monkeypatch.setattr(QMessageBox, "exec", rejected)


def _menu_actions(window) -> list[tuple[str, QAction]]:
    out = []

    def walk(actions, path):
        for act in actions:
            text = act.text().replace("&", "")
            if act.menu() is not None:
                walk(act.menu().actions(), [*path, text])
            elif not act.isSeparator() and text:
                out.append((" ▸ ".join([*path, text]), act))

    walk(window.menuBar().actions(), [])
    return out


def _buttons(window) -> list[QAbstractButton]:
    buttons = []
    for b in window.findChildren(QAbstractButton):
        if not isinstance(b, (QPushButton, QToolButton)) or isinstance(b.parent(), QTabBar):
            continue  # a tab bar's own scroll arrows
        if b.window() is not window:
            continue
        buttons.append(b)
    return buttons


def _reveal(widget) -> None:
    """The tabs and pages that hold ``widget`` made current, as a person would open them."""
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QStackedWidget):
            parent.setCurrentWidget(child)
        child, parent = parent, parent.parentWidget()


def _key(b: QAbstractButton) -> tuple:
    """The same button after its view rebuilt it: its words and where it sits."""
    chain, w = [], b.parentWidget()
    while w is not None:
        chain.append(type(w).__name__)
        w = w.parentWidget()
    return (_label(b), type(b).__name__, tuple(chain))


def _label(b: QAbstractButton) -> str:
    return b.text().replace("&", "") or b.toolTip() or b.objectName() or type(b).__name__


def _settle(window, qtbot) -> None:
    """Back to a quiet window: a run stopped, background work done, dialogs closed."""
    if window.training:
        window.controller.stop()
    qtbot.waitUntil(lambda: not window.training, timeout=180000)
    qtbot.waitUntil(lambda: window.tasks.count() == 0, timeout=180000)
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QDialog) and w.isVisible():
            w.reject()
    QApplication.processEvents()


@pytest.mark.slow
def test_every_menu_item_and_every_button_works_when_clicked(window, qtbot, tmp_path, monkeypatch, qtlog):
    monkeypatch.chdir(tmp_path)  # a file written "here" by mistake is caught by the write check
    window.controller.set_store(str(tmp_path / "runs.db"))
    window.hyper.set_config(TrainConfig(epochs=2, batch_size=32, engine="numpy", hidden=[16]))
    with qtbot.waitSignal(window.training_finished, timeout=180000):
        window.actions.start.trigger()
    window.dirty = False
    seen: list[str] = []
    _stub_dialogs(monkeypatch, tmp_path, seen)
    clicked = []
    for name, act in _menu_actions(window):
        if name.split(" ▸ ")[-1] in SKIP_ACTIONS or not act.isEnabled():
            continue
        act.trigger()
        clicked.append(name)
        _settle(window, qtbot)
    window.runs_view.refresh()
    qtbot.waitUntil(lambda: window.runs_view.proxy.rowCount() >= 1, timeout=30000)
    window.runs_view.table.selectRow(0)
    done: set[tuple] = set()
    while len(done) < 300:  # views rebuild some of their buttons: look again after each click
        todo = [b for b in _buttons(window) if shiboken6.isValid(b) and _key(b) not in done]
        if not todo:
            break
        b = todo[0]
        done.add(_key(b))
        if not b.isEnabled():
            continue
        _reveal(b)
        if not b.isVisible():
            continue  # shown only in another state (e.g. Cancel while a task runs)
        qtbot.mouseClick(b, Qt.LeftButton)
        clicked.append(_label(b) if shiboken6.isValid(b) else str(_key(b)))
        _settle(window, qtbot)
    assert len(clicked) > 60, clicked  # the walk really went through the window
    critical = [r.message for r in qtlog.records if r.type.name in ("QtCriticalMsg", "QtFatalMsg")]
    assert critical == []
