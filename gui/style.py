"""Colours and pens: the Okabe–Ito colour-blind-safe palette, following the OS light/dark palette."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "grey": "#999999",
}
TRAIN = OKABE_ITO["blue"]
VAL = OKABE_ITO["vermillion"]
BEST = OKABE_ITO["green"]
PREVIOUS = ["#999999", "#CC79A7", "#56B4E9", "#E69F00"]


def apply_plot_theme() -> None:
    """pyqtgraph's global colours from the current Qt palette (call after QApplication exists)."""
    app = QApplication.instance()
    pal = app.palette()
    pg.setConfigOptions(
        background=pal.color(QPalette.Base),
        foreground=pal.color(QPalette.Text),
        antialias=True,
        imageAxisOrder="row-major",
    )


def retheme(widget) -> None:
    """Recolour every plot under ``widget`` after the OS switched between light and dark."""
    apply_plot_theme()
    fg, bg = pg.getConfigOption("foreground"), pg.getConfigOption("background")
    for plot in widget.findChildren(pg.PlotWidget):
        plot.setBackground(bg)
        item = plot.getPlotItem()
        for name in ("left", "bottom", "right", "top"):
            axis = item.getAxis(name)
            axis.setPen(fg)
            axis.setTextPen(fg)
        item.titleLabel.setText(item.titleLabel.text, color=fg)
        for data in item.listDataItems():
            spec = getattr(data, "faint", None)
            if spec is not None:  # (colour, alpha, width): recomputed over the new background
                data.setPen(pg.mkPen(faint(spec[0], spec[1]), width=spec[2]))
        if item.legend is not None:
            item.legend.setBrush(legend_brush())
            item.legend.setLabelTextColor(fg)


def legend_brush():
    """A semi-opaque legend background in the plot's own colour, so curves behind stay visible."""
    c = QColor(pg.getConfigOption("background"))
    c.setAlpha(200)
    return pg.mkBrush(c)


def faint(color: str, alpha: int) -> QColor:
    """``color`` at ``alpha`` over the plot background, as an opaque colour: the same look as a
    translucent pen, without alpha blending (which made the loss plot three times slower to paint)."""
    c, bg = QColor(color), QColor(pg.getConfigOption("background"))
    a = alpha / 255
    return QColor(
        round(c.red() * a + bg.red() * (1 - a)),
        round(c.green() * a + bg.green() * (1 - a)),
        round(c.blue() * a + bg.blue() * (1 - a)),
    )


def pen(color: str, width: float = 2.0, style=Qt.SolidLine, alpha: int = 255):
    c = QColor(color)
    c.setAlpha(alpha)
    return pg.mkPen(c, width=width, style=style)
