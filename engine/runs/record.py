"""Recording a run's event stream into the run store, whoever consumes the stream.

:class:`Recording` is how every run is consumed — by the CLI, a sweep's trial and the window:

    run = start_run(plan, host)
    with Recording(run, store, source="cli") as rec:
        for ev in rec.events():
            show(ev)
        save(rec.model)  # the model the user asked for, before the store's copy
    # left: the run's row is closed (finished, stopped, failed; interrupted if left early)
"""

from __future__ import annotations

import copy
import json
import threading
import time

from engine.checkpoint import Model, dataset_record
from engine.errors import UserError
from engine.runs.store import EpochRow, RunStore, downsample, write_error
from engine.training.events import EpochEvent, EvalEvent, FailedEvent, FinishedEvent, StepEvent
from engine.training.health import HealthEvent

FLUSH_SECONDS = 1.0  # epochs reach the database at least this often (and at the end)


def status_of(last) -> tuple[str, str]:
    """The run's final status and message from its last event (``None``: it never ended)."""
    if isinstance(last, FinishedEvent):
        return ("stopped" if last.stopped else "finished"), ("" if not last.stopped else last.where())
    if isinstance(last, FailedEvent):
        return ("diverged" if last.reason.startswith("diverged") else "failed"), last.reason
    return "interrupted", "the run ended without a result"


class RunRecorder:
    """Feed it every event (:meth:`on_event`) and the end (:meth:`finish`).

    Writing never takes a run down: if the store fails, recording stops and ``error`` says why.
    """

    def __init__(
        self,
        store: RunStore,
        config,
        dataset: dict,
        *,
        name: str,
        source: str,
        sweep: str | None = None,
        trial: int | None = None,
    ):
        self.store = store
        self.error = ""
        self.run_id: int | None = None
        self._pending: dict[int, EpochRow] = {}
        self._fields: dict = {}
        self._steps: list[tuple[int, float]] = []
        self._health: list[dict] = []  # layer-health records not yet written
        self._last_flush = time.monotonic()
        try:
            self.run_id = store.start_run(
                name=name, config=config.to_dict(), dataset=dataset, source=source, sweep=sweep, trial=trial
            )
        except Exception as exc:  # noqa: BLE001 - the run goes on unrecorded
            self.error = f"the run is not recorded: {write_error(store, exc)}"

    def on_event(self, ev) -> None:
        if self.run_id is None:
            return
        if isinstance(ev, StepEvent):
            self._steps.append((ev.global_step, ev.loss))
            return
        if isinstance(ev, EpochEvent):
            row = self._pending.setdefault(ev.epoch, EpochRow(ev.epoch, None, None, None, None))
            row.train_loss, row.train_acc = ev.train_loss, ev.train_acc
            self._fields.update(
                epochs_done=ev.epoch, train_loss=ev.train_loss, train_acc=ev.train_acc, wall_time=ev.elapsed
            )
        elif isinstance(ev, EvalEvent):
            row = self._pending.setdefault(ev.epoch, EpochRow(ev.epoch, None, None, None, None))
            row.val_loss, row.val_acc = ev.val_loss, ev.val_acc
            self._fields.update(
                val_loss=ev.val_loss, val_acc=ev.val_acc, best_val_acc=ev.best_val_acc, best_epoch=ev.best_epoch
            )
        elif isinstance(ev, HealthEvent):
            self._health.append(ev.to_dict())
        else:
            return
        if time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self, **extra) -> None:
        if self.run_id is None:
            return
        try:
            self.store.write_progress(
                self.run_id, list(self._pending.values()), health=self._health, **{**self._fields, **extra}
            )
        except Exception as exc:  # noqa: BLE001
            self.error = f"the run store stopped recording: {write_error(self.store, exc)}"
            self.run_id = None
            return
        self._pending.clear()
        self._fields.clear()
        self._health = []
        self._last_flush = time.monotonic()

    def finish(self, last, model=None, best_weights=None) -> None:
        """Close the run: status, results, the per-step loss and (given a model) its checkpoints."""
        if self.run_id is None:
            return
        status, message = status_of(last)
        fields = {"status": status, "message": message, "ended": time.time()}
        if isinstance(last, FinishedEvent):
            fields.update(
                test_acc=last.test_acc,
                test_acc_at_best=last.best_test_acc,
                wall_time=last.elapsed,
                epochs_done=last.epochs_completed,
            )
            if last.best_epoch is not None:
                fields["best_epoch"] = last.best_epoch
        fields["steps"] = json.dumps(downsample(self._steps))
        if model is not None:
            try:
                fields.update(self._save_models(model, best_weights))
            except (OSError, UserError) as exc:  # a full disk: the run's record is kept, said so
                why = getattr(exc, "strerror", None) or str(exc)
                fields["message"] = (message + "; " if message else "") + f"checkpoint not saved: {why}"
                self.error = self.error or f"the run store's copy of the model was not saved ({why})"
        self.flush(**fields)
        if model is not None and self.run_id is not None:
            try:  # the store's checkpoint cap, if its owner set one: older runs' files go, this run's stay
                self.store.apply_checkpoint_cap()
            except Exception as exc:  # noqa: BLE001 - a failed clean-up never costs the run
                self.error = (
                    self.error or f"the run store's older checkpoints were not pruned: {write_error(self.store, exc)}"
                )

    def _save_models(self, model, best_weights) -> dict:
        from engine.checkpoint import save_checkpoint  # torch: imported when a model is saved

        self.store.checkpoints.mkdir(parents=True, exist_ok=True)
        out = {}
        final = self.store.checkpoint_path(self.run_id, "final")
        save_checkpoint(final, model)
        out["final_checkpoint"] = str(final)
        if best_weights is not None:
            best_model = copy.copy(model)
            best_model.network = copy.deepcopy(model.network)
            best_model.network.set_weights(best_weights)
            best = self.store.checkpoint_path(self.run_id, "best")
            save_checkpoint(best, best_model)
            out["best_checkpoint"] = str(best)
        return out


class Recording:
    """A run's events, each recorded in ``store`` (if any) as it is read; the run's
    :class:`~engine.checkpoint.Model` (``model``, or one made from the run); and at the end the
    run's row closed and the model kept in the store (:meth:`finish`, on leaving ``with``).

    A run that ended with a result keeps its final (and best-validation) checkpoints; one that
    failed after at least one epoch keeps its last good weights; one left early is recorded as
    interrupted with what it reached.
    """

    def __init__(
        self,
        run,
        store: RunStore | None = None,
        *,
        source: str,
        name: str = "",
        model: Model | None = None,
        sweep: str | None = None,
        trial: int | None = None,
    ):
        self.run = run
        self.model = model if model is not None else Model.for_run(run, name)
        self.last = None  # the final FinishedEvent or FailedEvent, once read
        self.kept_copy: str | None = None  # the store's final checkpoint, once finished
        self._finished = False
        self._lock = threading.Lock()
        self.recorder = None
        if store is not None:
            self.recorder = RunRecorder(
                store,
                run.config,
                dataset_record(run.dataset),
                name=name or self.model.name,
                source=source,
                sweep=sweep,
                trial=trial,
            )
        self._run_id = self.recorder.run_id if self.recorder is not None else None

    @property
    def run_id(self) -> int | None:
        """The run's row in the store (kept even if recording stopped part-way: see ``error``)."""
        return self._run_id

    @property
    def error(self) -> str:
        """Why the run is not (or no longer) recorded; empty while all is well."""
        return self.recorder.error if self.recorder is not None else ""

    def batches(self):
        """The run's events as they arrive together, each recorded first."""
        for batch in self.run.event_batches():
            for ev in batch:
                if self.recorder is not None:
                    self.recorder.on_event(ev)
                if isinstance(ev, (FinishedEvent, FailedEvent)):
                    self.last = ev
            yield batch

    def events(self):
        """The run's events one at a time, each recorded first."""
        for batch in self.batches():
            yield from batch

    def finish(self) -> None:
        """Close the run's row (once; later calls do nothing)."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
        rec, last = self.recorder, self.last
        if rec is None or rec.run_id is None:  # nothing recorded, or the store failed part-way
            return
        keep = isinstance(last, FinishedEvent) or (
            isinstance(last, FailedEvent) and self.run.history.epochs_completed >= 1
        )
        rec.finish(last, self.model if keep else None, self.run.best_weights if keep else None)
        if keep and not rec.error:
            final = rec.store.checkpoint_path(self._run_id, "final")
            self.kept_copy = str(final) if final.is_file() else None

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc) -> None:
        self.finish()
