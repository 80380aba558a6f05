"""IDX files (MNIST, Fashion-MNIST, KMNIST…), raw or gzipped, read with bounded memory.

The header declares the shape; nothing larger than it declares (and nothing larger than
MAX_IDX_BYTES) is ever decompressed or read.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from engine.data import cache
from engine.data.dataset import DIGITS, FASHION, Dataset, Split, build_dataset
from engine.data.files import regular_file
from engine.errors import UserError
from engine.i18n import N_, _

MAX_IDX_BYTES = 1024**3  # 1 GiB of pixels: 17× MNIST's training set
IDX_NAMES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


def find_idx(root: Path, which: str) -> Path | None:
    base = IDX_NAMES[which]
    for cand in (base, base + ".gz", base.replace("-idx", ".idx"), base.replace("-idx", ".idx") + ".gz"):
        if (root / cand).exists():
            return root / cand
    return None


def _read_exact(fh, n: int, path: Path, what: str) -> bytes:
    try:
        data = fh.read(n)
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(_("{path}: cannot read ({exc}); the file is damaged").format(path=path, exc=exc)) from None
    if len(data) < n:
        raise UserError(
            _("{path}: truncated: expected {n:,} bytes of {what}, found {n_data:,}").format(
                path=path, n=n, what=what, n_data=len(data)
            )
        )
    return data


def read_idx(path: Path, expect_ndim: int | None = None) -> np.ndarray:
    """An IDX file (raw or .gz) → uint8 array; malformed, truncated or oversized files name the problem."""
    regular_file(path, N_("IDX file"))
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        fh = opener(path, "rb")
    except OSError as exc:
        raise UserError(_("{path}: cannot read ({reason})").format(path=path, reason=exc.strerror or exc)) from None
    with fh:
        head = _read_exact(fh, 4, path, "header")
        zero, dtype, ndim = int.from_bytes(head[:2], "big"), head[2], head[3]
        if zero != 0 or dtype != 0x08 or ndim not in (1, 3):
            raise UserError(
                _("{path}: not an unsigned-byte IDX file of 1 or 3 dimensions (magic {head})").format(
                    path=path, head=head.hex()
                )
            )
        if expect_ndim is not None and ndim != expect_ndim:
            raise UserError(
                _("{path}: has {ndim} dimensions, expected {expect_ndim} ({value})").format(
                    path=path, ndim=ndim, expect_ndim=expect_ndim, value="images" if expect_ndim == 3 else "labels"
                )
            )
        raw_dims = _read_exact(fh, 4 * ndim, path, "header")
        dims = [int.from_bytes(raw_dims[4 * i : 4 * i + 4], "big") for i in range(ndim)]
        if dims[0] == 0:
            raise UserError(_("{path}: holds no items (count 0)").format(path=path))
        if ndim == 3 and (dims[1] == 0 or dims[2] == 0):
            raise UserError(
                _("{path}: images of {dim1}×{dim2} pixels are empty").format(path=path, dim1=dims[1], dim2=dims[2])
            )
        if ndim == 3 and (dims[1] > 4096 or dims[2] > 4096):
            raise UserError(
                _("{path}: images of {dim1}×{dim2} pixels are too large (at most 4096×4096)").format(
                    path=path, dim1=dims[1], dim2=dims[2]
                )
            )
        need = 1
        for d in dims:
            need *= d
        if need > MAX_IDX_BYTES:
            raise UserError(
                _("{path}: declares {need:,} bytes of data (shape {dims}); at most {max_idx_bytes:,}").format(
                    path=path, need=need, dims=dims, max_idx_bytes=MAX_IDX_BYTES
                )
            )
        data = _read_exact(fh, need, path, f"data for shape {dims}")
    return np.frombuffer(data, np.uint8).reshape(dims)


def open_idx(root: Path, progress, use_cache, split_seed=0, val_split=0.1) -> Dataset:
    paths = _idx_paths(root)
    present = [p for p in paths.values() if p]
    fp = cache.fingerprint("idx", present, root)
    hit = cache.load_pools(fp) if use_cache else None
    if hit:
        meta, pools = hit
        classes, norm, notes = meta["classes"], tuple(meta["norm_size"]), list(meta.get("notes", []))
    else:
        classes, norm, pools, notes = _read_pools(root, paths, progress)
        if use_cache:
            cache.save_pools(fp, {"classes": classes, "norm_size": list(norm), "notes": notes}, pools)
    if progress:
        progress(len(present), len(present), "done")
    return build_dataset(root.name, str(root), "idx", classes, norm, pools, notes, fp, split_seed, val_split)


def _idx_paths(root: Path) -> dict:
    """The IDX files of ``root`` by role (train/test × images/labels; None where absent)."""
    paths = {k: find_idx(root, k) for k in IDX_NAMES}
    if not paths["train_x"] and not paths["test_x"]:
        singles = sorted(root.glob("*-idx3-ubyte*"))
        labels = [Path(str(p).replace("idx3", "idx1").replace("images", "labels")) for p in singles]
        if not singles or not labels[0].exists():
            raise UserError(_("{root}: found no images/labels IDX pair").format(root=root))
        paths = {"train_x": singles[0], "train_y": labels[0], "test_x": None, "test_y": None}
    if not paths["train_x"]:
        raise UserError(_("{root}: has test files (t10k-*) but no train-images-idx3-ubyte[.gz]").format(root=root))
    for img_key, lab_key in (("train_x", "train_y"), ("test_x", "test_y")):
        if paths[img_key] and not paths[lab_key]:
            raise UserError(
                _("{root}: {images_file} has no matching labels file").format(
                    root=root, images_file=paths[img_key].name
                )
            )
    return paths


def _read_pools(root: Path, paths: dict, progress):
    """The files read and checked against each other: (classes, (w, h), pools, notes)."""
    present = [(k, p) for k, p in paths.items() if p]
    arrays: dict[str, np.ndarray] = {}
    for i, (k, p) in enumerate(present):
        if progress:
            progress(i, len(present), _("reading {file}").format(file=p.name))
        arrays[k] = read_idx(p, 3 if k.endswith("x") else 1)
    for img_key, lab_key in (("train_x", "train_y"), ("test_x", "test_y")):
        if img_key in arrays and len(arrays[img_key]) != len(arrays[lab_key]):
            raise UserError(
                _("{labels_file}: {n_labels} labels for {n_images} images in {images_file}").format(
                    labels_file=paths[lab_key],
                    n_labels=len(arrays[lab_key]),
                    n_images=len(arrays[img_key]),
                    images_file=paths[img_key].name,
                )
            )
    if "test_x" in arrays and arrays["test_x"].shape[1:] != arrays["train_x"].shape[1:]:
        tr, te = arrays["train_x"].shape[1:], arrays["test_x"].shape[1:]
        raise UserError(
            _(
                "{test_images}: test images are {test_to}×{test_from}, training images {train_to}×{train_from}; "
                "they must match"
            ).format(test_images=paths["test_x"], test_to=te[1], test_from=te[0], train_to=tr[1], train_from=tr[0])
        )
    n_classes, notes = _classes_from_labels({k: arrays[k] for k in ("train_y", "test_y") if k in arrays}, paths)
    if n_classes == 10:
        classes = FASHION if "fashion" in str(root).lower() else DIGITS
    else:
        classes = [str(i) for i in range(n_classes)]
    h, w = arrays["train_x"].shape[1:]
    pools = {"train": Split(arrays["train_x"], arrays["train_y"].astype(np.int64))}
    if "test_x" in arrays:
        pools["test"] = Split(arrays["test_x"], arrays["test_y"].astype(np.int64))
    else:
        pools = {"all": pools["train"]}
    return classes, (w, h), pools, notes


def _classes_from_labels(labels: dict[str, np.ndarray], paths: dict) -> tuple[int, list[str]]:
    """The number of classes (largest label + 1), and a note for labels no image has. A label far
    beyond the others (255 among 0–9: a damaged file or a placeholder) is refused, not made into
    246 empty classes."""
    seen = np.unique(np.concatenate(list(labels.values())))
    n_classes = int(seen[-1]) + 1
    if n_classes > 2 * len(seen) and n_classes > 2:
        top = int(seen[-1])
        where = next(k for k, y in labels.items() if int(y.max()) == top)
        count = sum(int((y == top).sum()) for y in labels.values())
        rest = seen[seen < top]
        others = f"{int(rest.min())}–{int(rest.max())}" if len(rest) else "none"
        raise UserError(
            _(
                "{where}: label {top} ({count:,} image(s)) is far beyond the others ({others}, {n_seen} values "
                "in all): IDX labels are class numbers 0 … K−1 (a damaged file?)"
            ).format(where=paths[where], top=top, count=count, others=others, n_seen=len(seen))
        )
    missing = sorted(set(range(n_classes)) - {int(v) for v in seen})
    notes = []
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        notes.append(
            _("{file}: no image has label {labels}: those classes stay empty").format(
                file=paths["train_y"].name, labels=shown
            )
        )
    return n_classes, notes
