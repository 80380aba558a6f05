"""The hyperparameters of a training run, validated with messages a user can act on."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from engine.errors import UserError

OPTIMIZERS = ("sgd", "adam", "adagrad", "rmsprop", "adadelta")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "identity")
ENGINES = ("torch", "numpy")
# Optimizers whose update uses momentum (the GUI shows the field only for these).
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")


def parse_hidden_sizes(text: str | list | tuple) -> list[int]:
    """``"64,32"`` or ``[64, 32]`` → ``[64, 32]``; a clear message for anything else."""
    if isinstance(text, (list, tuple)):
        items = list(text)
    else:
        items = [t.strip() for t in str(text).replace(" ", ",").split(",") if t.strip()]
    if not items:
        raise UserError("hidden sizes: give at least one layer size, e.g. 64 or 128,64")
    sizes = []
    for item in items:
        try:
            if isinstance(item, float) and not item.is_integer():
                raise ValueError
            value = int(str(item)) if not isinstance(item, (int, float)) else int(item)
        except ValueError:
            raise UserError(f"hidden sizes: {item!r} is not a whole number") from None
        if value < 1:
            raise UserError(f"hidden sizes: {value} must be at least 1")
        if value > 65536:
            raise UserError(f"hidden sizes: {value} is too large (at most 65536)")
        sizes.append(value)
    return sizes


@dataclass
class TrainConfig:
    """Every hyperparameter the GUI and CLI offer. Defaults are the course's best settings."""

    hidden: list[int] = field(default_factory=lambda: [64])
    act: str = "relu"
    optim: str = "adam"
    lr: float = 2e-3
    momentum: float = 0.9
    weight_decay: float = 0.15
    batch_size: int = 8
    epochs: int = 50
    val_interval: int = 1
    engine: str = "torch"
    seed: int = 0
    device: str = "cpu"

    def validate(self) -> TrainConfig:
        """Return a normalised copy, or raise :class:`UserError` naming the bad value."""
        c = dataclasses.replace(self, hidden=parse_hidden_sizes(self.hidden))
        c.act, c.optim, c.engine = c.act.lower(), c.optim.lower(), c.engine.lower()
        if c.act not in ACTIVATIONS:
            raise UserError(f"activation: unknown {self.act!r}; choose one of {', '.join(ACTIVATIONS)}")
        if c.optim not in OPTIMIZERS:
            raise UserError(f"optimizer: unknown {self.optim!r}; choose one of {', '.join(OPTIMIZERS)}")
        if c.engine not in ENGINES:
            raise UserError(f"engine: unknown {self.engine!r}; choose torch or numpy")
        for name in ("lr", "momentum", "weight_decay"):
            value = getattr(c, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise UserError(f"{name.replace('_', ' ')}: {value!r} is not a finite number")
            setattr(c, name, float(value))
        if c.lr <= 0:
            raise UserError(f"learning rate: {c.lr} must be greater than 0")
        if c.lr > 100:
            raise UserError(f"learning rate: {c.lr} is far too large (at most 100)")
        if not 0 <= c.momentum < 1:
            raise UserError(f"momentum: {c.momentum} must be in [0, 1)")
        if c.weight_decay < 0:
            raise UserError(f"weight decay: {c.weight_decay} must not be negative")
        for name, low in (("batch_size", 1), ("epochs", 1), ("val_interval", 1), ("seed", 0)):
            value = getattr(c, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UserError(f"{name.replace('_', ' ')}: {value!r} must be a whole number ≥ {low}")
        if c.engine == "numpy" and c.device != "cpu":
            raise UserError("device: the numpy engine runs on the CPU only")
        return c

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def summary(self, in_features: int, n_classes: int) -> str:
        """``1024 → 64 → 26, relu``."""
        sizes = [in_features, *parse_hidden_sizes(self.hidden), n_classes]
        return " → ".join(map(str, sizes)) + f", {self.act}"


def parameter_count(in_features: int, hidden: list[int], n_classes: int) -> int:
    sizes = [in_features, *hidden, n_classes]
    return sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes) - 1))


def available_devices() -> list[str]:
    """``cpu`` plus ``cuda`` / ``mps`` where torch sees one."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices
