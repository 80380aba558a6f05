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
from engine.i18n import _

SPLIT_DIRS = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}


def _listdir(d: Path) -> list[Path]:
    try:
        return sorted(d.iterdir())
    except PermissionError:
        raise UserError(_("{path}: permission denied (cannot list the folder)").format(path=d)) from None
    except OSError as exc:
        raise UserError(_("{d}: cannot list the folder ({reason})").format(d=d, reason=exc.strerror or exc)) from None


def _real(f: Path) -> Path | None:
    try:
        return f.resolve(strict=True)
    except (OSError, RuntimeError):  # a link loop or a dangling link
        return None


def class_files(root: Path, top: Path, skipped: list[str], seen: dict | None = None) -> dict[str, list[Path]]:
    """``{class name: image files}`` for the class folders directly under ``root``.

    Each real folder is read once and each real file counted once, across the whole dataset
    (``seen``, shared between splits): a link back into a folder already read (``loop -> .``)
    or a second link to the same file is skipped and named, never read again — a loop once
    turned 24 images into 344 and put every test image into training."""
    seen = seen if seen is not None else {"dirs": set(), "files": {}}
    out = {}
    base = top.resolve()
    for d in (p for p in _listdir(root) if p.is_dir() and not p.name.startswith(".")):
        files = []
        stack = [d]
        while stack:
            folder = stack.pop()
            real_folder = _real(folder)
            if real_folder is None:
                skipped.append(f"{folder}: a link loop or a broken link; skipped")
                continue
            if real_folder in seen["dirs"]:
                skipped.append(f"{folder}: leads into a folder already read (a link loop?); skipped")
                continue
            seen["dirs"].add(real_folder)
            for f in _listdir(folder):
                if f.name.startswith("."):
                    continue
                real = _real(f)
                if real is None:
                    skipped.append(f"{f}: a link loop or a broken link; skipped")
                elif base not in real.parents:
                    skipped.append(f"{f}: points outside {top}; skipped")
                elif f.is_dir():
                    stack.append(f)
                elif is_image_file(f.name):
                    if real in seen["files"]:
                        skipped.append(f"{f}: the same file as {seen['files'][real]}; counted once")
                        continue
                    seen["files"][real] = f
                    files.append(f)
        if files:
            out[d.name] = sorted(files)
    return out


def leaks(ds: Dataset) -> list[str]:
    """Images with the same content in training and in validation or test: a leak, named."""
    import hashlib

    def digests(split):
        return {hashlib.blake2b(x.tobytes(), digest_size=16).digest(): i for i, x in enumerate(split.x)}

    train = digests(ds.train)
    out = []
    for name, split in (("validation", ds.val), ("test", ds.test)):
        dup = [i for i, x in enumerate(split.x) if hashlib.blake2b(x.tobytes(), digest_size=16).digest() in train]
        if dup:
            example = split.names[dup[0]] if split.names else f"#{dup[0]}"
            out.append(
                f"{len(dup)} {name} image(s) have the same content as a training image (e.g. {example}): "
                f"a leak, the {name} accuracy is too high"
            )
    return out


def split_roots(root: Path) -> dict[str, Path | None]:
    subdirs = {p.name.lower(): p for p in _listdir(root) if p.is_dir()}
    return {s: next((subdirs[n] for n in names if n in subdirs), None) for s, names in SPLIT_DIRS.items()}


def open_folders(root: Path, norm_size, progress, use_cache, split_seed=0, val_split=0.1) -> Dataset:
    skipped: list[str] = []
    roots = split_roots(root)
    seen: dict = {"dirs": set(), "files": {}}
    if roots["train"] is not None:
        per_pool = {s: class_files(r, root, skipped, seen) for s, r in roots.items() if r is not None}
    else:
        per_pool = {"all": class_files(root, root, skipped, seen)}
    classes = sorted({c for files in per_pool.values() for c in files})
    if not classes:
        raise UserError(_("{path}: no class folders with images found").format(path=root))
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
            x, ok = decode_files([f for f, _label in flist], norm_size, progress, skipped, done, len(all_files))
            done += len(flist)
            pools[s] = Split(
                x,
                np.asarray([flist[i][1] for i in ok], np.int64),
                [os.fspath(flist[i][0].relative_to(root)) for i in ok],
            )
        if use_cache:
            cache.save_pools(key, {"classes": classes, "norm_size": list(norm_size), "skipped": skipped}, pools)
    ds = build_dataset(root.name, str(root), "folders", classes, norm_size, pools, skipped, fp, split_seed, val_split)
    if roots["train"] is not None:  # splits the user made: an image in two of them is a leak worth saying
        ds.skipped.extend(leaks(ds))
    return ds
