"""The Distributions panel: a layer's weights or gradients as percentile bands over training, and
the histogram at a chosen epoch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui import style
from gui.i18n import arg
from gui.views.internals.common import titled_plot

if TYPE_CHECKING:
    from engine.training.health import HealthRecord


class DistributionPanel(QWidget):
    """Percentile bands of a layer's weights or gradients over training, and one histogram."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.records: list[HealthRecord] = []
        self.layer = QComboBox()
        self.kind = QComboBox()
        self.kind.addItems(["weights", "gradients"])
        self.epoch = QSlider(Qt.Horizontal)
        self.epoch.setRange(0, 0)  # one position per epoch with histograms (at the latest: follows new ones)
        self.epoch_label = QLabel("")
        for w in (self.layer, self.kind):
            w.currentIndexChanged.connect(lambda _i: self.redraw())
        self.epoch.valueChanged.connect(lambda _v: self._draw_hist())
        self.bands = titled_plot(self.tr("percentiles over training (0–100, 10–90, 25–75, median)"), self.tr("value"))
        self.hist = pg.PlotWidget(title=self.tr("histogram"))
        self.hist.showGrid(x=True, y=True, alpha=0.2)
        bar = QHBoxLayout()
        for w in (
            QLabel(self.tr("Layer")),
            self.layer,
            QLabel(self.tr("of")),
            self.kind,
            QLabel(self.tr("Histogram at")),
            self.epoch,
        ):
            bar.addWidget(w)
        bar.addWidget(self.epoch_label)
        row = QSplitter(Qt.Horizontal)
        row.addWidget(self.bands)
        row.addWidget(self.hist)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(row, 1)
        self._band_items: list = []  # (lower, upper, fill) per band, then the median: made once
        self._pending: list[dict] | None = None
        self._throttle = QTimer(self, singleShot=True, interval=1000)
        self._throttle.timeout.connect(self._flush)

    def add_live(self, records: list[HealthRecord]) -> None:
        """Records during training: drawn at most once a second."""
        self._pending = records
        if not self._throttle.isActive():
            self._flush()
            self._throttle.start()

    def _flush(self) -> None:
        if self._pending is not None:
            records, self._pending = self._pending, None
            self.set_records(records)

    def set_records(self, records: list[HealthRecord]) -> None:
        self.records = records
        names = [d["name"] for d in records[-1]["layers"]] if records else []
        if [self.layer.itemText(i) for i in range(self.layer.count())] != names:
            self.layer.blockSignals(True)
            self.layer.clear()
            self.layer.addItems(names)
            self.layer.blockSignals(False)
        self.redraw()

    def _key(self) -> str:
        return "w" if self.kind.currentText() == "weights" else "g"

    def _bands(self) -> list:
        """The band items, made once and then only given data (opaque colours: see style.faint)."""
        if not self._band_items:
            c = style.TRAIN
            for alpha in (40, 70, 110):
                a = pg.PlotDataItem([], [], pen=pg.mkPen(style.faint(c, alpha), width=0.5))
                b = pg.PlotDataItem([], [], pen=pg.mkPen(style.faint(c, alpha), width=0.5))
                a.faint = b.faint = (c, alpha, 0.5)  # recoloured when the theme changes
                fill = pg.FillBetweenItem(a, b)
                fill.alpha = alpha
                for item in (a, b, fill):
                    self.bands.addItem(item)
                self._band_items.append((a, b, fill))
            self._band_items.append(self.bands.plot([], [], pen=style.pen(c, 2), name=self.tr("median")))
        return self._band_items

    def redraw(self) -> None:
        *bands, median = self._bands()
        i = self.layer.currentIndex()
        rows = [r for r in self.records if len(r["layers"]) > i >= 0]
        if not rows:
            for a, b, _fill in bands:
                a.setData([], [])
                b.setData([], [])
            median.setData([], [])
            self._hist_rows = []
            self._draw_hist()
            return
        x = np.array([r["epoch"] for r in rows])
        pct = np.array([r["layers"][i][f"{self._key()}_pct"] for r in rows])
        for (lo, hi), (a, b, fill) in zip(((0, 6), (1, 5), (2, 4)), bands):
            fill.setBrush(pg.mkBrush(style.faint(style.TRAIN, fill.alpha)))
            a.setData(x, pct[:, lo])
            b.setData(x, pct[:, hi])
        median.setData(x, pct[:, 3])
        with_hist = [r for r in rows if f"{self._key()}_hist" in r["layers"][i]]
        latest = self.epoch.value() >= self.epoch.maximum()  # following the latest, or kept where the user put it
        self.epoch.blockSignals(True)
        self.epoch.setRange(0, max(0, len(with_hist) - 1))
        if latest:
            self.epoch.setValue(len(with_hist) - 1)
        self.epoch.blockSignals(False)
        self._hist_rows = with_hist
        self._draw_hist()

    def _draw_hist(self) -> None:
        self.hist.clear()
        rows = getattr(self, "_hist_rows", [])
        if not rows:
            self.epoch_label.setText("")
            return
        r = rows[min(self.epoch.value(), len(rows) - 1)]
        h = r["layers"][self.layer.currentIndex()][f"{self._key()}_hist"]
        edges = np.array(h["edges"])
        self.hist.addItem(
            pg.BarGraphItem(
                x0=edges[:-1], x1=edges[1:], height=h["counts"], brush=style.faint(style.TRAIN, 160), pen=None
            )
        )
        self.epoch_label.setText(arg(self.tr("epoch %1"), int(np.ceil(r["epoch"]))))
