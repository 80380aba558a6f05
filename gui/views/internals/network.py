"""The Network panel: the architecture drawn as the course draws it, with live numbers."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QLabel,
    QVBoxLayout,
    QWidget,
)

from gui import style


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
