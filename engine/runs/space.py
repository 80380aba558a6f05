"""A sweep's search space: what may vary (``lr=0.01,0.1``, ``wd=0..0.2:5``, ``lr=log(1e-4,1e-1)``),
the seeds, the grid, and the limits checked before anything is queued."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from dataclasses import dataclass, field

import numpy as np

from engine.config import TrainConfig, parse_hidden_sizes, preset_config
from engine.errors import UserError
from engine.i18n import _

SEARCHES = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "halving")
FORMATS = ("markdown", "csv", "latex", "plain")
FLOAT_FIELDS = ("lr", "momentum", "weight_decay", "val_split")
INT_FIELDS = ("batch_size", "epochs", "val_interval", "split_seed")
STR_FIELDS = ("act", "optim", "engine", "init", "loss_reduction")
SWEEPABLE = ("hidden", *FLOAT_FIELDS, *INT_FIELDS, *STR_FIELDS)
RANGE_STEPS = 5  # a grid range without a count: this many values


# == the search space ===========================================================================
def _hidden_text(value) -> str:
    return "x".join(map(str, parse_hidden_sizes(value)))


def _coerce(name: str, text: str):
    """One value of hyperparameter ``name`` from its text (the CLI's and the dialog's)."""
    text = text.strip()
    if name == "hidden":
        return _hidden_text(text.replace("x", ",").replace("/", ","))
    if name in FLOAT_FIELDS:
        try:
            return float(text)
        except ValueError:
            raise UserError(_("--grid {name}={text}: not a number").format(name=name, text=text)) from None
    if name in INT_FIELDS:
        try:
            return int(text)
        except ValueError:
            raise UserError(_("--grid {name}={text}: not a whole number").format(name=name, text=text)) from None
    return text.lower()


def apply(base: dict, params: dict) -> TrainConfig:
    """The config of one trial: ``base`` with the swept ``params`` (hidden as ``128x64``)."""
    values = dict(base)
    for k, v in params.items():
        values[k] = parse_hidden_sizes(str(v).replace("x", ",")) if k == "hidden" else v
    return TrainConfig.from_dict(values).validate()


@dataclass
class Param:
    """A swept hyperparameter: a list of values, or a range (``low..high``, maybe ``log``)."""

    name: str
    values: list | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    steps: int | None = None

    @property
    def is_int(self) -> bool:
        return self.name in INT_FIELDS

    def grid_values(self) -> list:
        if self.values is not None:
            return list(self.values)
        n = self.steps or RANGE_STEPS
        xs = np.geomspace(self.low, self.high, n) if self.log else np.linspace(self.low, self.high, n)
        if self.is_int:
            return sorted({int(round(x)) for x in xs})
        return [float(f"{x:.6g}") for x in xs]

    def distribution(self, search: str):
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.values is not None or search == "grid":
            return CategoricalDistribution(self.grid_values())
        if self.is_int:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)

    def describe(self) -> str:
        if self.values is not None:
            return f"{self.name} ∈ {{{', '.join(map(str, self.values))}}}"
        return f"{self.name} ∈ [{self.low:g}, {self.high:g}]{' log' if self.log else ''}"


def parse_param(text: str) -> Param:
    """``momentum=0.88,0.9`` (a list), ``lr=1e-4..1e-1:5:log`` (a range: count and log optional)."""
    if "=" not in text:
        raise UserError(
            _("--grid {text}: write name=values, e.g. momentum=0.88,0.9 or lr=1e-4..1e-1:log").format(text=text)
        )
    name, spec = (s.strip() for s in text.split("=", 1))
    name = name.replace("-", "_")
    if name == "seed":
        raise UserError(_("--grid seed: give seeds with --seeds 0,1,2 (every configuration runs each seed)"))
    if name not in SWEEPABLE:
        raise UserError(
            _("--grid {name}: not a hyperparameter that can be swept (one of {sweepable})").format(
                name=name, sweepable=", ".join(SWEEPABLE)
            )
        )
    if not spec:
        raise UserError(_("--grid {name}=: no values").format(name=name))
    if ".." in spec:
        if name not in FLOAT_FIELDS + INT_FIELDS:
            raise UserError(
                _("--grid {name}={spec}: a range needs a numeric hyperparameter; list the values").format(
                    name=name, spec=spec
                )
            )
        rng, *opts = spec.split(":")
        lo_t, hi_t = rng.split("..", 1)
        low, high = _coerce(name, lo_t), _coerce(name, hi_t)
        p = Param(name, low=low, high=high)
        for o in opts:
            if o.strip().lower() == "log":
                p.log = True
            else:
                try:
                    p.steps = int(o)
                except ValueError:
                    raise UserError(
                        _("--grid {name}={spec}: {o!r} is neither a count nor 'log'").format(name=name, spec=spec, o=o)
                    ) from None
                if p.steps < 1 or p.steps > 1000:
                    raise UserError(
                        _("--grid {name}={spec}: count {steps} must be in 1..1000").format(
                            name=name, spec=spec, steps=p.steps
                        )
                    )
        if not low < high:
            raise UserError(
                _("--grid {name}={spec}: the range's low end must be below its high end").format(name=name, spec=spec)
            )
        if p.log and low <= 0:
            raise UserError(_("--grid {name}={spec}: a log range must be above 0").format(name=name, spec=spec))
        return p
    values = [_coerce(name, v) for v in spec.split(",") if v.strip()]
    if not values:
        raise UserError(
            _("--grid {name}={spec}: no values (write them between the commas)").format(name=name, spec=spec)
        )
    if len(set(map(str, values))) != len(values):
        raise UserError(_("--grid {name}={spec}: a value is listed twice").format(name=name, spec=spec))
    return Param(name, values=values)


@dataclass
class SweepSpec:
    """Everything that defines a sweep; stored with the study so other machines can join it."""

    base: dict  # the config every trial starts from (preset and fixed options)
    params: list[Param]
    seeds: list[int] = field(default_factory=lambda: [0])
    search: str = "grid"
    trials: int | None = None  # configurations to sample (random/TPE); a grid runs all of its own
    minutes: float | None = None
    prune: str = "none"
    dataset: dict = field(default_factory=dict)  # name, path, fingerprint, split_seed, val_split

    def validate(self) -> SweepSpec:
        if self.search not in SEARCHES:
            raise UserError(
                _("--search: unknown {search!r}; choose one of {searches}").format(
                    search=self.search, searches=", ".join(SEARCHES)
                )
            )
        if self.prune not in PRUNERS:
            raise UserError(
                _("--prune: unknown {prune!r}; choose one of {pruners}").format(
                    prune=self.prune, pruners=", ".join(PRUNERS)
                )
            )
        self._check_params_and_budget()
        base = TrainConfig.from_dict(self.base).validate()
        for p in self.params:  # every value a trial could get is checked before anything runs
            ends = p.grid_values() if (p.values is not None or self.search == "grid") else [p.low, p.high]
            for v in ends:
                try:
                    apply(base.to_dict(), {p.name: v})
                except UserError as exc:
                    raise UserError(f"--grid {p.name}={v}: {exc}") from None
        if self.search == "grid" and self.configurations() > 10000:
            raise UserError(
                _("the grid has {configurations:,} configurations; at most 10,000").format(
                    configurations=self.configurations()
                )
            )
        return self

    def _check_params_and_budget(self) -> None:
        """Something to sweep, each name once; distinct seeds; a budget a search can use."""
        if not self.params:
            raise UserError(_("nothing to sweep: give at least one --grid name=values"))
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise UserError(_("--grid {value}: given twice").format(value=next(n for n in names if names.count(n) > 1)))
        if not self.seeds or any(s < 0 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise UserError(_("--seeds: give distinct whole numbers ≥ 0, e.g. 0,1,2"))
        if self.search != "grid" and not self.trials:
            raise UserError(_("--search {search}: give a budget with --trials N").format(search=self.search))
        if self.trials is not None and self.trials < 1:
            raise UserError(_("--trials: {trials} must be at least 1").format(trials=self.trials))
        if self.minutes is not None and not self.minutes > 0:
            raise UserError(_("--minutes: {minutes} must be above 0").format(minutes=self.minutes))

    def configurations(self) -> int:
        if self.search == "grid":
            return math.prod(len(p.grid_values()) for p in self.params)
        return int(self.trials or 0)

    def total_trials(self) -> int:
        return self.configurations() * len(self.seeds)

    def grid(self) -> list[dict]:
        names = [p.name for p in self.params]
        return [dict(zip(names, combo)) for combo in itertools.product(*(p.grid_values() for p in self.params))]

    def distributions(self) -> dict:
        return {p.name: p.distribution(self.search) for p in self.params}

    def epochs(self) -> int:
        for p in self.params:
            if p.name == "epochs" and p.values is not None:
                return max(p.values)
        return int(self.base.get("epochs", 0))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SweepSpec:
        d = json.loads(text)
        d["params"] = [Param(**p) for p in d["params"]]
        return cls(**d)


def build_spec(
    preset: str,
    overrides: dict,
    grid: list[str],
    seeds: list[int],
    search: str = "grid",
    trials: int | None = None,
    minutes: float | None = None,
    prune: str = "none",
) -> SweepSpec:
    base = preset_config(preset, **overrides).validate().to_dict()
    return SweepSpec(base, [parse_param(g) for g in grid], seeds, search, trials, minutes, prune).validate()


MAX_TRIALS = 10_000  # configurations × seeds a sweep may queue unless --max-trials says more


def parse_seeds(text: str, most: int = MAX_TRIALS) -> list[int]:
    """``0,1,2`` or ``0..4``; a range is checked before it is made (``0..100000000`` was a list
    that grew until memory ran out)."""
    try:
        if ".." in text:
            lo, hi = (int(v) for v in text.split("..", 1))
            if hi - lo + 1 > most:
                raise UserError(
                    _("--seeds {text}: {n_values:,} seeds is more than {most:,} (--max-trials raises it)").format(
                        text=text, n_values=hi - lo + 1, most=most
                    )
                )
            return list(range(lo, hi + 1))
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UserError(_("--seeds {text}: give whole numbers, e.g. 0,1,2 or 0..4").format(text=text)) from None
    if not seeds:
        raise UserError(_("--seeds {text!r}: give at least one seed, e.g. 0,1,2").format(text=text))
    return seeds


def check_size(spec: SweepSpec, most: int = MAX_TRIALS) -> int:
    """The number of trials, refused beyond ``most`` before anything is queued."""
    total = spec.total_trials()
    if total > most:
        raise UserError(
            _(
                "this sweep is {configurations:,} configurations × {n_seeds:,} seeds = {total:,} trials, more "
                "than {most:,}: narrow it, or raise the limit with --max-trials"
            ).format(configurations=spec.configurations(), n_seeds=len(spec.seeds), total=total, most=most)
        )
    return total
