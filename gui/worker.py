"""The training run's event stream, batched for the GUI (the one redraw throttle).

The engine's events are gathered here and handed over about ten times a second (and at
once on pause and at the end), so the text and the plots are drawn from the same batch: the
plot is never behind the progress text. The best-validation weights are auto-saved, and each
event recorded in the run store, from the reading thread: no I/O on the GUI thread, no torn
reads of the weights.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from superqt.utils import create_worker

from engine.checkpoint import save_checkpoint
from engine.errors import UserError
from engine.training.events import FailedEvent, FinishedEvent, StepEvent

EMIT_INTERVAL = 0.2  # seconds between batched updates: text and plots both redraw at ≤ 5 Hz
WEIGHTS_INTERVAL = 0.5  # seconds between first-layer snapshots for the Weights view


@dataclass
class Update:
    """What the GUI receives from a training worker: steps since the last update, plus any other events."""

    steps: list[StepEvent] = field(default_factory=list)
    events: list = field(default_factory=list)
    first_layer: np.ndarray | None = None  # W0 copy, at most every WEIGHTS_INTERVAL
    autosaved: str = ""


def run_stream(recording, autosave: Path | None):
    """:class:`Update` batches from a run (``recording``: an :class:`engine.runs.record.Recording`,
    which records each event in the run store before it is shown).

    This thread only reads the run's events: the run trains in a worker process. The
    best-validation weights arrive with the events and are auto-saved from here, on a copy of the
    network (the worker's memory is never touched). When the stream ends — or this generator is
    closed early — the run's row is closed, from this thread: no I/O on the GUI thread."""
    run, model = recording.run, recording.model
    pending = Update()
    last_emit = 0.0
    saved_best = None
    with recording:
        for batch in recording.batches():
            for ev in batch:
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


def start_stream(recording, autosave: Path | None):
    """A superqt GeneratorWorker (not yet started) around :func:`run_stream`."""
    return create_worker(run_stream, recording, autosave, _start_thread=False, _ignore_errors=True)
