"""Classify image files with a model, each with exactly the training preprocessing."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from engine.checkpoint import Model
from engine.data.folders import class_files
from engine.data.images import is_image_file, load_image, normalize
from engine.errors import UserError
from engine.i18n import _
from engine.model.maths import softmax


@dataclass
class Prediction:
    path: str
    label: str = ""
    probability: float = 0.0
    top: list[tuple[str, float]] = field(default_factory=list)
    image: np.ndarray | None = None  # the uint8 input the network saw
    error: str = ""


def predict_arrays(model: Model, x_uint8: np.ndarray) -> np.ndarray:
    """Class probabilities for uint8 images ``[N, H, W]``."""
    net = model.network
    return softmax(net.logits(net.prepare(normalize(x_uint8, model.config))))


def recorded_data(model: Model, data: str | None = None, what: str = "the model"):
    """The dataset ``model`` was trained on, split as it was (its split seed and fraction): ``data``
    if given, else the folder its checkpoint records — never another dataset in silence.
    Returns (dataset, a warning when the data on disk differs from what it was trained on, or "")."""
    from engine.data.layouts import open_dataset

    path = data or model.dataset.get("path")
    if not path:  # a course checkpoint records none
        raise UserError(
            _("{what}: the checkpoint does not say which data it was trained on: give it with --data DIR").format(
                what=what
            )
        )
    if not data and path != "builtin" and not os.path.exists(path):
        raise UserError(
            _("{what}: it was trained on {path}, which is not here: give that data's folder with --data DIR").format(
                what=what, path=path
            )
        )
    c = model.config
    split_seed = int(model.dataset.get("split_seed", c.split_seed))
    val_split = float(model.dataset.get("val_split", c.val_split))
    ds = open_dataset(path, norm_size=model.norm_size, split_seed=split_seed, val_split=val_split)
    if ds.norm_size != model.norm_size:
        raise UserError(
            _("{path}: images are {norm_size}, the model expects {model_size}").format(
                path=path, norm_size=ds.norm_size, model_size=model.norm_size
            )
        )
    if len(ds.classes) != len(model.classes):
        raise UserError(
            _("{path}: {n_classes} classes, the model has {n_classes2}").format(
                path=path, n_classes=len(ds.classes), n_classes2=len(model.classes)
            )
        )
    return ds, fingerprint_warning(model, ds, what)


def fingerprint_warning(model: Model, ds, what: str) -> str:
    """A line when ``ds`` is not the data ``model`` was trained on (its content changed), else ""."""
    want = model.dataset.get("fingerprint")
    if want and ds.fingerprint and want != ds.fingerprint:
        return (
            f"{what}: the data on disk differs from the data the model was trained on "
            "(content fingerprint changed); its split may differ too"
        )
    return ""


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts [true, predicted]."""
    idx = np.asarray(y_true, np.int64) * n_classes + np.asarray(y_pred, np.int64)
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def classify_files(
    model: Model,
    paths: Iterable[str | os.PathLike],
    topk: int = 5,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[Prediction]:
    """One :class:`Prediction` per path; unreadable files get ``error`` set, never an exception."""
    paths = [os.fspath(p) for p in paths]
    results: list[Prediction] = []
    images, ok = [], []
    for i, p in enumerate(paths):
        if cancelled and cancelled():
            break
        try:
            img = load_image(p, model.norm_size)
            images.append(img)
            ok.append(len(results))
            results.append(Prediction(p, image=img))
        except UserError as exc:
            results.append(Prediction(p, error=str(exc)))
        if progress:
            progress(i + 1, len(paths))
    if images:
        probs = predict_arrays(model, np.stack(images))
        for row, j in zip(probs, ok):
            order = np.argsort(-row)[:topk]
            r = results[j]
            r.top = [(model.classes[k], float(row[k])) for k in order]
            r.label, r.probability = r.top[0]
    return results


def image_files(folder: str | os.PathLike) -> list[str]:
    """Every image file under ``folder`` (recursively, hidden entries skipped), sorted."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [os.path.join(root, f) for f in sorted(files) if not f.startswith(".") and is_image_file(f)]
    return out


def labelled_files(folder: str | os.PathLike, classes: list[str]) -> list[tuple[str, int]] | None:
    """``(file, class index)`` for a folder whose subfolders are all class names of the model
    (case-insensitive), with the same rules as the folder-per-class dataset layout; else None."""
    from pathlib import Path

    root = Path(folder)
    lookup = {c.lower(): i for i, c in enumerate(classes)}
    try:
        found = class_files(root, root, [])
    except UserError:
        return None
    if not found or not all(name.lower() in lookup for name in found):
        return None
    return [(str(f), lookup[name.lower()]) for name in sorted(found) for f in found[name]]
