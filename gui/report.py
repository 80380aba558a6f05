"""Export for Report: one folder with everything a report takes from a set of runs, each number
traceable to the runs it came from.

- ``results.tex`` / ``results.md``: one row per setting, validation and test accuracy as mean ±
  sample std over seeds (the best bold only when it is clearly best);
- ``curves.pdf`` / ``curves.png``: loss and validation accuracy (mean ± std bands), for print;
- ``sweep.pdf`` / ``sweep.png`` when the runs differ in one hyperparameter: accuracy against it;
- ``runs.csv`` / ``runs.md``: every run used, with its id, settings and results;
- ``README.md``: what each file is, and the run ids.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from engine.errors import UserError
from gui.i18n import arg


def write_report(store, rows, folder: str | Path, width_cm: float = 8.5) -> list[Path]:
    """Write the bundle of ``rows`` (run-store rows) into ``folder``; returns the files written."""
    from engine.runs.curves import settings_table, sweep_points
    from engine.runs.tables import format_runs
    from gui.figures import dispose, runs_figure, save, sweep_figure

    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{folder}: {exc.strerror or exc}") from None
    rows = sorted(rows, key=lambda r: r.id)
    written: list[Path] = []

    def text(name: str, content: str) -> None:
        path = out / name
        try:
            path.write_text(content, encoding="utf-8", newline="")
        except OSError as exc:
            raise UserError(f"{path}: {exc.strerror or exc}") from None
        written.append(path)

    text("results.tex", settings_table(rows, "latex"))
    text("results.md", settings_table(rows, "markdown"))
    text("runs.csv", format_runs(rows, "csv"))
    text("runs.md", format_runs(rows, "markdown"))
    curves = runs_figure(store, rows, width_cm)
    figures = ["curves"]
    try:
        for suffix in (".pdf", ".png"):
            written.append(Path(save(curves, out / f"curves{suffix}", width_cm)))
    finally:
        dispose(curves)
    try:
        sweep = sweep_figure(sweep_points(rows, "val_acc"), width_cm)
    except ValueError:
        sweep = None  # not one swept hyperparameter: no sweep figure
    if sweep is not None:
        figures.append("sweep")
        try:
            for suffix in (".pdf", ".png"):
                written.append(Path(save(sweep, out / f"sweep{suffix}", width_cm)))
        finally:
            dispose(sweep)
    ids = ", ".join(str(r.id) for r in rows)
    lines = [
        QCoreApplication.translate("Report", "# Results exported by Backprop Studio"),
        "",
        arg(
            QCoreApplication.translate(
                "Report", "Runs used (%1): %2 — every one listed in `runs.csv` with its settings and results."
            ),
            len(rows),
            ids,
        ),
        "",
        arg(
            QCoreApplication.translate(
                "Report",
                "- `results.tex` (needs `%1`), `results.md`: accuracy per setting, mean ± sample std over seeds",
            ),
            "\\usepackage{booktabs}",
        ),
        *(
            arg(
                QCoreApplication.translate("Report", "- `%1.pdf`, `%1.png` (300 dpi): %2"),
                f,
                QCoreApplication.translate("Report", _WHAT[f]),
            )
            for f in figures
        ),
        QCoreApplication.translate("Report", "- `runs.csv`, `runs.md`: every run used"),
    ]
    text("README.md", "\n".join(lines) + "\n")
    return written


_WHAT = {
    "curves": QT_TRANSLATE_NOOP(
        "Report", "loss (train solid, validation dashed) above validation accuracy, mean ± std over seeds"
    ),
    "sweep": QT_TRANSLATE_NOOP("Report", "validation accuracy against the swept hyperparameter, mean ± std over seeds"),
}


def main(argv: list[str]) -> int:
    """``backprop-studio report``: the bundle from the command line."""
    from gui.figures import chosen_runs, width_cm

    p = argparse.ArgumentParser(
        prog="backprop-studio report",
        description="Everything a report takes from a set of runs, in one folder: the results table "
        "(LaTeX, Markdown), the figures (PDF, PNG 300 dpi), and every run used (CSV, Markdown).",
    )
    p.add_argument("ids", nargs="*", type=int, help="run ids (default: the runs the filters choose)")
    p.add_argument("--sweep", help="the runs of this sweep")
    p.add_argument("--tag", help="runs with this tag")
    p.add_argument("--where", action="append", default=[], metavar="COND", help="e.g. 'wd>0.1' (repeatable)")
    p.add_argument("--width", default="column", help="figures: column (8.5 cm), page (17 cm) or cm")
    p.add_argument("--out", required=True, help="the folder to write")
    p.add_argument("--runs-db", help="the run store (default: the user's)")
    a = p.parse_args(argv)
    try:
        cm = width_cm(a.width)
        store, rows = chosen_runs(a, None)
        # the runs that ended: a setting whose runs all diverged is a row of the table too
        rows = [r for r in rows if r.status in ("finished", "diverged", "failed")]
        for path in write_report(store, rows, a.out, cm):
            print(path)
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
