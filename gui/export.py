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
    """Loss above accuracy. ``.png``: one image ``width`` pixels wide; ``.svg``: ``<name>-loss.svg``
    and ``<name>-accuracy.svg`` (SVG has no way to stack two scenes). Returns the files written."""
    p = Path(path)
    items = [("loss", plots.loss_plot.getPlotItem()), ("accuracy", plots.acc_plot.getPlotItem())]
    try:
        if p.suffix.lower() == ".svg":
            out = []
            for name, item in items:
                target = p.with_name(f"{p.stem}-{name}.svg")
                pg.exporters.SVGExporter(item).export(str(target))
                out.append(str(target))
            return out
        images = []
        for _name, item in items:
            ex = pg.exporters.ImageExporter(item)
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
            raise OSError(f"{p}: cannot write the image")
        return [str(p)]
    except OSError as exc:
        raise UserError(f"{p}: cannot write here ({getattr(exc, 'strerror', None) or exc})") from None


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
