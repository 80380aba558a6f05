"""The run controller: starts a :class:`TrainingRun` off the GUI thread, forwards pause,
resume and stop, and re-emits its batched events as signals. Views connect to it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from engine.checkpoint import Model
from engine.training.host import RunHost
from engine.training.run import FailedEvent, FinishedEvent, TrainingRun
from gui.session import autosave_path
from gui.tasks import describe_error, start_worker, wait_for_workers
from gui.worker import Update, start_hosted, start_training


@dataclass
class RunStart:
    run: TrainingRun
    model: Model
    resume: bool
    total_steps: int  # steps this run will take at most
    start_step: int  # global steps done before it
    one_step: bool = False


class RunController(QObject):
    """Runs in worker processes through a :class:`RunHost` (``processes=True``, the app's way),
    or in a thread of this process (``processes=False``)."""

    started = Signal(object)  # RunStart
    updated = Signal(object)  # Update
    finished = Signal(object)  # the final FinishedEvent or FailedEvent
    state_changed = Signal()  # running or paused changed
    recorded = Signal(int)  # a run's row in the run store changed (its id)
    store_problem = Signal(str)  # the run store cannot be used: runs are not recorded

    def __init__(self, parent=None, processes: bool = True):
        super().__init__(parent)
        self.processes = processes
        self.host: RunHost | None = None
        self.run: TrainingRun | None = None
        self.info: RunStart | None = None
        self._worker = None
        self._final = None
        self._store = None
        self._store_error = ""
        self.store_location: str | None = None  # None: the default (settings may set another)
        self.recorder = None
        self.kept_copy: str | None = None  # the store's final checkpoint of the last finished run

    @property
    def running(self) -> bool:
        return self.run is not None

    @property
    def paused(self) -> bool:
        return self.run is not None and self.run.paused

    def start(self, run: TrainingRun, model: Model, resume: bool = False, one_step: bool = False) -> None:
        if self.running:
            return
        self.kept_copy = None
        c, h = run.config, run.history
        steps = max(1, -(-len(run.dataset.train) // c.batch_size))
        done = h.epochs_completed * steps + (h.position.step if h.position else 0)
        total = 1 if one_step else max(1, c.epochs * steps - done)
        self.recorder = None if one_step else self._recorder(run, model)
        record = self.recorder.on_event if self.recorder is not None else None  # called in the worker thread
        if self.processes:  # the same config, data, weights and history, trained in a worker process
            hosted = self.warm().start(c, run.dataset, run.network, run.history, 1 if one_step else None)
            self._worker = start_hosted(hosted, model, autosave_path(), record)
            run = hosted
        else:
            self._worker = start_training(run, model, autosave_path(), 1 if one_step else None, record)
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

    def set_store(self, location: str | None) -> None:
        """Use another run store from the next run on."""
        if self._store is not None:
            self._store.close()
        self._store, self._store_error, self.store_location = None, "", location or None

    def _recorder(self, run, model):
        store = self.store()
        if store is None:
            return None
        from engine.checkpoint import dataset_record
        from engine.runs.record import RunRecorder

        rec = RunRecorder(
            store, run.config, dataset_record(run.dataset), name=model.name or run.config.auto_name(), source="gui"
        )
        if rec.error:
            self.store_problem.emit(rec.error)
            return None
        self.recorded.emit(rec.run_id)
        return rec

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
        rec, self.recorder = self.recorder, None
        if self._worker is not None:
            self._worker.quit()
        if self.host is not None:
            self.host.close()  # ends every worker process (the reading thread then returns)
            self.host = None
        done = wait_for_workers(timeout_ms)
        if rec is not None and done:  # closed mid-run: recorded as interrupted, with what it reached
            rec.finish(self._final)  # (after the reading thread, which records each event, is done)
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
        run, info = self.run, self.info
        self.run, self._worker, self._final = None, None, None
        rec, self.recorder = self.recorder, None
        self.kept_copy = None
        if rec is not None and rec.run_id is not None:
            rid = rec.run_id
            rec.finish(
                final, info.model if isinstance(final, FinishedEvent) else None, getattr(run, "best_weights", None)
            )
            if rec.error:
                self.store_problem.emit(rec.error)
            elif isinstance(final, FinishedEvent):
                copy = self._store.checkpoint_path(rid, "final") if self._store is not None else None
                self.kept_copy = str(copy) if copy is not None and os.path.isfile(copy) else None
            self.recorded.emit(rid)
        self.state_changed.emit()
        self.finished.emit(final)
