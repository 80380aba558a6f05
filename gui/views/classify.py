"""The Classify tab: dropped or chosen image files with thumbnail, prediction and top classes."""

from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.predict import Prediction
from gui import style
from gui.i18n import arg
from gui.session import Classified, Session
from gui.widgets.common import ConfusionMatrix, ProbabilityBars, gray_pixmap


class ClassifyPanel(QWidget):
    """Dropped or chosen image files: thumbnail, predicted label, top-class bars; errors as rows."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.hint = QLabel(
            self.tr(
                "Drop image files or a folder anywhere on the window, or use Add Images… "
                "(Ctrl+I). A folder whose subfolders are class names is evaluated as a labelled set."
            )
        )
        self.hint.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Image"), self.tr("File"), self.tr("Prediction"), self.tr("Top classes")]
        )
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Interactive)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.Stretch)
        self.table.setColumnWidth(1, 260)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setIconSize(pg.QtCore.QSize(64, 64))
        self.table.verticalHeader().setVisible(False)
        self.clear_button = QPushButton(self.tr("Clear"))
        self.clear_button.clicked.connect(self.clear)
        self.add_button = QPushButton(self.tr("Add Images…"))
        self.add_button.setToolTip(self.tr("Choose image files to classify with the open model (Ctrl+I)"))
        self.labelled = QLabel()
        self._cleared_note = False  # the "results were cleared" note is shown
        self.confusion = ConfusionMatrix()
        self.confusion.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.hint, 1)
        top.addWidget(self.add_button)
        top.addWidget(self.clear_button)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.table)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.labelled)
        rl.addWidget(self.confusion, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(split, 1)
        session.classified.connect(self._on_classified)
        session.model_changed.connect(self._on_model_changed)

    def allow_adding(self, allowed: bool) -> None:
        """Adding images needs a model, and no run in progress."""
        self.add_button.setEnabled(allowed)

    def _on_classified(self, c: Classified) -> None:
        if self._cleared_note:  # a mixed drop: the new model's results follow its note at once
            self._cleared_note = False
            self.labelled.setText("")
        uppercase = len(c.model.classes) == 26 and all(len(k) == 1 for k in c.model.classes)
        self.add_results(c.results, uppercase=uppercase)
        if c.labelled_root is not None:
            self.show_labelled(c.y_true, c.y_pred, c.model.classes, c.labelled_root)

    def _on_model_changed(self, _model) -> None:
        """Results of another model would be read as this one's: they go."""
        if self.table.rowCount():
            self.clear()
            self.labelled.setText(self.tr("Results of the previous model were cleared: classify again with this one."))
            self._cleared_note = True

    def clear(self) -> None:
        self.table.setRowCount(0)
        self.labelled.setText("")
        self._cleared_note = False
        self.confusion.setVisible(False)

    def add_results(self, results: list[Prediction], uppercase: bool = False) -> None:
        for r in results:
            row = self.table.rowCount()
            self.table.insertRow(row)
            thumb = QTableWidgetItem()
            if r.image is not None:
                thumb.setIcon(QIcon(gray_pixmap(r.image, max(1, 64 // r.image.shape[0]))))
            self.table.setItem(row, 0, thumb)
            name = QTableWidgetItem(os.path.basename(r.path))
            name.setToolTip(r.path)
            self.table.setItem(row, 1, name)
            if r.error:
                err = QTableWidgetItem("error")
                err.setForeground(QColor(style.VAL))
                err.setToolTip(r.error)
                self.table.setItem(row, 2, err)
                msg = QLabel(r.error)
                msg.setWordWrap(True)
                msg.setStyleSheet(f"color: {style.VAL};")
                self.table.setCellWidget(row, 3, msg)
                self.table.setRowHeight(row, 40)
                continue
            label = r.label.upper() if uppercase else r.label
            pred = QTableWidgetItem(f"{label}  {r.probability * 100:.1f}%")
            f = pred.font()
            f.setPointSizeF(f.pointSizeF() * 1.4)
            f.setBold(True)
            pred.setFont(f)
            self.table.setItem(row, 2, pred)
            bars = ProbabilityBars()
            bars.set_items([(lab.upper() if uppercase else lab, p) for lab, p in r.top[:4]])
            self.table.setCellWidget(row, 3, bars)
            self.table.setRowHeight(row, max(68, bars.height() + 4))
        self.table.scrollToBottom()

    def show_labelled(self, y_true: np.ndarray, y_pred: np.ndarray, classes: list[str], root: str) -> None:
        acc = float((y_true == y_pred).mean()) if len(y_true) else float("nan")
        self.labelled.setText(
            arg(
                self.tr("<b>%1</b>: %2 labelled images, accuracy <b>%3%</b>"),
                os.path.basename(root),
                len(y_true),
                f"{acc * 100:.1f}",
            )
        )
        self.confusion.set_data(y_true, y_pred, classes)
        self.confusion.setVisible(True)
