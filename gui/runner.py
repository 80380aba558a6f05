"""The run controller: starts a run in a worker process (``engine.training.launch``), records it
(``engine.runs.record``) from a reading thread, forwards pause, resume and stop, and re-emits its
batched events as signals. Views connect to it."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from engine.checkpoint import Model
from engine.runs.record import Recording
from engine.training.events import FailedEvent, FinishedEvent
from engine.training.host import RunHost
from engine.training.launch import Run, RunPlan, start_run
from gui.session import autosave_path
from gui.tasks import describe_error, start_worker, wait_for_workers
from gui.worker import Update, start_stream


@dataclass
class RunStart:
    run: Run
    model: Model
    resume: bool
    total_steps: int  # steps this run will take at most
    start_step: int  # global steps done before it
    one_step: bool = False


class RunController(QObject):
    """Every run in a worker process of its :class:`RunHost`, kept warm."""

    started = Signal(object)  # RunStart
    updated = Signal(object)  # Update
    finished = Signal(object)  # the final FinishedEvent or FailedEvent
    state_changed = Signal()  # running or paused changed
    recorded = Signal(int)  # a run's row in the run store changed (its id)
    store_problem = Signal(str)  # the run store cannot be used: runs are not recorded

    def __init__(self, parent=None):
        super().__init__(parent)
        self.host: RunHost | None = None
        self.run: Run | None = None
        self.info: RunStart | None = None
        self._worker = None
        self._final = None
        self._store = None
        self._store_error = ""
        self.store_location: str | None = None  # None: the default (settings may set another)
        self.recording: Recording | None = None
        self._said = ""  # the store problem already said for the current run
        self.kept_copy: str | None = None  # the store's final checkpoint of the last finished run
        self.last_best = None  # the last run's best-validation weights (None: it had no validation)

    @property
    def running(self) -> bool:
        return self.run is not None

    @property
    def paused(self) -> bool:
        return self.run is not None and self.run.paused

    def start(self, plan: RunPlan, model: Model, resume: bool = False, one_step: bool = False) -> None:
        """Start ``plan`` (prepared: ``model`` is what it trains) in a worker; one step is not recorded."""
        if self.running:
            return
        self.kept_copy = None
        c, h = plan.config, plan.history
        steps = max(1, -(-len(plan.dataset.train) // c.batch_size))
        done = h.epochs_completed * steps + (h.position.step if h.position else 0)
        total = 1 if one_step else max(1, c.epochs * steps - done)
        if one_step:
            plan = dataclasses.replace(plan, max_steps=1)
        store = None if one_step else self.store()
        run = start_run(plan, host=self.warm())
        self.recording = Recording(run, store, source="gui", model=model)
        self._said = self.recording.error
        if self.recording.error:
            self.store_problem.emit(self.recording.error)
        elif self.recording.run_id is not None:
            self.recorded.emit(self.recording.run_id)
        self._worker = start_stream(self.recording, autosave_path())
        self.run, self._final = run, None
        self.info = RunStart(run, model, resume, total, done, one_step)
        self._worker.yielded.connect(self._on_update)
        self._worker.errored.connect(self._on_error)
        self._worker.finished.connect(self._on_finished)
        self.started.emit(self.info)
        start_worker(self._worker)
        self.state_changed.emit()

    def store(self):
        """The run store, opened on first use; None (said once by ``store_problem``) if unusable."""
        if self._store is None and not self._store_error:
            from engine.runs.store import RunStore, StoreError

            try:
                self._store = RunStore(self.store_location)
            except StoreError as exc:
                self._store_error = str(exc)
                self.store_problem.emit(self._store_error)
        return self._store

    @property
    def store_error(self) -> str:
        """Why the run store cannot be used (empty when it can, or before it was first opened)."""
        return self._store_error

    def set_store(self, location: str | None) -> None:
        """Use another run store from the next run on."""
        if self._store is not None:
            self._store.close()
        self._store, self._store_error, self.store_location = None, "", location or None

    def warm(self) -> RunHost:
        """The host, started on first use (its warm worker then imports while the user looks)."""
        if self.host is None:
            # One core stays with the window: a worker using them all makes the plots stutter.
            self.host = RunHost(threads=max(1, (os.cpu_count() or 1) - 1))
        return self.host

    def toggle_pause(self) -> None:
        if self.run is None:
            return
        if self.run.paused:
            self.run.resume()
        else:
            self.run.pause()
        self.state_changed.emit()

    def pause(self) -> None:
        if self.run is not None and not self.run.paused:
            self.run.pause()
            self.state_changed.emit()

    def resume(self) -> None:
        if self.run is not None and self.run.paused:
            self.run.resume()
            self.state_changed.emit()

    def stop(self) -> None:
        if self.run is not None:
            self.run.stop()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the run and wait for its thread (the window is closing)."""
        self.stop()
        rec, self.recording = self.recording, None
        if self._worker is not None:
            self._worker.quit()
        if self.host is not None:
            self.host.close()  # ends every worker process (the reading thread then returns)
            self.host = None
        done = wait_for_workers(timeout_ms)
        if rec is not None and done:  # closed mid-run: recorded as interrupted, with what it reached
            rec.finish()  # (the reading thread, which records each event, is done; finishing twice does nothing)
        if done and self.run is not None:  # joined: the run is over, whatever signals are still queued
            self.run, self._worker, self._final = None, None, None
            self.state_changed.emit()
        return done

    def _on_update(self, update: Update) -> None:
        for ev in update.events:
            if isinstance(ev, (FinishedEvent, FailedEvent)):
                self._final = ev
        self.updated.emit(update)

    def _on_error(self, exc) -> None:
        self._final = FailedEvent(0, 0, f"stopped with an error: {describe_error(exc)}")

    def _on_finished(self) -> None:
        if self.run is None:  # already shut down (the window closed)
            return
        final = self._final
        self.last_best = self.run.best_weights
        self.run, self._worker, self._final = None, None, None
        rec, self.recording = self.recording, None
        self.kept_copy = None
        if rec is not None:
            rec.finish()  # done by the reading thread as its stream ended; here only if it failed
            if rec.error and rec.error != self._said:  # e.g. the store stopped recording mid-run: said once
                self.store_problem.emit(rec.error)
            if rec.run_id is not None:
                self.kept_copy = rec.kept_copy
                self.recorded.emit(rec.run_id)
        self.state_changed.emit()
        self.finished.emit(final)
