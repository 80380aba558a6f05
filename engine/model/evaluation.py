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
