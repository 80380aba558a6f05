"""Datasets: the four layouts of DESIGN.md, decoded once into uint8 arrays and cached on disk.

A :class:`Dataset` holds ``train``/``val``/``test`` splits as ``x`` uint8
``[N, H, W]`` and ``y`` int64 ``[N]``, plus the class names. Batches are sliced
from these arrays; nothing is decoded per step.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import UserError
from engine.images import is_image_file, load_image

LETTERS = [chr(ord("A") + i) for i in range(26)]
DIGITS = [str(i) for i in range(10)]
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CACHE_VERSION = 2  # bump when decoding or splitting changes
Progress = Callable[[int, int, str], None]


@dataclass
class Split:
    x: np.ndarray  # uint8 [N, H, W]
    y: np.ndarray  # int64 [N]
    names: list[str] = field(default_factory=list)  # file names where the layout has them

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    name: str
    source: str
    layout: str
    classes: list[str]
    norm_size: tuple[int, int]  # (width, height), Pillow's order, as the course's configs
    train: Split
    val: Split
    test: Split
    skipped: list[str] = field(default_factory=list)  # "file: problem" for images left out

    @property
    def in_features(self) -> int:
        return self.norm_size[0] * self.norm_size[1]

    def split(self, name: str) -> Split:
        key = {"validation": "val", "valid": "val"}.get(name, name)
        if key not in ("train", "val", "test"):
            raise UserError(f"split: unknown {name!r}; choose train, val or test")
        return getattr(self, key)

    def describe(self) -> str:
        return (f"{self.name}: {len(self.train)}/{len(self.val)}/{len(self.test)} "
                f"train/val/test, {len(self.classes)} classes, "
                f"{self.norm_size[0]}×{self.norm_size[1]}")


def cache_dir() -> Path:
    root = os.environ.get("BACKPROP_STUDIO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "backprop-studio")
    return Path(root)


# -- cache ----------------------------------------------------------------------------

def _save_cache(key: str, ds: Dataset) -> None:
    path = cache_dir() / f"{key}.npz"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"name": ds.name, "layout": ds.layout, "classes": ds.classes,
                "norm_size": list(ds.norm_size), "skipped": ds.skipped,
                "names": {s: getattr(ds, s).names for s in ("train", "val", "test")}}
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                 **{f"{s}_{a}": getattr(getattr(ds, s), a) for s in ("train", "val", "test") for a in "xy"})
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def _load_cache(key: str, source: str) -> Dataset | None:
    path = cache_dir() / f"{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            splits = {s: Split(z[f"{s}_x"], z[f"{s}_y"].astype(np.int64), meta["names"][s])
                      for s in ("train", "val", "test")}
    except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, never fatal
        return None
    return Dataset(meta["name"], source, meta["layout"], meta["classes"], tuple(meta["norm_size"]),
                   splits["train"], splits["val"], splits["test"], meta["skipped"])


def _content_key(kind: str, files: list[Path], root: Path, extra: str = "") -> str:
    h = hashlib.blake2b(f"{kind}|{CACHE_VERSION}|{extra}".encode(), digest_size=16)
    for f in files:
        h.update(str(f.relative_to(root)).encode() + b"\0")
        with open(f, "rb") as fh:
            h.update(fh.read())
    return f"{kind}-{h.hexdigest()}"


# -- layout detection ---------------------------------------------------------------------

IDX_NAMES = {
    "train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte",
}


def detect_layout(path: Path) -> str:
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if not path.is_dir():
        raise UserError(f"{path}: a dataset is a folder (course JSON, IDX files or one folder per class)")
    if (path / "train.json").exists():
        return "course"
    if _find_idx(path, "train_x") or _find_idx(path, "test_x") or list(path.glob("*-idx3-ubyte*")):
        return "idx"
    if any(p.is_dir() for p in path.iterdir()):
        return "folders"
    raise UserError(f"{path}: no dataset found (expected train.json, IDX files or class folders)")


def open_dataset(path: str | os.PathLike | None, norm_size: tuple[int, int] | None = None,
                 progress: Progress | None = None, use_cache: bool = True, seed: int = 0) -> Dataset:
    """Open any layout of DESIGN.md; ``None`` or ``"builtin"`` gives the generated letters."""
    if path is None or str(path) in ("", "builtin", "letters"):
        from engine.letters import builtin_letters

        return builtin_letters(progress=progress, use_cache=use_cache)
    root = Path(path).expanduser().resolve()
    layout = detect_layout(root)
    if layout == "course":
        return _open_course(root, tuple(norm_size or (32, 32)), progress, use_cache)
    if layout == "idx":
        return _open_idx(root, progress, use_cache, seed)
    return _open_folders(root, tuple(norm_size or (32, 32)), progress, use_cache, seed)


def _decode_all(files: list[Path], norm_size, progress: Progress | None, skipped: list[str],
                offset: int = 0, total: int | None = None) -> tuple[np.ndarray, list[int]]:
    """Decode images; returns the stack and the indices that decoded (bad ones go to ``skipped``)."""
    total = total or len(files)
    out = np.zeros((len(files), norm_size[1], norm_size[0]), np.uint8)
    ok = []
    for i, f in enumerate(files):
        try:
            out[i] = load_image(f, norm_size)
            ok.append(i)
        except UserError as exc:
            skipped.append(str(exc))
        if progress and (i % 64 == 0 or i == len(files) - 1):
            progress(offset + i + 1, total, f"decoding {f.name}")
    return out[ok], ok


# -- course layout ----------------------------------------------------------------------

def _read_json_labels(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: missing (the course layout needs train.json, validation.json, test.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UserError(f"{path}: expected an object mapping image file names to letters")
    return data


def _open_course(root: Path, norm_size, progress, use_cache) -> Dataset:
    jsons = {"train": root / "train.json", "val": root / "validation.json", "test": root / "test.json"}
    labels = {s: _read_json_labels(p) for s, p in jsons.items()}
    images = root / "images"
    files = {s: [images / name for name in labels[s]] for s in labels}
    all_files = [f for s in files for f in files[s] if f.exists()]
    key = _content_key("course", list(jsons.values()) + all_files, root, str(norm_size)) if use_cache else ""
    if use_cache and (cached := _load_cache(key, str(root))):
        return cached
    skipped: list[str] = []
    splits = {}
    total = sum(len(v) for v in files.values())
    done = 0
    for s in ("train", "val", "test"):
        ys = []
        for name, label in labels[s].items():
            letter = label.strip().upper()
            if letter not in LETTERS:
                raise UserError(f"{jsons[s]}: label {label!r} of {name} is not a letter A–Z")
            ys.append(LETTERS.index(letter))
        x, ok = _decode_all(files[s], norm_size, progress, skipped, done, total)
        done += len(files[s])
        names = list(labels[s])
        splits[s] = Split(x, np.asarray(ys, np.int64)[ok], [names[i] for i in ok])
    ds = Dataset(root.name, str(root), "course", LETTERS, norm_size,
                 splits["train"], splits["val"], splits["test"], skipped)
    if len(ds.train) == 0:
        raise UserError(f"{root}: no training image could be read ({len(skipped)} failed)")
    if use_cache:
        _save_cache(key, ds)
    return ds


# -- IDX --------------------------------------------------------------------------------

def _find_idx(root: Path, which: str) -> Path | None:
    base = IDX_NAMES[which]
    for cand in (base, base + ".gz", base.replace("-idx", ".idx"), base.replace("-idx", ".idx") + ".gz"):
        if (root / cand).exists():
            return root / cand
    return None


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (raw or .gz) → uint8 array; truncated or malformed files name the problem."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(f"{path}: cannot read ({exc})") from None
    if len(raw) < 4:
        raise UserError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    zero, dtype, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype != 0x08 or ndim not in (1, 3):
        raise UserError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UserError(f"{path}: truncated header")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    need = int(np.prod(dims))
    have = len(raw) - header
    if have < need:
        raise UserError(f"{path}: truncated: expected {need:,} bytes of data for shape {dims}, found {have:,}")
    return np.frombuffer(raw, np.uint8, need, header).reshape(dims).copy()


def _open_idx(root: Path, progress, use_cache, seed) -> Dataset:
    paths = {k: _find_idx(root, k) for k in IDX_NAMES}
    if not paths["train_x"] and not paths["test_x"]:
        singles = sorted(root.glob("*-idx3-ubyte*"))
        labels = [Path(str(p).replace("idx3", "idx1").replace("images", "labels")) for p in singles]
        if not singles or not labels[0].exists():
            raise UserError(f"{root}: found no images/labels IDX pair")
        paths = {"train_x": singles[0], "train_y": labels[0], "test_x": None, "test_y": None}
    for img_key, lab_key in (("train_x", "train_y"), ("test_x", "test_y")):
        if paths[img_key] and not paths[lab_key]:
            raise UserError(f"{root}: {paths[img_key].name} has no matching labels file")
    present = [p for p in paths.values() if p]
    key = _content_key("idx", present, root, str(seed)) if use_cache else ""
    if use_cache and (cached := _load_cache(key, str(root))):
        return cached
    arrays = {}
    for i, (k, p) in enumerate((k, p) for k, p in paths.items() if p):
        if progress:
            progress(i, len(present), f"reading {p.name}")
        arrays[k] = read_idx(p)
    for img_key, lab_key in (("train_x", "train_y"), ("test_x", "test_y")):
        if img_key in arrays and len(arrays[img_key]) != len(arrays[lab_key]):
            raise UserError(f"{paths[lab_key]}: {len(arrays[lab_key])} labels for "
                            f"{len(arrays[img_key])} images in {paths[img_key].name}")
        if img_key in arrays and arrays[img_key].ndim != 3:
            raise UserError(f"{paths[img_key]}: expected 3-D image data")
    rng = np.random.default_rng(seed)
    x, y = arrays["train_x"], arrays["train_y"].astype(np.int64)
    order = rng.permutation(len(y))
    if "test_x" in arrays:
        n_val = len(y) // 10
        val_idx, train_idx = order[:n_val], order[n_val:]
        test = Split(arrays["test_x"], arrays["test_y"].astype(np.int64))
    else:
        n_val = n_test = len(y) // 10
        val_idx, test_idx, train_idx = order[:n_val], order[n_val : n_val + n_test], order[n_val + n_test :]
        test = Split(x[test_idx], y[test_idx])
    n_classes = int(max(y.max(), test.y.max() if len(test) else 0)) + 1
    low = str(root).lower()
    classes = FASHION if "fashion" in low and n_classes == 10 else (
        DIGITS if n_classes == 10 else [str(i) for i in range(n_classes)])
    h, w = x.shape[1:]
    ds = Dataset(root.name, str(root), "idx", classes, (w, h),
                 Split(x[train_idx], y[train_idx]), Split(x[val_idx], y[val_idx]), test)
    if progress:
        progress(len(present), len(present), "done")
    if use_cache:
        _save_cache(key, ds)
    return ds


# -- folder per class -------------------------------------------------------------------

SPLIT_DIRS = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}


def _class_files(root: Path) -> dict[str, list[Path]]:
    out = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(f for f in d.rglob("*") if f.is_file() and is_image_file(f.name))
        if files:
            out[d.name] = files
    return out


def _open_folders(root: Path, norm_size, progress, use_cache, seed) -> Dataset:
    subdirs = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    split_roots = {s: next((subdirs[n] for n in names if n in subdirs), None) for s, names in SPLIT_DIRS.items()}
    if split_roots["train"] is not None:
        per_split = {s: (_class_files(r) if r else {}) for s, r in split_roots.items()}
    else:
        per_split = {"all": _class_files(root)}
    classes = sorted({c for files in per_split.values() for c in files})
    if not classes:
        raise UserError(f"{root}: no class folders with images found")
    all_files = [f for files in per_split.values() for fs in files.values() for f in fs]
    key = _content_key("folders", all_files, root, f"{norm_size}|{seed}") if use_cache else ""
    if use_cache and (cached := _load_cache(key, str(root))):
        return cached
    skipped: list[str] = []
    decoded = {}
    done = 0
    for s, files in per_split.items():
        flist = [(f, classes.index(c)) for c, fs in files.items() for f in fs]
        x, ok = _decode_all([f for f, _ in flist], norm_size, progress, skipped, done, len(all_files))
        done += len(flist)
        decoded[s] = Split(x, np.asarray([flist[i][1] for i in ok], np.int64),
                           [str(flist[i][0].relative_to(root)) for i in ok])
    if "all" in decoded:
        full = decoded.pop("all")
        order = np.random.default_rng(seed).permutation(len(full))
        n = len(full) // 10
        parts = {"val": order[:n], "test": order[n : 2 * n], "train": order[2 * n :]}
        decoded = {s: Split(full.x[i], full.y[i], [full.names[j] for j in i]) for s, i in parts.items()}
    else:  # a split folder that is missing or empty gets a seeded 10 % of train
        rng = np.random.default_rng(seed)
        for s in ("val", "test"):
            train = decoded["train"]
            if len(decoded.get(s, ())) == 0 and len(train) >= 10:
                order = rng.permutation(len(train))
                n = len(train) // 10
                take, keep = order[:n], order[n:]
                decoded[s] = Split(train.x[take], train.y[take], [train.names[j] for j in take])
                decoded["train"] = Split(train.x[keep], train.y[keep], [train.names[j] for j in keep])
    empty = Split(np.zeros((0, norm_size[1], norm_size[0]), np.uint8), np.zeros(0, np.int64))
    ds = Dataset(root.name, str(root), "folders", classes, norm_size,
                 decoded.get("train", empty), decoded.get("val", empty), decoded.get("test", empty), skipped)
    if len(ds.train) == 0:
        raise UserError(f"{root}: no training image could be read ({len(skipped)} failed)")
    if use_cache:
        _save_cache(key, ds)
    return ds
