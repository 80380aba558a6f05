"""The torch engine: every layer a ``torch.autograd.Function`` with a hand-written backward.

Each Function saves only what its backward needs and computes a gradient only
where ``ctx.needs_input_grad`` asks for it. :class:`MLPLossFunction` chains the
same maths through a whole network in one autograd node; it is what training
uses by default because one Python backward costs less than eight small ones.
"""

from __future__ import annotations

import torch
from torch import nn


class LinearFunction(torch.autograd.Function):
    """``y = x Wᵀ + b``; dx = g W, dW = gᵀ x, db = Σ g."""

    @staticmethod
    def forward(ctx, x, W, b):
        ctx.save_for_backward(x, W)
        return torch.addmm(b, x, W.t())

    @staticmethod
    def backward(ctx, g):
        x, W = ctx.saved_tensors
        dx = g.mm(W) if ctx.needs_input_grad[0] else None
        dW = g.t().mm(x) if ctx.needs_input_grad[1] else None
        db = g.sum(0) if ctx.needs_input_grad[2] else None
        return dx, dW, db


class ReLUFunction(torch.autograd.Function):
    """``y = max(x, 0)``; dx = g · [y > 0]."""

    @staticmethod
    def forward(ctx, x):
        y = x.clamp_min(0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y > 0)


class SigmoidFunction(torch.autograd.Function):
    """``y = 1 / (1 + e^-x)``; dx = g · y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = torch.sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class TanhFunction(torch.autograd.Function):
    """``y = tanh x``; dx = g · (1 - y²)."""

    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class IdentityFunction(torch.autograd.Function):
    """``y = x``; dx = g."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g


class CrossEntropyFunction(torch.autograd.Function):
    """Cross-entropy on logits, batch mean (default) or sum; dz = g · (softmax(z) - onehot(y)) [/ N]."""

    @staticmethod
    def forward(ctx, z, y, reduction="mean"):
        logp = torch.log_softmax(z, 1)  # z - max - log Σ exp(z - max): stable, one kernel
        ctx.save_for_backward(logp, y)
        ctx.reduction = reduction
        return torch.nn.functional.nll_loss(logp, y, reduction=reduction)  # -Σ or -mean of logp[i, y_i]

    @staticmethod
    def backward(ctx, g):
        logp, y = ctx.saved_tensors
        dz = logp.exp()  # softmax(z)
        dz.scatter_add_(1, y.unsqueeze(1), _minus_one(dz).expand(len(y), 1))  # - onehot(y)
        return dz.mul_(g if ctx.reduction == "sum" else g / len(y)), None, None


linear = LinearFunction.apply
cross_entropy = CrossEntropyFunction.apply
ACTIVATIONS = {
    "relu": ReLUFunction.apply,
    "sigmoid": SigmoidFunction.apply,
    "tanh": TanhFunction.apply,
    "identity": IdentityFunction.apply,
}


def _act_forward(act: str, h: torch.Tensor) -> torch.Tensor:
    if act == "relu":
        return h.clamp_min_(0)
    if act == "sigmoid":
        return h.sigmoid_()
    if act == "tanh":
        return h.tanh_()
    return h


def _act_backward(act: str, g: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The activation's gradient written through its output ``y`` (all four allow it)."""
    if act == "relu":
        return g.mul_(y > 0)
    if act == "sigmoid":
        return g.mul_(y * (1 - y))
    if act == "tanh":
        return g.mul_(1 - y * y)
    return g


class MLPLossFunction(torch.autograd.Function):
    """The whole MLP and its cross-entropy as one node: the same maths as the Functions above.

    Inputs: ``act, reduction, x, y, W0, b0, W1, b1, ...``; outputs: the loss (batch mean, or sum
    as the letters course's backward implies), and the logits
    (without a gradient) so training can count correct answers. One node instead of eight
    saves most of autograd's per-op bookkeeping, which dominates at small batch sizes; the
    forward uses torch's log-softmax kernel (stable, as ``CrossEntropyFunction``), the backward is ours.
    """

    @staticmethod
    def forward(ctx, act, reduction, x, y, *params):
        outs = [x]
        h = x
        n = len(params) // 2
        for i in range(n):
            h = torch.addmm(params[2 * i + 1], h, params[2 * i].t())
            if i < n - 1:
                h = _act_forward(act, h)
            outs.append(h)
        logp = torch.log_softmax(h, 1)
        ctx.act, ctx.reduction = act, reduction
        ctx.save_for_backward(y, logp, *outs[:-1], *params[0::2])
        ctx.mark_non_differentiable(h)
        return torch.nn.functional.nll_loss(logp, y, reduction=reduction), h

    @staticmethod
    def backward(ctx, g, _g_logits):
        y, logp, *rest = ctx.saved_tensors
        n = len(rest) // 2
        acts, Ws = rest[:n], rest[n:]
        dz = logp.exp()  # softmax(z)
        dz.scatter_add_(1, y.unsqueeze(1), _minus_one(dz).expand(len(y), 1))  # - onehot(y)
        dz.mul_(float(g) if ctx.reduction == "sum" else float(g) / len(y))
        grads: list = [None] * (2 * n)
        for i in range(n - 1, -1, -1):
            grads[2 * i] = dz.t().mm(acts[i])
            grads[2 * i + 1] = dz.sum(0)
            if i > 0:
                dz = _act_backward(ctx.act, dz.mm(Ws[i]), acts[i])
        dx = dz.mm(Ws[0]) if ctx.needs_input_grad[2] else None
        return (None, None, dx, None, *grads)


_MINUS_ONES: dict[tuple, torch.Tensor] = {}


def _minus_one(like: torch.Tensor) -> torch.Tensor:
    """A cached [[-1]] of ``like``'s dtype and device (a fresh tensor per step would cost an op)."""
    key = (like.dtype, like.device)
    if key not in _MINUS_ONES:
        _MINUS_ONES[key] = torch.tensor([[-1.0]], dtype=like.dtype, device=like.device)
    return _MINUS_ONES[key]


class _DirectContext:
    """Stands in for autograd's ``ctx`` when the training step calls the Function itself."""

    def __init__(self, n_inputs: int):
        self.needs_input_grad = (False, False, False, False) + (True,) * (n_inputs - 4)

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *_):
        pass


_ONE = torch.ones(())


def mlp_loss_and_grads(act: str, x, y, params: list[torch.Tensor], reduction: str = "mean"):
    """``MLPLossFunction``'s own forward and backward, called directly: (loss, logits, grads).

    The graph of a training step is this one node, so autograd's engine has nothing to
    schedule; skipping its bookkeeping saves ~40 µs a step (a third of a batch-8 step).
    The gradients are those of ``loss.backward()`` through autograd, bit for bit (tested).
    """
    with torch.no_grad():
        ctx = _DirectContext(4 + len(params))
        loss, logits = MLPLossFunction.forward(ctx, act, reduction, x, y, *params)
        grads = MLPLossFunction.backward(ctx, _ONE, None)[4:]
    return loss, logits, grads


class Linear(nn.Module):
    """A linear layer whose parameters are named ``W`` ([out, in]) and ``b``, as the course's."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.W = nn.Parameter(torch.empty(out_features, in_features))
        self.b = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return linear(x, self.W, self.b)


class Activation(nn.Module):
    def __init__(self, act: str):
        super().__init__()
        self.act = act
        self._fn = ACTIVATIONS[act]

    def forward(self, x):
        return self._fn(x)


class TorchMLP(nn.Module):
    """``net`` = Linear, Activation, Linear, ... Linear: state-dict keys ``net.0.W`` ... as the course's."""

    def __init__(self, in_features: int, hidden: list[int], n_classes: int, act: str):
        super().__init__()
        sizes = [in_features, *hidden, n_classes]
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(Activation(act))
        self.net = nn.Sequential(*layers)
        self.act = act

    def forward(self, x):
        """Logits, layer by layer through the single-op Functions."""
        return self.net(x)

    def params_in_order(self) -> list[torch.Tensor]:
        return [p for m in self.net if isinstance(m, Linear) for p in (m.W, m.b)]

    def loss_and_logits(self, x, y, reduction: str = "mean"):
        """Network and loss as one autograd node: ``loss.backward()`` fills every ``.grad``."""
        return MLPLossFunction.apply(self.act, reduction, x, y, *self.params_in_order())
