"""File ▸ Export: the training plots as PNG (one image, publication size) or SVG (one file per
plot), the curves as CSV, the misclassified images as a contact sheet, the model as ONNX."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers the exporters
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from engine.errors import UserError
from engine.export import contact_sheet

PUBLICATION_WIDTH = 2400  # pixels: a full-width figure at 300 dpi


def export_plots(plots, path: str, width: int = PUBLICATION_WIDTH) -> list[str]:
    """Loss above accuracy, in one file: ``.png`` ``width`` pixels wide, or ``.svg`` (vector).
    Returns the files written."""
    return export_figure((plots.loss_plot, plots.acc_plot), path, "Backprop Studio: training curves", width)


def export_figure(widgets, path: str, title: str, width: int = PUBLICATION_WIDTH) -> list[str]:
    """Plot widgets one above the other, in one file: ``.png`` ``width`` pixels wide, or ``.svg``
    (vector). Returns the files written; a file that cannot be written is a UserError."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".svg":
            _export_svg(widgets, p, title)
            return [str(p)]
        images = []
        for plot in widgets:
            ex = pg.exporters.ImageExporter(plot.getPlotItem())
            ex.parameters()["width"] = width
            ex.parameters()["antialias"] = True
            images.append(ex.export(toBytes=True))
        height = sum(im.height() for im in images)
        sheet = QImage(width, height, QImage.Format_ARGB32)
        sheet.fill(Qt.white)
        painter = QPainter(sheet)
        y = 0
        for im in images:
            painter.drawImage(0, y, im)
            y += im.height()
        painter.end()
        if not sheet.save(str(p)):
            raise OSError(0, "cannot write the image", str(p))
        return [str(p)]
    except OSError as exc:
        raise UserError(f"{p}: cannot write here ({getattr(exc, 'strerror', None) or exc})") from None


def _export_svg(widgets, path: Path, title: str) -> None:
    """The plots as vector drawing through QSvgGenerator (pyqtgraph's SVG exporter cannot parse
    the paths current Qt writes: pyqtgraph issue #3485)."""
    from PySide6.QtCore import QRect, QRectF, QSize
    from PySide6.QtSvg import QSvgGenerator

    w = max(x.width() for x in widgets)
    h = sum(x.height() for x in widgets)
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(w, h))
    gen.setViewBox(QRect(0, 0, w, h))
    gen.setTitle(title)
    painter = QPainter()
    if not painter.begin(gen):
        raise OSError(0, "cannot write the drawing", str(path))
    try:
        y = 0
        for x in widgets:  # QGraphicsView.render: the scene drawn as vector paths, not a bitmap
            x.render(painter, QRectF(0, y, x.width(), x.height()), x.viewport().rect())
            y += x.height()
    finally:
        painter.end()
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(0, "cannot write the drawing", str(path))


def export_misclassified(ev, path: str) -> int:
    """A contact sheet of the evaluation's misclassified images, captioned "true→predicted (conf)"."""
    if ev is None:
        raise UserError("Evaluate the model first: the contact sheet shows the misclassified images of a split")
    wrong = np.flatnonzero(ev.pred != ev.y)
    if not len(wrong):
        raise UserError(f"No misclassified images on {ev.split}: nothing to put on a contact sheet")
    wrong = wrong[np.argsort(-ev.conf[wrong], kind="stable")]  # most confident mistakes first
    captions = [f"{ev.classes[ev.y[i]]}→{ev.classes[ev.pred[i]]} {ev.conf[i] * 100:.0f}%" for i in wrong]
    contact_sheet(ev.x[wrong], captions, path)
    return len(wrong)


def suggested_name(folder: str, stem: str, suffix: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_.,+ " else "_" for ch in stem).strip(" .") or "export"
    return os.path.join(folder, safe[:80] + suffix)


def write_text_file(path: str, text: str) -> None:
    """``text`` into ``path`` (UTF-8, newlines as given) through a temporary file beside it: an
    export that fails half-way leaves the old file, not a truncated one."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".export-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
