"""A sweep's results as the courses' table: one row per configuration, mean ± std (or a 95 %
interval) over its seeds, the best row marked only when its interval clears the next; written by
the one table writer (:mod:`engine.tabular`)."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

import numpy as np

from engine.i18n import _
from engine.runs.space import SweepSpec
from engine.runs.statistics import best_of, summarize
from engine.tabular import write_table


# == the results table ==========================================================================
@dataclass
class Row:
    """One configuration over its seeds. ``val``: the score of each seed (validation accuracy at
    the last epoch, or, without a validation split, test accuracy at the last epoch: see
    ``scored_on``); ``curves``: each seed's accuracy after every evaluated epoch."""

    params: dict
    val: list[float]
    test: list[float]
    pruned: int = 0
    failed: int = 0
    best: bool = False
    epochs: list[int] = dataclasses.field(default_factory=list)
    curves: list[list[float]] = dataclasses.field(default_factory=list)
    scored_on: str = "val"


def results(study, spec: SweepSpec) -> list[Row]:
    """One row per configuration (in the order first seen), over its seeds' finished trials."""
    rows: dict[str, Row] = {}
    for t in study.get_trials(deepcopy=False):
        if not t.params:
            continue
        key = json.dumps({k: t.params[k] for k in sorted(t.params)})
        row = rows.setdefault(key, Row(dict(t.params), [], []))
        state = t.user_attrs.get("state")
        if state == "complete" and t.value is not None:
            row.val.append(float(t.value))
            row.scored_on = t.user_attrs.get("scored_on", "val")
            row.epochs.append(int(t.user_attrs.get("epochs_done") or 0))
            curve = t.user_attrs.get("curve")
            if isinstance(curve, list):
                row.curves.append([float(v) for v in curve])
            if "test_acc" in t.user_attrs:
                row.test.append(float(t.user_attrs["test_acc"]))
        elif state == "pruned":
            row.pruned += 1
        elif state in ("failed", "cancelled"):
            row.failed += 1
    out = list(rows.values())
    verdict = best_of([r.val for r in out], "rows")
    if verdict.index is not None:  # marked only when its interval clears the runner-up's
        out[verdict.index].best = True
    return out


def best_note(rows: list[Row]) -> str:
    """Why no row is marked best (the intervals of the top two overlap), or ""."""
    return best_of([r.val for r in rows], "rows").note if not any(r.best for r in rows) else ""


def mean_std(xs: list[float], pct: bool = True, ci: bool = False) -> str:
    """``mean ± sample std`` (n − 1), or with ``ci`` ``mean ± the 95 % t interval's half-width``."""
    s = summarize(xs)
    if s is None:
        return "–"
    scale = 100 if pct else 1
    if s.n == 1:
        return f"{scale * s.mean:.1f}"
    return f"{scale * s.mean:.1f} ± {scale * (s.half_width if ci else s.std):.1f}"


def score_heading(rows: list[Row], spec: SweepSpec) -> str:
    """What the score column holds, in words: at which epoch (the rows' own, when epochs were
    swept), and validation or — without a validation split — test accuracy."""
    epochs = {e for r in rows for e in r.epochs}
    if len(epochs) == 1 or not epochs:
        when = _("epoch-{n}").format(n=epochs.pop() if epochs else spec.epochs())
    else:
        when = _("last-epoch")
    if any(r.scored_on == "test" for r in rows if r.val):
        return _("{when} test accuracy (%, no validation split)").format(when=when)
    return _("{when} validation accuracy (%)").format(when=when)


def per_epoch_table(rows: list[Row], spec: SweepSpec) -> str:
    """Each row's accuracy after every epoch, mean ± std over its seeds, in the MNIST course's
    own format (``[0] Accuracy: 0.9485``, epochs counted from 0)."""
    names = [p.name for p in spec.params]
    out = []
    for r in rows:
        label = ", ".join(f"{n} {r.params.get(n)}" for n in names) or "base settings"
        what = "test" if r.scored_on == "test" else "validation"
        out.append(f"{label} ({what} accuracy, {len(r.curves)} seed(s)):")
        longest = max((len(c) for c in r.curves), default=0)
        for e in range(longest):
            vals = [c[e] for c in r.curves if len(c) > e]
            spread = f" ± {np.std(vals, ddof=1):.4f}" if len(vals) > 1 else ""
            out.append(f"[{e}] Accuracy: {np.mean(vals):.4f}{spread}")
    return "\n".join(out) + "\n"


def _csv_table(rows: list[Row], names: list[str]) -> str:
    """Every number, for a spreadsheet: sample std and the 95 % interval's ends."""
    head = [*names, "val_acc_mean", "val_acc_std", "val_acc_ci_low", "val_acc_ci_high"]
    head += ["test_acc_mean", "test_acc_std", "runs", "pruned", "best"]
    body = []
    for r in rows:
        v, t = summarize(r.val), summarize(r.test)
        cells = [str(r.params.get(n, "")) for n in names]
        cells += [f"{v.mean:.4f}", f"{v.std:.4f}"] if v else ["", ""]
        cells += [f"{v.low:.4f}", f"{v.high:.4f}"] if v and v.n > 1 else ["", ""]
        cells += [f"{t.mean:.4f}", f"{t.std:.4f}"] if t else ["", ""]
        body.append([*cells, str(len(r.val)), str(r.pruned), "yes" if r.best else ""])
    return write_table(head, body, "csv")


def _runs_cell(r: Row) -> str:
    """How many runs a row has, and how many were pruned or failed."""
    extra = []
    if r.pruned:
        extra.append(f"{r.pruned} pruned")
    if r.failed:
        extra.append(f"{r.failed} failed")
    return f"{len(r.val)}" + (f" ({', '.join(extra)})" if extra else "")


def _with_spread(heading: str, spread: str) -> str:
    """ "… (%)" → "… (%, ± spread)"; a Chinese heading's full-width "（%）" the same way."""
    return re.sub(
        r"([（(])%",
        lambda m: m.group(1) + "%" + ("，" if m.group(1) == "（" else ", ") + "± " + spread,
        heading,
        count=1,
    )


def format_table(rows: list[Row], spec: SweepSpec, fmt: str = "markdown", ci: bool = False) -> str:
    """The courses' table: swept values, epoch-N validation accuracy, test accuracy (%, mean ± the
    sample std over seeds, or ± the 95 % interval with ``ci``; n in "runs"). The best row is
    marked only when its interval clears the runner-up's; otherwise a note says so."""
    names = [p.name for p in spec.params]
    spread = _("95 % CI") if ci else _("sample std")
    val_h, test_h = _with_spread(score_heading(rows, spec), spread), _with_spread(_("test accuracy (%)"), spread)
    verdict = best_note(rows)
    if fmt == "csv":
        return _csv_table(rows, names)
    on_test = any(r.scored_on == "test" for r in rows if r.val)  # the score is the test accuracy: said once
    body = [
        [
            *(str(r.params.get(n, "")) for n in names),
            mean_std(r.val, ci=ci),
            *([] if on_test else [mean_std(r.test, ci=ci)]),
            _runs_cell(r),
        ]
        for r in rows
    ]
    head = [*names, val_h, *([] if on_test else [test_h]), _("runs")]
    best = {i for i, r in enumerate(rows) if r.best}
    score = re.split(r" ?[（(]", score_heading(rows, spec))[0]
    caption = _("{score} by {names}").format(score=score, names=", ".join(names) or _("configuration"))
    return write_table(
        head,
        body,
        "text" if fmt == "plain" else fmt,
        bold=best,
        caption=_("{caption}, mean ± {spread} over seeds (n in runs)").format(caption=caption, spread=spread),
        label="tab:sweep",
        numeric_from=len(names),
        note=verdict,
    )


def importances(study) -> dict[str, float]:
    """Optuna's PED-ANOVA importance of each swept hyperparameter ({} until it can be computed).

    PED-ANOVA needs only NumPy (Optuna's fANOVA needs scikit-learn, which the studio does not ship).
    """
    import optuna
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    varied = {k for k in (done[0].params if done else {}) if len({str(t.params.get(k)) for t in done}) > 1}
    if len(done) < 3 or not varied:
        return {}
    import warnings

    evaluator = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=max(0.1, min(0.5, 2 / len(done))))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return dict(optuna.importance.get_param_importances(study, evaluator=evaluator, params=sorted(varied)))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}
