"""The on-disk cache of decoded images: keyed by the files' content, validated on load, size-capped.

An entry is one ``.npz`` of the layout's pools (uint8 images, int64 labels) and a JSON
header. An entry that does not match its own header (shapes, label range, class count)
is ignored and rebuilt. Writing goes through a temporary file that is removed on any
failure; the total size is capped and the least recently used entries go first.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from engine.data.dataset import Split
from engine.data.files import regular_file
from engine.i18n import N_

CACHE_VERSION = 3  # bump when decoding changes
DEFAULT_CAP = 2 * 1024**3  # bytes; BACKPROP_STUDIO_CACHE_MAX overrides
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """The decoded-dataset cache: ``BACKPROP_STUDIO_CACHE``, else the OS's cache folder
    (``~/.cache`` or ``$XDG_CACHE_HOME`` on Linux, ``%LOCALAPPDATA%`` on Windows,
    ``~/Library/Caches`` on macOS)."""
    if os.environ.get("BACKPROP_STUDIO_CACHE"):
        return Path(os.environ["BACKPROP_STUDIO_CACHE"])
    import platformdirs

    return platformdirs.user_cache_path("backprop-studio", appauthor=False)


def cache_cap() -> int:
    try:
        return max(0, int(os.environ.get("BACKPROP_STUDIO_CACHE_MAX", DEFAULT_CAP)))
    except ValueError:
        return DEFAULT_CAP


def fingerprint(kind: str, files: list[Path], root: Path) -> str:
    """A content hash of ``files`` (names relative to ``root`` and bytes); regular files only."""
    h = hashlib.blake2b(f"{kind}|{CACHE_VERSION}".encode(), digest_size=16)
    for f in files:
        regular_file(f, N_("dataset file"))
        h.update(str(f.relative_to(root)).encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    return f"{kind}-{h.hexdigest()}"


def _entry(key: str) -> Path:
    return cache_dir() / f"{key}.npz"


def save_pools(key: str, meta: dict, pools: dict[str, Split]) -> None:
    """Write an entry (best effort: a cache that cannot be written only costs time).

    ``meta`` must hold ``classes`` and ``norm_size``; ``load_pools`` checks the arrays against them."""
    path = _entry(key)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            **meta,
            "pools": sorted(pools),
            "names": {k: p.names for k, p in pools.items()},
            "counts": {k: len(p) for k, p in pools.items()},
        }
        np.savez(
            tmp,
            meta=np.frombuffer(json.dumps(header).encode(), np.uint8),
            **{f"{k}_{a}": getattr(p, a) for k, p in pools.items() for a in "xy"},
        )
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:
            tmp.unlink()
        except OSError:
            pass
        return
    evict(keep=path)


def load_pools(key: str) -> tuple[dict, dict[str, Split]] | None:
    """(header, pools) if the entry exists and its arrays agree with its header (classes, norm size,
    counts, label range); None otherwise, and the caller decodes afresh."""
    path = _entry(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            n_classes, norm_size = len(meta["classes"]), tuple(int(v) for v in meta["norm_size"])
            if n_classes < 2 or len(norm_size) != 2 or min(norm_size) < 1:
                return None
            pools = {}
            for k in meta["pools"]:
                x, y = z[f"{k}_x"], z[f"{k}_y"]
                names = meta["names"][k]
                if not _pool_agrees(x, y, names, meta["counts"][k], n_classes, norm_size):
                    return None
                pools[k] = Split(x, y.astype(np.int64), list(names))
    except Exception:  # noqa: BLE001 - a damaged or foreign entry is rebuilt, never fatal
        return None
    try:
        os.utime(path)  # most recently used
    except OSError:
        pass
    return meta, pools


def _pool_agrees(x, y, names, count: int, n_classes: int, norm_size: tuple) -> bool:
    """A cached pool's arrays agree with its header: uint8 images of the norm size, one integer
    label (in range) and one name per image, as many as the header counts."""
    return not (
        x.dtype != np.uint8
        or x.ndim != 3
        or tuple(x.shape[1:]) != (norm_size[1], norm_size[0])
        or y.ndim != 1
        or len(y) != len(x)
        or len(y) != count
        or not np.issubdtype(y.dtype, np.integer)
        or (len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes))
        or (names and len(names) != len(y))
    )


def entries() -> list[Path]:
    d = cache_dir()
    return sorted(d.glob("*.npz")) if d.is_dir() else []


def info() -> tuple[int, int]:
    """(number of entries, total bytes)."""
    files = [p for p in entries() if not p.name.startswith(".")]
    return len(files), sum(p.stat().st_size for p in files)


def clear() -> int:
    """Remove every entry (and stale temporary files); returns how many files went."""
    n = 0
    for p in entries():
        try:
            p.unlink()
            n += 1
        except OSError:
            pass
    return n


def evict(keep: Path | None = None, cap: int | None = None) -> None:
    """Delete least-recently-used entries until the cache is within ``cap`` bytes; stale temp files go too."""
    cap = cache_cap() if cap is None else cap
    now = time.time()
    live = []
    for p in entries():
        try:
            st = p.stat()
        except OSError:
            continue
        if p.name.startswith("."):
            if now - st.st_mtime > 3600:  # a temp file a killed process left behind
                p.unlink(missing_ok=True)
            continue
        live.append((st.st_mtime, st.st_size, p))
    total = sum(s for _, s, _ in live)
    for _, size, p in sorted(live):
        if total <= cap:
            break
        if p == keep:
            continue
        p.unlink(missing_ok=True)
        total -= size


def lookup(fp: str, norm_size, classes: list[str], use_cache: bool = True):
    """The cache key of decoded images with content fingerprint ``fp`` at ``norm_size``, and the
    cached ``(meta, pools)`` if they are there and were made for the same classes and size."""
    key = f"{fp}-{norm_size[0]}x{norm_size[1]}"
    hit = load_pools(key) if use_cache else None
    if hit and hit[0]["classes"] == classes and tuple(hit[0]["norm_size"]) == tuple(norm_size):
        return key, hit
    return key, None
