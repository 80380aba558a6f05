"""Tools ▸ Gradient Check: every hand-written backward against numerical differentiation."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from engine.inspect.gradcheck import CheckResult
from gui import style
from gui.i18n import arg


class NumberItem(QTableWidgetItem):
    """A number: shown as 1.95e-09, sorted by value, right-aligned; "—" when there is none."""

    def __init__(self, value: float):
        ok = isinstance(value, (int, float)) and math.isfinite(value)
        super().__init__(f"{value:.2e}" if ok else "—")
        self.value = float(value) if ok else math.inf
        self.setData(Qt.UserRole, self.value)
        self.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def __lt__(self, other):
        return self.value < getattr(other, "value", math.inf)


class GradcheckDialog(QDialog):
    """A pass/fail table of the engine's gradient check. With the user's functions loaded, it says
    that it checks the studio's own ops and offers the check of theirs (``check_yours``)."""

    def __init__(self, parent=None, your_files: list[str] | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Gradient Check"))
        self.resize(560, 560)
        self.status = QLabel(self.tr("Checking every hand-written backward against numerical differentiation…"))
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Engine"), self.tr("Operation"), self.tr("Result"), self.tr("Max |error|")]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        self.yours_note = self.check_yours = None
        if your_files:
            self.yours_note = QLabel(
                self.tr(
                    "This checks the studio's own torch Functions and NumPy operators, not the %n file(s) "
                    "of yours that are loaded; yours are checked in the Functions tab.",
                    "",
                    len(your_files),
                )
            )
            self.yours_note.setWordWrap(True)
            self.check_yours = QPushButton(self.tr("Check &Yours"))
            self.check_yours.setToolTip(self.tr("Check your loaded functions again, in the Functions tab"))
            layout.addWidget(self.yours_note)
            buttons.addButton(self.check_yours, QDialogButtonBox.ActionRole)
        layout.addWidget(buttons)

    def set_results(self, results: list[CheckResult]) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(results))
        for i, r in enumerate(results):
            cells = [r.engine, r.op, "PASS" if r.passed else "FAIL", r.max_error]
            for j, value in enumerate(cells):
                item = NumberItem(value) if j == 3 else QTableWidgetItem(value)
                if j == 2:
                    item.setForeground(QColor(style.OKABE_ITO["green"] if r.passed else style.VAL))
                if r.detail:
                    item.setToolTip(r.detail)
                self.table.setItem(i, j, item)
        self.table.setSortingEnabled(True)
        n_fail = sum(not r.passed for r in results)
        text = arg(self.tr("%1 of %2 checks passed."), len(results) - n_fail, len(results))
        if n_fail:
            text += " " + arg(self.tr("%1 FAILED — hover a row for details."), n_fail)
        self.status.setText(text)
