"""File ▸ Check a Class…: a folder of submissions checked in the background, shown as students ×
checks coloured by verdict, filtered by mistake, a student's diagnoses on a click."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDesktopServices
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
    assert "— FAIL (network.py:" in dialog.details.toPlainText()  # the code of the op that failed
    assert "def backward" in dialog.details.toPlainText()
    gradebook = tmp_path / "class-gradebook"
    assert (gradebook / "gradebook.csv").is_file() and str(gradebook) in dialog.summary.text()
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    qtbot.mouseClick(dialog.page_button, Qt.LeftButton)
    assert opened == [str(gradebook / "students" / "bob.html")] and Path(opened[0]).is_file()
    dialog.close()


def test_the_class_table_sorts_by_a_clicked_column_and_a_click_still_shows_that_student(window, qtbot, tmp_path):
    """Sorted by score, by a verdict (FAIL first) or by mistakes, a row still belongs to its student."""
    from engine.inspect.gradebook import Grade
    from gui.views.class_check import ClassCheck

    dialog = ClassCheck(window.tasks, str(tmp_path), str(tmp_path / "out"), parent=window)
    grades = [
        Grade("ann", "a", {"linear": "PASS"}, "PASS", [], score=10, max_score=10),
        Grade("bo", "b", {"linear": "FAIL"}, "FAIL", ["Linear: dW is transposed", "x"], score=2, max_score=10),
        Grade("cy", "c", {"linear": "WARN"}, "PASS", ["Linear: in place"], score=9.5, max_score=10),
    ]
    dialog.show_grades(grades)
    dialog.show()
    qtbot.waitExposed(dialog)
    table, header = dialog.table, dialog.table.horizontalHeader()
    heads = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]

    def column(name):
        return [table.item(i, heads.index(name)).text() for i in range(table.rowCount())]

    def click_header(name):
        x = header.sectionViewportPosition(heads.index(name)) + header.sectionSize(heads.index(name)) // 2
        qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(x, header.height() // 2))

    click_header("score")
    assert column("student") == ["bo", "cy", "ann"]  # 2 < 9.5 < 10, as numbers (as text "10" < "2")
    click_header("linear")
    assert column("linear") == ["FAIL", "WARN", "PASS"]
    click_header("mistakes")
    click_header("mistakes")  # the second click: descending
    assert column("student") == ["bo", "cy", "ann"]
    row = column("student").index("cy")
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=table.visualItemRect(table.item(row, 0)).center())
    assert dialog.details.toPlainText().startswith("cy") and "in place" in dialog.details.toPlainText()
    dialog.filter.setCurrentIndex(
        next(i for i in range(dialog.filter.count()) if "transposed" in dialog.filter.itemText(i))
    )
    assert [table.isRowHidden(i) for i in range(3)] == [c != "bo" for c in column("student")]
    dialog.close()
