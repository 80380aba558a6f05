"""One folder per class: ``root/<class>/<images>``, or ``root/{train,val,test}/<class>/…``.

Only regular image files inside ``root`` are read (links leading out are skipped and named).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.data import cache
from engine.data.dataset import Dataset, Split, build_dataset
from engine.data.images import decode_files, is_image_file
from engine.errors import UserError

SPLIT_DIRS = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}


def _listdir(d: Path) -> list[Path]:
    try:
        return sorted(d.iterdir())
    except PermissionError:
        raise UserError(f"{d}: permission denied (cannot list the folder)") from None
    except OSError as exc:
        raise UserError(f"{d}: cannot list the folder ({exc.strerror or exc})") from None


def class_files(root: Path, top: Path, skipped: list[str]) -> dict[str, list[Path]]:
    """``{class name: image files}`` for the class folders directly under ``root``."""
    out = {}
    base = top.resolve()
    for d in (p for p in _listdir(root) if p.is_dir() and not p.name.startswith(".")):
        files = []
        stack = [d]
        while stack:
            for f in _listdir(stack.pop()):
                if f.name.startswith("."):
                    continue
                real = f.resolve()
                if base not in real.parents:
                    skipped.append(f"{f}: points outside {top}; skipped")
                elif f.is_dir():
                    stack.append(f)
                elif is_image_file(f.name):
                    files.append(f)
        if files:
            out[d.name] = sorted(files)
    return out


def split_roots(root: Path) -> dict[str, Path | None]:
    subdirs = {p.name.lower(): p for p in _listdir(root) if p.is_dir()}
    return {s: next((subdirs[n] for n in names if n in subdirs), None) for s, names in SPLIT_DIRS.items()}


def open_folders(root: Path, norm_size, progress, use_cache, split_seed=0, val_split=0.1) -> Dataset:
    skipped: list[str] = []
    roots = split_roots(root)
    if roots["train"] is not None:
        per_pool = {s: class_files(r, root, skipped) for s, r in roots.items() if r is not None}
    else:
        per_pool = {"all": class_files(root, root, skipped)}
    classes = sorted({c for files in per_pool.values() for c in files})
    if not classes:
        raise UserError(f"{root}: no class folders with images found")
    all_files = [f for files in per_pool.values() for fs in files.values() for f in fs]
    fp = cache.fingerprint("folders", all_files, root)
    key, hit = cache.lookup(fp, norm_size, classes, use_cache)
    if hit:
        meta, pools = hit
        skipped = meta.get("skipped", [])
    else:
        pools = {}
        done = 0
        for s, files in per_pool.items():
            flist = [(f, classes.index(c)) for c, fs in files.items() for f in fs]
            x, ok = decode_files([f for f, _ in flist], norm_size, progress, skipped, done, len(all_files))
            done += len(flist)
            pools[s] = Split(
                x,
                np.asarray([flist[i][1] for i in ok], np.int64),
                [os.fspath(flist[i][0].relative_to(root)) for i in ok],
            )
        if use_cache:
            cache.save_pools(key, {"classes": classes, "norm_size": list(norm_size), "skipped": skipped}, pools)
    return build_dataset(root.name, str(root), "folders", classes, norm_size, pools, skipped, fp, split_seed, val_split)
