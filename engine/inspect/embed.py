"""2-D maps of what the network computes: the logits or any hidden layer's activations of a
split, by PCA (NumPy SVD, instant) or t-SNE (openTSNE, with progress and cancel).

Also the hidden units' favourite images: for each unit of a layer, the training images that
activate it most.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.data.images import normalize
from engine.model.maths import softmax
from engine.model.reference import forward


class Cancelled(Exception):
    pass


def layer_outputs(weights: list[np.ndarray], act: str, x: np.ndarray, layer: int | None = None) -> np.ndarray:
    """Activations of hidden ``layer`` (1-based), or the logits (``None``), for images ``x``
    (normalised, [N, features]), in chunks so a whole split fits in little memory."""
    out = []
    n_layers = len(weights) // 2
    w = [np.asarray(a, np.float32) for a in weights]
    for s in range(0, len(x), 2048):
        xb = np.asarray(x[s : s + 2048], np.float32)
        _ins, zs, ys = forward(w, act, xb)
        out.append(zs[-1] if layer is None or layer >= n_layers else ys[layer - 1])
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def points_csv(points: np.ndarray, labels, predicted, classes: list[str]) -> str:
    """The map as CSV: ``index,x,y,label,predicted`` (the CLI's ``--out`` and the window's export)."""
    rows = ["index,x,y,label,predicted"]
    for i, (px, py) in enumerate(points):
        rows.append(f"{i},{px:.6g},{py:.6g},{classes[labels[i]]},{classes[predicted[i]]}")
    return "\n".join(rows) + "\n"


def pca(a: np.ndarray, dims: int = 2) -> np.ndarray:
    """Principal components by SVD of the centred data (signs fixed: largest loading positive)."""
    a = np.asarray(a, np.float64)
    centred = a - a.mean(0)
    _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
    comps = vt[:dims]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])
    return centred @ (comps * signs[:, None]).T


def tsne(
    a: np.ndarray,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    n_iter: int = 500,
) -> np.ndarray:
    """openTSNE's t-SNE (PCA initialisation, perplexity 30), reporting its iterations."""
    from openTSNE import TSNE
    from openTSNE.callbacks import Callback

    total = 250 + n_iter  # early exaggeration, then the embedding phase

    class Report(Callback):
        def __init__(self):
            self.done = 0

        def __call__(self, iteration, error, embedding):
            self.done += 10
            if progress:
                progress(min(self.done, total), total)
            if cancelled and cancelled():
                raise Cancelled
            return False

    a = np.asarray(a, np.float64)
    perplexity = float(min(30.0, max(2.0, (len(a) - 1) / 3)))
    model = TSNE(
        n_components=2,
        perplexity=perplexity,
        initialization="pca",
        random_state=seed,
        n_jobs=1,
        n_iter=n_iter,
        callbacks=Report(),
        callbacks_every_iters=10,
        verbose=False,
    )
    return np.asarray(model.fit(a))


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette width (Euclidean), a measure of how apart the classes lie (−1 … 1)."""
    p = np.asarray(points, np.float64)
    labels = np.asarray(labels)
    d = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))
    s = np.zeros(len(p))
    for i in range(len(p)):
        same = labels == labels[i]
        same[i] = False
        if not same.any():
            continue
        a = d[i, same].mean()
        b = min(d[i, labels == c].mean() for c in np.unique(labels) if c != labels[i])
        s[i] = (b - a) / max(a, b)
    return float(s.mean())


def embed_split(
    weights, act: str, x_uint8: np.ndarray, method: str = "pca", layer: int | None = None, config=None, **kw
) -> np.ndarray:
    """2-D points of ``x_uint8``'s logits or hidden ``layer``; ``config``: the model's (its input
    normalisation)."""
    feats = layer_outputs(weights, act, normalize(x_uint8, config), layer)
    return pca(feats) if method == "pca" else tsne(feats, **kw)


def top_images(weights, act: str, x_uint8: np.ndarray, layer: int = 1, k: int = 9, config=None) -> np.ndarray:
    """For each unit of hidden ``layer``, the indices of the ``k`` images activating it most
    ([units, k], strongest first); ``config``: the model's (its input normalisation)."""
    acts = layer_outputs(weights, act, normalize(x_uint8, config), layer)
    k = min(k, len(acts))
    idx = np.argpartition(-acts, k - 1, axis=0)[:k].T
    order = np.take_along_axis(-acts.T, idx, 1).argsort(1)
    return np.take_along_axis(idx, order, 1)


@dataclass(frozen=True)
class NetworkPicture:
    """What :func:`network_picture` found: every layer's size (input first), the units of each
    shown (indices), the strongest connections ``(gap, from, to, weight)`` between shown units,
    and each shown unit's value on the image, or None without one."""

    sizes: list[int]
    shown: list[list[int]]
    edges: list[tuple[int, int, int, float]]
    values: list[list[float]] | None


def network_picture(
    weights: list[np.ndarray], act: str, x: np.ndarray | None = None, per_column: int = 16, edges_per_gap: int = 120
) -> NetworkPicture:
    """What a picture of the network shows (Playground's): for each layer a column of at most
    ``per_column`` units (the ones with the strongest weights; a wide layer is sampled, its
    full count given), the strongest connections between shown units (sign and magnitude), and
    each shown unit's activation on image ``x`` (normalised, [features]) when given."""
    w = [np.asarray(a, np.float64) for a in weights]
    n_layers = len(w) // 2
    sizes = [w[0].shape[1]] + [w[2 * i].shape[0] for i in range(n_layers)]
    strength = [np.abs(w[0]).sum(0)] + [np.abs(w[2 * i]).sum(1) for i in range(n_layers)]
    shown = []
    for k, n in enumerate(sizes):
        if n <= per_column or k == len(sizes) - 1:
            shown.append(np.arange(n))
        else:
            shown.append(np.sort(np.argsort(-strength[k])[:per_column]))
    values = None
    if x is not None:
        _ins, zs, ys = forward(w, act, np.asarray(x, np.float64)[None])
        layer_vals = [np.asarray(x, np.float64)] + [y[0] for y in ys[:-1]] + [softmax(zs[-1])[0]]
        values = [v[s].tolist() for v, s in zip(layer_vals, shown, strict=True)]
    edges = []
    for k in range(n_layers):
        W = w[2 * k][np.ix_(shown[k + 1], shown[k])]  # [to, from]
        flat = np.abs(W).ravel()
        top = np.argsort(-flat)[: min(edges_per_gap, flat.size)]
        for t in top:
            to, fr = np.unravel_index(t, W.shape)
            edges.append((k, int(fr), int(to), float(W[to, fr])))
    return NetworkPicture(sizes, [s.tolist() for s in shown], edges, values)
