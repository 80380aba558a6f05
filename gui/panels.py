"""The Classify, Dataset and Weights tabs, and the Gradient Check dialog."""

from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
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

from engine.data.dataset import Dataset
from engine.inspect.gradcheck import CheckResult
from engine.predict import Prediction
from gui import style
from gui.style import legend_brush
from gui.widgets import ConfusionMatrix, ProbabilityBars, gray_pixmap, mosaic


class ClassifyPanel(QWidget):
    """Dropped or chosen image files: thumbnail, predicted label, top-class bars; errors as rows."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.hint = QLabel(
            "Drop image files or a folder anywhere on the window, or use "
            "File ▸ Classify Images… (Ctrl+I). A folder whose subfolders are class "
            "names is evaluated as a labelled set."
        )
        self.hint.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Image", "File", "Prediction", "Top classes"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Interactive)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.Stretch)
        self.table.setColumnWidth(1, 260)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setIconSize(pg.QtCore.QSize(64, 64))
        self.table.verticalHeader().setVisible(False)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.labelled = QLabel()
        self.confusion = ConfusionMatrix()
        self.confusion.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.hint, 1)
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

    def clear(self) -> None:
        self.table.setRowCount(0)
        self.labelled.setText("")
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
            f"<b>{os.path.basename(root)}</b>: {len(y_true)} labelled images, accuracy <b>{acc * 100:.1f}%</b>"
        )
        self.confusion.set_data(y_true, y_pred, classes)
        self.confusion.setVisible(True)


class DatasetPanel(QWidget):
    """A grid of sample images and the class balance of each split."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.info = QLabel()
        self.samples = pg.PlotWidget(title="Training samples")
        self.samples.setAspectLocked(True)
        self.samples.hideAxis("left")
        self.samples.hideAxis("bottom")
        self.samples.invertY(True)
        self.sample_image = pg.ImageItem()
        self.sample_image.setLevels([0, 255])
        self.samples.addItem(self.sample_image)
        self.balance = pg.PlotWidget(title="Class balance")
        self.balance.addLegend(offset=(-10, 10), brush=legend_brush())
        self.balance.setLabel("left", "images")
        self.bar_items: list[pg.BarGraphItem] = []
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.samples)
        split.addWidget(self.balance)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.info)
        layout.addWidget(split, 1)

    def set_dataset(self, ds: Dataset) -> None:
        skipped = f" — {len(ds.skipped)} unreadable image(s) skipped" if ds.skipped else ""
        self.info.setText(f"<b>{ds.name}</b> ({ds.layout}) · {ds.describe().split(': ', 1)[1]}{skipped}")
        if ds.skipped:
            self.info.setToolTip("\n".join(ds.skipped[:30]))
        n = min(len(ds.train), 160)
        grid = mosaic(ds.train.x[:n], cols=16, pad=2, fill=128)
        self.sample_image.setImage(grid, levels=(0, 255))
        for item in self.bar_items:
            self.balance.removeItem(item)
        self.bar_items.clear()
        legend = self.balance.getPlotItem().legend
        legend.clear()
        k = len(ds.classes)
        for j, (name, split, color) in enumerate(
            (("train", ds.train, style.TRAIN), ("val", ds.val, style.OKABE_ITO["orange"]), ("test", ds.test, style.VAL))
        ):
            counts = np.bincount(split.y, minlength=k)[:k] if len(split) else np.zeros(k)
            item = pg.BarGraphItem(
                x=np.arange(k) + (j - 1) * 0.27, height=counts, width=0.27, brush=color, pen=None, name=name
            )
            self.balance.addItem(item)  # named items join the legend by themselves
            self.bar_items.append(item)
        self.balance.getAxis("bottom").setTicks([[(i, c[:3]) for i, c in enumerate(ds.classes)]])


class WeightsPanel(QWidget):
    """The first layer: one small image per hidden unit (its incoming weights), red/blue diverging."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.info = QLabel("Train or open a model to see what each first-layer unit responds to.")
        self.info.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.invertY(True)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("CET-D1"))  # blue–white–red, diverging
        self.plot.addItem(self.image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.info)
        layout.addWidget(self.plot, 1)

    def set_weights(self, W0: np.ndarray, norm_size: tuple[int, int]) -> None:
        w, h = norm_size
        units = W0.reshape(len(W0), h, w)
        scale = np.abs(units).reshape(len(units), -1).max(1)[:, None, None]
        normed = units / np.maximum(scale, 1e-12)  # each unit in [-1, 1]
        cols = int(np.ceil(np.sqrt(len(units))))
        self.image.setImage(mosaic(normed.astype(np.float32), cols, pad=1, fill=0.0), levels=(-1, 1))
        self.info.setText(
            f"{len(units)} hidden units × {w}×{h} inputs. Red: positive weight, blue: negative "
            f"(each unit scaled to its own largest |weight|)."
        )


class GradcheckDialog(QDialog):
    """A pass/fail table of the engine's gradient check."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Gradient Check")
        self.resize(560, 560)
        self.status = QLabel("Checking every hand-written backward against numerical differentiation…")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Engine", "Operation", "Result", "Max |error|"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def set_results(self, results: list[CheckResult]) -> None:
        self.table.setRowCount(len(results))
        for i, r in enumerate(results):
            err = f"{r.max_error:.2e}"
            cells = [r.engine, r.op, "PASS" if r.passed else "FAIL", err]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 2:
                    item.setForeground(QColor(style.OKABE_ITO["green"] if r.passed else style.VAL))
                if r.detail:
                    item.setToolTip(r.detail)
                self.table.setItem(i, j, item)
        n_fail = sum(not r.passed for r in results)
        self.status.setText(
            f"{len(results) - n_fail} of {len(results)} checks passed."
            + ("" if not n_fail else f" {n_fail} FAILED — hover a row for details.")
        )
