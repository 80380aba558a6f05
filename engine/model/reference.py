"""The float64 reference: the MLP's forward and backward passes written out in NumPy, and central
finite differences. Every check of a gradient (the built-in Functions' gradcheck, a student's
Functions, the step-through explanation) and the layer-health probe use these, so they all agree
on what "right" means."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from engine.model.maths import activation, activation_grad, softmax

__all__ = ["central_difference", "numerical_gradient", "forward", "forward_backward"]


def central_difference(loss: Callable[[], float], x: np.ndarray, idx, eps: float) -> float:
    """∂loss/∂x[idx] as (loss(x + eps) − loss(x − eps)) / 2 eps; ``x[idx]`` is moved in place and
    put back exactly, so ``loss`` reads ``x`` as it is."""
    keep = x[idx]
    x[idx] = keep + eps
    plus = float(loss())
    x[idx] = keep - eps
    minus = float(loss())
    x[idx] = keep
    return (plus - minus) / (2 * eps)


def numerical_gradient(loss: Callable[[], float], x: np.ndarray, eps: float, at: Iterable | None = None) -> np.ndarray:
    """∂loss/∂x by central differences (float64) at every entry of ``x``, or only at the indices
    ``at`` (the other entries are 0)."""
    num = np.zeros(x.shape, np.float64)
    for idx in np.ndindex(x.shape) if at is None else at:
        num[idx] = central_difference(loss, x, idx, eps)
    return num


def forward(weights: list[np.ndarray], act: str, x: np.ndarray):
    """The MLP's forward pass on ``x``: (inputs of each layer, each layer's z, and y = f(z); the
    last layer's y is its z, the logits)."""
    n_layers = len(weights) // 2
    h = x
    ins, zs, ys = [], [], []
    for i in range(n_layers):
        W, b = weights[2 * i], weights[2 * i + 1]
        ins.append(h)
        z = h @ W.T + b
        zs.append(z)
        h = activation(act, z) if i < n_layers - 1 else z
        ys.append(h)
    return ins, zs, ys


def forward_backward(weights: list[np.ndarray], act: str, x: np.ndarray, y: np.ndarray):
    """The MLP's forward and backward passes on ``x``: (inputs of each layer, each layer's z and
    y = f(z) (the last layer's y is its z), the gradients [dW0, db0, …] of the batch-mean
    cross-entropy, and softmax q)."""
    n_layers = len(weights) // 2
    ins, zs, ys = forward(weights, act, x)
    q = softmax(zs[-1])
    dz = q.copy()
    dz[np.arange(len(y)), y] -= 1
    dz /= len(y)
    grads: list = [None] * len(weights)
    for i in reversed(range(n_layers)):
        grads[2 * i] = dz.T @ ins[i]
        grads[2 * i + 1] = dz.sum(0)
        if i:
            dz = (dz @ weights[2 * i]) * activation_grad(act, ys[i - 1])
    return ins, zs, ys, grads, q
