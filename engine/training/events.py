"""What a run says, and what a worker process sends home: small frozen dataclasses.

A run's stream (:meth:`engine.training.launch.Run.events`) yields a :class:`StepEvent` after
every batch, :class:`EpochEvent`, :class:`EvalEvent` (or :class:`TestEvent` where the data has
no validation split), :class:`WarningEvent`, :class:`HealthEvent`, and ends with exactly one
:class:`FinishedEvent` or :class:`FailedEvent`.

A worker process sends those events, plus the messages below, which the host folds into its
:class:`~engine.training.host.HostedRun` and never passes on: :class:`FirstLayer`,
:class:`BestWeights`, :class:`RunResult` and :class:`WorkerError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.i18n import _
from engine.training.health import HealthEvent
from engine.training.history import format_duration

__all__ = [
    "StepEvent",
    "EpochEvent",
    "EvalEvent",
    "TestEvent",
    "WarningEvent",
    "HealthEvent",
    "FinishedEvent",
    "FailedEvent",
    "Event",
    "FirstLayer",
    "BestWeights",
    "RunResult",
    "WorkerError",
    "WorkerMessage",
    "format_duration",
]


@dataclass(frozen=True)
class StepEvent:
    epoch: int  # 1-based
    step: int  # 1-based within the epoch
    steps_per_epoch: int
    global_step: int
    loss: float
    elapsed: float
    samples_per_sec: float


@dataclass(frozen=True)
class EpochEvent:
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    elapsed: float
    eta: float  # seconds left for the run


@dataclass(frozen=True)
class EvalEvent:
    epoch: int
    val_loss: float
    val_acc: float
    best_epoch: int
    best_val_acc: float


@dataclass(frozen=True)
class TestEvent:
    """The test split evaluated after an epoch, when the data has no validation split (the MNIST
    course trains on all 60,000 images and reports test accuracy after every epoch)."""

    __test__ = False  # not a pytest test class

    epoch: int
    test_loss: float
    test_acc: float


@dataclass(frozen=True)
class WarningEvent:
    """Something the user should know while the run goes on (e.g. it is not learning)."""

    epoch: int
    message: str


@dataclass(frozen=True)
class FinishedEvent:
    epoch: int  # the epoch the run ended in (complete unless ``partial``)
    test_loss: float | None
    test_acc: float | None
    stopped: bool
    elapsed: float
    best_epoch: int | None = None  # the best-validation epoch, and the test accuracy of its weights
    best_test_acc: float | None = None
    epochs_completed: int = 0
    step: int = 0  # steps done in ``epoch``
    steps_per_epoch: int = 0

    @property
    def partial(self) -> bool:
        return self.step < self.steps_per_epoch

    def where(self) -> str:
        if self.partial:
            return _("stopped at epoch {epoch}, step {step}/{steps} (epoch not finished)").format(
                epoch=self.epoch, step=self.step, steps=self.steps_per_epoch
            )
        if self.stopped:
            return _("stopped after epoch {epoch}").format(epoch=self.epoch)
        return _("finished epoch {epoch}").format(epoch=self.epoch)


@dataclass(frozen=True)
class FailedEvent:
    epoch: int
    step: int
    reason: str


Event = StepEvent | EpochEvent | EvalEvent | TestEvent | WarningEvent | HealthEvent | FinishedEvent | FailedEvent


# == what a worker sends besides events ==========================================================
@dataclass(frozen=True)
class FirstLayer:
    """The first layer's weights, for the Weights view (at most every half second, and at the end)."""

    weights: np.ndarray


@dataclass(frozen=True)
class BestWeights:
    """Every layer's weights at a new best validation accuracy (the window auto-saves them)."""

    weights: list[np.ndarray]


@dataclass(frozen=True)
class RunResult:
    """The end of a run in the worker: what the host's network and history take over."""

    weights: list[np.ndarray]
    optimizer_state: dict | None
    history: dict


@dataclass(frozen=True)
class WorkerError:
    """The worker could not run the job (an exception, memory): the run fails with this reason."""

    message: str


WorkerMessage = FirstLayer | BestWeights | RunResult | WorkerError
