"""One interface over the two engines: build, train a step, predict, export weights.

Both engines start from the same seeded weights (drawn with NumPy), so with the
same data order their losses agree step by step.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.blas import set_blas_threads
from engine.config import TrainConfig
from engine.functions import TorchMLP, mlp_loss_and_grads
from engine.numpy_ops import NumpyMLP, NumpyOptimizer

_DEFAULT_THREADS = torch.get_num_threads()


def initial_weights(sizes: list[int], act: str, seed: int) -> list[np.ndarray]:
    """He-normal for layers feeding relu, Xavier-normal otherwise; zero biases. ``[W0, b0, W1, ...]``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(len(sizes) - 1):
        fan_in, fan_out = sizes[i], sizes[i + 1]
        last = i == len(sizes) - 2
        std = np.sqrt(2.0 / fan_in) if act == "relu" and not last else np.sqrt(2.0 / (fan_in + fan_out))
        out.append((rng.standard_normal((fan_out, fan_in)) * std).astype(np.float32))
        out.append(np.zeros(fan_out, np.float32))
    return out


def state_dict_keys(n_linear: int) -> list[str]:
    """``net.0.W, net.0.b, net.2.W, ...``: the course's names (activations sit at odd indices)."""
    return [f"net.{2 * i}.{p}" for i in range(n_linear) for p in ("W", "b")]


class Network:
    """A trainable MLP on either engine. Arrays in and out are NumPy."""

    def __init__(self, config: TrainConfig, in_features: int, n_classes: int,
                 weights: list[np.ndarray] | None = None):
        self.config = config
        self.in_features, self.n_classes = in_features, n_classes
        self.sizes = [in_features, *config.hidden, n_classes]
        self.engine = config.engine
        weights = weights if weights is not None else initial_weights(self.sizes, config.act, config.seed)
        if self.engine == "numpy":
            self._np = NumpyMLP(in_features, config.hidden, n_classes, config.act)
            for p, w in zip(self._np.params, weights):
                p[...] = w
            self._opt = NumpyOptimizer(config.optim, self._np.flat, self._np.flat_grad, config.lr,
                                       config.momentum, config.weight_decay)
        else:
            self.device = torch.device(config.device)
            self._torch = TorchMLP(in_features, config.hidden, n_classes, config.act)
            with torch.no_grad():
                for p, w in zip(self._torch.params_in_order(), weights):
                    p.copy_(torch.from_numpy(w))
            self._torch.to(self.device)
            self._params = self._torch.params_in_order()
            self._opt = _torch_optimizer(config, self._params)

    # -- data -----------------------------------------------------------------
    def prepare(self, x: np.ndarray):
        """Float32 [N, features] NumPy → the engine's array type, once per run."""
        if self.engine == "numpy":
            return x
        return torch.from_numpy(x).to(self.device)

    def prepare_labels(self, y: np.ndarray):
        y = y.astype(np.int64)
        return y if self.engine == "numpy" else torch.from_numpy(y).to(self.device)

    def batch(self, x, y, idx: np.ndarray):
        """Rows ``idx`` of prepared inputs and labels (one index conversion for both)."""
        if self.engine == "numpy":
            return x[idx], y[idx]
        t = torch.from_numpy(idx)
        if self.device.type != "cpu":
            t = t.to(self.device)
        return x.index_select(0, t), y.index_select(0, t)

    # -- training -------------------------------------------------------------
    def configure_threads(self) -> None:
        """Small batches run faster on one CPU thread (and much faster off the main thread,
        where a second OpenMP team costs a hand-off per op); large ones use the default."""
        if self.engine == "torch" and self.device.type == "cpu":
            torch.set_num_threads(1 if self.config.batch_size < 256 else _DEFAULT_THREADS)
        elif self.engine == "numpy":
            set_blas_threads(1 if self.config.batch_size < 64 else None)

    def train_step(self, x, y) -> tuple[float, int]:
        """One optimiser step; returns (batch-mean loss, number of correct predictions).

        If the loss is not finite the step is not applied, so the weights stay good.
        """
        if self.engine == "numpy":
            loss, logits = self._np.loss_and_logits(x, y)
            correct = int((logits.argmax(1) == y).sum())
            if np.isfinite(loss):
                self._opt.step()
            return loss, correct
        loss_t, logits, grads = mlp_loss_and_grads(self.config.act, x, y, self._params)
        loss = loss_t.item()
        if not np.isfinite(loss):
            return loss, 0
        for p, g in zip(self._params, grads):
            p.grad = g
        self._opt.step()
        return loss, int((logits.argmax(1) == y).sum())

    def logits(self, x) -> np.ndarray:
        """Logits for prepared inputs, in batches (no gradient bookkeeping)."""
        outs = []
        for i in range(0, len(x), 2048):
            xb = x[i : i + 2048]
            if self.engine == "numpy":
                outs.append(self._np.forward(xb).copy())
            else:
                with torch.no_grad():
                    outs.append(self._torch(xb).float().cpu().numpy())
        return np.concatenate(outs) if outs else np.zeros((0, self.n_classes), np.float32)

    # -- weights --------------------------------------------------------------
    def weights(self) -> list[np.ndarray]:
        """Copies of ``[W0, b0, W1, ...]``."""
        if self.engine == "numpy":
            return [p.copy() for p in self._np.params]
        return [p.detach().cpu().numpy().copy() for p in self._params]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        if self.engine == "numpy":
            for p, w in zip(self._np.params, weights):
                p[...] = w
        else:
            with torch.no_grad():
                for p, w in zip(self._params, weights):
                    p.copy_(torch.from_numpy(np.asarray(w, np.float32)))

    def weights_finite(self) -> bool:
        return all(np.isfinite(w).all() for w in self.weights())

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The course's layout: ``{'net.0.W': [h1, in], 'net.0.b': [h1], ...}`` as CPU tensors."""
        keys = state_dict_keys(len(self.sizes) - 1)
        return {k: torch.from_numpy(w) for k, w in zip(keys, self.weights())}

    def optimizer_state(self) -> dict:
        """Plain dicts of tensors and numbers, safe for ``weights_only`` loading."""
        if self.engine == "numpy":
            return {"engine": "numpy", "name": self.config.optim,
                    **{k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v)
                       for k, v in self._opt.state_dict().items()}}
        return {"engine": "torch", "name": self.config.optim, "torch": self._opt.state_dict()}

    def load_optimizer_state(self, state: dict | None) -> bool:
        """Restore a saved optimiser state of the same engine and optimizer; False if it does not fit."""
        if not state or state.get("engine") != self.engine or state.get("name") != self.config.optim:
            return False
        if self.engine == "numpy":
            self._opt.load_state_dict({k: (v.numpy() if isinstance(v, torch.Tensor) else v)
                                       for k, v in state.items() if k not in ("engine", "name")})
        else:
            self._opt.load_state_dict(state["torch"])
        return True


def _fused(cls, params, **kw) -> torch.optim.Optimizer:
    """The single-kernel ("fused") variant where this torch has it: the same update, fewer dispatches."""
    try:
        return cls(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, **kw)


def _torch_optimizer(c: TrainConfig, params) -> torch.optim.Optimizer:
    if c.optim == "sgd":
        return _fused(torch.optim.SGD, params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    if c.optim == "adam":  # decoupled decay, as the course's results need (see NumpyOptimizer)
        return _fused(torch.optim.AdamW, params, lr=c.lr, weight_decay=c.weight_decay)
    if c.optim == "adagrad":
        return _fused(torch.optim.Adagrad, params, lr=c.lr, weight_decay=c.weight_decay)
    if c.optim == "rmsprop":
        return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    return torch.optim.Adadelta(params, lr=c.lr, weight_decay=c.weight_decay)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)
