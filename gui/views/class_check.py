"""File ▸ Check a Class…: a teaching assistant's view of a class's backward passes.

Every submission (a subfolder or ``.zip`` of one student's files) is checked in a sandboxed
worker of its own, two at a time, by :func:`engine.inspect.gradebook.check_class` — the same
code as ``main.py check --class``, which writes the gradebook (CSV, JSON, HTML pages,
Gradescope's ``results.json``) as it goes. Here the result is a table of students × checks,
coloured by verdict, filterable by mistake; a click shows that student's diagnoses and report.
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
        self.table.clear()
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        self.table.setRowCount(len(grades))
        for i, g in enumerate(grades):
            cells = [g.student, f"{g.score:g} / {g.max_score:g}" if not g.error else g.error]
            cells += [g.verdicts.get(r, "-") for r in roles] + [g.mlp, str(len(g.diagnoses))]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                verdict = text if 2 <= j < 3 + len(roles) else ""
                if verdict in COLOURS:
                    item.setForeground(QBrush(QColor("white")))
                    item.setBackground(QBrush(QColor(COLOURS[verdict])))
                    item.setTextAlignment(Qt.AlignCenter)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
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
        for i, g in enumerate(self.grades):
            self.table.setRowHidden(i, bool(key) and key not in {mistake_key(d) for d in g.diagnoses})

    def _show_student(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        g = self.grades[rows[0].row()]
        parts = [g.student, ""]
        if g.error:
            parts.append(g.error)
        parts += [f"✗ {d}" for d in g.diagnoses] + [f"! {w}" for w in g.warnings]
        if g.report:
            parts += ["", g.report]
        self.details.setPlainText("\n".join(parts))
