"""The Network panel: the architecture drawn as the course draws it, with live numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QLabel,
    QVBoxLayout,
    QWidget,
)

from gui import style
from gui.i18n import arg

if TYPE_CHECKING:
    from engine.inspect.embed import NetworkPicture


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
        self.info = QLabel(
            self.tr("Open or train a model. Units are coloured by their activation on the Explain tab's image.")
        )
        self.info.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.info)
        self.picture: NetworkPicture | None = None
        self.live_w0: np.ndarray | None = None
        self._last = 0.0
        self._pending = False

    def _tip(self, x, y, data):
        k, i, v = data
        name = "input" if k == 0 else f"layer {k}"
        return f"{name} unit {i}" + ("" if v is None else f": {v:.3g}")

    def refresh(self, force: bool = False) -> bool:
        """Redraw from the open model (at most once a second unless forced; later if hidden)."""
        from engine.inspect.embed import network_picture

        m = self.session.model
        if m is None or not self._due(force):
            return False
        weights = m.network.weights()
        if self.live_w0 is not None and self.live_w0.shape == weights[0].shape:
            weights[0] = self.live_w0  # the run's latest first layer (the rest come when it ends)
        self.picture = pic = network_picture(weights, m.config.act, self.x)
        self.plot.clear()
        cols = len(pic.sizes)
        ys = [np.linspace(1, 0, len(s)) if len(s) > 1 else np.array([0.5]) for s in pic.shown]
        self._draw_edges(pic.edges, ys)
        spots = []
        for k in range(cols):
            spots += self._draw_column(pic, k, ys[k], m.classes)
        self.nodes = pg.ScatterPlotItem(size=14, hoverable=True, tip=self._tip)
        self.nodes.setData(spots)
        self.plot.addItem(self.nodes)
        self.plot.setXRange(-0.4, cols - 0.5)
        self.plot.setYRange(-0.2, 1.05)
        text = arg(self.tr("%1 strongest connections of the units shown (orange +, blue −, width |w|)"), len(pic.edges))
        if pic.values:
            text += self.tr("; units coloured by their activation on the Explain tab's image")
        self.info.setText(text)
        return True

    def _due(self, force: bool) -> bool:
        """Whether to draw now: shown (else later, when shown) and not drawn in the last second."""
        import time

        if not self.isVisible() and not force:
            self._pending = True
            return False
        if not force and time.monotonic() - self._last < 1.0:
            return False
        self._last = time.monotonic()
        return True

    def _draw_edges(self, edges: list, ys: list) -> None:
        """The strongest connections, orange positive and blue negative, width by |w| (one item per
        colour and width: hundreds of lines draw as a few)."""
        top = float(max((abs(e[3]) for e in edges), default=1.0)) or 1.0
        buckets: dict = {}
        for k, fr, to, wv in edges:
            width = 0.5 + 3.5 * abs(wv) / top
            buckets.setdefault((wv > 0, round(width)), []).extend([(k, ys[k][fr]), (k + 1, ys[k + 1][to])])
        for (pos, width), pts in buckets.items():
            colour = style.OKABE_ITO["orange"] if pos else style.OKABE_ITO["blue"]
            xy = np.array(pts, float)
            pen = style.pen(colour, max(width, 0.5), alpha=150)
            self.plot.addItem(pg.PlotDataItem(xy[:, 0], xy[:, 1], connect="pairs", pen=pen))

    def _draw_column(self, pic: dict, k: int, ys: np.ndarray, classes: list) -> list[dict]:
        """Layer ``k``'s units (their spots, shaded by activation), its caption, and the class
        names beside the output units; returns the spots."""
        cols, shown_units = len(pic.sizes), pic.shown[k]
        vals = pic.values[k] if pic.values else [None] * len(shown_units)
        vmax = max((abs(v) for v in vals if v is not None), default=1.0) or 1.0
        spots = []
        for j, (unit, v) in enumerate(zip(shown_units, vals, strict=True)):
            level = 0.0 if v is None else abs(v) / vmax
            brush = pg.mkBrush(int(255 * (1 - level)), int(255 * (1 - 0.6 * level)), 255) if v is not None else "w"
            spots.append({"pos": (k, ys[j]), "brush": brush, "pen": pg.mkPen("#555"), "data": (k, unit, v)})
        if k == cols - 1 and len(shown_units) <= 40:  # the output units, by class
            for j, unit in enumerate(shown_units):
                tag = pg.TextItem(
                    (classes[unit] if unit < len(classes) else str(unit))[:12],
                    anchor=(0, 0.5),
                    color=style.OKABE_ITO["grey"],
                )
                tag.setPos(k + 0.04, ys[j])
                self.plot.addItem(tag)
        n = pic.sizes[k]
        what = self.tr("input") if k == 0 else self.tr("output") if k == cols - 1 else arg(self.tr("hidden %1"), k)
        text = f"{what}\n{n}"
        if len(shown_units) < n:
            text += arg(self.tr(" (%1 shown)"), len(shown_units))
        label = pg.TextItem(text, anchor=(0.5, 0), color=style.OKABE_ITO["grey"])
        label.setPos(k, -0.05)
        self.plot.addItem(label)
        return spots

    def showEvent(self, ev):
        super().showEvent(ev)
        if self._pending:
            self._pending = False
            self.refresh(force=True)
