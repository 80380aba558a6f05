"""What a report's figures show, as numbers: runs grouped by setting (every hyperparameter but
the seed), their per-epoch curves as mean ± sample std over the seeds, and a sweep's metric
against its swept value. The drawing is the window's (``gui/figures.py``); nothing here needs Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.i18n import N_, _, translated
from engine.runs.statistics import summarize
from engine.runs.store import RunRow, RunStore

METRICS = ("train_loss", "val_loss", "train_acc", "val_acc")
IGNORED = {"seed", "preset", "device", "threads", "functions", "function_roles"}  # not a setting's identity


@dataclass(frozen=True)
class Band:
    """One setting's curve of ``metric``: per epoch the mean over its runs and the sample std
    (0 where one run reached that epoch); ``n`` runs per epoch."""

    label: str
    metric: str
    epoch: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n: np.ndarray
    run_ids: tuple[int, ...]


def setting_key(row: RunRow) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in row.config.items() if k not in IGNORED))


def varying(rows: list[RunRow]) -> list[str]:
    """The hyperparameters that differ between ``rows`` (the seed aside), in a stable order."""
    keys = sorted({k for r in rows for k in r.config} - IGNORED)
    return [k for k in keys if len({repr(r.config.get(k)) for r in rows}) > 1]


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ",".join(map(str, v))
    return str(v)


def group_by_setting(rows: list[RunRow]) -> list[tuple[str, list[RunRow]]]:
    """(label, runs) per setting, in the order first seen; the label names what differs
    ("weight_decay 0.15"), or the run's name when only one setting is shown. Anything with a
    ``name`` and a ``config`` dict groups the same way (the Training tab's runs too)."""
    groups: dict[tuple, list[RunRow]] = {}
    for r in rows:
        groups.setdefault(setting_key(r), []).append(r)
    differ = varying(rows)
    out = []
    for members in groups.values():
        first = members[0]
        label = ", ".join(f"{k} {_value(first.config.get(k))}" for k in differ) or first.name
        seeds = sorted({r.config.get("seed") for r in members})
        if len(members) > 1:
            label += f" (n={len(members)}, seeds {','.join(map(str, seeds))})"
        out.append((label, members))
    return out


def per_epoch_band(per_epoch: dict[int, list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(epochs, mean, sample std, n) from each epoch's values over the runs that reached it: std
    is 0 where one run did. The one rule behind the figures, the Runs tab and the Training tab."""
    epochs = sorted(e for e, v in per_epoch.items() if v)
    values = [per_epoch[e] for e in epochs]
    mean = np.array([np.mean(v) for v in values])
    std = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in values])
    return np.array(epochs, dtype=float), mean, std, np.array([len(v) for v in values])


def bands(store: RunStore, rows: list[RunRow], metric: str) -> list[Band]:
    """Each setting's ``metric`` per epoch, mean ± sample std over its runs."""
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r}: choose one of {', '.join(METRICS)}")
    out = []
    for label, members in group_by_setting(rows):
        per_epoch: dict[int, list[float]] = {}
        for r in members:
            for e in store.epochs(r.id):
                v = getattr(e, metric)
                if v is not None and math.isfinite(v):
                    per_epoch.setdefault(e.epoch, []).append(float(v))
        if not per_epoch:
            continue
        epochs, mean, std, n = per_epoch_band(per_epoch)
        out.append(Band(label, metric, epochs.astype(int), mean, std, n, tuple(r.id for r in members)))
    return out


@dataclass(frozen=True)
class SweepPoints:
    """A sweep's ``metric`` against its one swept hyperparameter: mean and sample std over seeds."""

    param: str
    metric: str
    x: list
    mean: np.ndarray
    std: np.ndarray
    n: np.ndarray


def sweep_points(rows: list[RunRow], metric: str = "val_acc") -> SweepPoints:
    """The finished runs of one sweep (or any runs that differ in one hyperparameter)."""
    done = [r for r in rows if r.status == "finished" and getattr(r, metric, None) is not None]
    differ = varying(done)
    if len(differ) != 1:
        raise ValueError(
            f"a sweep figure needs runs that differ in one hyperparameter besides the seed; these differ in "
            f"{', '.join(differ) if differ else 'none'}"
        )
    param = differ[0]
    by_value: dict[str, list[RunRow]] = {}
    for r in done:
        by_value.setdefault(repr(r.config.get(param)), []).append(r)
    keys = sorted(by_value, key=lambda k: _sort_key(by_value[k][0].config.get(param)))
    stats = [summarize([float(getattr(r, metric)) for r in by_value[k]]) for k in keys]
    return SweepPoints(
        param,
        metric,
        [by_value[k][0].config.get(param) for k in keys],
        np.array([s.mean for s in stats]),
        np.array([s.std if s.n > 1 else 0.0 for s in stats]),
        np.array([s.n for s in stats]),
    )


def _sort_key(v):
    return (0, float(v), "") if isinstance(v, (int, float)) else (1, 0.0, str(v))


ENDED = {"diverged": N_("diverged"), "failed": N_("failed")}  # a run's status, as a table says it


def settings_table(rows: list[RunRow], fmt: str, caption: str = "", label: str = "tab:results") -> str:
    """One row per setting: what differs, validation and test accuracy as mean ± sample std (%) with
    n; the best row bold only when its 95 % interval clears the runner-up's (the sweep table's rule)."""
    from engine.runs.statistics import best_of
    from engine.tabular import write_table

    ended = ("finished", "diverged", "failed")  # a setting whose runs all diverged is a finding: it gets a row
    groups = group_by_setting(sorted((r for r in rows if r.status in ended), key=lambda r: r.id))
    differ = [k for k in varying([r for _label, members in groups for r in members]) if k != "seed"]
    groups.sort(key=lambda g: [_sort_key(g[1][0].config.get(k)) for k in differ])
    head = [*differ, "n", _("validation accuracy (%)"), _("test accuracy (%)")]
    body, vals = [], []
    for _label, everyone in groups:
        row, val = _setting_row(everyone, differ)
        body.append(row)
        vals.append(val)
    verdict = best_of(vals, "settings")
    bold = {verdict.index} if verdict.index is not None else set()
    return write_table(
        head,
        body,
        fmt,
        bold=bold,
        caption=caption or _("Accuracy per setting, mean ± sample std over seeds"),
        label=label,
        numeric_from=len(differ),
        note=verdict.note,
    )


def _setting_row(everyone: list[RunRow], differ: list[str]) -> tuple[list[str], list[float]]:
    """One setting's row (what differs, n with the runs lost, accuracy) and its validation values."""
    members = [r for r in everyone if r.status == "finished"]
    val = [r.val_acc for r in members if r.val_acc is not None]
    test = [r.test_acc for r in members if r.test_acc is not None]
    lost = {st: sum(r.status == st for r in everyone) for st in ("diverged", "failed")}
    n = str(len(members)) + "".join(f" (+{k} {translated(ENDED[st])})" for st, k in lost.items() if k)
    if not members:
        cells = [
            _("{status} ({k} of {n})").format(status=translated(ENDED[st]), k=k, n=len(everyone))
            for st, k in lost.items()
            if k
        ][:1] * 2
    else:
        cells = [_pct(val), _pct(test)]
    return [_value(everyone[0].config.get(k)) for k in differ] + [n, *cells], val


def _pct(values: list[float]) -> str:
    s = summarize(values)
    if s is None:
        return "–"
    return f"{100 * s.mean:.1f} ± {100 * s.std:.1f}" if s.n > 1 else f"{100 * s.mean:.1f}"
