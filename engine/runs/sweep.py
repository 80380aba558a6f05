"""Sweeps: many runs over a grid or a search space, on the run host's workers, with Optuna.

Optuna does the sampling (random, TPE), the pruning (median, successive halving), the trial
bookkeeping and the storage; the studio schedules the trials itself (ask-and-tell) because each
trial is a run on a worker process whose events it reads. One trial is one run: a configuration
and a seed. A grid is enqueued whole when the study is created; a sampled configuration gets its
other seeds enqueued when it is first asked. Every worker — this process's threads, or a
``sweep-worker`` on another machine sharing a PostgreSQL storage — pulls waiting trials from the
study until it is complete, so the result lands in one place whichever machine ran what.

The result is the courses' table: one row per configuration, the swept values, the last epoch's
validation accuracy and the test accuracy as mean ± std over seeds, the best row marked.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from engine.config import TrainConfig, parse_hidden_sizes, preset_config
from engine.errors import UserError
from engine.runs.statistics import best_of, summarize
from engine.tabular import write_table
from engine.training.run import EvalEvent, FailedEvent, FinishedEvent, TestEvent

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
            raise UserError(f"--grid {name}={text}: not a number") from None
    if name in INT_FIELDS:
        try:
            return int(text)
        except ValueError:
            raise UserError(f"--grid {name}={text}: not a whole number") from None
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
        raise UserError(f"--grid {text}: write name=values, e.g. momentum=0.88,0.9 or lr=1e-4..1e-1:log")
    name, spec = (s.strip() for s in text.split("=", 1))
    name = name.replace("-", "_")
    if name == "seed":
        raise UserError("--grid seed: give seeds with --seeds 0,1,2 (every configuration runs each seed)")
    if name not in SWEEPABLE:
        raise UserError(f"--grid {name}: not a hyperparameter that can be swept (one of {', '.join(SWEEPABLE)})")
    if not spec:
        raise UserError(f"--grid {name}=: no values")
    if ".." in spec:
        if name not in FLOAT_FIELDS + INT_FIELDS:
            raise UserError(f"--grid {name}={spec}: a range needs a numeric hyperparameter; list the values")
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
                    raise UserError(f"--grid {name}={spec}: {o!r} is neither a count nor 'log'") from None
                if p.steps < 1 or p.steps > 1000:
                    raise UserError(f"--grid {name}={spec}: count {p.steps} must be in 1..1000")
        if not low < high:
            raise UserError(f"--grid {name}={spec}: the range's low end must be below its high end")
        if p.log and low <= 0:
            raise UserError(f"--grid {name}={spec}: a log range must be above 0")
        return p
    values = [_coerce(name, v) for v in spec.split(",") if v.strip()]
    if not values:
        raise UserError(f"--grid {name}={spec}: no values (write them between the commas)")
    if len(set(map(str, values))) != len(values):
        raise UserError(f"--grid {name}={spec}: a value is listed twice")
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
            raise UserError(f"--search: unknown {self.search!r}; choose one of {', '.join(SEARCHES)}")
        if self.prune not in PRUNERS:
            raise UserError(f"--prune: unknown {self.prune!r}; choose one of {', '.join(PRUNERS)}")
        if not self.params:
            raise UserError("nothing to sweep: give at least one --grid name=values")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise UserError(f"--grid {next(n for n in names if names.count(n) > 1)}: given twice")
        if not self.seeds or any(s < 0 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise UserError("--seeds: give distinct whole numbers ≥ 0, e.g. 0,1,2")
        if self.search != "grid" and not self.trials:
            raise UserError(f"--search {self.search}: give a budget with --trials N")
        if self.trials is not None and self.trials < 1:
            raise UserError(f"--trials: {self.trials} must be at least 1")
        if self.minutes is not None and not self.minutes > 0:
            raise UserError(f"--minutes: {self.minutes} must be above 0")
        base = TrainConfig.from_dict(self.base).validate()
        for p in self.params:  # every value a trial could get is checked before anything runs
            ends = p.grid_values() if (p.values is not None or self.search == "grid") else [p.low, p.high]
            for v in ends:
                try:
                    apply(base.to_dict(), {p.name: v})
                except UserError as exc:
                    raise UserError(f"--grid {p.name}={v}: {exc}") from None
        if self.search == "grid" and self.configurations() > 10000:
            raise UserError(f"the grid has {self.configurations():,} configurations; at most 10,000")
        return self

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
                raise UserError(f"--seeds {text}: {hi - lo + 1:,} seeds is more than {most:,} (--max-trials raises it)")
            return list(range(lo, hi + 1))
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--seeds {text}: give whole numbers, e.g. 0,1,2 or 0..4") from None
    if not seeds:
        raise UserError(f"--seeds {text!r}: give at least one seed, e.g. 0,1,2")
    return seeds


def check_size(spec: SweepSpec, most: int = MAX_TRIALS) -> int:
    """The number of trials, refused beyond ``most`` before anything is queued."""
    total = spec.total_trials()
    if total > most:
        raise UserError(
            f"this sweep is {spec.configurations():,} configurations × {len(spec.seeds):,} seeds = {total:,} trials, "
            f"more than {most:,}: narrow it, or raise the limit with --max-trials"
        )
    return total


# == storage =====================================================================================
def default_storage() -> str:
    """``sweeps.db`` beside the run store (a file: no server to start)."""
    from pathlib import Path

    from engine.runs.store import data_dir, default_location

    loc = default_location()
    folder = data_dir() if "://" in loc else Path(loc).expanduser().resolve().parent
    path = folder / "sweeps.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return "sqlite:///" + str(path)


def _storage(url: str):
    import optuna
    import sqlalchemy as sa

    from engine.runs.store import database_url, describe_target

    url = database_url(url)
    kwargs = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"connect_args": {"connect_timeout": 5}}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
    except (sa.exc.OperationalError, sa.exc.DatabaseError, sa.exc.ArgumentError, ImportError) as exc:
        msg = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise UserError(
            f"--storage {describe_target(url)}: cannot use it ({msg[0] if msg else 'unknown error'})"
        ) from None
    except (ValueError, RuntimeError) as exc:
        raise UserError(f"--storage {describe_target(url)}: {str(exc).splitlines()[0]}") from None


def _pruner(kind: str, epochs: int):
    import optuna

    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=max(1, epochs // 5))
    if kind == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, epochs // 8), reduction_factor=3)
    return optuna.pruners.NopPruner()


def _sampler(kind: str, seed: int = 0):
    import optuna

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)  # grid trials are all enqueued: the sampler is idle


def open_study(storage: str, name: str, spec: SweepSpec | None = None):
    """Create the study (with ``spec``) or join an existing one (``spec`` None: read from it)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    st = _storage(storage)
    if spec is None:
        try:
            study = optuna.load_study(study_name=name, storage=st)
        except KeyError:
            raise UserError(f"--study {name}: no such study in this storage") from None
        raw = study.user_attrs.get("spec")
        if not raw:
            raise UserError(f"--study {name}: not a Backprop Studio sweep")
        spec = SweepSpec.from_json(raw)
        study.sampler = _sampler(spec.search)
        study.pruner = _pruner(spec.prune, spec.epochs())
        return study, spec
    try:
        existing = optuna.load_study(study_name=name, storage=st)
    except KeyError:
        existing = None
    if existing is not None:
        raise UserError(f"--study {name}: already exists; join it with sweep-worker or choose another name")
    study = optuna.create_study(
        storage=st,
        study_name=name,
        direction="maximize",
        sampler=_sampler(spec.search),
        pruner=_pruner(spec.prune, spec.epochs()),
    )
    study.set_user_attr("spec", spec.to_json())
    study.set_user_attr("created", time.time())
    if spec.search == "grid":
        for params in spec.grid():
            for seed in spec.seeds:
                study.enqueue_trial(params, user_attrs={"seed": seed}, skip_if_exists=False)
    return study, spec


# == running ====================================================================================
@dataclass
class TrialInfo:
    number: int
    params: dict
    seed: int
    name: str
    run_id: int | None = None
    state: str = "running"  # running | complete | pruned | failed | cancelled
    val_acc: float | None = None
    test_acc: float | None = None
    epochs_done: int = 0
    seconds: float = 0.0
    reason: str = ""
    curve: list[float] = dataclasses.field(default_factory=list)  # accuracy after each evaluated epoch
    finished_as: int = 0  # 1 for the first trial to finish, 2 for the next… (the progress counter)


@dataclass
class Progress:
    done: int
    total: int
    running: int
    elapsed: float
    eta: float | None


class Sweep:
    """Runs a study's trials on ``workers`` worker processes until it is complete or cancelled.

    ``on_event(kind, payload)`` is called from the sweep's threads: ``("trial", TrialInfo)`` when
    a trial starts or ends, ``("event", (trial_number, event))`` for each run event, and
    ``("progress", Progress)``.
    """

    def __init__(self, study, spec: SweepSpec, dataset, *, workers: int | None = None, store=None, on_event=None):
        self.study, self.spec, self.dataset, self.store = study, spec, dataset, store
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.on_event = on_event or (lambda kind, payload: None)
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._runs: dict[int, object] = {}
        self.trials: list[TrialInfo] = []
        self.store_error = ""
        self._t0 = 0.0
        self._durations: list[float] = []
        self._finished = 0
        # Without a validation split (the MNIST course trains on all its data) a trial is scored
        # by its test accuracy after its last epoch, as the course reports it.
        self.scored_on = "val" if len(dataset.val) else "test"

    @property
    def name(self) -> str:
        return self.study.study_name

    def cancel(self) -> None:
        """Running trials stop within a step; finished ones are kept."""
        self._cancel.set()
        with self._lock:
            runs = list(self._runs.values())
        for r in runs:
            r.stop()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> list[TrialInfo]:
        from engine.training.host import RunHost

        check_fingerprint(self.spec, self.dataset)
        self._t0 = time.perf_counter()
        threads_each = max(1, (os.cpu_count() or 1) // self.workers)
        with RunHost(spares=self.workers, threads=threads_each) as host:
            threads = [threading.Thread(target=self._work, args=(host,), daemon=True) for _ in range(self.workers)]
            for t in threads:
                t.start()
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
        return self.trials

    # -- one worker's loop ---------------------------------------------------------------
    def _next(self):
        from optuna.trial import TrialState

        with self._lock:
            while True:
                if self._cancel.is_set():
                    return None
                if self.spec.minutes and time.perf_counter() - self._t0 > 60 * self.spec.minutes:
                    return None
                trials = self.study.get_trials(deepcopy=False)
                if not any(t.state == TrialState.WAITING for t in trials):
                    if self.spec.search == "grid":
                        return None
                    if sum(1 for t in trials if t.user_attrs.get("lead")) >= self.spec.configurations():
                        return None
                trial = self.study.ask(self.spec.distributions())
                seed = self._claim(trial)
                if seed is not None:
                    return trial, seed

    def _claim(self, trial) -> int | None:
        """The seed of an asked trial, or None if it is surplus: another worker (here or on another
        machine) took the last waiting trial or the last configuration between our check and our
        ask, so Optuna sampled a trial the sweep does not need. A surplus trial is told failed
        (marked ``surplus``) and counts nowhere."""
        from optuna.trial import TrialState

        attrs = trial.user_attrs
        if "seed" in attrs:
            return int(attrs["seed"])
        if self.spec.search != "grid":
            trial.set_user_attr("lead", True)
            earlier = sum(
                1 for t in self.study.get_trials(deepcopy=False) if t.user_attrs.get("lead") and t.number < trial.number
            )
            if earlier < self.spec.configurations():  # a new sampled configuration: its other seeds wait
                for s in self.spec.seeds[1:]:
                    self.study.enqueue_trial(dict(trial.params), user_attrs={"seed": s}, skip_if_exists=False)
                trial.set_user_attr("seed", self.spec.seeds[0])
                return self.spec.seeds[0]
            trial.set_user_attr("lead", False)
        trial.set_user_attr("surplus", True)
        self.study.tell(trial, state=TrialState.FAIL)
        return None

    def _work(self, host) -> None:
        while True:
            got = self._next()
            if got is None:
                return
            self._run_trial(host, *got)

    def _run_trial(self, host, trial, seed: int) -> None:
        from optuna.trial import TrialState

        from engine.checkpoint import Model, dataset_record
        from engine.runs.record import RunRecorder

        params = dict(trial.params)
        config = dataclasses.replace(apply(self.spec.base, params), seed=seed)
        label = ", ".join(f"{k} {v}" for k, v in params.items())
        info = TrialInfo(trial.number, params, seed, f"{label} · seed {seed}")
        recorder = None
        if self.store is not None:
            recorder = RunRecorder(
                self.store,
                config,
                dataset_record(self.dataset),
                name=f"{self.name}: {info.name}",
                source="sweep",
                sweep=self.name,
                trial=trial.number,
            )
            info.run_id = recorder.run_id
            self.store_error = self.store_error or recorder.error
        with self._lock:
            self.trials.append(info)
        self.on_event("trial", info)
        t = time.perf_counter()
        run = host.start(config, self.dataset)
        with self._lock:
            self._runs[trial.number] = run
        if self._cancel.is_set():
            run.stop()
        last, pruned = None, False
        pruning = self.spec.prune != "none"
        for ev in run.events():
            if recorder:
                recorder.on_event(ev)
            self.on_event("event", (trial.number, ev))
            if isinstance(ev, TestEvent):
                info.curve.append(ev.test_acc)
                info.test_acc, info.epochs_done = ev.test_acc, ev.epoch
            if isinstance(ev, EvalEvent):
                info.curve.append(ev.val_acc)
                info.val_acc, info.epochs_done = ev.val_acc, ev.epoch
                if pruning:  # a report is a database write: only when a pruner reads it (the store has the curve)
                    with self._lock:
                        trial.report(ev.val_acc, ev.epoch)
                        if not pruned and trial.should_prune():
                            pruned = True
                            run.stop()
            last = ev
        with self._lock:
            self._runs.pop(trial.number, None)
        info.seconds = time.perf_counter() - t
        if recorder:
            model = Model(
                run.network,
                self.dataset.classes,
                self.dataset.norm_size,
                config,
                run.history,
                dataset_name=self.dataset.name,
                dataset=dataset_record(self.dataset),
            )
            recorder.finish(last, model if isinstance(last, FinishedEvent) else None, run.best_weights)
        for k, v in (("run_id", info.run_id), ("seconds", info.seconds)):
            if v is not None:
                trial.set_user_attr(k, v)
        if isinstance(last, FinishedEvent) and pruned:
            info.state = "pruned"
            state = TrialState.PRUNED
        elif isinstance(last, FinishedEvent) and last.stopped:
            info.state, info.reason = "cancelled", "cancelled"
            state = TrialState.FAIL
        elif (
            isinstance(last, FinishedEvent) and (info.val_acc if self.scored_on == "val" else last.test_acc) is not None
        ):
            info.state = "complete"
            info.test_acc = last.test_acc
            info.epochs_done = last.epochs_completed
            state = TrialState.COMPLETE
        else:
            info.state = "failed"
            info.reason = last.reason if isinstance(last, FailedEvent) else "no validation or test accuracy"
            state = TrialState.FAIL
        score = info.val_acc if self.scored_on == "val" else info.test_acc
        with self._lock:
            trial.set_user_attr("state", info.state)
            trial.set_user_attr("epochs_done", info.epochs_done)
            if info.test_acc is not None:
                trial.set_user_attr("test_acc", info.test_acc)
            if info.val_acc is not None:
                trial.set_user_attr("val_acc", info.val_acc)
            if info.reason:
                trial.set_user_attr("reason", info.reason)
            trial.set_user_attr("scored_on", self.scored_on)
            trial.set_user_attr("curve", [round(v, 6) for v in info.curve])
            self.study.tell(trial, score if state == TrialState.COMPLETE else None, state=state)
            self._durations.append(info.seconds)
            self._finished += 1
            info.finished_as = self._finished
        self.on_event("trial", info)
        self.on_event("progress", self.progress())

    def results(self) -> list[Row]:
        """The table as it stands (safe while trials run)."""
        with self._lock:
            return results(self.study, self.spec)

    def progress(self) -> Progress:
        total = self.spec.total_trials()
        done = sum(1 for t in self.trials if t.state != "running")
        running = sum(1 for t in self.trials if t.state == "running")
        elapsed = time.perf_counter() - self._t0
        eta = None
        if done:
            per = elapsed / done
            eta = max(0.0, (total - done) * per)
        return Progress(done, total, running, elapsed, eta)


def check_fingerprint(spec: SweepSpec, dataset) -> None:
    want = spec.dataset.get("fingerprint")
    if want and dataset.fingerprint and want != dataset.fingerprint:
        raise UserError(
            f"--data {dataset.source}: its content fingerprint {dataset.fingerprint[:12]}… differs from the "
            f"study's {want[:12]}… (another copy of the data, or changed files)"
        )


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
    when = f"epoch-{epochs.pop()}" if len(epochs) == 1 else ("last-epoch" if epochs else f"epoch-{spec.epochs()}")
    if any(r.scored_on == "test" for r in rows if r.val):
        return f"{when} test accuracy (%, no validation split)"
    return f"{when} validation accuracy (%)"


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


def format_table(rows: list[Row], spec: SweepSpec, fmt: str = "markdown", ci: bool = False) -> str:
    """The courses' table: swept values, epoch-N validation accuracy, test accuracy (%, mean ± the
    sample std over seeds, or ± the 95 % interval with ``ci``; n in "runs"). The best row is
    marked only when its interval clears the runner-up's; otherwise a note says so."""
    names = [p.name for p in spec.params]
    val_h, test_h = score_heading(rows, spec), "test accuracy (%)"
    spread = "95 % CI" if ci else "sample std"
    val_h, test_h = val_h.replace("(%", f"(%, ± {spread}", 1), test_h.replace("(%", f"(%, ± {spread}", 1)
    verdict = best_note(rows)
    if fmt == "csv":  # every number, for a spreadsheet: sample std and the 95 % interval's ends
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

    def note(r: Row) -> str:
        extra = []
        if r.pruned:
            extra.append(f"{r.pruned} pruned")
        if r.failed:
            extra.append(f"{r.failed} failed")
        return f"{len(r.val)}" + (f" ({', '.join(extra)})" if extra else "")

    on_test = any(r.scored_on == "test" for r in rows if r.val)  # the score is the test accuracy: said once
    body = [
        [
            *(str(r.params.get(n, "")) for n in names),
            mean_std(r.val, ci=ci),
            *([] if on_test else [mean_std(r.test, ci=ci)]),
            note(r),
        ]
        for r in rows
    ]
    head = [*names, val_h, *([] if on_test else [test_h]), "runs"]
    best = {i for i, r in enumerate(rows) if r.best}
    caption = f"{score_heading(rows, spec).split(' (')[0]} by {', '.join(names) or 'configuration'}"
    return write_table(
        head,
        body,
        "text" if fmt == "plain" else fmt,
        bold=best,
        caption=f"{caption}, mean ± {spread} over seeds (n in runs)",
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
