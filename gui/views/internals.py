"""The Internals tab: what backprop does inside the network, while it learns.

- **Health**: per layer, ‖∂L/∂W‖, the update ratio ‖ΔW‖/‖W‖ (log scale, the customary 1e-3 band
  marked), dead ReLUs or saturated units, activation mean ± std; warnings naming the layer.
- **Distributions**: a layer's weights or gradients as percentile bands over training, and
  the histogram at a chosen epoch.
- **Explain**: one image's forward and backward pass, step by step, with formulas, shapes,
  the numbers, and a check mark per step (both engines and finite differences agree).
- **Embedding**: a 2-D map of the logits or a hidden layer (PCA at once, t-SNE in the
  background with progress and Cancel); points coloured by class, misclassified ones ringed.
- **Units**: a hidden unit's weight image and the training images that activate it most.

The maths is in ``engine.training.health`` and ``engine.inspect``; this module only draws.
"""

from __future__ import annotations

import html
import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.training.health import HealthEvent
from gui import style
from gui.widgets.common import IMAGE_FILTER, mosaic

LAYER_COLOURS = [style.OKABE_ITO[k] for k in ("blue", "vermillion", "green", "purple", "orange", "sky")]
BAND = (3e-4, 3e-3)  # the customary update-to-weight ratio, around 1e-3


def _plot(title: str, left: str, log: bool = False) -> pg.PlotWidget:
    p = pg.PlotWidget(title=title)  # no grid: translucent grid lines cost most of a repaint
    p.setLabel("bottom", "epoch")
    p.setLabel("left", left)
    p.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
    if log:
        p.setLogMode(y=True)
    p.addLegend(offset=(-8, 8), labelTextSize="8pt")
    return p


class HealthPanel(QWidget):
    """Layer health over time, from HealthEvents (live) or a model's stored history."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.records: list[dict] = []
        self.source = ""
        self.grad = _plot("gradient norm ‖∂L/∂W‖", "‖∂L/∂W‖", log=True)
        self.ratio = _plot("update ratio ‖ΔW‖ / ‖W‖ (band: ~1e-3)", "ratio", log=True)
        self.dead = _plot("dead ReLUs / saturated units", "fraction")
        self.acts = _plot("activations: mean ± std", "value")
        self.dead.setYRange(0, 1)
        band = pg.LinearRegionItem(
            [np.log10(BAND[0]), np.log10(BAND[1])], orientation="horizontal", movable=False, brush=(0, 158, 115, 40)
        )
        band.setZValue(-20)
        self.ratio.addItem(band)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(f"color: {style.VAL};")
        self.info = QLabel("Train a model: its layers' health is collected every few steps (about 2 % of the time).")
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

    def set_records(self, records: list[dict], epochs: float | None = None, source: str = "") -> None:
        """Show these records (``source``: whose they are, when not the open model's)."""
        self.records = list(records)
        self.source = source
        self.set_epochs(epochs or (np.ceil(self.records[-1]["epoch"]) if self.records else 1))
        self._dirty = True
        self.redraw()

    def add(self, record: dict) -> None:
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
            if len(rows) != len(x):
                continue
            name = rows[-1]["name"]
            c = LAYER_COLOURS[i % len(LAYER_COLOURS)]
            pen, thin = style.pen(c, 2), style.pen(c, 1, Qt.DotLine)
            grad = np.maximum([d["grad_norm"] for d in rows], 1e-30)
            self._curve(self.grad, ("grad", i), name, pen).setData(x, grad)
            ratio = np.maximum([d["update_ratio"] for d in rows], 1e-30)
            self._curve(self.ratio, ("ratio", i), name, pen).setData(x, ratio)
            frac = [d["dead"] if d["dead"] is not None else d["saturated"] for d in rows]
            if frac[-1] is not None:
                what = "dead" if rows[-1]["dead"] is not None else "saturated"
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
        last = self.records[-1]
        self.warnings.setText("⚠ " + "  ⚠ ".join(last["warnings"]) if last["warnings"] else "")
        self.info.setText(
            (f"<b>{html.escape(self.source)}</b> (from the run store): " if self.source else "")
            + f"{len(self.records)} collections on a fixed probe batch, the last at step {last['global_step']} "
            f"(epoch {last['epoch']:.2f})."
        )


class DistributionPanel(QWidget):
    """Percentile bands of a layer's weights or gradients over training, and one histogram."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.records: list[dict] = []
        self.layer = QComboBox()
        self.kind = QComboBox()
        self.kind.addItems(["weights", "gradients"])
        self.epoch = QSlider(Qt.Horizontal)
        self.epoch.setRange(0, 0)  # one position per epoch with histograms (at the latest: follows new ones)
        self.epoch_label = QLabel("")
        for w in (self.layer, self.kind):
            w.currentIndexChanged.connect(lambda _i: self.redraw())
        self.epoch.valueChanged.connect(lambda _v: self._draw_hist())
        self.bands = _plot("percentiles over training (0–100, 10–90, 25–75, median)", "value")
        self.hist = pg.PlotWidget(title="histogram")
        self.hist.showGrid(x=True, y=True, alpha=0.2)
        bar = QHBoxLayout()
        for w in (QLabel("Layer"), self.layer, QLabel("of"), self.kind, QLabel("Histogram at"), self.epoch):
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

    def add_live(self, records: list[dict]) -> None:
        """Records during training: drawn at most once a second."""
        self._pending = records
        if not self._throttle.isActive():
            self._flush()
            self._throttle.start()

    def _flush(self) -> None:
        if self._pending is not None:
            records, self._pending = self._pending, None
            self.set_records(records)

    def set_records(self, records: list[dict]) -> None:
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
            self._band_items.append(self.bands.plot([], [], pen=style.pen(c, 2), name="median"))
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
        self.epoch_label.setText(f"epoch {int(np.ceil(r['epoch']))}")


class ExplainPanel(QWidget):
    """One backward pass, step by step, for one image."""

    explained = Signal(object)  # the image (normalised) now explained
    unit_chosen = Signal(int, int)  # layer (1-based), unit: a tile of a per-unit image clicked

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.explanation = None
        self.split = QComboBox()
        self.split.addItems(["test", "val", "train"])
        self.index = QSpinBox(minimum=0, maximum=0)
        self.index.setToolTip("Which image of the split")
        go = QPushButton("Explain")
        go.clicked.connect(self.explain_selected)
        self.file_button = QPushButton("Image File…")
        self.file_button.setToolTip("Explain an image file (or drop one on the window while this tab is shown)")
        self.file_button.clicked.connect(self.ask_file)
        self.prev = QPushButton("◀ Step")
        self.next = QPushButton("Step ▶")
        self.prev.setShortcut("Alt+Left")
        self.next.setShortcut("Alt+Right")
        self.prev.clicked.connect(lambda: self.steps.setCurrentRow(max(0, self.steps.currentRow() - 1)))
        self.next.clicked.connect(
            lambda: self.steps.setCurrentRow(min(self.steps.count() - 1, self.steps.currentRow() + 1))
        )
        self.apply_button = QPushButton("Apply This Update")
        self.apply_button.setToolTip(
            "One SGD step (the run's learning rate) on this image alone: its loss before and after"
        )
        self.apply_button.clicked.connect(self.apply_update)
        bar = QHBoxLayout()
        for w in (
            QLabel("Image"),
            self.split,
            self.index,
            go,
            self.file_button,
            self.prev,
            self.next,
            self.apply_button,
        ):
            bar.addWidget(w)
        bar.addStretch(1)
        self.steps = QListWidget()
        self.steps.currentRowChanged.connect(self._show_step)
        self.formula = QLabel("Pick an image and press Explain (or Explain in the Predictions tab).")
        self.formula.setWordWrap(True)
        self.formula.setTextFormat(Qt.RichText)
        self.plot = pg.PlotWidget()
        self.plot.invertY(True)
        self.plot.setAspectLocked(False)
        self.plot.hideAxis("left")
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("CET-D1"))
        self.plot.addItem(self.image)
        self.plot.scene().sigMouseClicked.connect(self._image_clicked)
        self._tiles: tuple | None = None  # (layer, units, columns, tile h, tile w) of a per-unit mosaic
        self.result = QLabel("")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.formula)
        rl.addWidget(self.plot, 1)
        rl.addWidget(self.result)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.steps)
        split.addWidget(right)
        split.setSizes([330, 700])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(split, 1)
        self.split.currentIndexChanged.connect(lambda _i: self._update_range())
        session.dataset_changed.connect(lambda _d: self._update_range())

    def move(self, by: int) -> None:
        """A step forwards or backwards through the pass."""
        self.steps.setCurrentRow(min(max(0, self.steps.currentRow() + by), self.steps.count() - 1))

    def _update_range(self) -> None:
        ds = self.session.dataset
        n = len(ds.split(self.split.currentText())) if ds is not None else 0
        self.index.setMaximum(max(0, n - 1))

    def explain_selected(self) -> bool:
        ds, model = self.session.dataset, self.session.model
        if ds is None or model is None:
            self.formula.setText("Open a dataset and train or open a model first.")
            return False
        s = ds.split(self.split.currentText())
        if not len(s):
            self.formula.setText(f"The {self.split.currentText()} split is empty.")
            return False
        i = min(self.index.value(), len(s) - 1)
        return self.explain_image(s.x[i], int(s.y[i]))

    def ask_file(self) -> bool:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Explain an Image", "", IMAGE_FILTER)
        return self.explain_file(path) if path else False

    def explain_file(self, path: str) -> bool:
        """An image file, explained: its label from its folder's name when that is a class (as
        the dataset layouts label images), else the class the model predicts."""
        from engine.data.images import load_image, normalize
        from engine.errors import UserError
        from engine.inspect.embed import layer_outputs

        model = self.session.model
        if model is None:
            self.formula.setText("Open or train a model first.")
            return False
        try:
            x = load_image(path, model.norm_size)
        except UserError as exc:
            self.formula.setText(html.escape(str(exc)))
            return False
        folder = os.path.basename(os.path.dirname(os.path.abspath(path))).lower()
        named = [i for i, c in enumerate(model.classes) if c.lower() == folder]
        if named:
            label, how = named[0], "from its folder's name"
        else:
            xn = normalize(x[None], model.config)[0].reshape(1, -1)
            label = int(layer_outputs(model.network.weights(), model.config.act, xn)[0].argmax())
            how = "the predicted class: its folder names no class"
        if not self.explain_image(x, label):
            return False
        self.result.setText(f"{html.escape(os.path.basename(path))} (label {how}): " + self.result.text())
        return True

    def explain_image(self, x_uint8: np.ndarray, label: int) -> bool:
        from engine.data.images import normalize
        from engine.inspect.explain import explain

        model = self.session.model
        if model is None:
            return False
        self._x = normalize(np.asarray(x_uint8)[None], model.config)[0].reshape(-1)
        self._label = label
        self._weights = model.network.weights()
        self.explanation = explain(self._weights, model.config.act, self._x, label)
        self.explained.emit(self._x)
        ex = self.explanation
        self.steps.clear()
        for st in ex.steps:
            mark = "" if st.check is None else ("  ✓" if st.check else "  ✗")
            shape = "×".join(map(str, st.shape))
            self.steps.addItem(f"{'→' if st.phase == 'forward' else '←'} {st.name}  [{shape}]{mark}")
        classes = model.classes
        self.result.setText(
            f"label {classes[label]}, predicted {classes[ex.predicted]} (q = {ex.q[ex.predicted]:.3f}); "
            f"loss −log q_y = {ex.loss:.4f}. "
            + (
                "Every backward step equals both engines and finite differences ✓"
                if ex.all_checked
                else "Some steps differ ✗"
            )
        )
        self.steps.setCurrentRow(0)
        return True

    def _show_step(self, row: int) -> None:
        ex = self.explanation
        if ex is None or not 0 <= row < len(ex.steps):
            return
        st = ex.steps[row]
        check = ""
        if st.check is not None:
            check = f"<br><b>{'✓' if st.check else '✗'}</b> {st.detail}"
        extra = f"<br>{st.detail}" if st.check is None and st.detail else ""
        self.formula.setText(
            f"<span style='font-size:15pt'>{st.formula}</span><br>shape {list(st.shape)}, "
            f"‖·‖ = {st.norm:.4g}{extra}{check}"
        )
        v = np.asarray(st.value, np.float32)
        self._tiles = None
        model = self.session.model
        w, h = model.norm_size
        pictures = (
            v.ndim in (1, 2) and v.shape[-1] == w * h
        )  # images at the input's size: a unit axis would mean nothing
        if v.ndim == 1 and pictures:
            img = v.reshape(h, w)
        elif v.ndim == 2 and pictures:  # ∂L/∂W₁: each row at the input's size
            units = v.reshape(len(v), h, w)
            cols = int(np.ceil(np.sqrt(len(units))))
            img = mosaic(units, cols, pad=1, fill=0.0)
            self._tiles = (st.layer, len(units), cols, h + 1, w + 1)
        elif v.ndim == 2:
            img = v
        else:
            img = v.reshape(1, -1)  # a heat strip
        lim = float(np.abs(img).max()) or 1.0
        symmetric = not (st.name in ("x", "q") or (st.name.startswith("y") and model.config.act != "tanh"))
        self.image.setImage(img, levels=(-lim, lim) if symmetric else (0, lim))
        self.plot.showAxis("bottom", not pictures)  # units along a strip or a matrix: numbered
        self.plot.autoRange()

    def _image_clicked(self, ev) -> None:
        """A click on a unit's tile of ∂L/∂W₁ opens that unit (Units tab)."""
        if self._tiles is None:
            return
        p = self.image.mapFromScene(ev.scenePos())
        self.unit_at(p.x(), p.y())

    def unit_at(self, x: float, y: float) -> int | None:
        """The unit whose tile holds image pixel (x, y), announced by ``unit_chosen``."""
        layer, n, cols, th, tw = self._tiles
        col, row = int(x // tw), int(y // th)
        unit = row * cols + col
        if x < 0 or y < 0 or col >= cols or unit >= n:
            return None
        self.unit_chosen.emit(layer, unit)
        return unit

    def apply_update(self) -> tuple[float, float] | None:
        from engine.inspect.explain import apply_update

        model = self.session.model
        if self.explanation is None or model is None:
            return None
        before, after = apply_update(self._weights, model.config.act, self._x, self._label, model.config.lr)
        self.result.setText(
            f"One SGD step (lr {model.config.lr:g}) on this image alone: its loss {before:.4f} → {after:.4f}"
        )
        return before, after


class EmbeddingPanel(QWidget):
    """A 2-D map of the logits or a hidden layer's activations, coloured by class."""

    select_image = Signal(str, int)  # split, index (to show in the Predictions gallery)

    def __init__(self, session, tasks, parent=None):
        super().__init__(parent)
        self.session, self.tasks = session, tasks
        self.points: np.ndarray | None = None
        self.labels = self.predicted = None
        self.split = QComboBox()
        self.split.addItems(["test", "val", "train"])
        self.layer = QComboBox()
        self.method = QComboBox()
        self.method.addItems(["PCA", "t-SNE"])
        self.as_labels = QCheckBox("Labels")
        self.as_labels.setToolTip("Draw each point as its class label (as the letters course's t-SNE figure)")
        self.as_labels.toggled.connect(lambda _on: self.points is not None and self._show(self.points))
        self.go = QPushButton("Compute")
        self.go.clicked.connect(self.compute)
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel)
        self.export = QPushButton("Export…")
        self.export.setToolTip("The map as PNG or SVG, or its points as CSV (x, y, label, predicted)")
        self.export.clicked.connect(lambda: self.export_map())
        self.progress = QProgressBar()
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # hidden, it still takes the bar's spare width: the controls stay compact
        self.progress.setSizePolicy(policy)
        self.progress.setVisible(False)
        bar = QHBoxLayout()
        for w in (
            QLabel("Split"),
            self.split,
            QLabel("of"),
            self.layer,
            self.method,
            self.go,
            self.cancel,
            self.export,
        ):
            bar.addWidget(w)
        bar.addWidget(self.progress, 1)
        self.plot = pg.PlotWidget(title="")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.scatter = pg.ScatterPlotItem(size=9, hoverable=True, tip=self._tip)
        self.scatter.sigClicked.connect(self._clicked)
        self.scatter.sigHovered.connect(self._hovered)
        self.plot.addItem(self.scatter)
        self.preview = QLabel()
        self.preview.setFixedSize(132, 150)
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setToolTip("The image under the mouse")
        self.lasso_button = QPushButton("Select Region")
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip("A region on the map (drag its corners; right-click an edge to add one)")
        self.lasso_button.toggled.connect(self._lasso_mode)
        self.group = QListWidget()
        self.group.setMaximumWidth(150)
        self.group.itemActivated.connect(self._group_item)
        self._lasso = None
        self.info = QLabel(
            "Open a model and a dataset, then Compute. Points are coloured by class; ringed ones are misclassified."
        )
        self.info.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        row = QHBoxLayout()
        row.addWidget(self.plot, 1)
        side = QVBoxLayout()
        side.addWidget(self.preview)
        side.addWidget(self.lasso_button)
        side.addWidget(self.group, 1)
        row.addLayout(side)
        lay.addLayout(row, 1)
        lay.addWidget(self.info)
        session.model_changed.connect(self._on_model)
        self._cancelled = False
        self._listening = False
        self._x: np.ndarray | None = None

    def _on_model(self, model) -> None:
        self.layer.clear()
        if model is not None:
            self.layer.addItem("logits")
            self.layer.addItems([f"hidden layer {i + 1}" for i in range(len(model.config.hidden))])

    def _tip(self, x, y, data):
        i = int(data)
        classes = self.session.model.classes if self.session.model else []
        lab, pred = classes[self.labels[i]], classes[self.predicted[i]]
        return f"#{i}: {lab}" + ("" if lab == pred else f", predicted {pred}")

    def _clicked(self, _item, points, *_):
        if len(points):
            self.select_image.emit(self.split.currentText(), int(points[0].data()))

    def _group_item(self, item) -> None:
        self.select_image.emit(self.split.currentText(), int(item.data(Qt.UserRole)))

    def _hovered(self, _item, points, _ev) -> None:
        if len(points) and self._x is not None:
            from gui.widgets.common import gray_pixmap

            img = self._x[int(points[0].data())]
            self.preview.setPixmap(gray_pixmap(img, max(1, 120 // max(img.shape))))

    def _lasso_mode(self, on: bool) -> None:
        """A closed polygon on the map; the images inside are listed beside it."""
        if self._lasso is not None:
            self.plot.removeItem(self._lasso)
            self._lasso = None
        if on and self.points is not None:
            (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
            cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 6, (y1 - y0) / 6
            corners = [(cx - rx, cy - ry), (cx + rx, cy - ry), (cx + rx, cy + ry), (cx - rx, cy + ry)]
            self._lasso = pg.PolyLineROI(corners, closed=True, pen=style.pen(style.BEST, 2))
            self._lasso.sigRegionChangeFinished.connect(lambda _r: self.list_region())
            self.plot.addItem(self._lasso)
            self.list_region()

    def list_region(self, polygon: list | None = None) -> list[int]:
        """The images whose points lie inside the region (the drawn one, or ``polygon``)."""
        from PySide6.QtCore import QPointF
        from PySide6.QtGui import QPolygonF
        from PySide6.QtWidgets import QListWidgetItem

        if self.points is None or (polygon is None and self._lasso is None):
            return []
        if polygon is None:
            polygon = [self._lasso.mapToParent(h["item"].pos()).toTuple() for h in self._lasso.handles]
        poly = QPolygonF([QPointF(float(px), float(py)) for px, py in polygon])
        inside = [i for i, (px, py) in enumerate(self.points) if poly.containsPoint(QPointF(px, py), Qt.OddEvenFill)]
        classes = self.session.model.classes if self.session.model else []
        self.group.clear()
        for i in inside:
            lab, pred = classes[self.labels[i]], classes[self.predicted[i]]
            item = QListWidgetItem(f"#{i} {lab}" + ("" if lab == pred else f" → {pred}"))
            item.setData(Qt.UserRole, i)
            self.group.addItem(item)
        self.info.setText(f"{len(inside)} images in the region (double-click one to show it in the gallery)")
        return inside

    def compute(self) -> bool:
        from engine.data.images import normalize
        from engine.inspect.embed import embed_split, layer_outputs

        ds, model = self.session.dataset, self.session.model
        if ds is None or model is None:
            self.info.setText("Open a dataset and train or open a model first.")
            return False
        s = ds.split(self.split.currentText())
        n = min(len(s), 2000)
        if not n:
            self.info.setText(f"The {self.split.currentText()} split is empty.")
            return False
        weights, act = model.network.weights(), model.config.act
        layer = self.layer.currentIndex() or None
        x, y = s.x[:n], s.y[:n]
        self.labels = y
        w_, h_ = model.norm_size
        self._x = x.reshape(n, h_, w_)
        self.predicted = layer_outputs(weights, act, normalize(x, model.config)).argmax(1)
        if self.method.currentText() == "PCA":
            self._show(embed_split(weights, act, x, "pca", layer, model.config))
            return True
        self._cancelled = False
        self.go.setEnabled(False)
        self.cancel.setEnabled(True)
        self.progress.setVisible(True)
        self.progress.setRange(0, 750)
        self.progress.setValue(0)

        def progress(done, total):
            self.tasks.report(done, total, "t-SNE")

        self.tasks.progress.connect(self._on_progress)
        self._listening = True

        def work():
            cancelled = lambda: self._cancelled or self.tasks.is_cancelled()  # noqa: E731
            return embed_split(weights, act, x, "tsne", layer, model.config, progress=progress, cancelled=cancelled)

        self.tasks.run(
            work,
            on_done=self._show,
            on_error=self._failed,
            label="t-SNE",
        )
        return True

    def _on_progress(self, done, total, message) -> None:
        if message == "t-SNE":
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _cancel(self) -> None:
        self._cancelled = True

    def _end(self) -> None:
        self.go.setEnabled(True)
        self.cancel.setEnabled(False)
        self.progress.setVisible(False)
        if self._listening:
            self.tasks.progress.disconnect(self._on_progress)
            self._listening = False

    def _failed(self, exc) -> None:
        self._end()
        from engine.inspect.embed import Cancelled

        self.info.setText("t-SNE cancelled." if isinstance(exc, Cancelled) else f"t-SNE failed: {exc}")

    def _show(self, pts: np.ndarray) -> None:
        self._end()
        self.points = pts
        n_classes = int(max(self.labels.max(), self.predicted.max())) + 1
        brushes = [pg.mkBrush(pg.intColor(int(c), hues=max(n_classes, 2), maxValue=220)) for c in self.labels]
        ring = pg.mkPen(style.VAL, width=2.5)
        pens = [ring if p != t else pg.mkPen(None) for p, t in zip(self.predicted, self.labels, strict=True)]
        symbols, size = "o", 9
        if self.as_labels.isChecked() and self.session.model is not None:
            glyphs = {c: _text_symbol(name) for c, name in enumerate(self.session.model.classes)}
            symbols, size = [glyphs[int(c)] for c in self.labels], 14
            thin = pg.mkPen(style.VAL, width=1.5)
            pens = [thin if p != t else pg.mkPen(None) for p, t in zip(self.predicted, self.labels, strict=True)]
        self.scatter.setData(
            x=pts[:, 0], y=pts[:, 1], brush=brushes, pen=pens, data=np.arange(len(pts)), size=size, symbol=symbols
        )
        self.plot.autoRange()
        wrong = int((self.predicted != self.labels).sum())
        self.info.setText(
            f"{len(pts)} {self.split.currentText()} images, {self.layer.currentText()}, "
            f"{self.method.currentText()}; {wrong} misclassified (ringed). Hover for the label, click to show it."
        )

    def export_map(self, path: str | None = None) -> str | None:
        """The map as a PNG or SVG figure, or its points as CSV, by the file's suffix (asked for
        when not given). A file that cannot be written is said in one line."""
        if self.points is None:
            self.info.setText("Compute a map first.")
            return None
        if path is None:
            path, chosen = QFileDialog.getSaveFileName(
                self, "Export Map", "embedding.png", "PNG image (*.png);;SVG drawing (*.svg);;CSV points (*.csv)"
            )
            if not path:
                return None
            if not os.path.splitext(path)[1]:
                path += {"SVG": ".svg", "CSV": ".csv"}.get(chosen[:3], ".png")
        from engine.errors import UserError
        from gui.export import export_figure

        try:
            if path.lower().endswith(".csv"):
                return self.export_csv(path)
            title = f"Backprop Studio: {self.plot.getPlotItem().titleLabel.text or 'embedding'}"
            export_figure([self.plot], path, html.unescape(title))
        except UserError as exc:
            self.info.setText(html.escape(str(exc)))
            return None
        self.info.setText(f"Saved {html.escape(path)}")
        return path

    def export_csv(self, path: str) -> str:
        from engine.errors import UserError
        from engine.inspect.embed import points_csv

        text = points_csv(self.points, self.labels, self.predicted, self.session.model.classes)
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise UserError(f"{path}: cannot write here ({exc.strerror or exc})") from None
        return path


def _text_symbol(text: str):
    """A scatter symbol drawn as ``text`` (centred, unit size), for points drawn as their labels."""
    from PySide6.QtGui import QFont, QPainterPath, QTransform

    path = QPainterPath()
    path.addText(0, 0, QFont("Sans", 10, QFont.Bold), text[:3])
    r = path.boundingRect()
    scale = 1.0 / max(r.width(), r.height(), 1e-6)
    t = QTransform()
    t.scale(scale, scale)
    t.translate(-r.x() - r.width() / 2, -r.y() - r.height() / 2)
    return t.map(path)


class UnitsPanel(QWidget):
    """A hidden unit: its weight image (first layer) and the 9 training images it likes most."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.layer = QSpinBox(minimum=1, maximum=1)
        self.unit = QSpinBox(minimum=0, maximum=0)
        show = QPushButton("Show")
        show.clicked.connect(lambda: self.show_unit())
        bar = QHBoxLayout()
        for w in (QLabel("Hidden layer"), self.layer, QLabel("unit"), self.unit, show):
            bar.addWidget(w)
        bar.addStretch(1)
        self.weight_plot = pg.PlotWidget(title="weights (first layer: at the input's size)")
        self.top_plot = pg.PlotWidget(title="the 9 training images that activate it most")
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
            self.info.setText("Open a dataset and a model first.")
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
        self.info.setText(f"layer {L} unit {u}: its top images are labelled {labels}")
        return True


class NetworkPanel(QWidget):
    """A picture of the network: columns of units (wide layers sampled, with their count), the
    strongest connections (orange positive, blue negative, width by magnitude), units coloured
    by their activation on the image chosen in Explain; redrawn at most once a second."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.x: np.ndarray | None = None
        self.plot = pg.PlotWidget()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMouseEnabled(False, False)
        self.nodes = pg.ScatterPlotItem(size=14, hoverable=True, tip=self._tip)
        self.lines: list = []
        self.labels: list = []
        self.info = QLabel("Open or train a model. Units are coloured by their activation on the Explain tab's image.")
        self.info.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.info)
        self.picture: dict | None = None
        self.live_w0: np.ndarray | None = None
        self._last = 0.0
        self._pending = False

    def _tip(self, x, y, data):
        k, i, v = data
        name = "input" if k == 0 else f"layer {k}"
        return f"{name} unit {i}" + ("" if v is None else f": {v:.3g}")

    def refresh(self, force: bool = False) -> bool:
        """Redraw from the open model (at most once a second unless forced; later if hidden)."""
        import time

        from engine.inspect.embed import network_picture

        m = self.session.model
        if m is None:
            return False
        if not self.isVisible() and not force:
            self._pending = True
            return False
        if not force and time.monotonic() - self._last < 1.0:
            return False
        self._last = time.monotonic()
        weights = m.network.weights()
        if self.live_w0 is not None and self.live_w0.shape == weights[0].shape:
            weights[0] = self.live_w0  # the run's latest first layer (the rest come when it ends)
        self.picture = pic = network_picture(weights, m.config.act, self.x)
        self.plot.clear()
        cols = len(pic["sizes"])
        ys = [np.linspace(1, 0, len(s)) if len(s) > 1 else np.array([0.5]) for s in pic["shown"]]
        mags = np.array([abs(e[3]) for e in pic["edges"]]) if pic["edges"] else np.ones(1)
        top = float(mags.max()) or 1.0
        buckets: dict = {}
        for k, fr, to, wv in pic["edges"]:
            width = 0.5 + 3.5 * abs(wv) / top
            key = (wv > 0, round(width))
            buckets.setdefault(key, []).extend([(k, ys[k][fr]), (k + 1, ys[k + 1][to])])
        for (pos, width), pts in buckets.items():
            colour = style.OKABE_ITO["orange"] if pos else style.OKABE_ITO["blue"]
            xy = np.array(pts, float)
            self.plot.addItem(
                pg.PlotDataItem(xy[:, 0], xy[:, 1], connect="pairs", pen=style.pen(colour, max(width, 0.5), alpha=150))
            )
        spots = []
        for k in range(cols):
            vals = pic["values"][k] if pic["values"] else [None] * len(pic["shown"][k])
            vmax = max((abs(v) for v in vals if v is not None), default=1.0) or 1.0
            for j, (unit, v) in enumerate(zip(pic["shown"][k], vals, strict=True)):
                level = 0.0 if v is None else abs(v) / vmax
                brush = pg.mkBrush(int(255 * (1 - level)), int(255 * (1 - 0.6 * level)), 255) if v is not None else "w"
                spots.append({"pos": (k, ys[k][j]), "brush": brush, "pen": pg.mkPen("#555"), "data": (k, unit, v)})
            if k == cols - 1 and len(pic["shown"][k]) <= 40:  # the output units, by class
                for j, unit in enumerate(pic["shown"][k]):
                    name = m.classes[unit] if unit < len(m.classes) else str(unit)
                    tag = pg.TextItem(name[:12], anchor=(0, 0.5), color=style.OKABE_ITO["grey"])
                    tag.setPos(k + 0.04, ys[k][j])
                    self.plot.addItem(tag)
            n, shown = pic["sizes"][k], len(pic["shown"][k])
            text = f"{'input' if k == 0 else 'output' if k == cols - 1 else f'hidden {k}'}\n{n}"
            if shown < n:
                text += f" ({shown} shown)"
            label = pg.TextItem(text, anchor=(0.5, 0), color=style.OKABE_ITO["grey"])
            label.setPos(k, -0.05)
            self.plot.addItem(label)
        self.nodes = pg.ScatterPlotItem(size=14, hoverable=True, tip=self._tip)
        self.nodes.setData(spots)
        self.plot.addItem(self.nodes)
        self.plot.setXRange(-0.4, cols - 0.5)
        self.plot.setYRange(-0.2, 1.05)
        self.info.setText(
            f"{len(pic['edges'])} strongest connections of the units shown (orange +, blue −, width |w|)"
            + ("; units coloured by their activation on the Explain tab's image" if pic["values"] else "")
        )
        return True

    def showEvent(self, ev):
        super().showEvent(ev)
        if self._pending:
            self._pending = False
            self.refresh(force=True)


class InternalsView(QWidget):
    """The tab that holds the Internals panels (health, distributions, explain, embedding, units,
    network); live health from the run controller."""

    def __init__(self, session, controller, tasks, parent=None):
        super().__init__(parent)
        self.session = session
        self.health = HealthPanel()
        self.distributions = DistributionPanel()
        self.explain = ExplainPanel(session)
        self.embedding = EmbeddingPanel(session, tasks)
        self.units = UnitsPanel(session)
        self.network = NetworkPanel(session)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for w, name in (
            (self.health, "Health"),
            (self.distributions, "Distributions"),
            (self.explain, "Explain"),
            (self.embedding, "Embedding"),
            (self.units, "Units"),
            (self.network, "Network"),
        ):
            self.tabs.addTab(w, name)
        self.tabs.currentChanged.connect(lambda _i: self._refresh_distributions())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs)
        controller.updated.connect(self._on_update)
        controller.started.connect(self._on_started)
        session.model_changed.connect(self._on_model)
        self.explain.explained.connect(self._set_network_image)
        self.explain.unit_chosen.connect(self._open_unit)

    def _open_unit(self, layer: int, unit: int) -> None:
        if self.units.show_unit(layer, unit):
            self.tabs.setCurrentWidget(self.units)

    def _set_network_image(self, x) -> None:
        self.network.x = x
        self.network.refresh(force=self.network.isVisible())

    def explain_image(self, split: str, index: int) -> None:
        """An image of a split (from the Predictions gallery), explained."""
        self.explain.split.setCurrentText(split)
        self.explain.index.setValue(index)
        if self.explain.explain_selected():
            self.tabs.setCurrentWidget(self.explain)

    def show_stored_health(self, name: str, records: list, epochs: float) -> None:
        """A stored run's layer health (the Runs tab's Show Health), until a run or model replaces it."""
        self.health.set_records(records, epochs, source=name)
        self._refresh_distributions()
        self.tabs.setCurrentWidget(self.health)

    def _on_started(self, start) -> None:
        """A run starts: its past (a resumed run's) and the whole span of its epochs."""
        self._on_model(start.model)
        self.health.set_records(self.health.records, start.run.config.epochs)

    def _on_model(self, model) -> None:
        self.network.live_w0 = None
        self.network.refresh(force=self.network.isVisible())
        records = list(model.history.health) if model is not None else []
        self.health.set_records(records)
        self._refresh_distributions()

    def _on_update(self, update) -> None:
        if update.first_layer is not None:
            self.network.live_w0 = update.first_layer
            if self.network.isVisible():
                self.network.refresh()  # at most once a second
        for ev in update.events:
            if isinstance(ev, HealthEvent):
                self.health.add(ev.to_dict())
        if self.tabs.currentWidget() is self.distributions and any(isinstance(e, HealthEvent) for e in update.events):
            self.distributions.add_live(self.health.records)

    def _refresh_distributions(self) -> None:
        if self.tabs.currentWidget() is self.distributions:
            self.distributions.set_records(self.health.records)
