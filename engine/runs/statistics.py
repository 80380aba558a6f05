"""Honest statistics for results tables: the sample standard deviation, a 95 % t interval, and
a "best" that is claimed only when it is separated from the runner-up.

With the courses' three seeds the population std (``np.std``) is 0.82× the sample std, and a
row whose interval overlaps the next row's is not better on this evidence: the tables then say
"no clear best" and how many seeds would separate the two at the spread observed. No SciPy:
the t quantiles are a table to 30 degrees of freedom and the Cornish–Fisher expansion beyond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.i18n import _

# the 0.975 quantile of Student's t, degrees of freedom 1 … 30
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975 = 1.959964


def t975(df: int) -> float:
    """The two-sided 95 % critical value of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        return math.inf
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Summary:
    """``n`` values: their mean, sample std (n − 1; 0 for one value) and 95 % t interval half-width
    (``inf`` for one value: a single seed says nothing about the spread)."""

    n: int
    mean: float
    std: float
    half_width: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def summarize(values) -> Summary | None:
    xs = [float(v) for v in values]
    n = len(xs)
    if not n:
        return None
    mean = sum(xs) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0
    half = t975(n - 1) * std / math.sqrt(n) if n > 1 else math.inf
    return Summary(n, mean, std, half)


def separated(top: Summary, runner_up: Summary) -> bool:
    """Whether the two 95 % intervals do not overlap (the top one is clearly higher)."""
    return top.n > 1 and runner_up.n > 1 and top.low > runner_up.high


def seeds_to_separate(top: Summary, runner_up: Summary, most: int = 1000) -> int | None:
    """How many seeds each would need for the intervals to part at the spreads and means observed
    (None when the means are equal or the spread is unknown)."""
    gap = top.mean - runner_up.mean
    if gap <= 0 or top.n < 2 or runner_up.n < 2:
        return None
    for n in range(2, most + 1):
        if t975(n - 1) * (top.std + runner_up.std) / math.sqrt(n) < gap:
            return n
    return None


@dataclass(frozen=True)
class BestVerdict:
    """Which row (index) is clearly best, or None with the reason in words."""

    index: int | None
    note: str


def best_of(groups: list[list[float]], what: str = "rows") -> BestVerdict:
    """The index of the group with the highest mean when its interval clears the runner-up's; else
    None and "no clear best", with the seeds that would separate the top two."""
    summaries = [(i, summarize(g)) for i, g in enumerate(groups)]
    scored = sorted(((i, s) for i, s in summaries if s is not None), key=lambda t: -t[1].mean)
    if not scored:
        return BestVerdict(None, "")
    if len(scored) == 1:
        return BestVerdict(scored[0][0], "")
    (i, top), (_j, second) = scored[0], scored[1]
    if separated(top, second):
        return BestVerdict(
            i, _("best: its interval (95 %) clears the runner-up's (n = {a}, {b})").format(a=top.n, b=second.n)
        )
    words = {"rows": _("rows"), "settings": _("settings")}.get(what, what)
    if top.n < 2 or second.n < 2:
        return BestVerdict(
            None, _("no clear best: the top two {what} have one seed each (no spread to judge by)").format(what=words)
        )
    need = seeds_to_separate(top, second)
    hint = _("; about {n} seeds each would separate them at this spread").format(n=need) if need else ""
    return BestVerdict(
        None,
        _(
            "no clear best: the top two {what}' intervals (95 %) overlap ({a} ± {da} and {b} ± {db}, n = {na}, {nb})"
        ).format(
            what=words,
            a=f"{100 * top.mean:.1f}",
            da=f"{100 * top.half_width:.1f}",
            b=f"{100 * second.mean:.1f}",
            db=f"{100 * second.half_width:.1f}",
            na=top.n,
            nb=second.n,
        )
        + hint,
    )
