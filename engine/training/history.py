"""A model's training history across resumed runs, and its exact position for resuming."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.i18n import _

MAX_ENTRIES = 20_000_000  # per list: more than any run records (20 M steps)


@dataclass
class Position:
    """Where a run stopped inside an epoch: ``step`` steps of ``epoch`` done, with the running sums
    of that epoch so its train loss and accuracy come out exactly as in a run that never stopped."""

    epoch: int
    step: int
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d) -> Position | None:
        if not isinstance(d, dict):
            return None
        try:
            p = cls(
                int(d["epoch"]),
                int(d["step"]),
                float(d.get("loss_sum", 0.0)),
                int(d.get("correct", 0)),
                int(d.get("seen", 0)),
            )
        except (KeyError, TypeError, ValueError, OverflowError):
            raise ValueError(f"position {d!r} is malformed") from None
        if p.epoch < 1 or p.step < 1 or p.seen < 0 or p.correct < 0 or not math.isfinite(p.loss_sum):
            raise ValueError(f"position {d!r} is out of range")
        return p


@dataclass
class History:
    """Per-epoch curves (and the per-step loss) of a model's whole life, across resumed runs.

    ``epoch`` lists completed epochs only; ``position`` is set when training stopped mid-epoch.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_epoch: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    test_loss: float | None = None
    test_acc: float | None = None
    test_epoch: list[int] = field(default_factory=list)  # without a validation split: test after each epoch
    test_epoch_acc: list[float] = field(default_factory=list)
    seconds: float = 0.0  # training time so far, pauses excluded: a resumed run's clock continues from here
    position: Position | None = None
    health: list = field(default_factory=list)  # layer-health records (engine.training.health), thinned

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "position"}
        d["position"] = self.position.to_dict() if self.position else None
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> History:
        """A history from a checkpoint; ``ValueError`` naming the key if anything is malformed."""
        h = cls()
        if d is None:
            return h
        if not isinstance(d, dict):
            raise ValueError("history is not a dictionary")
        for k in ("epoch", "val_epoch", "test_epoch"):
            setattr(h, k, _epochs(d, k))
        for k in ("train_loss", "train_acc", "val_loss", "val_acc", "step_loss", "test_epoch_acc"):
            setattr(h, k, _numbers(d, k))
        if not len(h.epoch) == len(h.train_loss) == len(h.train_acc):
            raise ValueError("history lists 'epoch', 'train_loss', 'train_acc' differ in length")
        if not len(h.val_epoch) == len(h.val_loss) == len(h.val_acc):
            raise ValueError("history lists 'val_epoch', 'val_loss', 'val_acc' differ in length")
        if len(h.test_epoch) != len(h.test_epoch_acc):
            raise ValueError("history lists 'test_epoch', 'test_epoch_acc' differ in length")
        for k in ("test_loss", "test_acc"):
            v = d.get(k)
            if v is not None and not isinstance(v, (int, float)):
                raise ValueError(f"history {k!r} is not a number")
            setattr(h, k, None if v is None else float(v))
        seconds = d.get("seconds", 0.0)
        h.seconds = float(seconds) if isinstance(seconds, (int, float)) and 0 <= seconds < 1e9 else 0.0
        h.position = Position.from_dict(d.get("position"))
        health = d.get("health", [])
        ok = isinstance(health, list) and all(isinstance(r, dict) and isinstance(r.get("layers"), list) for r in health)
        h.health = list(health) if ok else []  # statistics only: a malformed list is dropped, not fatal
        return h

    @property
    def epochs_completed(self) -> int:
        return self.epoch[-1] if self.epoch else 0

    @property
    def best(self) -> tuple[int, float] | None:
        if not self.val_acc:
            return None
        i = int(np.argmax(self.val_acc))
        return self.val_epoch[i], self.val_acc[i]

    def where(self) -> str:
        """``after epoch 3`` or ``at epoch 4, step 5`` (a partial epoch said as such)."""
        if self.position:
            return _("at epoch {epoch}, step {step} (epoch not finished)").format(
                epoch=self.position.epoch, step=self.position.step
            )
        return _("after epoch {epoch}").format(epoch=self.epochs_completed)


def format_duration(seconds: float) -> str:
    """``75`` → ``1:15``; ``3725`` → ``1:02:05``; ``–`` for an unknown (non-finite) time."""
    if not np.isfinite(seconds):
        return "–"
    s = int(round(max(0.0, seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _epochs(d: dict, k: str) -> list[int]:
    v = d.get(k, [])
    if not isinstance(v, (list, tuple)) or not all(isinstance(i, int) and i >= 1 for i in v):
        raise ValueError(f"history {k!r} is not a list of epoch numbers")
    return list(v)


def _numbers(d: dict, k: str) -> list[float]:
    v = d.get(k, [])
    try:  # the length a file claims is checked before anything is made of it (a stride-0
        n = len(v)  # tensor of 10⁸ entries is 4 bytes on disk and 4.9 GB as a list)
    except TypeError:
        raise ValueError(f"history {k!r} is not a list of numbers") from None
    if n > MAX_ENTRIES:
        raise ValueError(f"{n:,} entries in {k!r} is more than a run records (at most {MAX_ENTRIES:,})")
    if hasattr(v, "tolist"):
        v = v.tolist()
    if not isinstance(v, (list, tuple)) or not all(isinstance(i, (int, float)) for i in v):
        raise ValueError(f"history {k!r} is not a list of numbers")
    return [float(i) for i in v]
