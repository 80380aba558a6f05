"""Report figures from the run store: what goes into the homework, drawn for print.

Always a white background, black axes and print-sized text: 8 pt for ticks and legends at the
chosen width — a one-column figure (8.5 cm) or a full page (17 cm) — so nothing shrinks to 3 pt
when LaTeX scales it. The same drawing is written as PDF (vector, QPdfWriter), SVG (vector) or
PNG (300 dpi), chosen by the file's suffix.

- **curves**: loss (train solid, validation dashed) above validation accuracy, one colour per
  setting; a setting run with several seeds is its mean with a ± 1 sample-std band.
- **sweep**: a sweep's final validation (or test) accuracy against its swept value, mean ± std
  over seeds as error bars.
- **confusion**: a run's confusion matrix on its test split (true class down, predicted across),
  each row as the share of that class (grey scale), counts written in the cells when they fit.

``backprop-studio figure …`` draws them from the command line (no window needed); the numbers
come from :mod:`engine.runs.curves`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication

from engine.errors import UserError
from gui.i18n import arg

WIDTHS_CM = {"column": 8.5, "page": 17.0}
FONT_PT = 8  # ticks, labels and legend text at the printed size
DPI = 300
DOCUMENT_TITLE = "Backprop Studio figure"  # the file's metadata, not text in the drawing
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
PT_PER_CM = 72 / 2.54
# Every device is painted at Qt's default 96 dpi: pyqtgraph caches its axes as QPictures, whose
# text Qt rescales by (device dpi / 96) on replay, so a 300-dpi device would print 3× larger ticks.
PAINT_DPI = 96
SCALE = 4  # the drawing is laid out at 4 units per pt (pyqtgraph's items keep their minimum sizes in pixels)


def _app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a figure needs no screen
        app = QApplication([sys.argv[0]])
        from engine.i18n import language
        from gui.i18n import install

        install(language())  # from the command line: the figures' words in the user's language
    return app


def _style(plot, title: str, left: str, bottom: str) -> None:
    """Black on white at the printed size: 1 unit of the drawing is 1 pt."""
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPixelSize(FONT_PT * SCALE)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTickFont(font)
        axis.setPen(_pen("#000", 0.6))
        axis.setTextPen("k")
        axis.setStyle(tickLength=-3 * SCALE, tickTextOffset=2 * SCALE)
        axis.enableAutoSIPrefix(False)
    _axis_label(plot, "left", left)
    _axis_label(plot, "bottom", bottom)
    plot.setTitle(title, size=f"{(FONT_PT + 1) * SCALE}px", color="#000")
    plot.showGrid(x=True, y=True, alpha=0.1)
    plot.getAxis("left").setWidth(38 * SCALE)  # the same in every plot: stacked plots share their x positions


def _axis_label(plot, side: str, text: str) -> None:
    plot.setLabel(side, text, **{"font-size": f"{FONT_PT * SCALE}px", "color": "#000"})


def _legend(plot):
    """In the lower right corner: where accuracy curves, rising from the left, leave room."""
    import pyqtgraph as pg

    legend = plot.addLegend(
        offset=(-4 * SCALE, -4 * SCALE),
        labelTextSize=f"{FONT_PT * SCALE}px",
        labelTextColor="#000",
        brush=pg.mkBrush(255, 255, 255, 220),
    )
    legend.setPen(_pen("#999999", 0.5))
    legend.layout.setSpacing(0)
    return legend


def _layout(width_cm: float, height_cm: float):
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    _app()
    w = pg.GraphicsLayoutWidget()
    w.setAttribute(Qt.WA_DontShowOnScreen)
    w.setBackground("w")
    w.ci.setContentsMargins(2 * SCALE, 2 * SCALE, 6 * SCALE, 2 * SCALE)
    w.resize(round(width_cm * PT_PER_CM * SCALE), round(height_cm * PT_PER_CM * SCALE))
    return w


def _pen(colour, width_pt: float, style=None):
    """A pen ``width_pt`` points wide at the printed size."""
    import pyqtgraph as pg

    pen = pg.mkPen(colour, width=width_pt * SCALE)
    if style is not None:
        pen.setStyle(style)
    return pen


def curves_figure(bands_loss, bands_acc, width_cm: float):
    """Loss above validation accuracy; each setting in its own colour, ± 1 std band over seeds."""
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    w = _layout(width_cm, width_cm * 1.15)
    loss = w.addPlot(row=0, col=0)
    acc = w.addPlot(row=1, col=0)
    epoch = QCoreApplication.translate("Figures", "epoch")
    _style(loss, QCoreApplication.translate("Figures", "loss"), QCoreApplication.translate("Figures", "loss"), epoch)
    _style(
        acc,
        QCoreApplication.translate("Figures", "validation accuracy"),
        QCoreApplication.translate("Figures", "accuracy"),
        epoch,
    )
    acc.setXLink(loss)
    legend = _legend(acc)
    positive = np.concatenate([b.mean[np.isfinite(b.mean) & (b.mean > 0)] for b in bands_loss] or [np.zeros(0)])
    log_loss = len(positive) > 1 and positive.max() / positive.min() >= 1e3  # a diverging run: decades
    if log_loss:
        loss.setLogMode(y=True)
        _axis_label(loss, "left", QCoreApplication.translate("Figures", "loss (log scale)"))
    for plot, bands in ((loss, bands_loss), (acc, bands_acc)):
        labels = sorted({b.label for b in bands}, key=[b.label for b in bands].index)
        for b in bands:
            colour = COLOURS[labels.index(b.label) % len(COLOURS)]
            dashed = b.metric.startswith("val") and plot is loss
            pen = _pen(colour, 1.2, Qt.DashLine if dashed else Qt.SolidLine)
            curve = plot.plot(b.epoch, b.mean, pen=pen, name=b.label if plot is acc else None)
            if (b.n > 1).any():
                upper, lower = b.mean + b.std, b.mean - b.std
                if log_loss and plot is loss:  # the band's edges are not on the plot: no log mode of their own
                    upper = np.log10(np.where(upper > 0, upper, b.mean))
                    lower = np.log10(np.where(lower > 0, lower, b.mean))
                hi = pg.PlotDataItem(b.epoch, upper, pen=None)
                lo = pg.PlotDataItem(b.epoch, lower, pen=None)
                band = pg.FillBetweenItem(
                    hi, lo, brush=pg.mkBrush(pg.mkColor(colour).lighter(100).getRgb()[:3] + (50,))
                )
                plot.addItem(band)
                band.setZValue(curve.zValue() - 1)
    acc.setYRange(0, 1, padding=0.02)
    if not legend.items:
        legend.hide()
    return w


def runs_figure(store, rows, width_cm: float):
    """:func:`curves_figure` of runs in the store: train and validation loss, validation accuracy."""
    from engine.runs.curves import bands

    loss = bands(store, rows, "train_loss") + bands(store, rows, "val_loss")
    return curves_figure(loss, bands(store, rows, "val_acc"), width_cm)


def sweep_figure(points, width_cm: float):
    """The metric against the swept value, mean ± std over seeds (n per point in the label)."""
    import pyqtgraph as pg

    w = _layout(width_cm, width_cm * 0.62)
    plot = w.addPlot()
    metric = {
        "val_acc": QCoreApplication.translate("Figures", "validation accuracy"),
        "test_acc": QCoreApplication.translate("Figures", "test accuracy"),
    }.get(points.metric, points.metric)
    n = sorted(set(points.n.tolist()))
    title = (
        QCoreApplication.translate("Figures", "mean ± std over %1 seed")
        if n == [1]
        else QCoreApplication.translate("Figures", "mean ± std over %1 seeds")
    )
    _style(plot, arg(title, "/".join(map(str, n))), metric, points.param)  # the axis names the metric
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in points.x)
    if numeric:
        x = np.array(points.x, float)
        if (x > 0).all() and x.max() / x.min() >= 20:
            plot.setLogMode(x=True)
            x = np.log10(x)
    else:
        x = np.arange(len(points.x), dtype=float)
        plot.getAxis("bottom").setTicks([[(i, str(v)) for i, v in enumerate(points.x)]])
    plot.addItem(pg.ErrorBarItem(x=x, y=points.mean, height=2 * points.std, beam=0.0, pen=_pen("#000", 0.8)))
    plot.plot(x, points.mean, pen=_pen(COLOURS[0], 1.2), symbol="o", symbolSize=4 * SCALE, symbolBrush=COLOURS[0])
    # every point, marker and error bar inside the frame (the bars are not part of the auto range)
    lo, hi = float(np.nanmin(points.mean - points.std)), float(np.nanmax(points.mean + points.std))
    plot.setXRange(float(x.min()), float(x.max()), padding=0.06)
    plot.setYRange(lo, hi if hi > lo else lo + 1e-3, padding=0.1)
    return w


def confusion_figure(counts: np.ndarray, classes: list[str], width_cm: float, title: str):
    """Rows: the true class; columns: the predicted one; shade: the row's share (recall), so a
    rare class reads as clearly as a common one; each cell's count written where 8 pt fits."""
    import pyqtgraph as pg
    from PySide6.QtGui import QFont

    k = len(classes)
    w = _layout(width_cm, width_cm * 0.97)  # a square grid and its labels, no empty band
    plot = w.addPlot()
    _style(
        plot,
        title,
        QCoreApplication.translate("Figures", "true class"),
        QCoreApplication.translate("Figures", "predicted class"),
    )
    plot.showGrid(x=False, y=False)
    plot.invertY(True)
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    image = pg.ImageItem(share.astype(np.float32), levels=(0, 1), axisOrder="row-major")
    image.setColorMap(pg.ColorMap([0.0, 1.0], [(255, 255, 255), (40, 40, 40)]))  # none → every image
    plot.addItem(image)
    ticks = [(i + 0.5, name[:6]) for i, name in enumerate(classes)]
    for name in ("bottom", "left"):
        plot.getAxis(name).setTicks([ticks])
    cell_pt = (width_cm * PT_PER_CM - 50) / max(k, 1)
    if cell_pt >= FONT_PT * 1.6:  # the counts fit in the cells
        font = QFont()
        font.setPixelSize(round(min(FONT_PT, cell_pt / 2.2) * SCALE))
        for i in range(k):
            for j in range(k):
                if counts[i, j]:
                    text = pg.TextItem(
                        str(int(counts[i, j])), color="w" if share[i, j] > 0.5 else "k", anchor=(0.5, 0.5)
                    )
                    text.setFont(font)
                    text.setPos(j + 0.5, i + 0.5)
                    plot.addItem(text)
    plot.setRange(xRange=(0, k), yRange=(0, k), padding=0)
    return w


def run_confusion(store, row, data: str | None, split: str = "test"):
    """(counts, classes, title) of a stored run's final model on its recorded data's ``split``."""
    from engine.checkpoint import load_checkpoint
    from engine.predict import confusion, predict_arrays, recorded_data

    path = row.final_checkpoint or row.best_checkpoint
    if not path or not Path(path).is_file():
        raise UserError(f"run {row.id}: its checkpoint is not kept (pruned or never saved); nothing to evaluate")
    model = load_checkpoint(path)
    ds, warning = recorded_data(model, data, f"run {row.id}")
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    part = ds.split(split)
    if len(part) == 0:
        raise UserError(f"{ds.source}: the {split} split is empty")
    pred = predict_arrays(model, part.x).argmax(1)
    counts = confusion(part.y, pred, len(ds.classes))
    acc = float(np.trace(counts) / max(counts.sum(), 1))
    names = {
        "train": QCoreApplication.translate("Figures", "training"),
        "val": QCoreApplication.translate("Figures", "validation"),
        "test": QCoreApplication.translate("Figures", "test"),
    }
    title = arg(
        QCoreApplication.translate("Figures", "%1 accuracy %2 (n = %3)"),
        names.get(split, split),
        f"{acc:.1%}",
        len(part),
    )
    return counts, list(ds.classes), title  # the caption names the run


def save(widget, path: str | os.PathLike, width_cm: float) -> str:
    """Write ``widget``'s drawing to ``path``: .pdf and .svg as vectors, .png at 300 dpi."""
    from PySide6.QtCore import QMarginsF, QRect, QRectF, QSize, QSizeF, Qt
    from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
    from PySide6.QtSvg import QSvgGenerator
    from PySide6.QtWidgets import QApplication

    widget.show()  # laid out (never on screen: WA_DontShowOnScreen)
    QApplication.processEvents()
    p = Path(path)
    scene, view = widget.scene(), widget
    source = QRectF(0, 0, view.width(), view.height())
    w_pt, h_pt = round(view.width() / SCALE), round(view.height() / SCALE)
    suffix = p.suffix.lower()
    painter = QPainter()
    try:
        if suffix == ".pdf":
            device = QPdfWriter(str(p))
            device.setResolution(PAINT_DPI)
            device.setPageLayout(
                QPageLayout(QPageSize(QSizeF(w_pt, h_pt), QPageSize.Point), QPageLayout.Portrait, QMarginsF(0, 0, 0, 0))
            )
            device.setTitle(DOCUMENT_TITLE)
            device.setCreator("Backprop Studio")
            target = QRectF(0, 0, w_pt * PAINT_DPI / 72, h_pt * PAINT_DPI / 72)
        elif suffix == ".svg":
            device = QSvgGenerator()
            device.setFileName(str(p))
            w_px, h_px = round(w_pt * PAINT_DPI / 72), round(h_pt * PAINT_DPI / 72)
            device.setSize(QSize(w_px, h_px))
            device.setViewBox(QRect(0, 0, w_px, h_px))
            device.setResolution(PAINT_DPI)
            device.setTitle(DOCUMENT_TITLE)
            target = QRectF(0, 0, w_px, h_px)
        elif suffix == ".png":
            scale = DPI / 72
            device = QImage(round(w_pt * scale), round(h_pt * scale), QImage.Format_RGB32)
            device.fill(Qt.white)  # painted at Qt's default resolution; marked 300 dpi when saved
            target = QRectF(0, 0, device.width(), device.height())
        else:
            raise UserError(f"{p}: a figure is .pdf, .svg or .png")
        if not painter.begin(device):
            raise UserError(f"{p}: cannot write here")
        painter.setRenderHint(QPainter.Antialiasing)
        scene.render(painter, target, source)
    finally:
        if painter.isActive():
            painter.end()
        widget.hide()
    if suffix == ".png":
        device.setDotsPerMeterX(round(DPI / 0.0254))
        device.setDotsPerMeterY(round(DPI / 0.0254))
    if suffix == ".png" and not device.save(str(p)):
        raise UserError(f"{p}: cannot write here")
    if not p.is_file() or p.stat().st_size == 0:
        raise UserError(f"{p}: cannot write here")
    return str(p)


def dispose(widget) -> None:
    """Tear a figure down now (pyqtgraph's close clears the scene), not whenever the collector runs:
    a hidden top-level view left to garbage collection can be destroyed while Qt still delivers
    events to it."""
    widget.close()
    widget.deleteLater()


# == the command line ===========================================================================
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="backprop-studio figure",
        description="Report figures from the run store: curves of runs (mean ± std over seeds) or a sweep's "
        "metric against its swept value; PDF and SVG as vectors, PNG at 300 dpi; white, 8 pt text.",
    )
    p.add_argument("ids", nargs="*", type=int, help="run ids (default: the runs the filters choose)")
    p.add_argument(
        "--kind",
        choices=["curves", "sweep", "confusion"],
        default="curves",
        help="what to draw (default: curves; confusion: one run's confusion matrix on its test split)",
    )
    p.add_argument("--data", help="--kind confusion: the dataset folder (default: the one the run recorded)")
    p.add_argument("--split", default="test", help="--kind confusion: train, val or test (default test)")
    p.add_argument("--sweep", help="the runs of this sweep")
    p.add_argument("--tag", help="runs with this tag")
    p.add_argument("--where", action="append", default=[], metavar="COND", help="e.g. 'wd>0.1' (repeatable)")
    p.add_argument("--status", default="finished", help="runs with this status (default: finished)")
    p.add_argument("--metric", default="val_acc", choices=["val_acc", "test_acc"], help="--kind sweep: the metric")
    p.add_argument(
        "--width",
        default="column",
        help="column (8.5 cm), page (17 cm) or a width in cm (default: column)",
    )
    p.add_argument("--out", action="append", required=True, help="the file(s): .pdf, .svg, .png (repeatable)")
    p.add_argument("--runs-db", help="the run store (default: the user's)")
    return p


def width_cm(text: str) -> float:
    if text in WIDTHS_CM:
        return WIDTHS_CM[text]
    try:
        cm = float(text)
    except ValueError:
        raise UserError(f"--width {text}: give column, page or a width in cm") from None
    if not 3 <= cm <= 40:
        raise UserError(f"--width {text}: a figure is 3 to 40 cm wide")
    return cm


def chosen_runs(a, status: str | None):
    """(store, runs) the command line chose: ``a.ids``, else the filters (``a.sweep``, ``a.tag``,
    ``a.where`` and ``status``), oldest first; a UserError when the store or a filter is bad or
    nothing matches. Shared by ``figure`` and ``report``."""
    from engine.runs.store import RunStore, StoreError
    from engine.runs.tables import choose_runs

    try:
        store = RunStore(a.runs_db)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    rows = store.runs(ids=a.ids) if a.ids else store.runs(sweep=a.sweep)
    try:
        rows = choose_runs(rows, a.tag, a.sweep, None if a.ids else status, a.where)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not rows:
        raise UserError(f"no runs match in {store.where}")
    return store, sorted(rows, key=lambda r: r.id)


def main(argv: list[str]) -> int:
    """``backprop-studio figure``: one line on stderr and exit 2 for bad input, as every command."""
    from engine.runs.curves import sweep_points

    a = build_parser().parse_args(argv)
    try:
        cm = width_cm(a.width)
        store, rows = chosen_runs(a, a.status)
        if a.kind == "sweep":
            try:
                widget = sweep_figure(sweep_points(rows, a.metric), cm)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        elif a.kind == "confusion":
            if len(rows) != 1:
                raise UserError(f"--kind confusion: give one run (the filters chose {len(rows)})")
            counts, classes, title = run_confusion(store, rows[0], a.data, a.split)
            widget = confusion_figure(counts, classes, cm, title)
        else:
            widget = runs_figure(store, rows, cm)
        try:
            for out in a.out:
                print(f"wrote {save(widget, out, cm)} ({cm:g} cm wide, {len(rows)} runs)")
        finally:
            dispose(widget)
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
