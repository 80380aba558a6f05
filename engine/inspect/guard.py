"""What the user's code may not change under the check: the names the check's own arithmetic
uses (NumPy's namespace, ``numpy.linalg``, ``math``, builtins, torch's tensor methods).

One line in a student's file, ``np.linalg.norm = lambda *a, **k: 0``, would make every
comparison "equal" and every wrong gradient pass. The check snapshots these names before the
user's modules are imported, puts back anything changed after the import and after each call
into the user's code, and fails the check naming what was replaced. (The sandbox bounds time,
memory, output and processes; this bounds what the verdict can be talked into.)
"""

from __future__ import annotations

import builtins
import math

import numpy as np

Snapshot = dict[tuple[str, str], object]


def _watched() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = [("numpy", np), ("numpy.linalg", np.linalg), ("math", math), ("builtins", builtins)]
    try:
        import torch

        out += [("torch", torch), ("torch.Tensor", torch.Tensor)]
    except ImportError:  # pragma: no cover - torch is a dependency; kept importable without it
        pass
    return out


def _names(obj) -> dict:
    """A module's public namespace, a class's own public attributes (private names change as
    libraries load lazily; the check's arithmetic goes through the public ones)."""
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def snapshot() -> Snapshot:
    return {(label, name): value for label, obj in _watched() for name, value in _names(obj).items()}


def restore(snap: Snapshot) -> list[str]:
    """Put back every watched name that was changed or removed; returns them (``numpy.linalg.norm``)."""
    changed = []
    objects = dict(_watched())
    for (label, name), value in snap.items():
        obj = objects.get(label)
        if obj is None:
            continue
        current = vars(obj).get(name, _MISSING)
        if current is not value:
            try:
                setattr(obj, name, value)
            except (AttributeError, TypeError):  # pragma: no cover - a read-only slot cannot have changed
                continue
            changed.append(f"{label}.{name}")
    return changed


_MISSING = object()
