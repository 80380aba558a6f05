"""Layer health while a network learns: gradient norms, update ratios, dead or saturated units,
activation statistics, and weight/gradient distributions, per linear layer.

Computed on a fixed probe batch (the first ``PROBE`` training images) in float32 NumPy from the
network's weights before and after one optimiser step, so it is the same for both engines and
costs no change to the training step itself. :class:`HealthMonitor` decides when: every ``k``
steps, with ``k`` re-chosen after each collection so collecting costs about ``BUDGET`` of the
training time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

from engine.i18n import _
from engine.model.blas import one_blas_thread
from engine.model.reference import forward_backward

PROBE = 128
BUDGET = 0.02  # the share of training time health collection may take (target: under 3 %)
MIN_EVERY, MAX_EVERY = 10, 2000
PERCENTILES = (0, 10, 25, 50, 75, 90, 100)
BINS = 30
VANISH, EXPLODE = 1e-7, 1e3
DEAD_WARN = 0.5
SATURATED = {"sigmoid": 0.02, "tanh": 0.98}  # sigmoid: y < s or y > 1 − s; tanh: |y| > s
MAX_KEPT = 400  # health records kept in a history (older ones thinned)


class Histogram(TypedDict):
    counts: list[int]
    edges: list[float]


class LayerHealth(TypedDict, total=False):
    """One linear layer's statistics in a collection. A mapping, not a class: it is stored as it
    is in the run store and in checkpoints' histories (JSON), and read back from there."""

    name: str  # "layer 1", "layer 2 (output)" (in the run's language)
    grad_norm: float  # ‖∂L/∂W‖ on the probe batch
    weight_norm: float
    update_ratio: float  # ‖W_after − W_before‖ / ‖W_before‖ for one optimiser step
    act_mean: float
    act_std: float
    dead: float | None  # share of ReLU units never active on the probe batch (hidden ReLU layers)
    saturated: float | None  # share of saturated sigmoid/tanh outputs (hidden layers)
    w_pct: list[float]  # the weights' percentiles (PERCENTILES)
    g_pct: list[float]  # the gradient's
    w_hist: Histogram  # only in collections with histograms
    g_hist: Histogram


class HealthRecord(TypedDict):
    """A :class:`HealthEvent` as stored and shown (``to_dict``)."""

    global_step: int
    epoch: float
    layers: list[LayerHealth]
    warnings: list[str]


@dataclass(frozen=True)
class HealthEvent:
    """One collection: per layer statistics (``layers``) and warnings in words."""

    global_step: int
    epoch: float  # fractional: epoch − 1 + step / steps per epoch
    layers: list[LayerHealth] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> HealthRecord:
        return {"global_step": self.global_step, "epoch": self.epoch, "layers": self.layers, "warnings": self.warnings}


def _sub(a: np.ndarray) -> np.ndarray:
    """An even subsample of at most ~2k values: a plot's accuracy, at a tenth of the cost on a
    1024×64 layer."""
    flat = a.ravel()
    return flat[:: max(1, flat.size // 2048)]


def _pct(a: np.ndarray) -> list[float]:
    """The percentiles: exact ends, the inner ones from :func:`_sub`."""
    inner = np.percentile(_sub(a), PERCENTILES[1:-1])
    return [float(a.min()), *map(float, inner), float(a.max())]


def _hist(a: np.ndarray) -> Histogram:
    """A histogram over the whole range, counted on :func:`_sub` and scaled to the full size."""
    sub = _sub(a)
    counts, edges = np.histogram(sub, BINS, range=(float(a.min()), float(a.max()) + 1e-12))
    scale = a.size / max(sub.size, 1)
    return {"counts": [round(c * scale) for c in counts.tolist()], "edges": [float(e) for e in edges]}


def layer_health(
    before: list[np.ndarray], after: list[np.ndarray], act: str, x: np.ndarray, y: np.ndarray, histograms: bool = False
) -> tuple[list[LayerHealth], list[str]]:
    """Statistics of each linear layer, and warnings naming the layer."""
    _ins, _zs, ys, grads, _q = forward_backward(before, act, x, y)
    n_layers = len(before) // 2
    layers, warnings = [], []
    for i in range(n_layers):
        W, W2, g = before[2 * i], after[2 * i], grads[2 * i]
        name = _("layer {n} (output)") if i == n_layers - 1 else _("layer {n}")
        name = name.format(n=i + 1)
        wn = float(np.linalg.norm(W))
        gn = float(np.linalg.norm(g))
        d: LayerHealth = {
            "name": name,
            "grad_norm": gn,
            "weight_norm": wn,
            "update_ratio": float(np.linalg.norm(W2 - W) / wn) if wn > 0 else 0.0,
            "act_mean": float(ys[i].mean()),
            "act_std": float(ys[i].std()),
            "dead": None,
            "saturated": None,
            "w_pct": _pct(W),
            "g_pct": _pct(g),
        }
        hidden = i < n_layers - 1
        if hidden and act == "relu":
            d["dead"] = float((ys[i] <= 0).all(0).mean())  # units never active on the probe batch
        if hidden and act in SATURATED:
            s = SATURATED[act]
            sat = (ys[i] < s) | (ys[i] > 1 - s) if act == "sigmoid" else np.abs(ys[i]) > s
            d["saturated"] = float(sat.mean())
        if histograms:
            d["w_hist"], d["g_hist"] = _hist(W), _hist(g)
        layers.append(d)
        if gn < VANISH:
            warnings.append(_("{name}: gradients vanish (‖∂L/∂W‖ = {norm:.1e})").format(name=name, norm=gn))
        elif gn > EXPLODE or not math.isfinite(gn):
            warnings.append(_("{name}: gradients explode (‖∂L/∂W‖ = {norm:.1e})").format(name=name, norm=gn))
        if d["dead"] is not None and d["dead"] > DEAD_WARN:
            warnings.append(
                _("{name}: {share:.0%} of its ReLUs are dead (never active on the probe batch)").format(
                    name=name, share=d["dead"]
                )
            )
        if d["saturated"] is not None and d["saturated"] > DEAD_WARN:
            warnings.append(
                _("{name}: {share:.0%} of its {act} outputs are saturated (gradients near 0)").format(
                    name=name, share=d["saturated"], act=act
                )
            )
    return layers, warnings


class HealthMonitor:
    """When to collect, and the collection itself (called by the training loop)."""

    def __init__(
        self, act: str, x_probe: np.ndarray, y_probe: np.ndarray, every: int | None = None, at_most: int = MAX_EVERY
    ):
        self.act = act
        self.x = np.asarray(x_probe, np.float32)
        self.y = np.asarray(y_probe, np.int64)
        self.fixed = every
        self.at_most = max(1, at_most)  # at least one collection this often (an epoch), whatever it costs
        self.every = every or MIN_EVERY
        self.next_step = 1
        self.spent = 0.0
        self._epoch_seen = 0

    def due(self, global_step: int) -> bool:
        return global_step >= self.next_step

    def collect(self, before, after, global_step: int, epoch: float, step_seconds: float) -> HealthEvent:
        t = time.perf_counter()
        new_epoch = int(math.ceil(epoch)) != self._epoch_seen
        self._epoch_seen = int(math.ceil(epoch))
        with one_blas_thread():  # small products; a second BLAS thread would spin beside torch's
            layers, warnings = layer_health(before, after, self.act, self.x, self.y, histograms=new_epoch)
        took = time.perf_counter() - t
        self.spent += took
        if not self.fixed:  # every k steps, k such that collecting costs about BUDGET of the time
            k = math.ceil(took / (BUDGET * max(step_seconds, 1e-6)))
            self.every = int(min(self.at_most, MAX_EVERY, max(MIN_EVERY, k)))
        self.next_step = global_step + self.every
        return HealthEvent(global_step, epoch, layers, warnings)


def keep(records: list, record: dict) -> None:
    """Append, thinning older records to every other one when more than ``MAX_KEPT``
    (records with histograms are always kept)."""
    records.append(record)
    if len(records) > MAX_KEPT:
        records[:] = [r for i, r in enumerate(records) if i % 2 == 0 or "w_hist" in r["layers"][0]]
