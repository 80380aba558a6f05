"""Starting a run: the one place that decides where it trains.

The CLI, a sweep's trials and the window all make a :class:`RunPlan` and call
:func:`start_run`; what comes back satisfies :class:`Run` whichever way it trains:

- in a worker process of the ``host`` they pass (the window and sweeps keep one warm);
- in a worker process of its own when the config runs the user's own Functions (their code
  never runs in the caller's process), the host closed when the run ends;
- otherwise in the calling thread (:class:`~engine.training.run.TrainingRun`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from engine.config import TrainConfig
from engine.data.dataset import Dataset
from engine.model.build import build_network
from engine.model.network import Network
from engine.training.events import Event
from engine.training.history import History
from engine.training.run import TrainingRun, resolve_inputs

__all__ = ["Run", "RunPlan", "start_run"]


@dataclass(frozen=True)
class RunPlan:
    """What to train: ``config`` on ``dataset``, a new network unless one is given to continue
    (with its ``history``), at most ``max_steps`` steps if given."""

    config: TrainConfig
    dataset: Dataset
    network: Network | None = None
    history: History | None = None
    max_steps: int | None = None

    def prepared(self) -> RunPlan:
        """The plan as it will train: its config checked and its input statistics measured, its
        network built and its history made. A model can be made from it before the run starts."""
        config = resolve_inputs(self.config.validate(), self.dataset)
        network = self.network or build_network(config, self.dataset.in_features, len(self.dataset.classes))
        history = self.history if self.history is not None else History()
        return dataclasses.replace(self, config=config, network=network, history=history)


@runtime_checkable
class Run(Protocol):
    """A run as its consumers see it, in this thread or a worker process alike. ``network`` and
    ``history`` hold the run's weights and history once its stream has ended."""

    config: TrainConfig
    dataset: Dataset
    network: Network
    history: History

    def events(self) -> Iterator[Event]: ...  # one event at a time; ends after the final one

    def event_batches(self) -> Iterator[list[Event]]: ...  # the same, as they arrive together

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...  # honoured within one step

    @property
    def paused(self) -> bool: ...

    @property
    def best_weights(self) -> list[np.ndarray] | None: ...  # the latest best-validation weights

    @property
    def first_layer(self) -> np.ndarray | None: ...  # the latest first-layer weights


def start_run(plan: RunPlan, host=None) -> Run:
    """Start ``plan``: in a worker of ``host`` (a :class:`~engine.training.host.RunHost`) if given;
    in a worker of its own if it runs the user's Functions; else here, as its events are read."""
    plan = plan.prepared()
    owns_host = False
    if host is None and plan.config.engine == "user":
        from engine.training.host import RunHost

        host, owns_host = RunHost(warm=False, spares=0), True
    if host is None:
        return TrainingRun(plan.config, plan.dataset, plan.network, plan.history, max_steps=plan.max_steps)
    return host.start(plan.config, plan.dataset, plan.network, plan.history, plan.max_steps, owns_host=owns_host)
