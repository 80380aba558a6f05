"""What the Internals panels share: layer colours, the update-ratio band, a titled plot."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication

from gui import style
from gui.widgets.axes import DecadeLabelAxis

LAYER_COLOURS = [style.OKABE_ITO[k] for k in ("blue", "vermillion", "green", "purple", "orange", "sky")]
BAND = (3e-4, 3e-3)  # the customary update-to-weight ratio, around 1e-3


def titled_plot(title: str, left: str, log: bool = False) -> pg.PlotWidget:
    # no grid: translucent grid lines cost most of a repaint; a log axis labels its decades only
    p = pg.PlotWidget(title=title, axisItems={"left": DecadeLabelAxis("left")} if log else None)
    p.setLabel("bottom", QCoreApplication.translate("Common", "epoch"))
    p.setLabel("left", left)
    p.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
    if log:
        p.setLogMode(y=True)
    p.addLegend(offset=(-8, 8), labelTextSize="8pt")
    return p
