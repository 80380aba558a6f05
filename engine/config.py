"""The hyperparameters of a training run, its presets, and validation with messages a user can act on.

This module is the bottom layer of the engine: it imports neither torch nor NumPy.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from engine.errors import UserError
from engine.i18n import N_, _, translated

OPTIMIZERS = ("sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "identity")
ENGINES = ("torch", "numpy", "user")  # user: the user's own Functions/operators, in a worker
INITS = ("he", "xavier", "normal", "uniform")
# How pixels become inputs: the letters course's (x/255 − 0.5)/0.5, plain x/255, or standardised
# (x/255 − mean)/std as torchvision's Normalize (the MNIST course: mean 0.1307, std 0.3081).
INPUT_NORMS = ("minus-one-one", "zero-one", "standardize")
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
LOSS_REDUCTIONS = ("mean", "sum")
PRECISIONS = ("float32", "float64")
# Optimizers whose update uses momentum (the GUI shows the field only for these).
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")
# What a network may hold at most: far beyond any MLP the courses train (1024→4096→4096→26 is 21M),
# small enough that a typo (65536,65536) is refused before anything is allocated.
MAX_PARAMETERS = 64_000_000
MAX_HIDDEN = 65536


def parse_hidden_sizes(text: str | list | tuple) -> list[int]:
    """``"64,32"`` or ``[64, 32]`` → ``[64, 32]``; a clear message for anything else."""
    if isinstance(text, (list, tuple)):
        items = list(text)
    else:
        items = [t.strip() for t in str(text).replace(" ", ",").split(",") if t.strip()]
    if not items:
        raise UserError(_("hidden sizes: give at least one layer size, e.g. 64 or 128,64"))
    if len(items) > 64:
        raise UserError(_("hidden sizes: {n_items} layers is too many (at most 64)").format(n_items=len(items)))
    sizes = []
    for item in items:
        try:
            if isinstance(item, bool) or (isinstance(item, float) and not item.is_integer()):
                raise ValueError
            value = int(str(item)) if not isinstance(item, (int, float)) else int(item)
        except (ValueError, OverflowError):
            raise UserError(_("hidden sizes: {item!r} is not a whole number").format(item=item)) from None
        if value < 1:
            raise UserError(_("hidden sizes: {value} must be at least 1").format(value=value))
        if value > MAX_HIDDEN:
            raise UserError(
                _("hidden sizes: {value} is too large (at most {max_hidden})").format(
                    value=value, max_hidden=MAX_HIDDEN
                )
            )
        sizes.append(value)
    return sizes


@dataclass
class TrainConfig:
    """Every hyperparameter the GUI and CLI offer. The defaults are the ``letters`` preset's.

    ``init``: ``he`` (He-normal into relu, Xavier elsewhere), ``xavier``, ``normal`` = N(0, 1)
    as the letters course's ``torch.randn``, or ``uniform`` = U(±1/√fan_in), PyTorch's
    ``nn.Linear`` default (the MNIST course's). ``bias``: False for a bias-free MLP (the MNIST
    course's). ``input_norm``: see :data:`INPUT_NORMS`; with ``standardize``, ``input_mean`` and
    ``input_std`` (0: the training split's own, measured when the run starts and stored).
    ``threads``: CPU threads a run computes with (part of its settings: the same settings and
    seed give the same numbers on a 2- or a 16-core machine). ``precision``: ``float32``, or ``float64``
    as the MNIST course's NumPy loop computes (its lr-0.5 run rides out loss spikes that overflow
    float32). ``loss_reduction``: ``mean`` (gradient of the
    batch-mean loss) or ``sum`` (the gradient of the summed loss: the letters course's
    cross-entropy backward omits the 1/N). ``val_split`` and ``split_seed`` decide the split of
    layouts without a fixed one; ``seed`` decides the initial weights and the batch order.
    """

    hidden: list[int] = field(default_factory=lambda: [64])
    act: str = "relu"
    optim: str = "adamw"
    lr: float = 2e-3
    momentum: float = 0.0
    weight_decay: float = 0.15
    batch_size: int = 8
    epochs: int = 50
    val_interval: int = 1
    engine: str = "torch"
    seed: int = 0
    device: str = "cpu"
    init: str = "he"
    loss_reduction: str = "mean"
    val_split: float = 0.1
    split_seed: int = 0
    preset: str = "letters"
    functions: list[str] = field(default_factory=list)  # the user's files, for engine "user"
    function_roles: str = ""  # "Class=role,…": the user's corrections of the roles found
    input_norm: str = "minus-one-one"
    input_mean: float = 0.0
    input_std: float = 0.0
    bias: bool = True
    threads: int = 1
    precision: str = "float32"

    def validate(self) -> TrainConfig:
        """Return a normalised copy, or raise :class:`UserError` naming the bad value."""
        c = dataclasses.replace(self, hidden=parse_hidden_sizes(self.hidden))
        _check_choices(c)
        _check_numbers(c)
        _check_counts(c)
        _check_engine(c)
        if not isinstance(c.preset, str):
            c.preset = ""
        return c

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Known keys only; a checkpoint written before a field existed gets the value that
        reproduces what it did then (e.g. rmsprop's momentum was given explicitly)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def summary(self, in_features: int, n_classes: int) -> str:
        """``1024 → 64 → 26, relu``."""
        sizes = [in_features, *parse_hidden_sizes(self.hidden), n_classes]
        return " → ".join(map(str, sizes)) + f", {self.act}"

    def auto_name(self) -> str:
        """A run's name made from what distinguishes it: ``adam lr 2e-3 wd 0.15 · 64 relu · 50 ep``
        (and the engine when it is not torch, "no bias" for a bias-free net): runs of other
        lengths or engines no longer share one name in the Runs table and the legends."""

        def num(v: float) -> str:
            text = f"{v:g}"
            if "e" in text:
                mant, exp = text.split("e")
                text = f"{mant}e{int(exp)}"
            return text

        parts = [self.optim, f"lr {num(self.lr)}"]
        if self.weight_decay:
            parts.append(f"wd {num(self.weight_decay)}")
        if self.momentum and self.optim in MOMENTUM_OPTIMIZERS:
            parts.append(f"m {num(self.momentum)}")
        hidden = ",".join(map(str, parse_hidden_sizes(self.hidden)))
        tail = [f"{self.epochs} ep"]
        if self.engine != "torch":
            tail.append(self.engine)
        if not self.bias:
            tail.append("no bias")
        if self.precision != "float32":
            tail.append(self.precision)
        return " ".join(parts) + f" · {hidden} {self.act} · " + " · ".join(tail)

    def effective_lines(self) -> list[str]:
        """Every hyperparameter as ``name = value``, in a fixed order (printed before training)."""
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "hidden":
                v = ",".join(map(str, v))
            elif isinstance(v, float):
                v = f"{v:g}"
            out.append(f"{f.name} = {v}")
        return out


CHOICES = (
    ("act", ACTIVATIONS),
    ("optim", OPTIMIZERS),
    ("engine", ENGINES),
    ("init", INITS),
    ("loss_reduction", LOSS_REDUCTIONS),
    ("input_norm", INPUT_NORMS),
    ("precision", PRECISIONS),
)
COUNTS = (("batch_size", 1), ("epochs", 1), ("val_interval", 1), ("seed", 0), ("split_seed", 0), ("threads", 1))


def _check_choices(c: TrainConfig) -> None:
    """Each named choice is one of its options (case aside)."""
    for name, allowed in CHOICES:
        value = getattr(c, name)
        if not isinstance(value, str) or value.lower() not in allowed:
            raise UserError(
                _("{setting}: unknown {value!r}; choose one of {allowed}").format(
                    setting=translated(_LABELS[name]), value=value, allowed=", ".join(allowed)
                )
            )
        setattr(c, name, value.lower())


def _check_numbers(c: TrainConfig) -> None:
    """The real-valued settings: finite, each in its range."""
    for name in ("lr", "momentum", "weight_decay", "val_split", "input_mean", "input_std"):
        value = getattr(c, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise UserError(
                _("{setting}: {value!r} is not a finite number").format(setting=translated(_LABELS[name]), value=value)
            )
        setattr(c, name, float(value))
    if c.lr <= 0:
        raise UserError(_("learning rate: {lr} must be greater than 0").format(lr=c.lr))
    if c.lr > 100:
        raise UserError(_("learning rate: {lr} is far too large (at most 100)").format(lr=c.lr))
    if not 0 <= c.momentum < 1:
        raise UserError(_("momentum: {momentum} must be in [0, 1)").format(momentum=c.momentum))
    if c.weight_decay < 0:
        raise UserError(_("weight decay: {weight_decay} must not be negative").format(weight_decay=c.weight_decay))
    if c.input_std < 0 or not 0 <= c.input_mean <= 1:
        raise UserError(
            _(
                "input standardisation: mean {input_mean:g} must be in [0, 1] and std {input_std:g} positive (on "
                "the x/255 scale, e.g. MNIST's 0.1307 and 0.3081; 0: measured on the training split)"
            ).format(input_mean=c.input_mean, input_std=c.input_std)
        )
    if not isinstance(c.bias, bool):
        raise UserError(_("bias: {bias!r} is not true or false").format(bias=c.bias))
    if not 0 <= c.val_split <= 0.5:
        raise UserError(_("validation split: {val_split} must be in [0, 0.5]").format(val_split=c.val_split))


def _check_counts(c: TrainConfig) -> None:
    """The whole-number settings: at least their minimum, not absurdly large."""
    for name, low in COUNTS:
        value = getattr(c, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise UserError(
                _("{setting}: {value!r} must be a whole number ≥ {low}").format(
                    setting=translated(_LABELS[name]), value=value, low=low
                )
            )
        if value > (256 if name == "threads" else 2**31):
            raise UserError(_("{setting}: {value} is too large").format(setting=translated(_LABELS[name]), value=value))


def _check_engine(c: TrainConfig) -> None:
    """The device, and the user engine's functions."""
    if not isinstance(c.device, str) or not c.device:
        raise UserError(_("device: {device!r} is not a device name").format(device=c.device))
    if c.engine in ("numpy", "user") and c.device != "cpu":
        raise UserError(_("device: the {engine} engine runs on the CPU only").format(engine=c.engine))
    if not isinstance(c.functions, (list, tuple)) or not all(isinstance(f, str) for f in c.functions):
        raise UserError(_("functions: {functions!r} is not a list of files").format(functions=c.functions))
    c.functions = list(c.functions)
    if c.engine == "user" and not c.functions:
        raise UserError(
            _(
                "engine: 'user' trains with your own functions: load them first (File ▸ Load Your Functions…, or "
                "--functions FILE.py)"
            )
        )
    if not isinstance(c.function_roles, str):
        raise UserError(_("function roles: {function_roles!r} is not text").format(function_roles=c.function_roles))


_LABELS = {
    "act": N_("activation"),
    "optim": N_("optimizer"),
    "engine": N_("engine"),
    "init": N_("init"),
    "loss_reduction": N_("loss reduction"),
    "lr": N_("learning rate"),
    "momentum": N_("momentum"),
    "weight_decay": N_("weight decay"),
    "val_split": N_("validation split"),
    "batch_size": N_("batch size"),
    "epochs": N_("epochs"),
    "val_interval": N_("validation interval"),
    "seed": N_("seed"),
    "split_seed": N_("split seed"),
    "input_norm": N_("input normalisation"),
    "input_mean": N_("input mean"),
    "input_std": N_("input std"),
    "threads": N_("threads"),
    "precision": N_("precision"),
}

# Each preset names every hyperparameter that matters, so none leaks from another dataset.
PRESETS: dict[str, dict] = {
    # The letters course's exact pipeline: N(0,1) init, the summed-loss gradient, torch's L2 Adam.
    "letters-course": dict(
        hidden=[64],
        act="relu",
        optim="adam",
        lr=2e-3,
        momentum=0.0,
        weight_decay=0.15,
        batch_size=8,
        epochs=50,
        init="normal",
        loss_reduction="sum",
        val_split=0.1,
        input_norm="minus-one-one",
        bias=True,
        precision="float32",
    ),
    # Our best settings for 32×32 letters: He init, batch-mean gradient, decoupled decay (AdamW).
    "letters": dict(
        hidden=[64],
        act="relu",
        optim="adamw",
        lr=2e-3,
        momentum=0.0,
        weight_decay=0.15,
        batch_size=8,
        epochs=50,
        init="he",
        loss_reduction="mean",
        val_split=0.1,
        input_norm="minus-one-one",
        bias=True,
        precision="float32",
    ),
    # The MNIST course's exact pipeline: 784→256→64→10 without biases, nn.Linear's uniform init,
    # inputs standardised as torchvision's Normalize((0.1307,), (0.3081,)), mean NLL, plain SGD
    # lr 0.1, batch 128, 10 epochs, all 60,000 training images (no validation split).
    "mnist-course": dict(
        hidden=[256, 64],
        act="relu",
        optim="sgd",
        lr=0.1,
        momentum=0.0,
        weight_decay=0.0,
        batch_size=128,
        epochs=10,
        init="uniform",
        loss_reduction="mean",
        val_split=0.0,
        input_norm="standardize",
        input_mean=MNIST_MEAN,
        input_std=MNIST_STD,
        bias=False,
        precision="float64",
    ),
    # The MNIST course's sizes and optimizer with the studio's letters-style input scaling, He
    # init and biases: it does NOT reproduce the course's numbers (lower at lr 0.1, and it
    # collapses at lr 0.5); kept for comparison, mnist-course is the course.
    "mnist-fnn": dict(
        hidden=[256, 64],
        act="relu",
        optim="sgd",
        lr=0.1,
        momentum=0.0,
        weight_decay=0.0,
        batch_size=128,
        epochs=10,
        init="he",
        loss_reduction="mean",
        val_split=0.0,
        input_norm="minus-one-one",
        bias=True,
        precision="float32",
    ),
    # Anything else (folder per class, other IDX sets): a safe Adam start.
    "default": dict(
        hidden=[128],
        act="relu",
        optim="adam",
        lr=1e-3,
        momentum=0.0,
        weight_decay=0.0,
        batch_size=32,
        epochs=20,
        init="he",
        loss_reduction="mean",
        val_split=0.1,
        input_norm="minus-one-one",
        bias=True,
        precision="float32",
    ),
}
# The preset each kind of dataset starts from when none is chosen.
LAYOUT_PRESETS = {"builtin": "letters", "course": "letters", "idx": "mnist-course", "folders": "default"}


def preset_config(name: str, **overrides) -> TrainConfig:
    """The config of preset ``name`` with ``overrides`` (only the keys given) applied."""
    if name not in PRESETS:
        raise UserError(
            _("preset: unknown {name!r}; choose one of {presets}").format(name=name, presets=", ".join(PRESETS))
        )
    values = {"input_mean": 0.0, "input_std": 0.0, **PRESETS[name], "preset": name}
    unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise UserError(_("unknown hyperparameter(s): {keys}").format(keys=", ".join(sorted(unknown))))
    values.update(overrides)
    return TrainConfig(**values)


def parameter_count(in_features: int, hidden: list[int], n_classes: int) -> int:
    sizes = [in_features, *hidden, n_classes]
    return sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes) - 1))


def check_parameter_budget(in_features: int, hidden: list[int], n_classes: int, budget: int = MAX_PARAMETERS) -> int:
    """The parameter count, or a :class:`UserError` if it exceeds ``budget`` (before any allocation)."""
    n = parameter_count(in_features, hidden, n_classes)
    if n > budget:
        sizes = " → ".join(map(str, [in_features, *hidden, n_classes]))
        raise UserError(
            _("network {sizes}: {n:,} parameters is more than the limit of {budget:,}").format(
                sizes=sizes, n=n, budget=budget
            )
        )
    return n
