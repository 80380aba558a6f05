"""The Dataset tab: sample images and the class balance of each split."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from engine.data.dataset import Dataset
from gui import style
from gui.i18n import arg
from gui.session import Session
from gui.widgets.common import mosaic


class DatasetPanel(QWidget):
    """A grid of sample images and the class balance of each split."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.samples = pg.PlotWidget(title=self.tr("Training samples, each with its label"))
        self.samples.setAspectLocked(True)
        self.samples.hideAxis("left")
        self.samples.hideAxis("bottom")
        self.samples.invertY(True)
        self.sample_image = pg.ImageItem()
        self.sample_image.setLevels([0, 255])
        self.samples.addItem(self.sample_image)
        self.sample_labels: list[pg.TextItem] = []  # each tile's class, at its top-left corner
        self.balance = pg.PlotWidget(title=self.tr("Class balance"))
        item = self.balance.getPlotItem()
        self.legend = pg.LegendItem(offset=None, colCount=3)  # below the axis: never over the bars
        item.layout.addItem(self.legend, 4, 1)
        item.legend = self.legend
        self.balance.getAxis("left").enableAutoSIPrefix(False)
        self.balance.setLabel("left", self.tr("images"))
        self.bar_items: list[pg.BarGraphItem] = []
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.samples)
        split.addWidget(self.balance)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.info)
        layout.addWidget(split, 1)
        session.dataset_changed.connect(self.set_dataset)

    def set_dataset(self, ds: Dataset) -> None:
        skipped = f" — {len(ds.skipped)} unreadable image(s) skipped" if ds.skipped else ""
        self.info.setText(arg(self.tr("<b>%1</b> (%2) · %3%4"), ds.name, ds.layout, ds.details(), skipped))
        if ds.skipped:
            self.info.setToolTip("\n".join(ds.skipped[:30]))
        n = min(len(ds.train), 160)
        cols, pad = 16, 2
        grid = mosaic(ds.train.x[:n], cols=cols, pad=pad, fill=128)
        self.sample_image.setImage(grid, levels=(0, 255))
        for item in self.sample_labels:
            self.samples.removeItem(item)
        self.sample_labels = []
        h, w = ds.train.x.shape[1:3] if n else (0, 0)
        for i in range(n):
            r, c = divmod(i, cols)
            label = pg.TextItem(
                ds.classes[int(ds.train.y[i])][:6], color="#FFFFFF", fill=pg.mkBrush(0, 0, 0, 150), anchor=(0, 0)
            )
            label.setFont(_label_font())
            label.setPos(pad + c * (w + pad), pad + r * (h + pad))
            self.samples.addItem(label)
            self.sample_labels.append(label)
        for item in self.bar_items:
            self.balance.removeItem(item)
        self.bar_items.clear()
        legend = self.balance.getPlotItem().legend
        legend.clear()
        k = len(ds.classes)
        for j, (name, split, color) in enumerate(
            (
                (self.tr("train"), ds.train, style.TRAIN),
                (self.tr("val"), ds.val, style.OKABE_ITO["orange"]),
                (self.tr("test"), ds.test, style.VAL),
            )
        ):
            counts = np.bincount(split.y, minlength=k)[:k] if len(split) else np.zeros(k)
            item = pg.BarGraphItem(
                x=np.arange(k) + (j - 1) * 0.27, height=counts, width=0.27, brush=color, pen=None, name=name
            )
            self.balance.addItem(item)  # named items join the legend by themselves
            self.bar_items.append(item)
        self.balance.getAxis("bottom").setTicks([[(i, c[:3]) for i, c in enumerate(ds.classes)]])


def _label_font():
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPixelSize(9)
    return font
