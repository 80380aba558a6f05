"""The one softmax / log-softmax of the engine (NumPy), stable for any finite logits."""

from __future__ import annotations

import numpy as np


def log_softmax(z: np.ndarray) -> np.ndarray:
    """``z - max z - log Σ exp(z - max z)`` along the last axis."""
    shifted = z - z.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Batch-mean cross-entropy of ``logits`` against integer labels ``y`` (NaN for no rows)."""
    if len(y) == 0:
        return float("nan")
    return float(-log_softmax(logits)[np.arange(len(y)), y].mean())


def activation(act: str, z: np.ndarray) -> np.ndarray:
    """relu / sigmoid / tanh / identity of ``z`` (NumPy)."""
    if act == "relu":
        return np.maximum(z, 0)
    if act == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if act == "tanh":
        return np.tanh(z)
    return z


def activation_grad(act: str, y: np.ndarray) -> np.ndarray:
    """f′ written through the output y = f(z), as the courses derive it."""
    if act == "relu":
        return (y > 0).astype(y.dtype)
    if act == "sigmoid":
        return y * (1 - y)
    if act == "tanh":
        return 1 - y * y
    return np.ones_like(y)
