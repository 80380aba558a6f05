"""Live training curves: loss (per step raw and smoothed, per epoch, validation) and accuracy,
for the current run and, faint underneath, earlier runs — each labelled by its run's name.

Curves are created once and fed with ``setData`` from doubling NumPy buffers. Redraws happen
when a batch of events arrives (the worker's batching is the one throttle), so the plot is
never behind the progress text. What TensorBoard users expect is here: a smoothing slider
(EMA, the raw curve faint behind), an x axis in epochs, steps or wall time, a hover readout,
and legends that sit outside the data. Ranges ignore non-finite and absurd values (a
diverged run): the curve stops at the plot's edge and a marker says where it left.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.training.run import EpochEvent, EvalEvent, History, StepEvent
from gui import style
from gui.i18n import arg
from gui.widgets.axes import DecadeLabelAxis

X_AXES = ("epoch", "step", "wall time (s)")
DEFAULT_SMOOTHING = 0.95
ABSURD = 100.0  # a value this many times the lower quartile of a plot's values is off scale
MAX_POINTS = 1200  # per step curve on screen: about one point per pixel column
SMOOTH_POINTS = 400  # the smoothed curve: smooth at this density, and far cheaper to paint
SERIES = ("step_raw", "epoch_loss", "val_loss", "train_acc", "val_acc")
LOSS_KEYS = ("step_raw", "step_smooth", "epoch_loss", "val_loss")


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


def envelope(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ~``max_points`` points that keep each bucket's min and max (peaks stay visible)."""
    n = len(y)
    stride = -(-2 * n // max_points) if n > max_points else 1
    if stride == 1:
        return x, y
    m = (n // stride) * stride
    yb = y[:m].reshape(-1, stride)
    xb = x[:m].reshape(-1, stride)
    xs = np.repeat(xb[:, stride // 2], 2)
    ys = np.empty(2 * len(yb))
    with np.errstate(invalid="ignore"):
        ys[0::2], ys[1::2] = np.nanmin(yb, 1) if np.isnan(yb).any() else yb.min(1), yb.max(1)
    return np.concatenate([xs, x[m:]]), np.concatenate([ys, y[m:]])


def thin(x: np.ndarray, y: np.ndarray, max_points: int = SMOOTH_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ~``max_points`` evenly spaced points of a smooth curve (its last point kept): a
    wide antialiased line is the costliest thing the plots paint, and a smoothed curve loses
    nothing visible at this density."""
    n = len(y)
    if n <= max_points:
        return x, y
    idx = np.linspace(0, n - 1, max_points).astype(int)  # steps ≥ 1 apart: increasing, the last one n - 1
    return x[idx], y[idx]


def ema(values: np.ndarray, a: float, start: float | None = None) -> np.ndarray:
    """Exponential moving average ``e_i = a e_(i-1) + (1-a) v_i`` (``e_-1 = start``, or v_0), vectorised:
    ``e_i = a^(i+1) e_-1 + (1-a) a^i Σ_k≤i a^-k v_k``, in chunks short enough for a^-k to stay finite."""
    out = np.empty(len(values))
    if not len(values):
        return out
    prev = values[0] if start is None else start
    chunk = int(min(2000, max(1, 300 / -math.log(a))))  # a^-k ≤ e^300 (a = 0.6: 587; the old 2000 overflowed)
    for lo in range(0, len(values), chunk):
        v = values[lo : lo + chunk]
        k = np.arange(len(v))
        out[lo : lo + len(v)] = a ** (k + 1) * prev + (1 - a) * a**k * np.cumsum(v * a ** (-k.astype(float)))
        prev = out[lo + len(v) - 1]
    return out


def smooth(values: np.ndarray, a: float) -> np.ndarray:
    """TensorBoard's smoothing: a debiased EMA of the finite values (non-finite ones are skipped)."""
    return Smoother()(values, a)


class Smoother:
    """:func:`smooth` of a growing series, extended with each call: an update smooths only its
    new values (the whole series again only when the factor changes or the series restarts).
    ``e_i = a e_(i-1) + (1-a) v_i`` over the finite values, divided by ``1 - a^(i+1)``."""

    def __init__(self):
        self.a = -1.0
        self.out = GrowingBuffer()
        self.biased = 0.0  # the EMA of the finite values so far, before debiasing
        self.count = 0  # finite values so far

    def __call__(self, values: np.ndarray, a: float) -> np.ndarray:
        if a <= 0:
            return values.copy()
        if a != self.a or self.out.n > len(values):
            self.a, self.biased, self.count = a, 0.0, 0
            self.out.clear()
        new = values[self.out.n :]
        if len(new):
            out = np.full(len(new), np.nan)
            ok = np.isfinite(new)
            v = new[ok]
            if len(v):
                biased = ema(v, a, self.biased)
                out[ok] = biased / (1 - a ** np.arange(self.count + 1, self.count + len(v) + 1))
                self.biased, self.count = float(biased[-1]), self.count + len(v)
            self.out.extend(out, out)
        return self.out.view()[1]


def off_scale_cap(series: list[np.ndarray], log: bool) -> float:
    """The highest value a plot shows: values beyond ``ABSURD`` × the lower quartile of all its
    values, or 1.5 × the value its longest (per-step) curve starts at, whichever is higher, are off
    scale: a diverged run's 1e27 does not squash every other curve to a line. Inf when none is."""
    finite = [s[np.isfinite(s) & ((s > 0) if log else True)] for s in series]
    finite = [s for s in finite if len(s)]
    if not finite:
        return math.inf
    # the quartiles from at most ~2,000 points a series (a 20,000-step run sampled evenly): computed on
    # every update of the live plot, they must not cost more as the runs grow; the maximum stays exact
    allv = np.concatenate([s[:: max(1, len(s) // 2000)] for s in finite])
    q1 = float(np.percentile(allv, 25))
    firsts = float(max(finite, key=len)[0])  # where the longest (per-step) curve starts
    if q1 > 0:
        cap = max(ABSURD * q1, 1.5 * firsts)
    else:
        spread = float(np.percentile(allv, 75) - q1) or 1.0
        cap = max(q1 + ABSURD * spread, firsts + abs(firsts) * 0.5)
    return cap if max(float(s.max()) for s in finite) > cap else math.inf


class RunCurves:
    """The data of one run's curves, x in (fractional) epochs, with step and wall-time maps."""

    def __init__(self, name: str = "", config: dict | None = None):
        self.name = name
        self.config = dict(config or {})  # the run's settings: runs that differ only in the seed group
        self.buffers = {k: GrowingBuffer() for k in SERIES}
        self.times = GrowingBuffer()  # x: epoch fraction, y: seconds since the run started
        self.steps_per_epoch = 1
        self.best: tuple[int, float] | None = None
        self.smoother = Smoother()

    def add_steps(self, steps: list[StepEvent]) -> None:
        per = steps[0].steps_per_epoch
        self.steps_per_epoch = per
        xs = np.array([(s.epoch - 1) + s.step / per for s in steps])
        self.buffers["step_raw"].extend(xs, [s.loss for s in steps])
        self.times.extend(xs, [s.elapsed for s in steps])

    def add_history(self, h: History, steps_per_epoch: int | None = None) -> None:
        if h.step_loss:
            done = h.epochs_completed + (1 if h.position else 0)
            per = steps_per_epoch or max(1, round(len(h.step_loss) / max(done, 1)))
            self.steps_per_epoch = per
            ys = np.asarray(h.step_loss, np.float64)
            self.buffers["step_raw"].extend(np.arange(1, len(ys) + 1) / per, ys)
        self.buffers["epoch_loss"].extend(h.epoch, h.train_loss)
        self.buffers["train_acc"].extend(h.epoch, h.train_acc)
        self.buffers["val_loss"].extend(h.val_epoch, h.val_loss)
        self.buffers["val_acc"].extend(h.val_epoch, h.val_acc)
        self.best = tuple(h.best) if h.best else None
        if h.seconds > 0 and h.epoch:  # where the wall clock stood: earlier epochs spread up to it, not at 0
            at = h.epochs_completed + (h.position.step / self.steps_per_epoch if h.position else 0.0)
            self.times.extend([at], [h.seconds])

    def add_stored(self, epochs, steps) -> None:
        """A run from the run store: its per-epoch rows and its (global step, loss) points."""
        if steps:
            last = steps[-1][0]
            per = max(1, round(last / max(len(epochs), 1)))
            self.steps_per_epoch = per
            xs, ys = zip(*steps, strict=True)
            self.buffers["step_raw"].extend(np.asarray(xs, float) / per, np.asarray(ys, float))
        for key, attr in (("epoch_loss", "train_loss"), ("train_acc", "train_acc")):
            self.buffers[key].extend(*_column(epochs, attr))
        for key, attr in (("val_loss", "val_loss"), ("val_acc", "val_acc")):
            self.buffers[key].extend(*_column(epochs, attr))

    def empty(self) -> bool:
        return not any(b.n for b in self.buffers.values())

    def map_x(self, x: np.ndarray, axis: str) -> np.ndarray:
        if axis == X_AXES[1]:
            return x * self.steps_per_epoch
        if axis == X_AXES[2]:
            tx, ty = self.times.view()
            if not len(tx):
                return np.full(len(x), np.nan)  # a loaded history has no wall times
            return np.interp(x, np.concatenate([[0.0], tx]), np.concatenate([[0.0], ty]))
        return x

    def copy(self) -> RunCurves:
        """A frozen copy for an earlier run, the step curve cut to at most ~MAX_POINTS."""
        out = RunCurves(self.name, self.config)
        out.steps_per_epoch, out.best = self.steps_per_epoch, self.best
        for k, b in self.buffers.items():
            x, y = b.view()
            out.buffers[k].extend(x, y)
        out.times.extend(*self.times.view())
        return out


def _column(epochs, attr: str) -> tuple[list[int], list[float]]:
    """The epochs that have ``attr`` and its values (validation may not run every epoch)."""
    pairs = [(e.epoch, getattr(e, attr)) for e in epochs if getattr(e, attr) is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _push(item, x, y) -> None:
    """``setData`` only when the data changed: an unchanged curve or marker is not repainted (the
    accuracy plot then repaints once an epoch, not with every batch of steps)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    sig = hash((x.tobytes(), y.tobytes()))
    if getattr(item, "_pushed", None) == sig:
        return
    item._pushed = sig
    item.setData(x, y)


def _faint_curve(plot, color, name, width, alpha):
    """A pale curve drawn opaque (see :func:`style.faint`); recoloured when the theme changes."""
    item = _curve(plot, color, name, width)
    item.setPen(pg.mkPen(style.faint(color, alpha), width=width))
    item.faint = (color, alpha, width)
    return item


def _curve(plot, color, name, width=2.0, style_=Qt.SolidLine, alpha=255, symbol=None):
    item = pg.PlotDataItem(
        [],
        [],
        pen=style.pen(color, width, style_, alpha),
        name=name,
        symbol=symbol,
        symbolSize=6,
        symbolBrush=color,
        symbolPen=None,
        connect="finite",
    )
    plot.addItem(item)
    item.setClipToView(True)
    return item


def _outside_legend(plot: pg.PlotWidget, columns: int) -> pg.LegendItem:
    """A legend below the plot's x axis: it never covers data. Named items join it by themselves."""
    item = plot.getPlotItem()
    legend = pg.LegendItem(offset=None, colCount=columns, verSpacing=-4, horSpacing=18)
    legend.setBrush(None)
    item.layout.addItem(legend, 4, 1)
    item.legend = legend
    return legend


BAND_KEYS = ("epoch_loss", "val_loss", "train_acc", "val_acc")


def seed_band(members: list[RunCurves], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(epochs, mean, sample std, n) of ``key`` over ``members``' per-epoch points (the engine's rule)."""
    from engine.runs.curves import per_epoch_band

    per_epoch: dict[int, list[float]] = {}
    for curves in members:
        x, y = curves.buffers[key].view()
        for e, v in zip(x, y):
            if math.isfinite(v):
                per_epoch.setdefault(round(float(e)), []).append(float(v))
    return per_epoch_band(per_epoch)


class SeedBand:
    """One setting's runs drawn as mean per epoch (a line) with a ± 1 sample-std band (a fill)."""

    def __init__(self, plots: TrainingPlots, label: str, earlier: list[RunCurves], has_current: bool, index: int):
        self.plots, self.label, self.earlier, self.has_current = plots, label, earlier, has_current
        self.member_ids = tuple(id(m) for m in earlier) + ((id(plots.current),) if has_current else ())
        color = style.PREVIOUS[(index + 1) % len(style.PREVIOUS)]
        self.items: dict[str, tuple] = {}
        for key in BAND_KEYS:
            plot = plots.loss_plot if key in ("epoch_loss", "val_loss") else plots.acc_plot
            dashed = key.startswith("val")
            mean = pg.PlotDataItem([], [], pen=style.pen(color, 2.0, Qt.DashLine if dashed else Qt.SolidLine))
            lo, hi = pg.PlotDataItem([], []), pg.PlotDataItem([], [])
            fill = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(*pg.mkColor(color).getRgb()[:3], 35 if dashed else 55))
            fill.setZValue(-15)
            mean.setZValue(-5)
            plot.addItem(fill)
            plot.addItem(mean)
            if not dashed:
                plot.getPlotItem().legend.addItem(mean, label)
            self.items[key] = (plot, mean, lo, hi, fill)

    def members(self, current: RunCurves | None) -> list[RunCurves]:
        return self.earlier + ([current] if current is not None else [])

    def push(self, current: RunCurves | None, axis: str, log: bool) -> None:
        first = self.members(current)[0]
        for key, (_plot, mean, lo, hi, _fill) in self.items.items():
            x, m, sd, _n = seed_band(self.members(current), key)
            xs = first.map_x(x, axis)
            low, high = m - sd, m + sd
            if log and key.endswith("loss"):  # the fill's edges are not on the plot: no log mode of their own
                low = np.log10(np.where(low > 0, low, m))
                high = np.log10(np.where(high > 0, high, m))
            _push(mean, xs, m)
            _push(lo, xs, low)
            _push(hi, xs, high)

    def remove(self) -> None:
        for plot, mean, _lo, _hi, fill in self.items.values():
            plot.getPlotItem().legend.removeItem(mean)
            plot.removeItem(mean)
            plot.removeItem(fill)


class TrainingPlots(QWidget):
    """Two linked plots (loss, accuracy) of the current run and earlier ones."""

    readout_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget(axisItems={"left": DecadeLabelAxis("left")})
        self.acc_plot = pg.PlotWidget()
        self.legends = []
        for p, label in ((self.loss_plot, self.tr("loss")), (self.acc_plot, self.tr("accuracy"))):
            p.setLabel("left", label)
            p.setLabel("bottom", self.tr("epoch"))
            for ax in ("left", "bottom"):
                p.getAxis(ax).enableAutoSIPrefix(False)  # never "epoch (x0.001)" or "loss (x1e+27)"
            p.setMouseEnabled(x=True, y=True)
            self.legends.append(_outside_legend(p, 3))
        self.acc_plot.setXLink(self.loss_plot)
        self.acc_plot.setYRange(0, 1, padding=0.02)
        self.loss_plot.setYRange(0, 1)
        self.loss_plot.setXRange(0, 1, padding=0.02)
        self._fit_y = True
        self.loss_plot.getViewBox().sigRangeChangedManually.connect(lambda *_: setattr(self, "_fit_y", False))
        self.loss_plot.getPlotItem().autoBtn.clicked.connect(self._auto_range)
        lp, ap = self.loss_plot, self.acc_plot
        self.items = {
            "step_raw": _faint_curve(lp, style.TRAIN, self.tr("train loss (per step)"), 1.0, alpha=45),
            "step_smooth": _curve(lp, style.TRAIN, self.tr("train loss (smoothed)"), 2.0),
            "epoch_loss": _curve(
                lp, style.OKABE_ITO["sky"], self.tr("train loss (epoch)"), 2.0, Qt.DashDotLine, symbol="o"
            ),
            "val_loss": _curve(lp, style.VAL, self.tr("validation loss"), 2.5, Qt.DashLine, symbol="t"),
            "train_acc": _curve(ap, style.TRAIN, self.tr("train accuracy"), 2.5, symbol="o"),
            "val_acc": _curve(ap, style.VAL, self.tr("validation accuracy"), 2.5, Qt.DashLine, symbol="t"),
        }
        self.items["step_raw"].setData([], [], antialias=False)
        self.best_line = pg.InfiniteLine(
            angle=90,
            pen=style.pen(style.BEST, 1.5, Qt.DotLine),
            label=self.tr("best val"),
            labelOpts={"position": 0.08, "color": style.BEST, "anchors": [(0, 1), (0, 1)]},
        )
        self.best_line.setVisible(False)
        ap.addItem(self.best_line)
        self.best_marker = pg.ScatterPlotItem(size=18, symbol="star", brush=style.BEST, pen=pg.mkPen("k", width=1))
        self.best_marker.setZValue(20)
        ap.addItem(self.best_marker)
        self.off_scale = pg.ScatterPlotItem(size=14, symbol="t1", brush=style.VAL, pen=pg.mkPen("k", width=1))
        self.off_scale.setZValue(20)
        lp.addItem(self.off_scale)
        self.off_scale_text = pg.TextItem(color=style.VAL, anchor=(0, 0))
        self.off_scale_text.setZValue(21)
        lp.addItem(self.off_scale_text, ignoreBounds=True)
        self.off_scale_text.setVisible(False)
        self.off_scale_points: list[tuple[float, float]] = []  # (x, value) where a curve left the plot
        self.hover_line = pg.InfiniteLine(angle=90, pen=style.pen(style.OKABE_ITO["grey"], 1, Qt.DotLine))
        self.hover_line.setVisible(False)
        lp.addItem(self.hover_line, ignoreBounds=True)

        self.current = RunCurves()
        self.previous: list[tuple[RunCurves, list]] = []  # (curves, [(key, plot item)])
        self.seed_bands: list[SeedBand] = []  # drawn when "Seeds as mean ± std" is on
        self._epochs = 1

        self.smoothing = QSlider(Qt.Horizontal)
        self.smoothing.setRange(0, 999)
        self.smoothing.setValue(int(DEFAULT_SMOOTHING * 1000))
        self.smoothing.setMaximumWidth(140)
        self.smoothing.setToolTip(
            self.tr("Smoothing of the per-step loss (exponential moving average, as TensorBoard)")
        )
        self.smoothing_label = QLabel()
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.x_axis = QComboBox()
        self.x_axis.addItems(X_AXES)
        self.x_axis.setToolTip(self.tr("Horizontal axis: epochs, optimisation steps or seconds of training"))
        self.x_axis.currentIndexChanged.connect(lambda _: self.redraw(fit_x=True))
        self.log_box = QCheckBox(self.tr("Log loss"))
        self.log_box.setToolTip(self.tr("Log-scale loss axis (Ctrl+L)"))
        self.log_box.toggled.connect(self.set_log_loss)
        self.legend_box = QCheckBox(self.tr("Legend"))
        self.legend_box.setChecked(True)
        self.legend_box.toggled.connect(self.set_legends_visible)
        self.keep_box = QCheckBox(self.tr("Keep earlier runs"))
        self.keep_box.setToolTip(self.tr("Keep earlier runs faint underneath, labelled by run name"))
        self.keep_box.setChecked(True)
        self.group_box = QCheckBox(self.tr("Seeds as mean ± std"))
        self.group_box.setToolTip(
            self.tr(
                "Draw runs of one setting (all but the seed) as their mean per epoch with a ± 1 sample-std "
                "band, this run included"
            )
        )
        self.group_box.toggled.connect(lambda _on: self._regroup())
        clear = QPushButton(self.tr("Clear earlier"))
        clear.setToolTip(self.tr("Remove the earlier runs' curves"))
        clear.clicked.connect(self.clear_previous)
        self.readout = QLabel(" ")
        self.readout.setTextFormat(Qt.PlainText)
        self.readout.setMinimumWidth(10)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(QLabel(self.tr("Smoothing")))
        bar.addWidget(self.smoothing)
        bar.addWidget(self.smoothing_label)
        bar.addWidget(QLabel(self.tr("x")))
        bar.addWidget(self.x_axis)
        for w in (self.log_box, self.legend_box):
            bar.addWidget(w)
        bar.addStretch()
        runs_bar = QHBoxLayout()  # the earlier runs: a row of their own (a laptop's width holds no more)
        runs_bar.setSpacing(8)
        runs_bar.addWidget(self.readout, 1)
        for w in (self.keep_box, self.group_box, clear):
            runs_bar.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addLayout(runs_bar)
        layout.addWidget(lp, 3)
        layout.addWidget(ap, 2)
        self._on_smoothing(self.smoothing.value(), redraw=False)
        self._hover_proxies = [
            pg.SignalProxy(p.scene().sigMouseMoved, rateLimit=30, slot=lambda ev, p=p: self._on_hover(p, ev[0]))
            for p in (lp, ap)
        ]

    # -- data in ---------------------------------------------------------------------

    def restore_preferences(
        self, log_loss: bool, keep_previous: bool, legends: bool, smoothing: float, group_seeds: bool = False
    ) -> None:
        """The display choices remembered from the last session."""
        self.group_box.setChecked(group_seeds)
        self.log_box.setChecked(log_loss)
        self.keep_box.setChecked(keep_previous)
        self.legend_box.setChecked(legends)
        self.smoothing.setValue(int(smoothing * 1000))

    def add_update(self, steps: list[StepEvent], events: list) -> None:
        """One batch from the worker: everything in it is drawn now, together."""
        if steps:
            self.current.add_steps(steps)
        for ev in events:
            if isinstance(ev, EpochEvent):
                self.current.buffers["epoch_loss"].extend([ev.epoch], [ev.train_loss])
                self.current.buffers["train_acc"].extend([ev.epoch], [ev.train_acc])
            elif isinstance(ev, EvalEvent):
                self.current.buffers["val_loss"].extend([ev.epoch], [ev.val_loss])
                self.current.buffers["val_acc"].extend([ev.epoch], [ev.val_acc])
                self.current.best = (ev.best_epoch, ev.best_val_acc)
        if steps or events:
            self.redraw()

    def show_history(
        self, h: History, name: str, steps_per_epoch: int | None = None, config: dict | None = None
    ) -> None:
        """Replace the current curves with a saved history (an opened checkpoint, a resume)."""
        self.current = RunCurves(name, config if config is not None else self.current.config)
        self.current.add_history(h, steps_per_epoch)
        self._fit_y = True
        self.redraw(fit_x=True)

    # -- runs ------------------------------------------------------------------------
    def set_epoch_range(self, epochs: int) -> None:
        """The x axis spans the whole run: the user sees the horizon, and axes are not re-laid out
        on every update."""
        self._epochs = max(1, epochs)
        self._fit_x()

    def start_run(self, name: str, tooltip: str = "", keep_current: bool = False, config: dict | None = None) -> None:
        """Begin a new run: the current curves become a faint earlier run (if asked and not empty).
        ``config``, the run's settings, lets runs that differ only in the seed be drawn as one band."""
        if self.keep_box.isChecked() and not self.current.empty() and not keep_current:
            self._add_previous(self.current, tooltip=self._tooltip)
        if not keep_current:
            self.current = RunCurves(name)
        self.current.name = name
        if config is not None:
            self.current.config = dict(config)
        self._tooltip = tooltip
        self._fit_y = True
        self._regroup()

    _tooltip = ""

    LIVE_KEYS = ("step_smooth", "epoch_loss", "val_loss", "train_acc", "val_acc")

    def set_live(self, on: bool) -> None:
        """While a run trains, its curves are drawn without antialiasing: five updates a second of
        antialiased paths cost ~8 ms of painting each and made the event loop late (a 10 ms timer's
        p99 20 ms → 14–16 ms without, bench/bench_gui.py). At rest (finished, stopped, an opened
        model) they are smooth again, and exports always are."""
        for key in self.LIVE_KEYS:
            item = self.items[key]
            for opts in (item.opts, item.curve.opts, item.scatter.opts):
                opts["antialias"] = not on
            item.curve.update()
            item.scatter.update()

    def _add_previous(self, curves: RunCurves, tooltip: str = "") -> None:
        color = style.PREVIOUS[len(self.previous) % len(style.PREVIOUS)]
        items = []
        for key, plot, st, named in (
            ("step_smooth", self.loss_plot, Qt.SolidLine, True),
            ("val_loss", self.loss_plot, Qt.DashLine, False),
            ("train_acc", self.acc_plot, Qt.SolidLine, True),
            ("val_acc", self.acc_plot, Qt.DashLine, False),
        ):
            # faint and under the current run: not antialiased (a wide antialiased path is the costliest
            # thing the plots paint, and each earlier run made every update of the live plot slower)
            item = pg.PlotDataItem([], [], pen=style.pen(color, 1.5, st, 120), connect="finite", antialias=False)
            item.setZValue(-10)
            plot.addItem(item)
            if named:
                plot.getPlotItem().legend.addItem(item, curves.name or self.tr("earlier run"))
            items.append((key, item))
        self.previous.append((curves.copy(), items))
        self._prev_key = ()  # computed again: ids alone could be reused by new runs
        if tooltip:
            for legend in self.legends:
                for _sample, label in legend.items:
                    if label.text == (curves.name or self.tr("earlier run")):
                        label.setToolTip(tooltip)
        self._regroup()

    def add_stored_runs(self, runs) -> None:
        """Runs from the run store, ``[(name, epochs, steps, config)]``, faint under the current run."""
        for name, epochs, steps, config in runs:
            curves = RunCurves(name, config)
            curves.add_stored(epochs, steps)
            if not curves.empty():
                self._add_previous(curves, tooltip=f"{name} (from the Runs tab)")
        self._fit_y = True
        self.redraw(fit_x=True)

    def _regroup(self, fit_x: bool = False) -> None:
        """Seeds as mean ± std: runs of one setting (earlier ones and this one) become one band; their
        own faint curves are hidden and leave the legend. Off, or a setting of one run: as before."""
        grouped = self._seed_groups()
        layout = [(label, tuple(id(m) for m in members)) for label, members in grouped]
        if layout != [(b.label, b.member_ids) for b in self.seed_bands]:
            for band in self.seed_bands:
                band.remove()
            self._hide_banded({id(m) for _, members in grouped for m in members})
            self.seed_bands = [
                SeedBand(self, label, [m for m in members if m is not self.current], self.current in members, i)
                for i, (label, members) in enumerate(grouped)
            ]
        self.redraw(fit_x=fit_x)

    def _seed_groups(self) -> list[tuple[str, list[RunCurves]]]:
        """The settings with more than one run when "Seeds as mean ± std" is on, else none."""
        if not self.group_box.isChecked():
            return []
        from engine.runs.curves import group_by_setting

        runs = [c for c, _ in self.previous] + ([self.current] if self.current.config else [])
        return [(label, members) for label, members in group_by_setting(runs) if len(members) > 1]

    def _hide_banded(self, in_band: set[int]) -> None:
        """Earlier runs drawn as part of a band are hidden and leave the legend; the others show."""
        for curves, items in self.previous:
            hide = id(curves) in in_band
            for key, item in items:
                item.setVisible(not hide)
                if key in ("step_smooth", "train_acc"):
                    legend = (self.loss_plot if key == "step_smooth" else self.acc_plot).getPlotItem().legend
                    legend.removeItem(item)
                    if not hide:
                        legend.addItem(item, curves.name or self.tr("earlier run"))

    def clear_previous(self) -> None:
        for _curves, items in self.previous:
            for _key, item in items:
                plot = self.loss_plot if _key in ("step_smooth", "val_loss") else self.acc_plot
                plot.getPlotItem().legend.removeItem(item)
                plot.removeItem(item)
        self.previous.clear()
        self._prev_key = ()
        self._fit_y = True
        self._regroup(fit_x=True)

    def reset(self) -> None:
        self.current = RunCurves()
        self._fit_y = True
        self.redraw(fit_x=True)

    # -- options ---------------------------------------------------------------------
    def set_log_loss(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self._fit_y = True
        if self.log_box.isChecked() != on:
            self.log_box.setChecked(on)
        self.redraw()

    def set_legends_visible(self, on: bool) -> None:
        for plot, legend in zip((self.loss_plot, self.acc_plot), self.legends):
            layout = plot.getPlotItem().layout
            if on and legend.parentItem() is None:
                layout.addItem(legend, 4, 1)
                legend.setVisible(True)
            elif not on and legend.parentItem() is not None:
                layout.removeItem(legend)
                legend.setParentItem(None)
                legend.setVisible(False)
        if self.legend_box.isChecked() != on:
            self.legend_box.setChecked(on)

    def _on_smoothing(self, value: int, redraw: bool = True) -> None:
        self.smoothing_label.setText(f"{value / 1000:.3f}".rstrip("0").rstrip(".") if value else "0")
        if redraw:
            self.redraw()

    @property
    def smoothing_factor(self) -> float:
        return self.smoothing.value() / 1000

    def _auto_range(self) -> None:
        self._fit_y = True
        self.redraw(fit_x=True)

    # -- drawing ---------------------------------------------------------------------
    def series(self, curves: RunCurves, key: str, axis: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of one series as drawn (x on the chosen axis; the smoothed curve computed)."""
        axis = axis or self.x_axis.currentText()
        src = "step_raw" if key == "step_smooth" else key
        x, y = curves.buffers[src].view()
        if key == "step_smooth":
            y = curves.smoother(y, self.smoothing_factor)
        return curves.map_x(x, axis), y

    def redraw(self, fit_x: bool = False) -> None:
        """Push every curve's data to its item, with off-scale values cut at the plot's edge."""
        log = self.log_box.isChecked()
        data = {k: self.series(self.current, k) for k in self.items}
        prev = self._previous_series()
        cap = off_scale_cap([data[k][1] for k in LOSS_KEYS] + [d[k][1] for d in prev for k in d if k in LOSS_KEYS], log)
        self.off_scale_points = []
        for key, item in self.items.items():
            _push(item, *self._drawn(key, *data[key], cap, symbols=item.opts["symbol"] is not None))
        state = (self._prev_key, log, cap)
        if state != self._prev_drawn:  # earlier runs are frozen: drawn again only when the view changes
            self._prev_drawn = state
            for d, (_curves, items) in zip(prev, self.previous):
                for key, item in items:
                    x, y = d[key]
                    if key in LOSS_KEYS:
                        y = self._cut(x, y, cap, mark=False)
                    _push(item, *(thin(x, y) if key == "step_smooth" else envelope(x, y)))
        for band in self.seed_bands:
            band.push(self.current if band.has_current else None, self.x_axis.currentText(), log)
        self._draw_best()
        self._show_off_scale(cap, log)
        if self._fit_y:
            self._fit_loss_range(cap, log)
        if fit_x:
            self._fit_x()

    def _drawn(self, key: str, x: np.ndarray, y: np.ndarray, cap: float, symbols: bool):
        """One series of the current run as its item draws it: loss cut at ``cap`` (the cut marked),
        a series of points without its cut ones, the per-step curves thinned to the screen."""
        if key in LOSS_KEYS:
            y = self._cut(x, y, cap)
        if symbols:
            keep = np.isfinite(y)
            x, y = x[keep], y[keep]
        if key == "step_raw":
            return envelope(x, y)
        if key == "step_smooth":
            return thin(x, y)
        return x, y

    def _draw_best(self) -> None:
        """The best-validation line and star of the current run, if it has one on this x axis."""
        best = self.current.best
        bx = self.current.map_x(np.array([float(best[0])]), self.x_axis.currentText()) if best else None
        if bx is None or not np.isfinite(bx[0]):
            self.best_line.setVisible(False)
            _push(self.best_marker, [], [])
            return
        self.best_line.setValue(float(bx[0]))
        self.best_line.setVisible(True)
        self._place_best_label()
        _push(self.best_marker, bx, [best[1]])

    _prev_key: tuple = ()
    _prev_data: list = []
    _prev_drawn: tuple = ()

    def _previous_series(self) -> list[dict]:
        """The earlier runs' series as drawn, computed once per x axis and smoothing (they do not
        change while the current run trains: redrawing them on every update cost more per earlier run)."""
        key = (tuple(id(c) for c, _ in self.previous), self.x_axis.currentText(), self.smoothing_factor)
        if key != self._prev_key:
            self._prev_key = key
            self._prev_data = [{k: self.series(c, k) for k, _ in items} for c, items in self.previous]
        return self._prev_data

    def _cut(self, x: np.ndarray, y: np.ndarray, cap: float, mark: bool = True) -> np.ndarray:
        bad = ~np.isfinite(y) | (y > cap)
        if not bad.any():
            return y
        if mark:
            i = int(np.argmax(bad))
            self.off_scale_points.append((float(x[i]), float(y[i])))
        y = y.copy()
        y[bad] = np.nan
        return y

    def _place_best_label(self) -> None:
        """ "best val" to the right of its line, or to the left when the line is near the plot's
        right edge (a best at the last epoch was cut to "bes")."""
        (x0, x1), _ = self.acc_plot.getPlotItem().vb.viewRange()
        near_right = x1 > x0 and (self.best_line.value() - x0) / (x1 - x0) > 0.85
        label = self.best_line.label
        label.anchors = [(1, 1), (1, 1)] if near_right else [(0, 1), (0, 1)]  # above its point: never under the axis
        label.updatePosition()

    def _show_off_scale(self, cap: float, log: bool) -> None:
        if not self.off_scale_points:
            _push(self.off_scale, [], [])
            self.off_scale_text.setVisible(False)
            return
        if not math.isfinite(cap):  # only non-finite values left the plot: mark them at its top
            cap = 10 ** self.loss_plot.getViewBox().viewRange()[1][1] if log else self.loss_plot.viewRange()[1][1]
        top = math.log10(cap) if log else cap
        xs = [p[0] for p in self.off_scale_points]
        _push(self.off_scale, xs, [top] * len(xs))  # a scatter is not log-transformed by the plot
        worst = max(p[1] for p in self.off_scale_points)
        self.off_scale_text.setText(arg(self.tr("▲ off scale: loss reached %1"), f"{worst:.3g}"))
        self.off_scale_text.setPos(min(xs), top)
        self.off_scale_text.setVisible(True)

    def _fit_loss_range(self, cap: float, log: bool) -> None:
        keys = ("step_raw", "epoch_loss", "val_loss")
        parts = [self.series(self.current, k)[1] for k in keys]
        parts += [d[k][1] for d in self._previous_series() for k in ("val_loss", "step_smooth")]
        ys = np.concatenate(parts) if parts else np.zeros(0)
        ys = ys[np.isfinite(ys) & (ys <= cap)]
        if log:
            ys = np.log10(ys[ys > 0])
        if not len(ys):
            self.loss_plot.getViewBox().setYRange(0, 1) if not log else self.loss_plot.getViewBox().setYRange(-1, 1)
            return
        lo, hi = float(ys.min()), float(ys.max())
        if math.isfinite(cap):
            hi = max(hi, math.log10(cap) if log else cap)
        if not log:
            lo = min(lo, 0.0) if lo >= 0 and lo < 0.5 * hi else lo
        span = max(hi - lo, 1e-3)
        self.loss_plot.getViewBox().setYRange(lo - 0.05 * span, hi + 0.08 * span, padding=0)

    def _fit_x(self) -> None:
        axis = self.x_axis.currentText()
        shown = {"epoch": self.tr("epoch"), "step": self.tr("step"), "wall time (s)": self.tr("wall time (s)")}
        for plot in (self.loss_plot, self.acc_plot):
            plot.setLabel("bottom", shown.get(axis, axis))
        hi = float(self._epochs)
        for curves in [self.current] + [c for c, _ in self.previous]:
            if not curves.empty():
                hi = max(hi, max((b.view()[0].max() for b in curves.buffers.values() if b.n), default=0))
        if axis == X_AXES[0]:
            end = hi
        else:
            ends = []
            for curves in [self.current] + [c for c, _ in self.previous]:
                x = curves.map_x(np.array([hi]), axis)
                last = curves.map_x(curves.buffers["step_raw"].view()[0][-1:], axis)
                if axis == X_AXES[2] and curves is self.current and len(last) and np.isfinite(last[0]):
                    tx, ty = curves.times.view()
                    if len(tx) and tx[-1] > 0:  # extrapolate the run's wall time to its last epoch
                        ends.append(ty[-1] / tx[-1] * self._epochs)
                ends += [v for v in np.concatenate([x, last]) if np.isfinite(v)]
            end = max(ends, default=1.0)
        self.loss_plot.setXRange(0, max(end, 1e-9), padding=0.02)

    # -- hover readout ---------------------------------------------------------------
    def _on_hover(self, plot: pg.PlotWidget, pos) -> None:
        vb = plot.getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            self.hover_line.setVisible(False)
            return
        text = self.readout_at(plot, vb.mapSceneToView(pos))
        self.readout.setText(text or " ")
        self.readout_changed.emit(text)

    def readout_at(self, plot: pg.PlotWidget, point) -> str:
        """The run, epoch/step and value of the point nearest ``point`` (view coordinates) on ``plot``."""
        vb = plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        sx, sy = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
        log = plot is self.loss_plot and self.log_box.isChecked()
        keys = ("step_smooth", "epoch_loss", "val_loss") if plot is self.loss_plot else ("train_acc", "val_acc")
        names = {
            "step_smooth": "train loss (smoothed)",
            "epoch_loss": "train loss (epoch)",
            "val_loss": "validation loss",
            "train_acc": "train accuracy",
            "val_acc": "validation accuracy",
        }
        best = None
        runs = [(self.current, keys)] + [(c, [k for k, _ in items if k in keys]) for c, items in self.previous]
        for curves, ks in runs:
            for key in ks:
                x, y = self.series(curves, key)
                if not len(x):
                    continue
                yy = np.log10(np.where(y > 0, y, np.nan)) if log else y
                d = ((x - point.x()) / sx) ** 2 + ((yy - point.y()) / sy) ** 2
                if not np.isfinite(d).any():
                    continue
                i = int(np.nanargmin(d))
                if best is None or d[i] < best[0]:
                    best = (float(d[i]), curves, key, i, float(x[i]), float(y[i]))
        if best is None or best[0] > 0.02:
            self.hover_line.setVisible(False)
            return ""
        _, curves, key, i, x, y = best
        src = "step_raw" if key == "step_smooth" else key
        epoch_x = float(curves.buffers[src].view()[0][i])
        if key.startswith("step"):
            where = f"epoch {math.ceil(epoch_x - 1e-9)} · step {round(epoch_x * curves.steps_per_epoch):,}"
        else:
            where = f"epoch {round(epoch_x)}"
        if plot is self.loss_plot:
            self.hover_line.setValue(x)
            self.hover_line.setVisible(True)
        value = f"{y * 100:.2f}%" if key.endswith("acc") else f"{y:.4g}"
        return f"{curves.name or 'this run'} · {where} · {names[key]} {value}"

    # -- export ----------------------------------------------------------------------
    def curve_rows(self) -> list[tuple[str, str, float, int, float]]:
        """Every point of every run: (run, series, epoch, step, value)."""
        rows = []
        for curves in [c for c, _ in self.previous] + [self.current]:
            for key in SERIES:
                x, y = curves.buffers[key].view()
                for xi, yi in zip(x, y):
                    step = round(xi * curves.steps_per_epoch) if key == "step_raw" else ""
                    rows.append((curves.name or "this run", key, float(xi), step, float(yi)))
        return rows

    def write_csv(self, path: str) -> int:
        rows = self.curve_rows()
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["run", "series", "epoch", "step", "value"])
            w.writerows(rows)
        return len(rows)
