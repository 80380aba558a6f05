"""The letters course's layout: ``train.json``, ``validation.json``, ``test.json`` (image name → letter)
and the images in ``images/``. The split is the course's own."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.data import cache
from engine.data.dataset import LETTERS, Dataset, Split, build_dataset
from engine.data.files import inside, read_bytes_limited
from engine.data.images import decode_files
from engine.errors import UserError

MAX_JSON_BYTES = 64 * 1024**2
JSONS = {"train": "train.json", "val": "validation.json", "test": "test.json"}


def read_json_labels(path: Path) -> dict[str, str]:
    if not path.exists():
        raise UserError(f"{path}: missing (the course layout needs train.json, validation.json, test.json)")
    raw = read_bytes_limited(path, MAX_JSON_BYTES, "label file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise UserError(f"{path}: JSON nested too deeply (expected one flat object)") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UserError(f"{path}: expected an object mapping image file names to letters")
    return data


def open_course(root: Path, norm_size, progress, use_cache, split_seed=0, val_split=0.1) -> Dataset:
    labels = {s: read_json_labels(root / name) for s, name in JSONS.items()}
    images = root / "images"
    files = {s: [inside(images, name, f"{JSONS[s]} key") for name in labels[s]] for s in labels}
    ys = {}
    for s in labels:
        ys[s] = []
        for name, label in labels[s].items():
            letter = label.strip().upper()
            if letter not in LETTERS:
                raise UserError(f"{root / JSONS[s]}: label {label!r} of {name} is not a letter A–Z")
            ys[s].append(LETTERS.index(letter))
    present = [root / n for n in JSONS.values()] + [f for s in files for f in files[s] if f.is_file()]
    fp = cache.fingerprint("course", present, root.resolve())
    key, hit = cache.lookup(fp, norm_size, LETTERS, use_cache)
    if hit:
        meta, pools = hit
        skipped = meta.get("skipped", [])
    else:
        skipped: list[str] = []
        pools = {}
        total = sum(len(v) for v in files.values())
        done = 0
        for s in ("train", "val", "test"):
            x, ok = decode_files(files[s], norm_size, progress, skipped, done, total)
            done += len(files[s])
            names = list(labels[s])
            pools[s] = Split(x, np.asarray(ys[s], np.int64)[ok], [names[i] for i in ok])
        if use_cache:
            cache.save_pools(key, {"classes": LETTERS, "norm_size": list(norm_size), "skipped": skipped}, pools)
    return build_dataset(root.name, str(root), "course", LETTERS, norm_size, pools, skipped, fp, split_seed, val_split)
