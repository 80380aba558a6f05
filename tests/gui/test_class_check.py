"""File ▸ Check a Class…: a folder of submissions checked in the background, shown as students ×
checks coloured by verdict, filtered by mistake, a student's diagnoses on a click."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "userfn"
LETTERS = [FIX / "letters" / n for n in ("network.py", "losses.py", "activations.py")]


def test_check_a_class_shows_each_students_verdicts_and_mistakes(window, qtbot, tmp_path, monkeypatch):
    from gui.views.class_check import COLOURS

    root = tmp_path / "class"
    for student in ("alice", "bob"):
        (root / student).mkdir(parents=True)
        for f in LETTERS:
            shutil.copy(f, root / student / f.name)
    shutil.copy(FIX / "mistakes" / "transposed.py", root / "bob" / "network.py")  # bob's dW is transposed
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(root))
    action = window.actions.check_class
    action.trigger()
    dialog = window.class_check
    with qtbot.waitSignal(dialog.finished_checking, timeout=240000) as blocker:
        pass
    grades = {g.student: g for g in blocker.args[0]}
    assert set(grades) == {"alice", "bob"}
    table = dialog.table
    heads = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    rows = {table.item(i, 0).text(): i for i in range(table.rowCount())}
    linear = heads.index("linear")
    bob_cell, alice_cell = table.item(rows["bob"], linear), table.item(rows["alice"], linear)
    assert bob_cell.text() == "FAIL" and bob_cell.background().color().name() == COLOURS["FAIL"]
    assert alice_cell.text() == "PASS" and alice_cell.background().color().name() == COLOURS["PASS"]
    # filter by bob's mistake: alice is hidden
    index = next(i for i in range(1, dialog.filter.count()) if "transposed" in dialog.filter.itemText(i))
    dialog.filter.setCurrentIndex(index)
    assert table.isRowHidden(rows["alice"]) and not table.isRowHidden(rows["bob"])
    rect = table.visualItemRect(bob_cell)
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    assert "transposed" in dialog.details.toPlainText() and dialog.details.toPlainText().startswith("bob")
    gradebook = tmp_path / "class-gradebook"
    assert (gradebook / "gradebook.csv").is_file() and str(gradebook) in dialog.summary.text()
    dialog.close()
