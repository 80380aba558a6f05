"""Runs as tables for reports (rows, comparisons, curves) and the filters that choose them,
written by the one table writer (:mod:`engine.tabular`)."""

from __future__ import annotations

import re

from engine.i18n import _
from engine.runs.store import RunRow, RunStore
from engine.tabular import write_table

COLUMNS = [
    ("id", lambda r: str(r.id)),
    ("name", lambda r: r.name),
    ("status", lambda r: r.status),
    ("dataset", lambda r: r.dataset_name),
    ("optimizer", lambda r: str(r.config.get("optim", ""))),
    ("lr", lambda r: _g(r.config.get("lr"))),
    ("weight decay", lambda r: _g(r.config.get("weight_decay"))),
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


def _g(v) -> str:
    """A setting a run may lack (an imported run's): empty, not "nan"."""
    return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else ("" if v is None else str(v))


def format_runs(rows: list[RunRow], fmt: str, caption: str = "Runs", label: str = "tab:runs") -> str:
    head = [c for c, _ in COLUMNS]
    body = [[get(r) for _, get in COLUMNS] for r in rows]
    return write_table(head, body, fmt, caption=caption, label=label, numeric_from=None)


def curves_csv(store: RunStore, rows: list[RunRow]) -> str:
    """One line per run and epoch: run id, name, epoch, train loss/acc, validation loss/acc."""
    head = ["run", "name", "epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
    body = [
        [str(r.id), r.name, str(e.epoch), *(_f(v) for v in (e.train_loss, e.train_acc, e.val_loss, e.val_acc))]
        for r in rows
        for e in store.epochs(r.id)
    ]
    return write_table(head, body, "csv")


# == choosing runs: the filters of ``main.py runs`` ==============================================
_WHERE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|!=|==|=|<|>)\s*(.+?)\s*$")
_ALIASES = {"wd": "weight_decay", "bs": "batch_size", "val": "val_acc", "test": "test_acc"}


def run_value(r: RunRow, key: str):
    """A run's field or hyperparameter by name (``wd`` for weight_decay, …); None if it has none."""
    key = _ALIASES.get(key, key)
    if key in r.config:
        return r.config[key]
    return getattr(r, key, None)


def parse_where(text: str):
    """``"wd>0.1"`` → a test of a run; a clear error for anything else."""
    m = _WHERE.match(text)
    if not m:
        raise ValueError(
            _("--where {text!r}: write NAME OP VALUE, e.g. wd>0.1 or optim=sgd (OP: = != < <= > >=)").format(text=text)
        )
    key, op, raw = m.groups()
    try:
        value: object = float(raw)
    except ValueError:
        value = raw.strip("'\"")

    def test(r: RunRow) -> bool:
        have = run_value(r, key)
        if have is None:
            return False
        if isinstance(value, float):
            try:
                have = float(have)
            except (TypeError, ValueError):
                return False
        else:
            have = str(have)
        return {
            "=": have == value,
            "==": have == value,
            "!=": have != value,
            "<": have < value,
            "<=": have <= value,
            ">": have > value,
            ">=": have >= value,
        }[op]

    return test


def choose_runs(rows: list[RunRow], tag=None, sweep=None, status=None, where=()) -> list[RunRow]:
    tests = [parse_where(w) for w in where]
    out = []
    for r in rows:
        if tag and tag not in r.tags:
            continue
        if sweep and r.sweep != sweep:
            continue
        if status and r.status != status:
            continue
        if all(t(r) for t in tests):
            out.append(r)
    return out


def compare_runs(rows: list[RunRow], fmt: str = "text") -> str:
    """The settings that differ between ``rows`` and their results, side by side."""
    keys = sorted({k for r in rows for k in r.config})
    differ = [k for k in keys if len({repr(r.config.get(k)) for r in rows}) > 1]
    head = ["", *(f"#{r.id}" for r in rows)]
    body = [["name", *(r.name for r in rows)]]
    body += [[k, *(_show(r.config.get(k), setting=True) for r in rows)] for k in differ]
    for label, attr in (
        ("epochs", "epochs_done"),
        ("val acc", "val_acc"),
        ("best val acc", "best_val_acc"),
        ("test acc", "test_acc"),
        ("status", "status"),
    ):
        body.append([label, *(_show(getattr(r, attr)) for r in rows)])
    if not differ:
        body.insert(1, ["(settings)", *("identical" for _ in rows)])
    return write_table(head, body, fmt, caption="Runs compared", label="tab:compare")


def _show(v, setting: bool = False) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4f}" if 0 < abs(v) < 1 and not setting else f"{v:g}"
    if isinstance(v, list):
        return ",".join(map(str, v))
    return str(v)


def curves_long_csv(store: RunStore, rows: list[RunRow]) -> str:
    """Per-epoch curves in long format, one line per run, epoch and metric (what a plotting
    tool's group-by wants)."""
    body = []
    for r in rows:
        for e in store.epochs(r.id):
            for metric in ("train_loss", "train_acc", "val_loss", "val_acc"):
                v = getattr(e, metric)
                if v is not None:
                    body.append([str(r.id), r.name, str(e.epoch), metric, f"{v:.6g}"])
    return write_table(["run", "name", "epoch", "metric", "value"], body, "csv")
