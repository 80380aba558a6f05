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
