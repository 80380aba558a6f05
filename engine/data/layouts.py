"""Which layout a folder holds, and :func:`open_dataset` for all four layouts of DESIGN.md."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from engine.data.dataset import Dataset
from engine.data.idx import find_idx
from engine.errors import UserError
from engine.i18n import _

Progress = Callable[[int, int, str], None]
BUILTIN_NAMES = ("", "builtin", "letters")
MAX_NORM_SIDE = 1024


def is_builtin(path) -> bool:
    return path is None or str(path) in BUILTIN_NAMES


def detect_layout(path: Path) -> str:
    """``course``, ``idx`` or ``folders``; a :class:`UserError` naming the folder otherwise."""
    if not path.exists():
        raise UserError(_("{path}: no such file or folder").format(path=path))
    if not path.is_dir():
        raise UserError(
            _("{path}: a dataset is a folder (course JSON, IDX files or one folder per class)").format(path=path)
        )
    if (path / "train.json").exists():
        return "course"
    if find_idx(path, "train_x") or find_idx(path, "test_x") or list(path.glob("*-idx3-ubyte*")):
        return "idx"
    try:
        if any(p.is_dir() for p in path.iterdir()):
            return "folders"
    except PermissionError:
        raise UserError(_("{path}: permission denied (cannot list the folder)").format(path=path)) from None
    raise UserError(_("{path}: no dataset found (expected train.json, IDX files or class folders)").format(path=path))


def folder_kind(path) -> str | None:
    """What a dropped folder holds: ``dataset`` (a course or IDX layout, or class folders split
    into train/val/test), ``classes`` (one folder per class, no split folders: a dataset, or a
    labelled set to classify), or None (no dataset layout: plain images, perhaps)."""
    p = Path(path)
    try:
        layout = detect_layout(p)
    except UserError:
        return None
    if layout in ("course", "idx"):
        return "dataset"
    from engine.data.folders import split_roots

    try:
        roots = split_roots(p)
    except UserError:
        return None
    return "dataset" if roots["train"] is not None else "classes"


def layout_of(path) -> str:
    """The layout name, ``builtin`` for the generated letters."""
    return "builtin" if is_builtin(path) else detect_layout(Path(path).expanduser().resolve())


def check_norm_size(norm_size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in norm_size)
    except (TypeError, ValueError):
        raise UserError(
            _("norm size: {norm_size!r} is not a (width, height) pair").format(norm_size=norm_size)
        ) from None
    if not (1 <= w <= MAX_NORM_SIDE and 1 <= h <= MAX_NORM_SIDE):
        raise UserError(
            _("norm size: {w}×{h} must be between 1 and {max_norm_side} pixels a side").format(
                w=w, h=h, max_norm_side=MAX_NORM_SIDE
            )
        )
    return w, h


def open_dataset(
    path: str | os.PathLike | None,
    norm_size: tuple[int, int] | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    split_seed: int = 0,
    val_split: float = 0.1,
) -> Dataset:
    """Open any layout; ``None`` or ``"builtin"`` gives the generated letters.

    ``split_seed`` and ``val_split`` decide the split where the layout has none of its own.
    """
    if is_builtin(path):
        from engine.data.letters import builtin_letters

        return builtin_letters(progress=progress, use_cache=use_cache)
    root = Path(path).expanduser().resolve()
    layout = detect_layout(root)
    norm = check_norm_size(norm_size or (32, 32))
    if layout == "course":
        from engine.data.course import open_course

        return open_course(root, norm, progress, use_cache, split_seed, val_split)
    if layout == "idx":
        from engine.data.idx import open_idx

        return open_idx(root, progress, use_cache, split_seed, val_split)
    from engine.data.folders import open_folders

    return open_folders(root, norm, progress, use_cache, split_seed, val_split)
