"""The Health panel: per layer, gradient norms, update ratios (the 1e-3 band marked), dead or
saturated units, activation statistics; warnings naming the layer."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui import style
from gui.i18n import arg
from gui.views.internals.common import BAND, LAYER_COLOURS, titled_plot

if TYPE_CHECKING:
    from engine.training.health import HealthRecord


class HealthPanel(QWidget):
    """Layer health over time, from HealthEvents (live) or a model's stored history."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.records: list[HealthRecord] = []
        self.source = ""
        self.grad = titled_plot(self.tr("gradient norm ‖∂L/∂W‖"), "‖∂L/∂W‖", log=True)
        self.ratio = titled_plot(self.tr("update ratio ‖ΔW‖ / ‖W‖ (band: ~1e-3)"), self.tr("ratio"), log=True)
        self.dead = titled_plot(self.tr("dead ReLUs / saturated units"), self.tr("fraction"))
        self.acts = titled_plot(self.tr("activations: mean ± std"), self.tr("value"))
        self.dead.setYRange(0, 1)
        band = pg.LinearRegionItem(
            [np.log10(BAND[0]), np.log10(BAND[1])], orientation="horizontal", movable=False, brush=(0, 158, 115, 40)
        )
        band.setZValue(-20)
        self.ratio.addItem(band)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(f"color: {style.VAL};")
        self.info = QLabel(
            self.tr("Train a model: its layers' health is collected every few steps (about 2 % of the time).")
        )
        self.info.setWordWrap(True)
        grid = QSplitter(Qt.Vertical)
        for pair in ((self.grad, self.ratio), (self.dead, self.acts)):
            row = QSplitter(Qt.Horizontal)
            for p in pair:
                row.addWidget(p)
            grid.addWidget(row)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.info)
        lay.addWidget(self.warnings)
        lay.addWidget(grid, 1)
        self._dirty = False
        self._items: dict = {}
        self.epochs = 1.0
        self._ranges: dict = {}
        self._throttle = QTimer(self, singleShot=True, interval=500)
        self._throttle.timeout.connect(lambda: self._dirty and self.isVisible() and self.redraw())

    def set_records(self, records: list[HealthRecord], epochs: float | None = None, source: str = "") -> None:
        """Show these records (``source``: whose they are, when not the open model's)."""
        self.records = list(records)
        self.source = source
        self.set_epochs(epochs or (np.ceil(self.records[-1]["epoch"]) if self.records else 1))
        self._dirty = True
        self.redraw()

    def add(self, record: HealthRecord) -> None:
        """A live record: drawn at most twice a second (a fast run collects ten times that)."""
        self.records.append(record)
        self._dirty = True
        if self.isVisible() and not self._throttle.isActive():
            self.redraw()
            self._throttle.start()

    def showEvent(self, ev):
        super().showEvent(ev)
        if self._dirty:
            self.redraw()

    def _curve(self, plot, key, name=None, pen=None):
        """One curve per (plot, layer, kind), made once and then only given new data (a redraw
        during training costs a few setData calls, not new items and legend entries)."""
        item = self._items.get(key)
        if item is None:
            item = plot.plot([], [], pen=pen, name=name)
            self._items[key] = item
        return item

    def set_epochs(self, epochs: float) -> None:
        """The x axis spans the whole run from its start: axes that do not move repaint several
        times faster than ones re-laid out with every record."""
        self.epochs = max(1.0, float(epochs))
        for p in (self.grad, self.ratio, self.dead, self.acts):
            p.getPlotItem().getViewBox().disableAutoRange()
            p.setXRange(0, self.epochs, padding=0.02)
        self.dead.setYRange(0, 1, padding=0.02)
        self._ranges = {}

    def _fit_y(self, plot, values: np.ndarray, log: bool) -> None:
        """A y range in whole decades (log) or half units that changes only when the data leaves it."""
        v = np.asarray(values, float)
        v = v[np.isfinite(v) & ((v > 0) if log else True)]
        if not len(v):
            return
        if log:
            lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
            hi = max(hi, lo + 1)
        else:
            lo, hi = np.floor(v.min() * 2) / 2, np.ceil(v.max() * 2) / 2
            hi = max(hi, lo + 0.5)
        old = self._ranges.get(id(plot))
        if old is None or lo < old[0] or hi > old[1]:
            lo, hi = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
            self._ranges[id(plot)] = (lo, hi)
            plot.setYRange(lo, hi, padding=0.02)

    def _draw_layer(self, i: int, x: np.ndarray, rows: list[dict]) -> None:
        """One layer's curves on the four plots, and the plots' ranges grown to hold them."""
        name = rows[-1]["name"]
        c = LAYER_COLOURS[i % len(LAYER_COLOURS)]
        pen, thin = style.pen(c, 2), style.pen(c, 1, Qt.DotLine)
        grad = np.maximum([d["grad_norm"] for d in rows], 1e-30)
        self._curve(self.grad, ("grad", i), name, pen).setData(x, grad)
        ratio = np.maximum([d["update_ratio"] for d in rows], 1e-30)
        self._curve(self.ratio, ("ratio", i), name, pen).setData(x, ratio)
        frac = [d["dead"] if d["dead"] is not None else d["saturated"] for d in rows]
        if frac[-1] is not None:
            what = self.tr("dead") if rows[-1]["dead"] is not None else self.tr("saturated")
            ys = np.array([np.nan if f is None else f for f in frac], float)
            self._curve(self.dead, ("dead", i), f"{name} {what}", pen).setData(x, ys, connect="finite")
        mean = np.array([d["act_mean"] for d in rows])
        std = np.array([d["act_std"] for d in rows])
        self._curve(self.acts, ("mean", i), name, pen).setData(x, mean)
        self._curve(self.acts, ("hi", i), None, thin).setData(x, mean + std)
        self._curve(self.acts, ("lo", i), None, thin).setData(x, mean - std)
        self._fit_y(self.grad, grad, True)
        self._fit_y(self.ratio, np.concatenate([ratio, BAND]), True)
        self._fit_y(self.acts, np.concatenate([mean - std, mean + std]), False)

    def redraw(self) -> None:
        self._dirty = False
        if self.records and self.records[-1]["epoch"] > self.epochs:
            self.set_epochs(np.ceil(self.records[-1]["epoch"]))
        if not self.records:
            for item in self._items.values():
                item.setData([], [])
            self.warnings.setText("")
            return
        x = np.array([r["epoch"] for r in self.records])
        n_layers = len(self.records[-1]["layers"])
        for i in range(n_layers):
            rows = [r["layers"][i] for r in self.records if len(r["layers"]) > i]
            if len(rows) == len(x):
                self._draw_layer(i, x, rows)
        last = self.records[-1]
        self.warnings.setText("⚠ " + "  ⚠ ".join(last["warnings"]) if last["warnings"] else "")
        source = arg(self.tr("<b>%1</b> (from the run store): "), html.escape(self.source)) if self.source else ""
        self.info.setText(
            source
            + arg(
                self.tr("%1 collections on a fixed probe batch, the last at step %2 (epoch %3)."),
                len(self.records),
                last["global_step"],
                f"{last['epoch']:.2f}",
            )
        )
