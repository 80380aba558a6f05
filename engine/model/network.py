"""One interface over the two engines: build, train a step, predict, export weights.

:func:`engine.model.build.build_network` returns a :class:`TorchNetwork` or a :class:`NumpyNetwork`; callers see
only :class:`Network`. Both start from the same seeded weights (drawn with NumPy), so with
the same data order their losses agree step by step.

torch is imported only when a torch network is built or a tensor is made
(``engine.model.torch_network``): the window shows without waiting for it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from engine.config import TrainConfig, check_parameter_budget
from engine.model.blas import set_blas_threads
from engine.model.init import initial_weights
from engine.model.numpy_ops import NumpyMLP
from engine.model.optimizers import NumpyOptimizer

EVAL_BATCH = 2048


def state_dict_keys(n_linear: int) -> list[str]:
    """``net.0.W, net.0.b, net.2.W, ...``: the course's names (activations sit at odd indices)."""
    return [f"net.{2 * i}.{p}" for i in range(n_linear) for p in ("W", "b")]


class Network(ABC):
    """A trainable MLP. Arrays in and out are NumPy; ``prepare`` converts once per run."""

    engine = ""
    # True after a train_step that applied finite gradients although the loss was not finite (the
    # user engine: their loss can be inf while their gradients are fine); the run then goes on
    stepped_past_nonfinite_loss = False

    def __init__(self, config: TrainConfig, in_features: int, n_classes: int, weights: list[np.ndarray] | None = None):
        self.config = config
        self.in_features, self.n_classes = in_features, n_classes
        self.sizes = [in_features, *config.hidden, n_classes]
        check_parameter_budget(in_features, list(config.hidden), n_classes)
        if weights is None:
            weights = initial_weights(
                self.sizes, config.act, config.seed, config.init, config.bias, np.dtype(config.precision)
            )
        self._build(weights)

    @abstractmethod
    def _build(self, weights: list[np.ndarray]) -> None: ...

    # -- data ---------------------------------------------------------------------------
    def prepare(self, x: np.ndarray):
        """Float32 [N, features] NumPy → the engine's array type."""
        return x

    def prepare_labels(self, y: np.ndarray):
        return y.astype(np.int64)

    def batch(self, x, y, idx: np.ndarray):
        """Rows ``idx`` of prepared inputs and labels."""
        return x[idx], y[idx]

    # -- training -----------------------------------------------------------------------
    @abstractmethod
    def configure_threads(self) -> None:
        """Thread counts that suit this batch size (called once per run, on the training thread)."""

    @abstractmethod
    def train_step(self, x, y) -> tuple[float, int]:
        """One optimiser step; returns (batch-mean loss, number of correct predictions).

        If the loss is not finite the step is not applied, so the weights stay good.
        """

    @abstractmethod
    def _logits_batch(self, xb) -> np.ndarray: ...

    def logits(self, x) -> np.ndarray:
        """Logits for prepared inputs, in batches (no gradient bookkeeping)."""
        outs = [self._logits_batch(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)]
        return np.concatenate(outs) if outs else np.zeros((0, self.n_classes), np.float32)

    # -- weights ------------------------------------------------------------------------
    @abstractmethod
    def weights(self) -> list[np.ndarray]:
        """Copies of ``[W0, b0, W1, ...]``."""

    @abstractmethod
    def set_weights(self, weights: list[np.ndarray]) -> None: ...

    def weights_finite(self) -> bool:
        return all(np.isfinite(w).all() for w in self.weights())

    def state_dict(self) -> dict:
        """The course's layout: ``{'net.0.W': [h1, in], 'net.0.b': [h1], ...}`` as CPU tensors."""
        import torch

        keys = state_dict_keys(len(self.sizes) - 1)
        return {k: torch.from_numpy(w) for k, w in zip(keys, self.weights())}

    def snapshot(self) -> Network:
        """A copy of the current weights for inference while this network trains on."""
        return type(self)(self.config, self.in_features, self.n_classes, self.weights())

    @abstractmethod
    def optimizer_state(self) -> dict:
        """Plain dicts of tensors and numbers, safe for ``weights_only`` loading."""

    @abstractmethod
    def load_optimizer_state(self, state: dict | None) -> bool:
        """Restore a saved optimiser state of the same engine and optimizer; False if it does not
        apply; ``ValueError`` if it is malformed. The configured hyperparameters (lr, momentum,
        weight decay) always win over numbers stored in the state."""


class NumpyNetwork(Network):
    engine = "numpy"

    def _build(self, weights):
        c = self.config
        self._np = NumpyMLP(self.in_features, c.hidden, self.n_classes, c.act, np.dtype(c.precision))
        for p, w in zip(self._np.params, weights):
            p[...] = w
        self._opt = NumpyOptimizer(c.optim, self._np.flat, self._np.flat_grad, c.lr, c.momentum, c.weight_decay)

    def configure_threads(self):
        set_blas_threads(self.config.threads)  # part of the run's settings: the same numbers on any machine

    def train_step(self, x, y):
        loss, logits = self._np.loss_and_grads(x, y, self.config.loss_reduction)
        if not self.config.bias:  # a bias-free MLP: the (zero) biases never move
            for g in self._np.grads[1::2]:
                g[...] = 0
        if self.config.loss_reduction == "sum":
            loss /= len(y)
        correct = int((logits.argmax(1) == y).sum())
        if math.isfinite(loss):
            self._opt.step()
        return loss, correct

    def _logits_batch(self, xb):
        return self._np.forward(xb).astype(np.float32, copy=False)

    def weights(self):
        return [p.copy() for p in self._np.params]

    def set_weights(self, weights):
        for p, w in zip(self._np.params, weights):
            p[...] = w

    def optimizer_state(self):
        import torch

        return {
            "engine": "numpy",
            "name": self.config.optim,
            **{k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in self._opt.state_dict().items()},
        }

    def load_optimizer_state(self, state):
        import torch

        if not isinstance(state, dict) or state.get("engine") != "numpy" or state.get("name") != self.config.optim:
            return False
        self._opt.load_state_dict(
            {
                k: (v.numpy() if isinstance(v, torch.Tensor) else v)
                for k, v in state.items()
                if k not in ("engine", "name")
            }
        )
        return True
