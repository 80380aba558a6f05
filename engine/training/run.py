"""A training run as a stream of events, with pause, resume and stop from any thread.

``TrainingRun.events()`` is a generator yielding small frozen dataclasses: a
:class:`StepEvent` after every batch (so Pause and Stop answer within one
step), :class:`EpochEvent`, :class:`EvalEvent`, and finally exactly one of
:class:`FinishedEvent` or :class:`FailedEvent`. The CLI, the GUI's worker and
the tests all consume this same stream.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time

import numpy as np

from engine.config import TrainConfig
from engine.data.dataset import Dataset
from engine.data.images import input_stats, normalize
from engine.i18n import _
from engine.model.build import build_network
from engine.model.maths import cross_entropy
from engine.model.network import Network
from engine.training.events import (
    EpochEvent,
    EvalEvent,
    Event,
    FailedEvent,
    FinishedEvent,
    StepEvent,
    TestEvent,
    WarningEvent,
)
from engine.training.health import PROBE, HealthMonitor
from engine.training.health import keep as keep_health
from engine.training.history import History, Position, format_duration

__all__ = [
    "StepEvent",
    "EpochEvent",
    "EvalEvent",
    "WarningEvent",
    "FinishedEvent",
    "FailedEvent",
    "Event",
    "History",
    "TrainingRun",
    "evaluate",
    "epoch_order",
    "format_duration",
    "not_learning",
]


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The shuffled sample order of one epoch: a function of (seed, epoch) alone, so resuming is exact."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def evaluate(network: Network, x, y_np: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(mean loss, accuracy, logits) on prepared inputs ``x`` with NumPy labels."""
    logits = network.logits(x)
    if len(y_np) == 0:
        return float("nan"), float("nan"), logits
    return cross_entropy(logits, y_np), float((logits.argmax(1) == y_np).mean()), logits


def not_learning(low: float, high: float, n_classes: int) -> bool:
    """True if every step loss of an epoch lay within 1 % of ln C, the loss of a uniform guess."""
    chance = math.log(n_classes)
    return abs(low - chance) <= 0.01 * chance and abs(high - chance) <= 0.01 * chance


def not_learning_message(c: int, e: int) -> str:
    return _(
        "the loss stayed at ln {c} = {v} (a uniform guess over {c} classes) for all of epoch {e}: "
        "the model is not learning. Likely causes: a learning rate too high or too low, weight decay "
        "too strong, or dead units from the initialisation."
    ).format(c=c, v=f"{math.log(c):.3f}", e=e)


def resolve_inputs(config: TrainConfig, dataset: Dataset) -> TrainConfig:
    """``config`` with its input standardisation measured on the training split when it asks
    for the data's own (``standardize`` with std 0); stored with the run, so the model applies
    the same numbers to every image it sees later."""
    if config.input_norm != "standardize" or config.input_std > 0:
        return config
    mean, std = input_stats(dataset.train.x)
    return dataclasses.replace(config, input_mean=round(mean, 6), input_std=round(max(std, 1e-6), 6))


class TrainingRun:
    """Train ``network`` (new, or resumed from a checkpoint) on ``dataset`` under ``config``."""

    def __init__(
        self,
        config: TrainConfig,
        dataset: Dataset,
        network: Network | None = None,
        history: History | None = None,
        health: bool = True,
        *,
        max_steps: int | None = None,
        controls: tuple | None = None,
    ):
        """``max_steps``: stop after that many steps (the Playground's one step). ``controls``: the
        (stop, resume) events to obey, e.g. process-shared ones when the run is in a worker."""
        self.config = resolve_inputs(config.validate(), dataset)
        self.dataset = dataset
        self.network = network or build_network(self.config, dataset.in_features, len(dataset.classes))
        self.history = history or History()
        self.best_weights: list[np.ndarray] | None = None
        self.health = health  # collect layer health (HealthEvent) every few steps
        self.health_seconds = 0.0  # the time those collections took
        self.max_steps = max_steps
        self._stop, self._resume = controls or (threading.Event(), threading.Event())
        self._resume.set()

    # -- control (any thread) -----------------------------------------------------
    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def stop(self) -> None:
        self._stop.set()
        self._resume.set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    @property
    def first_layer(self) -> np.ndarray | None:
        """The first layer's weights now (for the Weights view)."""
        return self.network.weights()[0]

    # -- the run ------------------------------------------------------------------
    def events(self):
        """Train, yielding events; ends with one FinishedEvent or FailedEvent.

        Continues exactly where the history stopped: after its last epoch, or at the step after
        ``history.position`` when the last run stopped mid-epoch.
        """
        loop = _Loop(self)
        for epoch in range(loop.start_epoch, self.config.epochs + 1):
            failed = yield from loop.epoch_steps(epoch)
            if failed:
                return
            if loop.step < loop.steps:  # stopped mid-epoch: the position says so, the epoch is not recorded
                break
            yield from loop.end_of_epoch(epoch)
            if self._stop.is_set():
                break
        yield loop.finished()

    def event_batches(self):
        """The events one at a time, as one-event batches (a hosted run's batches are larger)."""
        for ev in self.events():
            yield [ev]

    def run(self, on_event=None) -> Event:
        """Consume :meth:`events`, calling ``on_event`` for each; returns the last event."""
        last = None
        for last in self.events():
            if on_event:
                on_event(last)
        return last


class _Loop:
    """The state of one :meth:`TrainingRun.events`: the prepared data, where training stands (epoch,
    step, global step, clock), the last good weights and the best validation, and this epoch's sums.
    Its generators yield the run's events; the run's controls (pause, stop, max steps) are honoured
    after each step's events."""

    def __init__(self, run: TrainingRun):
        self.run = run
        c, net, ds, hist = run.config, run.network, run.dataset, run.history
        self.c, self.net, self.ds, self.hist = c, net, ds, hist
        net.configure_threads()
        self.x_train = net.prepare(normalize(ds.train.x, c))
        self.y_train = net.prepare_labels(ds.train.y)
        self.x_val = net.prepare(normalize(ds.val.x, c)) if len(ds.val) else None
        # no validation split: the test split is reported after each epoch instead, as the MNIST course does
        self.x_each = net.prepare(normalize(ds.test.x, c)) if self.x_val is None and len(ds.test) else None
        self.n, self.bs = len(ds.train.y), c.batch_size
        self.steps = max(1, -(-self.n // self.bs))
        self.pos = pos = hist.position
        self.start_epoch = pos.epoch if pos else hist.epochs_completed + 1
        self.t0 = time.perf_counter() - hist.seconds  # a resumed run's clock goes on from where it stopped
        self.epoch_times: list[float] = []
        self.global_step = (self.start_epoch - 1) * self.steps + (pos.step if pos else 0)
        self.epoch, self.step = self.start_epoch - 1, self.steps
        self.good_weights = net.weights()
        self.best = hist.best
        self.warned = self.warned_loss = False
        self.monitor = None
        if run.health and self.n:
            probe = slice(0, min(PROBE, self.n))
            # at least one collection an epoch, however slow collecting is on a busy machine
            self.monitor = HealthMonitor(c.act, normalize(ds.train.x[probe], c), ds.train.y[probe], at_most=self.steps)
            self.monitor.next_step = self.global_step + 1
        self.steps_run, self.t_run = 0, time.perf_counter()

    # -- one epoch's steps -------------------------------------------------------------------------
    def epoch_steps(self, epoch: int):
        """This epoch's steps (from where a stopped run left it); returns True if the run failed."""
        pos = self.pos
        self.epoch, self.te = epoch, time.perf_counter()
        self.first, self.loss_sum, self.correct, self.seen = 1, 0.0, 0, 0
        self.inf_seen = 0  # samples of steps taken past an infinite loss (not in the mean)
        if pos and pos.epoch == epoch:
            self.first, self.loss_sum, self.correct, self.seen = pos.step + 1, pos.loss_sum, pos.correct, pos.seen
        self.low, self.high = math.inf, -math.inf
        order = epoch_order(self.c.seed, epoch, self.n)
        self.step = self.first - 1
        for step in range(self.first, self.steps + 1):
            self.step = step
            failed = yield from self._one_step(order[(step - 1) * self.bs : step * self.bs])
            if failed:
                return True
            self._wait_if_paused()
            if self.run._stop.is_set():
                break
        return False

    def _one_step(self, idx):
        """One step on the samples ``idx``: its warning, failure, step and health events; returns True
        if it diverged (the epoch undone)."""
        net, hist, epoch, step = self.net, self.hist, self.epoch, self.step
        monitor = self.monitor
        before = net.weights() if monitor is not None and monitor.due(self.global_step + 1) else None
        loss, n_correct = net.train_step(*net.batch(self.x_train, self.y_train, idx))
        past = not math.isfinite(loss) and net.stepped_past_nonfinite_loss
        if past and not self.warned_loss:
            self.warned_loss = True
            yield WarningEvent(
                epoch,
                _(
                    "your loss is {loss} at epoch {epoch} step {step} while every gradient is finite: "
                    "the log of a probability that underflowed to 0. Training goes on (the gradients "
                    "are what it uses); compute log-softmax, z − max − log Σ exp(z − max), for a finite loss"
                ).format(loss=loss, epoch=epoch, step=step),
            )
        if not math.isfinite(loss) and not past:
            yield self._diverged(loss)
            return True
        self.global_step += 1
        if past:  # a step taken past an infinite loss: counted, its loss not averaged in
            self.inf_seen += len(idx)
        else:
            self.loss_sum += loss * len(idx)
            self.low, self.high = min(self.low, loss), max(self.high, loss)
        self.correct += n_correct
        self.seen += len(idx)
        hist.step_loss.append(loss)
        hist.position = Position(epoch, step, self.loss_sum, self.correct, self.seen)
        now = time.perf_counter()
        yield StepEvent(
            epoch, step, self.steps, self.global_step, loss, now - self.t0, self.seen / max(now - self.te, 1e-9)
        )
        self.steps_run += 1
        if self.run.max_steps is not None and self.steps_run >= self.run.max_steps:
            self.run._stop.set()  # honoured after this step's events
        if before is not None:
            per_step = (time.perf_counter() - self.t_run - monitor.spent) / self.steps_run
            hev = monitor.collect(before, net.weights(), self.global_step, epoch - 1 + step / self.steps, per_step)
            keep_health(hist.health, hev.to_dict())
            self.run.health_seconds = monitor.spent
            yield hev
        return False

    def _diverged(self, loss: float) -> FailedEvent:
        """Undo this epoch (weights, position and its step losses) and say where it diverged."""
        epoch, step, pos, hist = self.epoch, self.step, self.pos, self.hist
        self.net.set_weights(self.good_weights)
        resumed_here = pos is not None and pos.epoch == epoch
        hist.position = pos if resumed_here else None
        del hist.step_loss[len(hist.step_loss) - (step - self.first) :]
        if resumed_here or epoch == self.start_epoch:
            reason = _(
                "diverged at epoch {epoch} step {step}: loss is {loss} — lower the learning rate "
                "(weights restored to where this run started)"
            )
        else:
            reason = _(
                "diverged at epoch {epoch} step {step}: loss is {loss} — lower the learning rate "
                "(weights restored to the end of epoch {previous})"
            )
        return FailedEvent(epoch, step, reason.format(epoch=epoch, step=step, loss=loss, previous=epoch - 1))

    def _wait_if_paused(self) -> None:
        if not self.run._resume.is_set():
            paused_at = time.perf_counter()
            self.run._resume.wait()
            self.te += time.perf_counter() - paused_at  # a pause is no one's training time
            self.t0 += time.perf_counter() - paused_at

    # -- after an epoch ----------------------------------------------------------------------------
    def end_of_epoch(self, epoch: int):
        """The epoch recorded and said; the not-learning warning; validation (or the test split)."""
        c, hist, n = self.c, self.hist, self.n
        hist.position = None
        self.epoch_times.append(time.perf_counter() - self.te)
        hist.epoch.append(epoch)
        mean_loss = self.loss_sum / (n - self.inf_seen) if n > self.inf_seen else math.inf
        hist.train_loss.append(mean_loss)
        hist.train_acc.append(self.correct / n)
        hist.seconds = time.perf_counter() - self.t0
        eta = float(np.mean(self.epoch_times[-5:])) * (c.epochs - epoch)
        yield EpochEvent(epoch, c.epochs, mean_loss, self.correct / n, time.perf_counter() - self.t0, eta)
        if not self.warned and self.first == 1 and not_learning(self.low, self.high, len(self.ds.classes)):
            self.warned = True
            yield WarningEvent(epoch, not_learning_message(len(self.ds.classes), epoch))
        if np.isfinite(self.net.logits(self.x_train[:256])).all():  # finite outputs, not merely finite weights
            self.good_weights = self.net.weights()
        due = epoch % c.val_interval == 0 or epoch == c.epochs
        if self.x_val is not None and due:
            yield self._validate(epoch)
        if self.x_each is not None and due:
            each_loss, each_acc, _counts = evaluate(self.net, self.x_each, self.ds.test.y)
            hist.test_epoch.append(epoch)
            hist.test_epoch_acc.append(each_acc)
            yield TestEvent(epoch, each_loss, each_acc)

    def _validate(self, epoch: int) -> EvalEvent:
        hist = self.hist
        val_loss, val_acc, _counts = evaluate(self.net, self.x_val, self.ds.val.y)
        hist.val_epoch.append(epoch)
        hist.val_loss.append(val_loss)
        hist.val_acc.append(val_acc)
        if self.best is None or val_acc > self.best[1]:
            self.best = (epoch, val_acc)
            self.run.best_weights = self.good_weights
        return EvalEvent(epoch, val_loss, val_acc, self.best[0], self.best[1])

    # -- the end -----------------------------------------------------------------------------------
    def finished(self) -> FinishedEvent:
        """The test split evaluated (with the final weights, and with the best validation's)."""
        net, ds, hist, best, run = self.net, self.ds, self.hist, self.best, self.run
        test_loss = test_acc = best_test_acc = None
        if len(ds.test):
            x_test = net.prepare(normalize(ds.test.x, self.c))
            test_loss, test_acc, _counts = evaluate(net, x_test, ds.test.y)
            hist.test_loss, hist.test_acc = test_loss, test_acc
            at_best = best is not None and best[0] == self.epoch and self.step == self.steps
            if run.best_weights is not None and best is not None and not at_best:
                final = net.weights()
                net.set_weights(run.best_weights)
                best_test_acc = evaluate(net, x_test, ds.test.y)[1]
                net.set_weights(final)
            elif at_best:
                best_test_acc = test_acc
        hist.seconds = time.perf_counter() - self.t0
        return FinishedEvent(
            self.epoch,
            test_loss,
            test_acc,
            run._stop.is_set(),
            hist.seconds,
            best[0] if best else None,
            best_test_acc,
            hist.epochs_completed,
            self.step,
            self.steps,
        )
