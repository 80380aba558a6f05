"""Runs as tables for reports (CSV, Markdown, LaTeX) and their curves as CSV."""

from __future__ import annotations

import csv
import io

from engine.runs.store import RunRow, RunStore

COLUMNS = [
    ("id", lambda r: str(r.id)),
    ("name", lambda r: r.name),
    ("status", lambda r: r.status),
    ("dataset", lambda r: r.dataset_name),
    ("optimizer", lambda r: str(r.config.get("optim", ""))),
    ("lr", lambda r: f"{r.config.get('lr', float('nan')):g}"),
    ("weight decay", lambda r: f"{r.config.get('weight_decay', float('nan')):g}"),
    ("hidden", lambda r: ",".join(map(str, r.config.get("hidden", [])))),
    ("seed", lambda r: str(r.config.get("seed", ""))),
    ("epochs", lambda r: str(r.epochs_done)),
    ("val acc", lambda r: _f(r.val_acc)),
    ("best val acc", lambda r: _f(r.best_val_acc)),
    ("test acc", lambda r: _f(r.test_acc)),
    ("test acc at best val", lambda r: _f(r.test_acc_at_best)),
    ("tags", lambda r: ", ".join(r.tags)),
]


def _f(v) -> str:
    return "" if v is None else f"{v:.4f}"


def format_runs(rows: list[RunRow], fmt: str) -> str:
    head = [c for c, _ in COLUMNS]
    body = [[get(r) for _, get in COLUMNS] for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head)
        w.writerows(body)
        return buf.getvalue()
    if fmt == "markdown":

        def cell(s: str) -> str:
            return s.replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in body]
        return "\n".join(lines) + "\n"
    if fmt == "latex":
        special = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_"}
        special.update({"{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"})

        def esc(s: str) -> str:
            return "".join(special.get(ch, ch) for ch in s)

        lines = [r"\begin{tabular}{" + "l" * len(head) + "}", r"\hline", " & ".join(map(esc, head)) + r" \\", r"\hline"]
        lines += [" & ".join(esc(c) for c in row) + r" \\" for row in body]
        return "\n".join(lines + [r"\hline", r"\end{tabular}"]) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


def curves_csv(store: RunStore, rows: list[RunRow]) -> str:
    """One line per run and epoch: run id, name, epoch, train loss/acc, validation loss/acc."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "name", "epoch", "train_loss", "train_acc", "val_loss", "val_acc"])
    for r in rows:
        for e in store.epochs(r.id):
            w.writerow([r.id, r.name, e.epoch, *(_f(v) for v in (e.train_loss, e.train_acc, e.val_loss, e.val_acc))])
    return buf.getvalue()
