"""The NumPy engine: the same MLP as operators shaped like the torch Functions.

Each operator is a class of two static methods, ``forward(ctx, *inputs)`` and
``backward(ctx, grad)``, returning one gradient per input (``None`` where
``ctx.needs_input_grad`` says it is not wanted). What backward needs lives in the
per-call :class:`Context`, never on the operator, so two threads or two batches
never share state. :class:`NumpyMLP` keeps the parameters and their gradients in
two flat buffers of the run's precision (float32, or float64 as the MNIST course's NumPy
loop computes; each layer's ``W``/``b`` a view), so the optimizers update
the whole network with a handful of vectorised operations.
"""

from __future__ import annotations

import numpy as np

from engine.model.maths import log_softmax

DTYPE = np.float32


class Context:
    """Per-call state, as torch's ``ctx``: what ``forward`` saved for ``backward``."""

    __slots__ = ("saved_tensors", "needs_input_grad", "reduction")

    def __init__(self, needs_input_grad: tuple[bool, ...] = (True, True, True)):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays


class Linear:
    """``y = x Wᵀ + b``; dx = g W, dW = gᵀ x, db = Σ g over the batch."""

    @staticmethod
    def forward(ctx: Context, x, W, b):
        ctx.save_for_backward(x, W)
        y = x @ W.T
        y += b
        return y

    @staticmethod
    def backward(ctx: Context, g, out: tuple[np.ndarray, np.ndarray] | None = None):
        """``out``: optional (dW, db) buffers to write the parameter gradients into."""
        x, W = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx = g @ W if need[0] else None
        dW = db = None
        if need[1]:
            dW = np.matmul(g.T, x, out=out[0] if out else None)
        if need[2]:
            db = np.sum(g, 0, out=out[1] if out else None)
        return dx, dW, db


class ReLU:
    """``y = max(x, 0)``; dx = g · [y > 0]."""

    @staticmethod
    def forward(ctx: Context, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g):
        (y,) = ctx.saved_tensors
        return g * (y > 0)


class Sigmoid:
    """``y = 1 / (1 + e^-x)``; dx = g · y (1 - y)."""

    @staticmethod
    def forward(ctx: Context, x):
        y = 0.5 * (1 + np.tanh(0.5 * x))  # never overflows, unlike 1 / (1 + exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class Tanh:
    """``y = tanh x``; dx = g · (1 - y²)."""

    @staticmethod
    def forward(ctx: Context, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class Identity:
    """``y = x``; dx = g."""

    @staticmethod
    def forward(ctx: Context, x):
        return x

    @staticmethod
    def backward(ctx: Context, g):
        return g


class LogSoftmax:
    """``y = z - max z - log Σ exp(z - max z)``; dz = g - softmax(z) Σ g."""

    @staticmethod
    def forward(ctx: Context, z):
        y = log_softmax(z)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g):
        (y,) = ctx.saved_tensors
        return g - np.exp(y) * g.sum(1, keepdims=True)


class NLLLoss:
    """``L = -mean(logp[i, y_i])``; dlogp = -onehot(y) / N."""

    @staticmethod
    def forward(ctx: Context, logp, y):
        ctx.save_for_backward(logp.shape, logp.dtype, y)
        return -float(logp[np.arange(len(y)), y].mean())

    @staticmethod
    def backward(ctx: Context, g=1.0):
        shape, dtype, y = ctx.saved_tensors
        d = np.zeros(shape, dtype)
        d[np.arange(len(y)), y] = -g / len(y)
        return d, None


class CrossEntropy:
    """Cross-entropy on logits, batch mean or sum; dz = g · (softmax(z) - onehot(y)) [/ N for mean]."""

    @staticmethod
    def forward(ctx: Context, z, y, reduction: str = "mean"):
        logp = log_softmax(z)
        ctx.save_for_backward(logp, y)
        ctx.reduction = reduction
        picked = logp[np.arange(len(y)), y]
        return -float(picked.sum() if reduction == "sum" else picked.mean())

    @staticmethod
    def backward(ctx: Context, g=1.0):
        logp, y = ctx.saved_tensors
        d = np.exp(logp)
        d[np.arange(len(y)), y] -= 1
        d *= g if ctx.reduction == "sum" else g / len(y)
        return d, None


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "identity": Identity}


class NumpyMLP:
    """Linear → act → ... → Linear over flat parameter/gradient buffers; no per-call state on self."""

    def __init__(self, in_features: int, hidden: list[int], n_classes: int, act: str, dtype=DTYPE):
        self.sizes = [in_features, *hidden, n_classes]
        self.act = ACTIVATIONS[act]
        shapes = []
        for i in range(len(self.sizes) - 1):
            shapes += [(self.sizes[i + 1], self.sizes[i]), (self.sizes[i + 1],)]
        total = sum(int(np.prod(s)) for s in shapes)
        self.flat = np.zeros(total, dtype)
        self.flat_grad = np.zeros(total, dtype)
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        offset = 0
        for s in shapes:
            n = int(np.prod(s))
            self.params.append(self.flat[offset : offset + n].reshape(s))
            self.grads.append(self.flat_grad[offset : offset + n].reshape(s))
            offset += n

    def _forward(self, x: np.ndarray, contexts: list | None):
        n = len(self.sizes) - 1
        h = x
        for i in range(n):
            ctx = Context((i > 0, True, True))
            h = Linear.forward(ctx, h, self.params[2 * i], self.params[2 * i + 1])
            if contexts is not None:
                contexts.append(ctx)
            if i < n - 1:
                actx = Context()
                h = self.act.forward(actx, h)
                if contexts is not None:
                    contexts.append(actx)
        return h

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits; reads the parameters and writes nothing shared."""
        return self._forward(x, None)

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, reduction: str = "mean") -> tuple[float, np.ndarray]:
        """Forward, loss and backward, writing every gradient into ``flat_grad``.

        Returns (the loss as ``reduction`` defines it, logits).
        """
        contexts: list[Context] = []
        z = self._forward(x, contexts)
        lctx = Context()
        loss = CrossEntropy.forward(lctx, z, y, reduction)
        g, _ = CrossEntropy.backward(lctx)
        n = len(self.sizes) - 1
        for i in range(n - 1, -1, -1):
            ctx = contexts[2 * i]
            g, _, _ = Linear.backward(ctx, g, out=(self.grads[2 * i], self.grads[2 * i + 1]))
            if i > 0:
                g = self.act.backward(contexts[2 * i - 1], g)
        return loss, z
