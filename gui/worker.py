"""The training run's event stream, batched for the GUI (the one redraw throttle).

The engine's events are gathered here and handed over about ten times a second (and at
once on pause and at the end), so the text and the plots are drawn from the same batch: the
plot is never behind the progress text. The best-validation weights are auto-saved, and each
event recorded in the run store (``record``), from the worker thread: no I/O on the GUI thread,
no torn reads of the weights.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from superqt.utils import create_worker

from engine.checkpoint import Model, save_checkpoint
from engine.errors import UserError
from engine.training.run import EvalEvent, FailedEvent, FinishedEvent, StepEvent, TrainingRun

EMIT_INTERVAL = 0.1  # seconds between batched updates: text and plots both redraw at ≤ 10 Hz
WEIGHTS_INTERVAL = 0.5  # seconds between first-layer snapshots for the Weights view


@dataclass
class Update:
    """What the GUI receives from a training worker: steps since the last update, plus any other events."""

    steps: list[StepEvent] = field(default_factory=list)
    events: list = field(default_factory=list)
    first_layer: np.ndarray | None = None  # W0 copy, at most every WEIGHTS_INTERVAL
    autosaved: str = ""


def _ignore(_ev) -> None:
    pass


def training_stream(run: TrainingRun, model: Model, autosave: Path | None, max_steps: int | None = None, record=None):
    """Yield :class:`Update` batches from ``run.events()``; stop after ``max_steps`` steps if given.
    ``record(event)`` is called with each event first (the run store's recorder)."""
    record = record or _ignore
    pending = Update()
    last_emit = last_weights = 0.0
    n_steps = 0
    for ev in run.events():
        record(ev)
        now = time.perf_counter()
        if isinstance(ev, StepEvent):
            pending.steps.append(ev)
            n_steps += 1
            if max_steps is not None and n_steps >= max_steps:
                run.stop()  # honoured before the next step
        else:
            pending.events.append(ev)
            if isinstance(ev, EvalEvent) and ev.best_epoch == ev.epoch and autosave is not None:
                try:
                    save_checkpoint(autosave, model)
                    pending.autosaved = str(autosave)
                except UserError:
                    pass  # the run goes on; only the safety copy is missing
        final = isinstance(ev, (FinishedEvent, FailedEvent))
        if now - last_weights > WEIGHTS_INTERVAL or final:
            pending.first_layer = run.network.weights()[0]
            last_weights = now
        if final or now - last_emit >= EMIT_INTERVAL or run.paused:
            yield pending
            pending = Update()
            last_emit = now
    if pending.steps or pending.events:
        yield pending


def hosted_stream(run, model: Model, autosave: Path | None, record=None):
    """:class:`Update` batches from a run in a worker process (``engine.training.host.HostedRun``).

    This thread only reads the host's queue: training happens in the other process. The
    best-validation weights arrive with the events and are auto-saved from here, on a copy of
    the network (the worker's memory is never touched). ``record(event)`` as in :func:`training_stream`."""
    record = record or _ignore
    pending = Update()
    last_emit = 0.0
    saved_best = None
    for batch in run.event_batches():
        for ev in batch:
            record(ev)
            (pending.steps if isinstance(ev, StepEvent) else pending.events).append(ev)
        best = run.best_weights
        if best is not None and best is not saved_best and autosave is not None:
            saved_best = best
            try:
                snapshot = model.network.snapshot()
                snapshot.set_weights(best)
                save_checkpoint(autosave, dataclasses.replace(model, network=snapshot))
                pending.autosaved = str(autosave)
            except UserError:
                pass  # the run goes on; only the safety copy is missing
        if run.first_layer is not None:
            pending.first_layer = run.first_layer
        now = time.perf_counter()
        final = any(isinstance(e, (FinishedEvent, FailedEvent)) for e in batch)
        if final or now - last_emit >= EMIT_INTERVAL or run.paused:
            yield pending
            pending = Update()
            last_emit = now
    if pending.steps or pending.events:
        yield pending


def start_training(run: TrainingRun, model: Model, autosave: Path | None, max_steps: int | None = None, record=None):
    """A superqt GeneratorWorker (not yet started) around :func:`training_stream`."""
    return create_worker(
        training_stream, run, model, autosave, max_steps, record, _start_thread=False, _ignore_errors=True
    )


def start_hosted(run, model: Model, autosave: Path | None, record=None):
    """A superqt GeneratorWorker (not yet started) around :func:`hosted_stream`."""
    return create_worker(hosted_stream, run, model, autosave, record, _start_thread=False, _ignore_errors=True)
