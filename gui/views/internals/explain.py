"""The Explain panel: one image's forward and backward pass, step by step, with formulas, shapes,
the numbers and a check mark per step; "Apply this update" shows the loss after one step."""

from __future__ import annotations

import html
import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import arg
from gui.widgets.common import IMAGE_FILTER, mosaic


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
        self.index.setToolTip(self.tr("Which image of the split"))
        go = QPushButton(self.tr("Explain"))
        go.clicked.connect(self.explain_selected)
        self.file_button = QPushButton(self.tr("Image File…"))
        self.file_button.setToolTip(
            self.tr("Explain an image file (or drop one on the window while this tab is shown)")
        )
        self.file_button.clicked.connect(self.ask_file)
        self.prev = QPushButton(self.tr("◀ Step"))
        self.next = QPushButton(self.tr("Step ▶"))
        self.prev.setShortcut("Alt+Left")
        self.next.setShortcut("Alt+Right")
        self.prev.clicked.connect(lambda: self.steps.setCurrentRow(max(0, self.steps.currentRow() - 1)))
        self.next.clicked.connect(
            lambda: self.steps.setCurrentRow(min(self.steps.count() - 1, self.steps.currentRow() + 1))
        )
        self.apply_button = QPushButton(self.tr("Apply This Update"))
        self.apply_button.setToolTip(
            self.tr("One SGD step (the run's learning rate) on this image alone: its loss before and after")
        )
        self.apply_button.clicked.connect(self.apply_update)
        bar = QHBoxLayout()
        for w in (
            QLabel(self.tr("Image")),
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
        self.formula = QLabel(self.tr("Pick an image and press Explain (or Explain in the Predictions tab)."))
        self.formula.setWordWrap(True)
        self.formula.setTextFormat(Qt.RichText)
        self.plot = pg.PlotWidget()
        self.plot.invertY(True)
        self.plot.setAspectLocked(False)
        self.plot.hideAxis("left")
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("CET-D1"))
        self.plot.addItem(self.image)
        # the colour scale of the numbers shown (set per step: symmetric about 0, or 0 to max)
        self.colorbar = pg.ColorBarItem(
            values=(-1, 1), colorMap=pg.colormap.get("CET-D1"), interactive=False, width=12, colorMapMenu=False
        )
        self.colorbar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.plot.scene().sigMouseClicked.connect(self._image_clicked)
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.value_label = QLabel(" ")  # the number under the mouse
        self._img: np.ndarray | None = None
        self._strip_names: list[str] | None = None  # a strip of one number per class: the class names
        self._tiles: tuple | None = None  # (layer, units, columns, tile h, tile w) of a per-unit mosaic
        self.result = QLabel("")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.formula)
        rl.addWidget(self.plot, 1)
        rl.addWidget(self.value_label)
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
            self.formula.setText(self.tr("Open a dataset and train or open a model first."))
            return False
        s = ds.split(self.split.currentText())
        if not len(s):
            self.formula.setText(arg(self.tr("The %1 split is empty."), self.split.currentText()))
            return False
        i = min(self.index.value(), len(s) - 1)
        return self.explain_image(s.x[i], int(s.y[i]))

    def ask_file(self) -> bool:

        path, _ = QFileDialog.getOpenFileName(self, self.tr("Explain an Image"), "", IMAGE_FILTER)
        return self.explain_file(path) if path else False

    def explain_file(self, path: str) -> bool:
        """An image file, explained: its label from its folder's name when that is a class (as
        the dataset layouts label images), else the class the model predicts."""
        from engine.data.images import load_image, normalize
        from engine.errors import UserError
        from engine.inspect.embed import layer_outputs

        model = self.session.model
        if model is None:
            self.formula.setText(self.tr("Open or train a model first."))
            return False
        try:
            x = load_image(path, model.norm_size)
        except UserError as exc:
            self.formula.setText(html.escape(str(exc)))
            return False
        folder = os.path.basename(os.path.dirname(os.path.abspath(path))).lower()
        named = [i for i, c in enumerate(model.classes) if c.lower() == folder]
        if named:
            label, how = named[0], self.tr("from its folder's name")
        else:
            xn = normalize(x[None], model.config)[0].reshape(1, -1)
            label = int(layer_outputs(model.network.weights(), model.config.act, xn)[0].argmax())
            how = self.tr("the predicted class: its folder names no class")
        if not self.explain_image(x, label):
            return False
        self.result.setText(
            arg(self.tr("%1 (label %2): "), html.escape(os.path.basename(path)), how) + self.result.text()
        )
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
            arg(
                self.tr("label %1, predicted %2 (q = %3); loss −log q_y = %4. "),
                classes[label],
                classes[ex.predicted],
                f"{ex.q[ex.predicted]:.3f}",
                f"{ex.loss:.4f}",
            )
            + (
                self.tr("Every backward step equals both engines and finite differences ✓")
                if ex.all_checked
                else self.tr("Some steps differ ✗")
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
            arg(
                self.tr("<span style='font-size:15pt'>%1</span><br>shape %2, ‖·‖ = %3%4%5"),
                st.formula,
                list(st.shape),
                f"{st.norm:.4g}",
                extra,
                check,
            )
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
        levels = (-lim, lim) if symmetric else (0.0, lim)
        self.image.setImage(img, levels=levels)
        self.colorbar.setLevels(levels)
        self._img = img
        # a strip of one number per class (logits, q, ∂L/∂z): its units are the classes, by name
        self._strip_names = list(model.classes) if img.shape == (1, len(model.classes)) else None
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(i + 0.5, name) for i, name in enumerate(self._strip_names)]] if self._strip_names else None)
        self.plot.showAxis("bottom", not pictures)  # units along a strip or a matrix: numbered
        self.value_label.setText(" ")
        self.plot.autoRange()

    def _hovered(self, scene_pos) -> None:
        """The number under the mouse, with its unit (the class, on a strip of classes)."""
        if self._img is None:
            return
        p = self.image.mapFromScene(scene_pos)
        col, row = int(np.floor(p.x())), int(np.floor(p.y()))
        h, w = self._img.shape
        if not (0 <= row < h and 0 <= col < w):
            self.value_label.setText(" ")
            return
        value = float(self._img[row, col])
        if self._strip_names:
            text = arg(self.tr("class %1: %2"), self._strip_names[col], f"{value:.4g}")
        elif h == 1:
            text = arg(self.tr("unit %1: %2"), col, f"{value:.4g}")
        else:
            text = arg(self.tr("row %1, column %2: %3"), row, col, f"{value:.4g}")
        self.value_label.setText(text)

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
            arg(
                self.tr("One SGD step (lr %1) on this image alone: its loss %2 → %3"),
                f"{model.config.lr:g}",
                f"{before:.4f}",
                f"{after:.4f}",
            )
        )
        return before, after
