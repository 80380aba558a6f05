"""The letters course's layout: ``train.json``, ``validation.json``, ``test.json`` (image name → letter)
and the images in ``images/``. The split is the course's own."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from engine.data import cache
from engine.data.dataset import LETTERS, Dataset, Split, build_dataset
from engine.data.files import inside, read_bytes_limited
from engine.data.images import decode_files
from engine.errors import UserError
from engine.i18n import N_, _

MAX_JSON_BYTES = 64 * 1024**2
JSONS = {"train": "train.json", "val": "validation.json", "test": "test.json"}


def read_json_labels(path: Path) -> dict[str, str]:
    if not path.exists():
        raise UserError(
            _("{path}: missing (the course layout needs train.json, validation.json, test.json)").format(path=path)
        )
    raw = read_bytes_limited(path, MAX_JSON_BYTES, N_("label file"))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(_("{path}: not valid JSON ({exc})").format(path=path, exc=exc)) from None
    except RecursionError:
        raise UserError(_("{path}: JSON nested too deeply (expected one flat object)").format(path=path)) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UserError(_("{path}: expected an object mapping image file names to letters").format(path=path))
    return data


def open_course(root: Path, norm_size, progress, use_cache, split_seed=0, val_split=0.1) -> Dataset:
    labels = {s: read_json_labels(root / name) for s, name in JSONS.items()}
    files, ys, keys, repeats = _unique_images(root, labels)
    present = [root / n for n in JSONS.values()] + [f for s in files for f in files[s] if f.is_file()]
    fp = cache.fingerprint("course", present, root.resolve())
    key, hit = cache.lookup(fp, norm_size, LETTERS, use_cache)
    if hit:
        meta, pools = hit
        skipped = meta.get("skipped", [])
    else:
        skipped: list[str] = list(repeats)
        pools = {}
        total = sum(len(v) for v in files.values())
        done = 0
        for s in ("train", "val", "test"):
            x, ok = decode_files(files[s], norm_size, progress, skipped, done, total)
            done += len(files[s])
            pools[s] = Split(x, np.asarray(ys[s], np.int64)[ok], [keys[s][i] for i in ok])
        if use_cache:
            cache.save_pools(key, {"classes": LETTERS, "norm_size": list(norm_size), "skipped": skipped}, pools)
    return build_dataset(root.name, str(root), "course", LETTERS, norm_size, pools, skipped, fp, split_seed, val_split)


def _unique_images(root: Path, labels: dict[str, dict[str, str]]):
    """Each split's image files and labels, every image once: a key that names an image already
    listed (``./a.png``, ``b/../a.png``, a link to it) is left out and counted, in one line per
    label file — a 25 MB file naming one image a million ways was a million decodes (713 s,
    5.4 GB). Returns (files, labels, keys, notes)."""
    images = root / "images"
    files: dict[str, list[Path]] = {}
    ys: dict[str, list[int]] = {}
    keys: dict[str, list[str]] = {}
    notes: list[str] = []
    by_spelling: dict[str, Path] = {}  # normalised key → its file: most repeats cost no file-system call
    first: dict[Path, tuple[str, str]] = {}  # file → (label file, key) that listed it first
    for s, entries in labels.items():
        files[s], ys[s], keys[s] = [], [], []
        repeated, example = 0, None
        for name, label in entries.items():
            letter = label.strip().upper()
            if letter not in LETTERS:
                raise UserError(
                    _("{jsons}: label {label!r} of {name} is not a letter A–Z").format(
                        jsons=root / JSONS[s], label=label, name=name
                    )
                )
            spelling = os.path.normpath(name) if isinstance(name, str) else name
            path = by_spelling.get(spelling) or inside(images, name, f"{JSONS[s]} key")
            by_spelling[spelling] = path
            if path in first:
                repeated += 1
                example = example or (name, *first[path])
                continue
            first[path] = (JSONS[s], name)
            files[s].append(path)
            keys[s].append(name)
            ys[s].append(LETTERS.index(letter))
        if repeated:
            name, where, original = example
            notes.append(
                f"{JSONS[s]}: {repeated:,} key(s) name an image already listed (e.g. {name!r} is {original!r} "
                f"of {where}); each image is used once"
            )
    return files, ys, keys, notes
