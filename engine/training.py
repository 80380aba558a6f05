"""A training run as a stream of events, with pause, resume and stop from any thread.

``TrainingRun.events()`` is a generator yielding small frozen dataclasses: a
:class:`StepEvent` after every batch (so Pause and Stop answer within one
step), :class:`EpochEvent`, :class:`EvalEvent`, and finally exactly one of
:class:`FinishedEvent` or :class:`FailedEvent`. The CLI, the GUI's worker and
the tests all consume this same stream.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from engine.config import TrainConfig
from engine.data import Dataset
from engine.images import normalize
from engine.network import Network


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
class FinishedEvent:
    epoch: int
    test_loss: float | None
    test_acc: float | None
    stopped: bool
    elapsed: float
    best_epoch: int | None = None  # the best-validation epoch, and the test accuracy of its weights
    best_test_acc: float | None = None


@dataclass(frozen=True)
class FailedEvent:
    epoch: int
    step: int
    reason: str


Event = StepEvent | EpochEvent | EvalEvent | FinishedEvent | FailedEvent


@dataclass
class History:
    """Per-epoch curves (and the per-step loss) of a model's whole life, across resumed runs."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_epoch: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    test_loss: float | None = None
    test_acc: float | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict | None) -> History:
        h = cls()
        for k, v in (d or {}).items():
            if hasattr(h, k):
                setattr(h, k, list(v) if isinstance(v, (list, tuple)) else v)
        if hasattr(h.step_loss, "tolist"):
            h.step_loss = h.step_loss.tolist()
        return h

    @property
    def best(self) -> tuple[int, float] | None:
        if not self.val_acc:
            return None
        i = int(np.argmax(self.val_acc))
        return self.val_epoch[i], self.val_acc[i]


def format_duration(seconds: float) -> str:
    """``75`` → ``1:15``; ``3725`` → ``1:02:05``; ``–`` for an unknown (non-finite) time."""
    if not np.isfinite(seconds):
        return "–"
    s = int(round(max(0.0, seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The shuffled sample order of one epoch: a function of (seed, epoch) alone, so resuming is exact."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def evaluate(network: Network, x, y_np: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(mean loss, accuracy, logits) on prepared inputs ``x`` with NumPy labels."""
    logits = network.logits(x)
    if len(y_np) == 0:
        return float("nan"), float("nan"), logits
    z = logits - logits.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    loss = float(-logp[np.arange(len(y_np)), y_np].mean())
    acc = float((logits.argmax(1) == y_np).mean())
    return loss, acc, logits


class TrainingRun:
    """Train ``network`` (new, or resumed from a checkpoint) on ``dataset`` under ``config``."""

    def __init__(self, config: TrainConfig, dataset: Dataset, network: Network | None = None,
                 history: History | None = None):
        self.config = config.validate()
        self.dataset = dataset
        self.network = network or Network(self.config, dataset.in_features, len(dataset.classes))
        self.history = history or History()
        self.best_weights: list[np.ndarray] | None = None
        self._stop = threading.Event()
        self._resume = threading.Event()
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

    # -- the run ------------------------------------------------------------------
    def events(self):
        """Train, yielding events; ends with one FinishedEvent or FailedEvent."""
        c, net, ds, hist = self.config, self.network, self.dataset, self.history
        net.configure_threads()
        x_train = net.prepare(normalize(ds.train.x))
        y_train_np = ds.train.y
        y_train = net.prepare_labels(y_train_np)
        x_val = net.prepare(normalize(ds.val.x)) if len(ds.val) else None
        n, bs = len(y_train_np), c.batch_size
        steps = max(1, -(-n // bs))
        start_epoch = (hist.epoch[-1] if hist.epoch else 0) + 1
        t0 = time.perf_counter()
        epoch_times: list[float] = []
        global_step = (start_epoch - 1) * steps
        epoch = start_epoch - 1
        good_weights = net.weights()
        best = hist.best
        for epoch in range(start_epoch, c.epochs + 1):
            te = time.perf_counter()
            order = epoch_order(c.seed, epoch, n)
            loss_sum, correct, seen = 0.0, 0, 0
            for step in range(1, steps + 1):
                idx = order[(step - 1) * bs : step * bs]
                loss, n_correct = net.train_step(*net.batch(x_train, y_train, idx))
                if not np.isfinite(loss):
                    restored = ""
                    if not net.weights_finite():
                        net.set_weights(good_weights)
                        restored = f" (weights restored to the end of epoch {epoch - 1})"
                    yield FailedEvent(epoch, step, f"diverged at epoch {epoch} step {step}: loss is {loss}"
                                      f" — lower the learning rate{restored}")
                    return
                global_step += 1
                loss_sum += loss * len(idx)
                correct += n_correct
                seen += len(idx)
                hist.step_loss.append(loss)
                elapsed = time.perf_counter() - t0
                yield StepEvent(epoch, step, steps, global_step, loss, elapsed,
                                seen / max(time.perf_counter() - te, 1e-9))
                if not self._resume.is_set():
                    paused_at = time.perf_counter()
                    self._resume.wait()
                    te += time.perf_counter() - paused_at
                    t0 += time.perf_counter() - paused_at
                if self._stop.is_set():
                    break
            if seen < n:  # stopped mid-epoch: the partial epoch is not recorded
                break
            epoch_times.append(time.perf_counter() - te)
            hist.epoch.append(epoch)
            hist.train_loss.append(loss_sum / n)
            hist.train_acc.append(correct / n)
            eta = float(np.mean(epoch_times[-5:])) * (c.epochs - epoch)
            yield EpochEvent(epoch, c.epochs, loss_sum / n, correct / n, time.perf_counter() - t0, eta)
            good_weights = net.weights()
            if x_val is not None and (epoch % c.val_interval == 0 or epoch == c.epochs):
                val_loss, val_acc, _ = evaluate(net, x_val, ds.val.y)
                hist.val_epoch.append(epoch)
                hist.val_loss.append(val_loss)
                hist.val_acc.append(val_acc)
                if best is None or val_acc > best[1]:
                    best = (epoch, val_acc)
                    self.best_weights = good_weights
                yield EvalEvent(epoch, val_loss, val_acc, best[0], best[1])
            if self._stop.is_set():
                break
        test_loss = test_acc = best_test_acc = None
        if len(ds.test):
            x_test = net.prepare(normalize(ds.test.x))
            test_loss, test_acc, _ = evaluate(net, x_test, ds.test.y)
            hist.test_loss, hist.test_acc = test_loss, test_acc
            if self.best_weights is not None and best is not None and best[0] != epoch:
                final = net.weights()
                net.set_weights(self.best_weights)
                best_test_acc = evaluate(net, x_test, ds.test.y)[1]
                net.set_weights(final)
            elif best is not None and best[0] == epoch:
                best_test_acc = test_acc
        yield FinishedEvent(epoch, test_loss, test_acc, self._stop.is_set(), time.perf_counter() - t0,
                            best[0] if best else None, best_test_acc)

    def run(self, on_event=None) -> Event:
        """Consume :meth:`events`, calling ``on_event`` for each; returns the last event."""
        last = None
        for last in self.events():
            if on_event:
                on_event(last)
        return last
