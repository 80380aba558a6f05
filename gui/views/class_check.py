"""File ▸ Check a Class…: a teaching assistant's view of a class's backward passes.

Every submission (a subfolder or ``.zip`` of one student's files) is checked in a sandboxed
worker of its own, two at a time, by :func:`engine.inspect.gradebook.check_class` — the same
code as ``main.py check --class``, which writes the gradebook (CSV, JSON, HTML pages,
Gradescope's ``results.json``) as it goes. Here the result is a table of students × checks,
coloured by verdict, sortable by any column (worst verdicts, scores and most mistakes together),
filterable by mistake; a click shows that student's diagnoses, report and the code of each op that
did not pass, and opens their page.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from engine.training.history import format_duration
from gui.i18n import arg

COLOURS = {"PASS": "#1b9e4b", "WARN": "#d98c00", "FAIL": "#d1342f", "-": "#999999"}
SEVERITY = {"FAIL": 0, "WARN": 1, "PASS": 2, "-": 3}  # sorting a verdict column puts FAIL first
GRADE = Qt.UserRole  # on a row's first cell: the index of its grade (rows move when sorted)


class _Cell(QTableWidgetItem):
    """A cell that sorts by a key of its own (numbers as numbers, verdicts by severity)."""

    def __init__(self, text: str, key):
        super().__init__(text)
        self.key = key

    def __lt__(self, other) -> bool:
        mine, theirs = self.key, getattr(other, "key", other.text())
        if isinstance(mine, str) != isinstance(theirs, str):
            return str(mine) < str(theirs)
        return mine < theirs


class ClassCheck(QDialog):
    """Runs a class check in the background and shows it as it comes in."""

    finished_checking = Signal(list)  # the grades
    progressed = Signal(int, int, str)  # done, total, message (from the checking thread)

    def __init__(self, tasks, root: str, out: str, workers: int = 2, parent=None):
        super().__init__(parent)
        self.setWindowTitle(arg(self.tr("Check a Class — %1"), Path(root).name))
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.resize(1000, 620)
        self.tasks, self.root, self.out, self.workers = tasks, root, out, workers
        self.grades: list = []
        self._cancel = threading.Event()
        self.progressed.connect(self._on_progress)

        self.summary = QLabel(arg(self.tr("Checking the submissions in %1…"), root))
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.cancel_button = QPushButton(self.tr("Stop"))
        self.cancel_button.setToolTip(self.tr("Keep what is checked; a later check does only the rest"))
        self.cancel_button.clicked.connect(lambda: self._cancel.set())
        self.filter = QComboBox()
        self.filter.setToolTip(self.tr("Only the students who made this mistake"))
        self.filter.addItem(self.tr("every student"), "")
        self.filter.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.open_button = QPushButton(self.tr("Open Gradebook"))
        self.open_button.setToolTip(self.tr("The folder with the CSV, the JSON, each student's page and results.json"))
        self.open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(self.out)))
        self.page_button = QPushButton(self.tr("Open Student's Page"))
        self.page_button.setToolTip(self.tr("The selected student's page: verdicts, worked examples and their code"))
        self.page_button.setEnabled(False)
        self.page_button.clicked.connect(lambda: self._open_page())
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._show_student)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.details.setPlaceholderText(self.tr("Click a student: their diagnoses and the check's report"))

        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Show")))
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.page_button)
        bar.addWidget(self.open_button)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addLayout(top)
        lay.addLayout(bar)
        lay.addWidget(split, 1)

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        from engine.inspect.gradebook import check_class

        def work():
            return check_class(self.root, self.out, workers=self.workers, progress=self._progress, cancel=self._cancel)

        self.tasks.run(work, on_done=self._done, label=self.tr("Checking a class"), on_error=self._failed)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's
        self._cancel.set()  # the checks stop at the next submission; what is done stays in the gradebook
        super().closeEvent(event)

    def _progress(self, done: int, total: int, grade, eta: float) -> None:  # a worker thread: signals only
        self.tasks.report(done, total, QCoreApplication.translate("ClassCheck", "checking a class"))
        text = QCoreApplication.translate("ClassCheck", "%1 of %2 checked (last: %3) · about %4 left")
        self.progressed.emit(done, total, arg(text, done, total, grade.student, format_duration(eta)))

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.summary.setText(message)

    def _done(self, grades: list) -> None:
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.show_grades(grades)
        self.finished_checking.emit(grades)

    def _failed(self, exc) -> None:
        self.cancel_button.setEnabled(False)
        self.summary.setText(arg(self.tr("The class could not be checked: %1"), exc))

    # -- showing -------------------------------------------------------------------------------
    def show_grades(self, grades: list) -> None:
        from engine.inspect.gradebook import mistake_key

        self.grades = grades
        roles = sorted({r for g in grades for r in g.verdicts})
        heads = [self.tr("student"), self.tr("score"), *roles, self.tr("whole MLP"), self.tr("mistakes")]
        self.table.setSortingEnabled(False)  # rows would move while they are filled
        self.table.clear()
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        self.table.setRowCount(len(grades))
        for i, g in enumerate(grades):
            cells = [(g.student, g.student.lower())]
            cells.append((f"{g.score:g} / {g.max_score:g}", g.score) if not g.error else (g.error, -1.0))
            cells += [(v, SEVERITY.get(v, 3)) for v in [g.verdicts.get(r, "-") for r in roles] + [g.mlp]]
            cells.append((str(len(g.diagnoses)), len(g.diagnoses)))
            for j, (text, key) in enumerate(cells):
                item = _Cell(text, key)
                verdict = text if 2 <= j < 3 + len(roles) else ""
                if verdict in COLOURS:
                    item.setForeground(QBrush(QColor("white")))
                    item.setBackground(QBrush(QColor(COLOURS[verdict])))
                    item.setTextAlignment(Qt.AlignCenter)
                if j == 0:
                    item.setData(GRADE, i)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        counts: dict[str, int] = {}
        for g in grades:
            for key in {mistake_key(d) for d in g.diagnoses}:
                counts[key] = counts.get(key, 0) + 1
        self.filter.blockSignals(True)
        while self.filter.count() > 1:
            self.filter.removeItem(1)
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            self.filter.addItem(arg(self.tr("%1 × %2"), n, key), key)
        self.filter.blockSignals(False)
        clean = sum(not g.diagnoses and not g.error for g in grades)
        self.summary.setText(
            arg(
                self.tr("%1 students: %2 without a mistake, %3 different mistakes. The gradebook is in %4."),
                len(grades),
                clean,
                len(counts),
                self.out,
            )
        )
        self._apply_filter()

    def _apply_filter(self) -> None:
        from engine.inspect.gradebook import mistake_key

        key = self.filter.currentData() or ""
        for row in range(self.table.rowCount()):
            g = self.grades[self.table.item(row, 0).data(GRADE)]
            self.table.setRowHidden(row, bool(key) and key not in {mistake_key(d) for d in g.diagnoses})

    def selected_grade(self):
        """The grade of the selected row, whichever way the table is sorted (None if none is)."""
        rows = self.table.selectionModel().selectedRows()
        return self.grades[self.table.item(rows[0].row(), 0).data(GRADE)] if rows else None

    def _show_student(self) -> None:
        g = self.selected_grade()
        self.page_button.setEnabled(g is not None)
        if g is None:
            return
        parts = [g.student, ""]
        if g.error:
            parts.append(g.error)
        parts += [f"✗ {d}" for d in g.diagnoses] + [f"! {w}" for w in g.warnings]
        if g.report:
            parts += ["", g.report]
        for name, verdict, where, lines in g.code:
            parts += ["", arg(self.tr("%1 — %2 (%3)"), name, verdict, where), *lines]
        self.details.setPlainText("\n".join(parts))

    def _open_page(self) -> None:
        from engine.inspect.gradebook import student_page_path

        g = self.selected_grade()
        if g is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(student_page_path(self.out, g.student))))
