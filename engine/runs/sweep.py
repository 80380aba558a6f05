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
import os
import socket
import threading
import time
from dataclasses import dataclass

from engine.errors import UserError
from engine.i18n import _
from engine.runs.space import (
    FLOAT_FIELDS,
    FORMATS,
    INT_FIELDS,
    MAX_TRIALS,
    PRUNERS,
    RANGE_STEPS,
    SEARCHES,
    STR_FIELDS,
    SWEEPABLE,
    Param,
    SweepSpec,
    apply,
    build_spec,
    check_size,
    parse_param,
    parse_seeds,
)
from engine.runs.study import default_storage, open_study
from engine.runs.sweep_table import (
    Row,
    best_note,
    format_table,
    importances,
    mean_std,
    per_epoch_table,
    results,
    score_heading,
)
from engine.training.run import EvalEvent, FailedEvent, FinishedEvent, TestEvent

__all__ = [  # the sweep's parts, re-exported: callers import them from here
    "FLOAT_FIELDS",
    "FORMATS",
    "INT_FIELDS",
    "MAX_TRIALS",
    "PRUNERS",
    "RANGE_STEPS",
    "SEARCHES",
    "STR_FIELDS",
    "SWEEPABLE",
    "Param",
    "SweepSpec",
    "apply",
    "build_spec",
    "check_size",
    "parse_param",
    "parse_seeds",
    "default_storage",
    "open_study",
    "Row",
    "best_note",
    "format_table",
    "importances",
    "mean_std",
    "per_epoch_table",
    "results",
    "score_heading",
    "Progress",
    "Sweep",
    "TrialInfo",
    "check_fingerprint",
]


# == running ====================================================================================
OWNER = f"{socket.gethostname()}:{os.getpid()}"  # who runs a trial: a host and a process
STORAGE_PATIENCE = 120.0  # seconds a sweep waits for its storage (a PostgreSQL server) to come back


class StorageGone(UserError):
    """The sweep's storage stayed unreachable past :data:`STORAGE_PATIENCE`."""


def is_outage(exc: BaseException) -> bool:
    """A lost or refused connection to the storage (not a wrong query, not our bug)."""
    import optuna
    import sqlalchemy as sa

    if isinstance(exc, optuna.exceptions.StorageInternalError):
        return True
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and bool(getattr(exc, "connection_invalidated", False))


def requeue_interrupted(study) -> list[int]:
    """Trials left running by a sweep process of this machine that is gone (killed, crashed, the
    laptop's lid closed): told failed (marked ``interrupted``) and enqueued again with the same
    parameters and seed, so the configuration gets all its seeds instead of silently one fewer.
    A trial of another machine is left to that machine. Returns the numbers of the trials redone."""
    from optuna.trial import TrialState

    from engine.training.processes import pid_alive

    host = socket.gethostname()
    redone = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        where, _, pid = str(t.user_attrs.get("owner", "")).rpartition(":")
        if where != host or not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            continue
        study.enqueue_trial(
            dict(t.params), user_attrs={"seed": t.user_attrs.get("seed", 0), "redo_of": t.number}, skip_if_exists=False
        )
        # marked first: once told, a trial takes no more attributes (optuna has no public setter for
        # a trial another process asked)
        study._storage.set_trial_user_attr(t._trial_id, "interrupted", True)
        study.tell(t.number, state=TrialState.FAIL)
        redone.append(t.number)
    return redone


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

    def snapshot(self) -> TrialInfo:
        """A copy as the trial stands now: what ``on_event`` is given. The window reads it later on
        its own thread; handed the live object, a quick trial read "complete" when its "running"
        report arrived, and its curve was never made."""
        return dataclasses.replace(self, params=dict(self.params), curve=list(self.curve))


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
        self._lock = threading.Lock()  # the study: one worker at a time asks, reports, tells and reads
        self._runs_lock = threading.Lock()  # the running trials: held for a moment only (Cancel waits on it)
        self._cancel = threading.Event()
        self._runs: dict[int, object] = {}
        self.trials: list[TrialInfo] = []
        self.store_error = ""
        self.redone: list[int] = []  # trials a killed process left running, enqueued again by run()
        self.storage_error = ""  # why the sweep stopped early: its storage stayed unreachable
        self.patience = STORAGE_PATIENCE
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
        with self._runs_lock:  # not the study's lock: a worker asking the study holds that for 100 ms
            runs = list(self._runs.values())
        for r in runs:
            r.stop()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> list[TrialInfo]:
        from engine.training.host import RunHost

        check_fingerprint(self.spec, self.dataset)
        self.redone = requeue_interrupted(self.study)
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
                    trial.set_user_attr("owner", OWNER)  # so a later join can redo it if this process dies
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
        try:
            while True:
                got = self._patiently(self._next)
                if got is None:
                    return
                self._run_trial(host, *got)
        except StorageGone as exc:
            self.storage_error = self.storage_error or str(exc)
            self.cancel()  # every worker stops: finished trials are in the storage, the rest waits for a rerun

    def _patiently(self, fn):
        """``fn()``, retried with backoff while the storage is unreachable, for at most
        :attr:`patience` seconds (said once through ``on_event("storage", text)``); then
        :class:`StorageGone`, one line."""
        deadline, delay, said = None, 0.5, False
        while True:
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - only an outage is retried; the rest is raised as it is
                if not is_outage(exc):
                    raise
                first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["no answer"])[0]
                now = time.monotonic()
                deadline = deadline or now + self.patience
                if now >= deadline:
                    raise StorageGone(
                        f"the sweep's storage stayed unreachable for {self.patience:.0f} s ({first[:160]}); "
                        "finished trials are kept: run sweep-worker --study NAME to go on"
                    ) from None
                if not said:
                    said = True
                    self.on_event(
                        "storage",
                        f"the sweep's storage is unreachable ({first[:160]}); retrying for up to {self.patience:.0f} s",
                    )
                time.sleep(delay)
                delay = min(2 * delay, 5.0)

    def _run_trial(self, host, trial, seed: int) -> None:
        from optuna.trial import TrialState

        from engine.runs.record import Recording
        from engine.training.launch import RunPlan, start_run

        params = dict(trial.params)
        config = dataclasses.replace(apply(self.spec.base, params), seed=seed)
        label = ", ".join(f"{k} {v}" for k, v in params.items())
        info = TrialInfo(trial.number, params, seed, f"{label} · seed {seed}")
        t = time.perf_counter()
        run = start_run(RunPlan(config, self.dataset), host=host)
        with self._runs_lock:
            self._runs[trial.number] = run
            self.trials.append(info)
        if self._cancel.is_set():
            run.stop()
        last, pruned = None, False
        pruning = self.spec.prune != "none"
        with Recording(
            run, self.store, source="sweep", name=f"{self.name}: {info.name}", sweep=self.name, trial=trial.number
        ) as rec:
            info.run_id = rec.run_id
            self.store_error = self.store_error or rec.error
            self.on_event("trial", info.snapshot())
            for ev in rec.events():
                self.on_event("event", (trial.number, ev))
                if isinstance(ev, TestEvent):
                    info.curve.append(ev.test_acc)
                    info.test_acc, info.epochs_done = ev.test_acc, ev.epoch
                if isinstance(ev, EvalEvent):
                    info.curve.append(ev.val_acc)
                    info.val_acc, info.epochs_done = ev.val_acc, ev.epoch
                    if pruning:  # a report is a database write: only when a pruner reads it (the store has the curve)
                        with self._lock:
                            self._patiently(lambda ev=ev: trial.report(ev.val_acc, ev.epoch))
                            if not pruned and self._patiently(trial.should_prune):
                                pruned = True
                                run.stop()
                last = ev
        with self._runs_lock:
            self._runs.pop(trial.number, None)
        info.seconds = time.perf_counter() - t

        def attrs():
            for k, v in (("run_id", info.run_id), ("seconds", info.seconds)):
                if v is not None:
                    trial.set_user_attr(k, v)

        self._patiently(attrs)
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

        def finish():
            import optuna

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
            try:
                self.study.tell(trial, score if state == TrialState.COMPLETE else None, state=state)
            except optuna.exceptions.UpdateFinishedTrialError:
                pass  # told before the connection dropped: the retry finds it done

        with self._lock:
            self._patiently(finish)
            self._durations.append(info.seconds)
            self._finished += 1
            info.finished_as = self._finished
        self.on_event("trial", info.snapshot())
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
            _(
                "--data {dataset_source}: its content fingerprint {have}… differs from the study's "
                "{want}… (another copy of the data, or changed files)"
            ).format(dataset_source=dataset.source, have=dataset.fingerprint[:12], want=want[:12])
        )
