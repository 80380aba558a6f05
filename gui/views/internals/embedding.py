"""The Embedding panel: a 2-D map of the logits or a hidden layer (PCA at once, t-SNE in the
background with progress and Cancel), points coloured by class, misclassified ones ringed."""

from __future__ import annotations

import html
import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui import style
from gui.i18n import arg


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
        self.as_labels = QCheckBox(self.tr("Labels"))
        self.as_labels.setToolTip(self.tr("Draw each point as its class label (as the letters course's t-SNE figure)"))
        self.as_labels.toggled.connect(lambda _on: self.points is not None and self._show(self.points))
        self.go = QPushButton(self.tr("Compute"))
        self.go.clicked.connect(self.compute)
        self.cancel = QPushButton(self.tr("Cancel"))
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel)
        self.export = QPushButton(self.tr("Export…"))
        self.export.setToolTip(self.tr("The map as PNG or SVG, or its points as CSV (x, y, label, predicted)"))
        self.export.clicked.connect(lambda: self.export_map())
        self.progress = QProgressBar()
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # hidden, it still takes the bar's spare width: the controls stay compact
        self.progress.setSizePolicy(policy)
        self.progress.setVisible(False)
        bar = QHBoxLayout()
        for w in (
            QLabel(self.tr("Split")),
            self.split,
            QLabel(self.tr("of")),
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
        self.legend = self.plot.addLegend(offset=(-6, 6), labelTextSize="8pt", colCount=4)
        self.preview = QLabel()
        self.preview.setFixedSize(132, 150)
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setToolTip(self.tr("The image under the mouse"))
        self.lasso_button = QPushButton(self.tr("Select Region"))
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip(self.tr("A region on the map (drag its corners; right-click an edge to add one)"))
        self.lasso_button.toggled.connect(self._lasso_mode)
        self.group = QListWidget()
        self.group.setMaximumWidth(150)
        self.group.itemActivated.connect(self._group_item)
        self._lasso = None
        self.info = QLabel(
            self.tr(
                "Open a model and a dataset, then Compute. Points are coloured by class; ringed ones are misclassified."
            )
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
        session.dataset_changed.connect(lambda _ds: self._hint())
        self._cancelled = False
        self._listening = False
        self._x: np.ndarray | None = None

    def _on_model(self, model) -> None:
        self.layer.clear()
        if model is not None:
            self.layer.addItem("logits")
            self.layer.addItems([f"hidden layer {i + 1}" for i in range(len(model.config.hidden))])
        self._hint()

    def _hint(self) -> None:
        """What to do next, before a map is shown: open what is missing, or Compute."""
        if self.points is not None:
            return
        if self.session.model is None or self.session.dataset is None:
            text = self.tr(
                "Open a model and a dataset, then Compute. Points are coloured by class; ringed ones are misclassified."
            )
        else:
            text = self.tr(
                "Choose a split and a layer, then Compute: PCA at once, t-SNE in the background. Points are "
                "coloured by class; ringed ones are misclassified."
            )
        self.info.setText(text)

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
        self.info.setText(
            arg(self.tr("%1 images in the region (double-click one to show it in the gallery)"), len(inside))
        )
        return inside

    def compute(self) -> bool:
        from engine.data.images import normalize
        from engine.inspect.embed import embed_split, layer_outputs

        ds, model = self.session.dataset, self.session.model
        if ds is None or model is None:
            self.info.setText(self.tr("Open a dataset and train or open a model first."))
            return False
        s = ds.split(self.split.currentText())
        n = min(len(s), 2000)
        if not n:
            self.info.setText(arg(self.tr("The %1 split is empty."), self.split.currentText()))
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

        self.info.setText(
            self.tr("t-SNE cancelled.") if isinstance(exc, Cancelled) else arg(self.tr("t-SNE failed: %1"), exc)
        )

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
        self._fill_legend(n_classes)
        wrong = int((self.predicted != self.labels).sum())
        self.info.setText(
            arg(
                self.tr("%1 %2 images, %3, %4; %5 misclassified (ringed). Hover for the label, click to show it."),
                len(pts),
                self.split.currentText(),
                self.layer.currentText(),
                self.method.currentText(),
                wrong,
            )
        )

    def _fill_legend(self, n_classes: int) -> None:
        """Each class's colour and name, in four columns (26 letters take 7 rows)."""
        self.legend.clear()
        classes = self.session.model.classes if self.session.model is not None else []
        for c in range(n_classes):
            color = pg.intColor(c, hues=max(n_classes, 2), maxValue=220)
            swatch = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(color), pen=pg.mkPen(None), symbol="o")
            self.legend.addItem(swatch, classes[c] if c < len(classes) else str(c))

    def export_map(self, path: str | None = None) -> str | None:
        """The map as a PNG or SVG figure, or its points as CSV, by the file's suffix (asked for
        when not given). A file that cannot be written is said in one line."""
        if self.points is None:
            self.info.setText(self.tr("Compute a map first."))
            return None
        if path is None:
            path, chosen = QFileDialog.getSaveFileName(
                self,
                self.tr("Export Map"),
                "embedding.png",
                "PNG image (*.png);;SVG drawing (*.svg);;CSV points (*.csv)",
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
        self.info.setText(arg(self.tr("Saved %1"), html.escape(path)))
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
