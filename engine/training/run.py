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
        c, net, ds, hist = self.config, self.network, self.dataset, self.history
        net.configure_threads()
        x_train = net.prepare(normalize(ds.train.x, c))
        y_train_np = ds.train.y
        y_train = net.prepare_labels(y_train_np)
        x_val = net.prepare(normalize(ds.val.x, c)) if len(ds.val) else None
        # no validation split: the test split is reported after each epoch instead, as the MNIST course does
        x_each = net.prepare(normalize(ds.test.x, c)) if x_val is None and len(ds.test) else None
        n, bs = len(y_train_np), c.batch_size
        steps = max(1, -(-n // bs))
        pos = hist.position
        start_epoch = pos.epoch if pos else hist.epochs_completed + 1
        t0 = time.perf_counter() - hist.seconds  # a resumed run's clock goes on from where it stopped
        epoch_times: list[float] = []
        global_step = (start_epoch - 1) * steps + (pos.step if pos else 0)
        epoch, step = start_epoch - 1, steps
        good_weights = net.weights()
        best = hist.best
        warned = warned_loss = False
        monitor = None
        if self.health and n:
            probe = slice(0, min(PROBE, n))
            # at least one collection an epoch, however slow collecting is on a busy machine
            monitor = HealthMonitor(c.act, normalize(ds.train.x[probe], c), y_train_np[probe], at_most=steps)
            monitor.next_step = global_step + 1
        steps_run, t_run = 0, time.perf_counter()
        for epoch in range(start_epoch, c.epochs + 1):
            te = time.perf_counter()
            order = epoch_order(c.seed, epoch, n)
            first = 1
            loss_sum, correct, seen = 0.0, 0, 0
            inf_seen = 0  # samples of steps taken past an infinite loss (not in the mean)
            if pos and pos.epoch == epoch:
                first, loss_sum, correct, seen = pos.step + 1, pos.loss_sum, pos.correct, pos.seen
            low, high = math.inf, -math.inf
            step = first - 1
            for step in range(first, steps + 1):
                idx = order[(step - 1) * bs : step * bs]
                before = net.weights() if monitor is not None and monitor.due(global_step + 1) else None
                loss, n_correct = net.train_step(*net.batch(x_train, y_train, idx))
                past = not math.isfinite(loss) and net.stepped_past_nonfinite_loss
                if past and not warned_loss:
                    warned_loss = True
                    yield WarningEvent(
                        epoch,
                        _(
                            "your loss is {loss} at epoch {epoch} step {step} while every gradient is finite: "
                            "the log of a probability that underflowed to 0. Training goes on (the gradients "
                            "are what it uses); compute log-softmax, z − max − log Σ exp(z − max), for a finite loss"
                        ).format(loss=loss, epoch=epoch, step=step),
                    )
                if not math.isfinite(loss) and not past:  # undo this epoch: weights, position and its step losses
                    net.set_weights(good_weights)
                    resumed_here = pos is not None and pos.epoch == epoch
                    hist.position = pos if resumed_here else None
                    del hist.step_loss[len(hist.step_loss) - (step - first) :]
                    if resumed_here or epoch == start_epoch:
                        reason = _(
                            "diverged at epoch {epoch} step {step}: loss is {loss} — lower the learning rate "
                            "(weights restored to where this run started)"
                        )
                    else:
                        reason = _(
                            "diverged at epoch {epoch} step {step}: loss is {loss} — lower the learning rate "
                            "(weights restored to the end of epoch {previous})"
                        )
                    yield FailedEvent(epoch, step, reason.format(epoch=epoch, step=step, loss=loss, previous=epoch - 1))
                    return
                global_step += 1
                if past:  # a step taken past an infinite loss: counted, its loss not averaged in
                    inf_seen += len(idx)
                else:
                    loss_sum += loss * len(idx)
                    low, high = min(low, loss), max(high, loss)
                correct += n_correct
                seen += len(idx)
                hist.step_loss.append(loss)
                hist.position = Position(epoch, step, loss_sum, correct, seen)
                elapsed = time.perf_counter() - t0
                yield StepEvent(
                    epoch, step, steps, global_step, loss, elapsed, seen / max(time.perf_counter() - te, 1e-9)
                )
                steps_run += 1
                if self.max_steps is not None and steps_run >= self.max_steps:
                    self._stop.set()  # honoured below, after this step's events
                if before is not None:
                    per_step = (time.perf_counter() - t_run - monitor.spent) / steps_run
                    hev = monitor.collect(before, net.weights(), global_step, epoch - 1 + step / steps, per_step)
                    keep_health(hist.health, hev.to_dict())
                    self.health_seconds = monitor.spent
                    yield hev
                if not self._resume.is_set():
                    paused_at = time.perf_counter()
                    self._resume.wait()
                    te += time.perf_counter() - paused_at
                    t0 += time.perf_counter() - paused_at
                if self._stop.is_set():
                    break
            if step < steps:  # stopped mid-epoch: the position says so, the epoch is not recorded
                break
            hist.position = None
            epoch_times.append(time.perf_counter() - te)
            hist.epoch.append(epoch)
            mean_loss = loss_sum / (n - inf_seen) if n > inf_seen else math.inf
            hist.train_loss.append(mean_loss)
            hist.train_acc.append(correct / n)
            hist.seconds = time.perf_counter() - t0
            eta = float(np.mean(epoch_times[-5:])) * (c.epochs - epoch)
            yield EpochEvent(epoch, c.epochs, mean_loss, correct / n, time.perf_counter() - t0, eta)
            if not warned and first == 1 and not_learning(low, high, len(ds.classes)):
                warned = True
                yield WarningEvent(epoch, not_learning_message(len(ds.classes), epoch))
            if np.isfinite(net.logits(x_train[:256])).all():  # finite outputs, not merely finite weights
                good_weights = net.weights()
            if x_val is not None and (epoch % c.val_interval == 0 or epoch == c.epochs):
                val_loss, val_acc, _counts = evaluate(net, x_val, ds.val.y)
                hist.val_epoch.append(epoch)
                hist.val_loss.append(val_loss)
                hist.val_acc.append(val_acc)
                if best is None or val_acc > best[1]:
                    best = (epoch, val_acc)
                    self.best_weights = good_weights
                yield EvalEvent(epoch, val_loss, val_acc, best[0], best[1])
            if x_each is not None and (epoch % c.val_interval == 0 or epoch == c.epochs):
                each_loss, each_acc, _counts = evaluate(net, x_each, ds.test.y)
                hist.test_epoch.append(epoch)
                hist.test_epoch_acc.append(each_acc)
                yield TestEvent(epoch, each_loss, each_acc)
            if self._stop.is_set():
                break
        test_loss = test_acc = best_test_acc = None
        if len(ds.test):
            x_test = net.prepare(normalize(ds.test.x, c))
            test_loss, test_acc, _counts = evaluate(net, x_test, ds.test.y)
            hist.test_loss, hist.test_acc = test_loss, test_acc
            at_best = best is not None and best[0] == epoch and step == steps
            if self.best_weights is not None and best is not None and not at_best:
                final = net.weights()
                net.set_weights(self.best_weights)
                best_test_acc = evaluate(net, x_test, ds.test.y)[1]
                net.set_weights(final)
            elif at_best:
                best_test_acc = test_acc
        hist.seconds = time.perf_counter() - t0
        yield FinishedEvent(
            epoch,
            test_loss,
            test_acc,
            self._stop.is_set(),
            hist.seconds,
            best[0] if best else None,
            best_test_acc,
            hist.epochs_completed,
            step,
            steps,
        )

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
