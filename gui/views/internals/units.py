"""The Units panel: a hidden unit's weight image and the training images that activate it most."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import arg
from gui.widgets.common import mosaic


class UnitsPanel(QWidget):
    """A hidden unit: its weight image (first layer) and the 9 training images it likes most."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.layer = QSpinBox(minimum=1, maximum=1)
        self.unit = QSpinBox(minimum=0, maximum=0)
        show = QPushButton(self.tr("Show"))
        show.clicked.connect(lambda: self.show_unit())
        bar = QHBoxLayout()
        for w in (QLabel(self.tr("Hidden layer")), self.layer, QLabel(self.tr("unit")), self.unit, show):
            bar.addWidget(w)
        bar.addStretch(1)
        self.weight_plot = pg.PlotWidget(title=self.tr("weights (first layer: at the input's size)"))
        self.top_plot = pg.PlotWidget(title=self.tr("the 9 training images that activate it most"))
        for p in (self.weight_plot, self.top_plot):
            p.invertY(True)
            p.setAspectLocked(True)
            p.hideAxis("left")
            p.hideAxis("bottom")
        self.weight_img = pg.ImageItem()
        self.weight_img.setColorMap(pg.colormap.get("CET-D1"))
        self.weight_plot.addItem(self.weight_img)
        self.top_img = pg.ImageItem()
        self.top_plot.addItem(self.top_img)
        self.info = QLabel("")
        row = QSplitter(Qt.Horizontal)
        row.addWidget(self.weight_plot)
        row.addWidget(self.top_plot)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(row, 1)
        lay.addWidget(self.info)
        self.layer.valueChanged.connect(lambda _v: self._ranges())
        session.model_changed.connect(lambda _m: self._ranges())
        self._cache: dict = {}

    def _ranges(self) -> None:
        m = self.session.model
        if m is None:
            return
        self.layer.setMaximum(len(m.config.hidden))
        self.unit.setMaximum(m.config.hidden[self.layer.value() - 1] - 1)
        self._cache.clear()

    def show_unit(self, layer: int | None = None, unit: int | None = None) -> bool:
        from engine.inspect.embed import top_images

        m, ds = self.session.model, self.session.dataset
        if m is None or ds is None or not len(ds.train):
            self.info.setText(self.tr("Open a dataset and a model first."))
            return False
        if layer is not None:
            self.layer.setValue(layer)
        if unit is not None:
            self.unit.setValue(unit)
        L, u = self.layer.value(), self.unit.value()
        weights = m.network.weights()
        W = weights[2 * (L - 1)]
        w, h = m.norm_size
        if L == 1:
            self.weight_img.setImage(W[u].reshape(h, w), levels=(-np.abs(W[u]).max(), np.abs(W[u]).max()))
        else:
            self.weight_img.setImage(W[u][None, :], levels=(-np.abs(W[u]).max(), np.abs(W[u]).max()))
        if L not in self._cache:
            self._cache[L] = top_images(weights, m.config.act, ds.train.x[:5000], L, 9, m.config)
        idx = self._cache[L][u]
        imgs = ds.train.x[idx].reshape(len(idx), h, w).astype(np.float32)
        self.top_img.setImage(mosaic(imgs, 3, pad=1, fill=255.0), levels=(0, 255))
        labels = ", ".join(m.classes[ds.train.y[i]] for i in idx)
        self.info.setText(arg(self.tr("layer %1 unit %2: its top images are labelled %3"), L, u, labels))
        return True
