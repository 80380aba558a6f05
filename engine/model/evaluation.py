"""Predictions of a model on one split, with the filters and sort orders the prediction browser offers."""

from __future__ import annotations

import numpy as np

SORTS = (
    "dataset order",
    "lowest-confidence correct first",
    "highest-confidence wrong first",
    "confidence ↑",
    "confidence ↓",
)


class Evaluation:
    """Predictions of a model on one split: images, labels, probabilities."""

    def __init__(
        self,
        split: str,
        x: np.ndarray,
        y: np.ndarray,
        probs: np.ndarray,
        classes: list[str],
        names: list[str] | None = None,
    ):
        self.split, self.x, self.y, self.probs, self.classes = split, x, y, probs, classes
        self.pred = probs.argmax(1)
        self.conf = probs[np.arange(len(y)), self.pred]
        self.names = names or []

    @classmethod
    def empty(cls, split: str, classes: list[str]) -> Evaluation:
        """A split without images (e.g. no validation split): shown as such, not as stale results."""
        return cls(split, np.zeros((0, 1, 1), np.uint8), np.zeros(0, np.int64), np.zeros((0, len(classes))), classes)

    def per_class_accuracy(self) -> np.ndarray:
        """Accuracy per true class; NaN for a class with no images in this split (not 0 %)."""
        k = len(self.classes)
        out = np.full(k, np.nan)
        for c in range(k):
            mask = self.y == c
            if mask.any():
                out[c] = float((self.pred[mask] == c).mean())
        return out

    @property
    def accuracy(self) -> float:
        return float((self.pred == self.y).mean()) if len(self.y) else float("nan")

    def indices(self, misclassified: bool, sort: str, cell: tuple[int, int] | None) -> np.ndarray:
        idx = np.arange(len(self.y))
        wrong = self.pred != self.y
        if misclassified:
            idx = idx[wrong[idx]]
        if cell is not None:
            idx = idx[(self.y[idx] == cell[0]) & (self.pred[idx] == cell[1])]
        conf = self.conf[idx]
        if sort == SORTS[1]:
            key = np.where(wrong[idx], 2.0, 0.0) + conf  # correct ones first, least sure first
            idx = idx[np.argsort(key, kind="stable")]
        elif sort == SORTS[2]:
            key = np.where(wrong[idx], 0.0, 2.0) - conf
            idx = idx[np.argsort(key, kind="stable")]
        elif sort == SORTS[3]:
            idx = idx[np.argsort(conf, kind="stable")]
        elif sort == SORTS[4]:
            idx = idx[np.argsort(-conf, kind="stable")]
        return idx
