"""Live training curves: loss (per step raw + smoothed, per epoch, validation) and accuracy.

Curves are created once and fed with ``setData`` from doubling NumPy buffers; a
single-shot timer coalesces redraws to ≤ 25 Hz however fast steps arrive.
Right-click any plot for pyqtgraph's Export… (PNG, SVG, CSV).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from engine.training.run import EpochEvent, EvalEvent, History, StepEvent
from gui import style

# No showGrid: its alpha-blended lines cost ~13 ms per repaint in the raster engine, ten
# times the curves, and the GUI thread holds the GIL while it paints.
REDRAW_MS = 100  # at most 10 Hz
MAX_REDRAW_MS = 500
# Painting holds the GIL, which the training thread needs: redraws are spaced so that painting
# takes at most 1/PAINT_BUDGET of the wall time (measured, so a small window redraws faster).
PAINT_BUDGET = 30
SMOOTHING = 0.98  # EMA factor for the smoothed step loss


class GrowingBuffer:
    """x/y float arrays that double when full; ``view()`` gives the filled slices."""

    def __init__(self, capacity: int = 1024):
        self.x = np.empty(capacity, np.float64)
        self.y = np.empty(capacity, np.float64)
        self.n = 0

    def extend(self, xs, ys) -> None:
        k = len(xs)
        if self.n + k > len(self.x):
            cap = max(2 * len(self.x), self.n + k)
            for name in ("x", "y"):
                new = np.empty(cap, np.float64)
                new[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, new)
        self.x[self.n : self.n + k] = xs
        self.y[self.n : self.n + k] = ys
        self.n += k

    def view(self):
        return self.x[: self.n], self.y[: self.n]

    def clear(self) -> None:
        self.n = 0


MAX_POINTS = 1200  # per step curve on screen: about one point per pixel column


def envelope(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ~``max_points`` points that keep each bucket's min and max (peaks stay visible).

    The per-step curves grow by thousands of points an epoch; handing them all to the plot
    makes every repaint (which holds the GIL the training thread needs) grow with the run.
    """
    n = len(y)
    stride = -(-2 * n // max_points) if n > max_points else 1
    if stride == 1:
        return x, y
    m = (n // stride) * stride
    yb = y[:m].reshape(-1, stride)
    xb = x[:m].reshape(-1, stride)
    xs = np.repeat(xb[:, stride // 2], 2)
    ys = np.empty(2 * len(yb))
    ys[0::2], ys[1::2] = yb.min(1), yb.max(1)
    return np.concatenate([xs, x[m:]]), np.concatenate([ys, y[m:]])


def ema(values: np.ndarray, a: float, start: float | None) -> np.ndarray:
    """Exponential moving average ``e_i = a e_(i-1) + (1-a) v_i`` (``e_-1 = start``, or v_0), vectorised:
    ``e_i = a^(i+1) e_-1 + (1-a) a^i Σ_k≤i a^-k v_k``, in chunks short enough for a^-k to stay finite."""
    out = np.empty(len(values))
    prev = values[0] if start is None and len(values) else start
    for lo in range(0, len(values), 2000):
        v = values[lo : lo + 2000]
        k = np.arange(len(v))
        out[lo : lo + len(v)] = a ** (k + 1) * prev + (1 - a) * a**k * np.cumsum(v * a ** (-k.astype(float)))
        prev = out[lo + len(v) - 1]
    return out


class TimedPlotWidget(pg.PlotWidget):
    """A PlotWidget that remembers how long its last paints took, wall time: that includes
    waiting for the GIL, which is the time the event loop is stalled by a repaint."""

    paint_seconds = 0.0

    def paintEvent(self, ev):
        t = time.perf_counter()
        super().paintEvent(ev)
        self.paint_seconds = 0.7 * self.paint_seconds + 0.3 * (time.perf_counter() - t)


def _curve(plot, color, name, width=2.0, style_=Qt.SolidLine, alpha=255, symbol=None, bounds=True):
    item = pg.PlotDataItem(
        [],
        [],
        pen=style.pen(color, width, style_, alpha),
        name=name,
        symbol=symbol,
        symbolSize=6,
        symbolBrush=color,
        symbolPen=None,
    )
    plot.addItem(item, ignoreBounds=not bounds)
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


class TrainingPlots(QWidget):
    """Two linked plots (loss, accuracy) with x in epochs; fractional epochs for steps."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss_plot = TimedPlotWidget(title="Loss")
        self.acc_plot = TimedPlotWidget(title="Accuracy")
        for p, label in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy")):
            p.setLabel("bottom", "epoch")
            p.setLabel("left", label)
            p.addLegend(offset=(-10, 10), brush=style.legend_brush())
        self.acc_plot.setXLink(self.loss_plot)
        # The loss plot's y range is fitted here, with slack, rather than by auto-range on every
        # update: a moving range re-lays out the axis, a second full repaint each time.
        self._fit_y = True
        self.loss_plot.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
        self.loss_plot.getPlotItem().autoBtn.clicked.connect(lambda: setattr(self, "_fit_y", True))
        self.acc_plot.setYRange(0, 1)
        lp, ap = self.loss_plot, self.acc_plot
        # The raw per-step loss is faint noise: it neither sets the y range (which would move, and
        # re-lay out the axes, on every update) nor pays for antialiasing.
        self.step_raw = _curve(lp, style.TRAIN, "train loss (per step)", 1.0, alpha=28, bounds=False)
        self.step_raw.setData([], [], antialias=False)
        self.step_smooth = _curve(lp, style.TRAIN, "train loss (smoothed)", 2.0)
        self.epoch_loss = _curve(lp, style.OKABE_ITO["sky"], "train loss (epoch)", 2.0, Qt.DashDotLine, symbol="o")
        self.val_loss = _curve(lp, style.VAL, "validation loss", 2.5, Qt.DashLine, symbol="t")
        self.train_acc = _curve(ap, style.TRAIN, "train accuracy", 2.5, symbol="o")
        self.val_acc = _curve(ap, style.VAL, "validation accuracy", 2.5, Qt.DashLine, symbol="t")
        self.best_line = pg.InfiniteLine(
            angle=90,
            pen=style.pen(style.BEST, 1.5, Qt.DotLine),
            label="best val",
            labelOpts={"position": 0.1, "color": style.BEST},
        )
        self.best_line.setVisible(False)
        ap.addItem(self.best_line)
        self.best_marker = pg.ScatterPlotItem(size=16, symbol="star", brush=style.BEST, pen=None)
        ap.addItem(self.best_marker)
        self.buffers = {
            k: GrowingBuffer() for k in ("step_raw", "step_smooth", "epoch_loss", "val_loss", "train_acc", "val_acc")
        }
        self._ema: float | None = None
        self._dirty: set[str] = set()
        self._previous: list[list] = []
        self._timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._timer.timeout.connect(self._redraw)

        self.log_box = QCheckBox("Log-scale loss")
        self.log_box.toggled.connect(self.set_log_loss)
        self.keep_box = QCheckBox("Keep previous runs faint underneath")
        self.keep_box.setChecked(True)
        clear = QPushButton("Clear previous runs")
        clear.clicked.connect(self.clear_previous)
        bar = QHBoxLayout()
        bar.addWidget(self.log_box)
        bar.addWidget(self.keep_box)
        bar.addStretch()
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(lp, 3)
        layout.addWidget(ap, 2)

    # -- data in ---------------------------------------------------------------------
    def add_steps(self, steps: list[StepEvent]) -> None:
        if not steps:
            return
        per = steps[0].steps_per_epoch
        xs = np.array([(s.epoch - 1) + s.step / per for s in steps])
        ys = np.array([s.loss for s in steps])
        sm = ema(ys, SMOOTHING, self._ema)
        self._ema = float(sm[-1])
        self.buffers["step_raw"].extend(xs, ys)
        self.buffers["step_smooth"].extend(xs, sm)
        self._dirty.update(("step_raw", "step_smooth"))
        self._schedule()

    def add_event(self, ev) -> None:
        if isinstance(ev, EpochEvent):
            self.buffers["epoch_loss"].extend([ev.epoch], [ev.train_loss])
            self.buffers["train_acc"].extend([ev.epoch], [ev.train_acc])
            self._dirty.update(("epoch_loss", "train_acc"))
        elif isinstance(ev, EvalEvent):
            self.buffers["val_loss"].extend([ev.epoch], [ev.val_loss])
            self.buffers["val_acc"].extend([ev.epoch], [ev.val_acc])
            self._dirty.update(("val_loss", "val_acc"))
            self._set_best(ev.best_epoch, ev.best_val_acc)
        self._schedule()

    def show_history(self, h: History) -> None:
        """Replace the curves with a saved history (from a checkpoint)."""
        self.reset()
        if h.step_loss and h.epoch:
            per = max(1, len(h.step_loss) // len(h.epoch))
            ys = np.asarray(h.step_loss, np.float64)
            xs = np.arange(1, len(ys) + 1) / per
            self.buffers["step_raw"].extend(xs, ys)
            sm = ema(ys, SMOOTHING, None)
            self._ema = float(sm[-1])
            self.buffers["step_smooth"].extend(xs, sm)
        self.buffers["epoch_loss"].extend(h.epoch, h.train_loss)
        self.buffers["train_acc"].extend(h.epoch, h.train_acc)
        self.buffers["val_loss"].extend(h.val_epoch, h.val_loss)
        self.buffers["val_acc"].extend(h.val_epoch, h.val_acc)
        if h.best:
            self._set_best(*h.best)
        self._redraw(everything=True)

    def _set_best(self, epoch: int, acc: float) -> None:
        self.best_line.setValue(epoch)
        self.best_line.setVisible(True)
        self.best_marker.setData([epoch], [acc])

    # -- runs ------------------------------------------------------------------------
    def set_epoch_range(self, epochs: int) -> None:
        """Fix the x axis to the whole run: the user sees the horizon, and the axes are not
        re-laid out on every update (which is most of the cost of a repaint)."""
        self.loss_plot.setXRange(0, max(1, epochs), padding=0.02)

    def start_run(self, label: str, tooltip: str) -> None:
        """Begin a new run: the current curves become faint 'previous' curves if asked."""
        if self.keep_box.isChecked() and self.buffers["epoch_loss"].n:
            color = style.PREVIOUS[len(self._previous) % len(style.PREVIOUS)]
            items = []
            for key, plot, st in (
                ("step_smooth", self.loss_plot, Qt.SolidLine),
                ("val_loss", self.loss_plot, Qt.DashLine),
                ("val_acc", self.acc_plot, Qt.DashLine),
                ("train_acc", self.acc_plot, Qt.SolidLine),
            ):
                x, y = envelope(*self.buffers[key].view())  # a copy, at most MAX_POINTS long
                name = self._last_label if key in ("step_smooth", "train_acc") else None
                item = plot.plot(x.copy(), y.copy(), pen=style.pen(color, 1.5, st, 110), name=name)
                item.setZValue(-10)
                items.append((plot, item))
            self._tooltip_legend(self._last_label, self._last_tooltip)
            self._previous.append(items)
        self.reset()
        self._last_label, self._last_tooltip = label, tooltip

    _last_label = "previous run"
    _last_tooltip = ""

    def _tooltip_legend(self, label: str, tooltip: str) -> None:
        for plot in (self.loss_plot, self.acc_plot):
            legend = plot.getPlotItem().legend
            for _sample, text_item in legend.items:
                if text_item.text == label:
                    text_item.setToolTip(tooltip)

    def clear_previous(self) -> None:
        for items in self._previous:
            for plot, item in items:
                plot.removeItem(item)
        self._previous.clear()

    def reset(self) -> None:
        self._fit_y = True
        for b in self.buffers.values():
            b.clear()
        self._ema = None
        self.best_line.setVisible(False)
        self.best_marker.setData([], [])
        self._redraw(everything=True)

    def set_log_loss(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self._fit_y = True
        self._redraw(everything=True)
        if self.log_box.isChecked() != on:
            self.log_box.setChecked(on)

    def _on_manual_range(self, *_):
        self._fit_y = False

    def _fit_loss_range(self) -> None:
        parts = [self.buffers[k].view()[1] for k in ("step_smooth", "epoch_loss", "val_loss")]
        ys = np.concatenate([p[np.isfinite(p)] for p in parts])
        if self.log_box.isChecked():
            ys = np.log10(ys[ys > 0])
        if not len(ys):
            return
        lo, hi = float(ys.min()), float(ys.max())
        span = max(hi - lo, 1e-3)
        v_lo, v_hi = self.loss_plot.getViewBox().viewRange()[1]
        if lo < v_lo or hi > v_hi or (v_hi - v_lo) > 2.5 * span:
            self.loss_plot.getViewBox().setYRange(lo - 0.1 * span, hi + 0.1 * span, padding=0)

    # -- drawing ---------------------------------------------------------------------
    def flush(self) -> None:
        """Draw what has arrived now (on pause and at the end of a run)."""
        self._timer.stop()
        self._redraw()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            cost = self.loss_plot.paint_seconds + self.acc_plot.paint_seconds
            self._timer.start(int(min(MAX_REDRAW_MS, max(REDRAW_MS, cost * 1000 * PAINT_BUDGET))))

    def _redraw(self, everything: bool = False) -> None:
        """Push changed buffers to their curves (all of them when ``everything``)."""
        for key, item in (
            ("step_raw", self.step_raw),
            ("step_smooth", self.step_smooth),
            ("epoch_loss", self.epoch_loss),
            ("val_loss", self.val_loss),
            ("train_acc", self.train_acc),
            ("val_acc", self.val_acc),
        ):
            if everything or key in self._dirty:
                x, y = self.buffers[key].view()
                if key.startswith("step_"):
                    x, y = envelope(x, y)
                item.setData(x, y, skipFiniteCheck=True)
        if self._fit_y and self._dirty:
            self._fit_loss_range()
        self._dirty.clear()
