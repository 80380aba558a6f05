"""Set NumPy's OpenBLAS thread count at run time (Linux; a no-op where it cannot be found).

Small matrix products (a batch of 8 through a 1024×64 layer) run faster on one BLAS
thread: waking a second one costs more than the product. NumPy gives no API for this, so
the loaded OpenBLAS is found in the process's memory map and its own setter is called.
"""

from __future__ import annotations

import ctypes
import functools
from contextlib import contextmanager

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GETTERS = tuple(s.replace("set_", "get_") for s in _SETTERS)


@functools.lru_cache(maxsize=1)
def _openblas():
    import numpy  # noqa: F401 - loads the library we look for

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
        getter = next((getattr(lib, g) for g in _GETTERS if hasattr(lib, g)), None)
        if setter and getter:
            return setter, getter, int(getter())
    return None


_cap: int | None = None  # this process's most (a worker process given n cores): see cap_blas_threads


def set_blas_threads(n: int | None) -> bool:
    """``n`` threads for NumPy's BLAS, or its start-up default for ``None`` (never more than the
    cap); False if unsupported."""
    found = _openblas()
    if found is None:
        return False
    setter, _getter, default = found
    want = int(n if n is not None else default)
    setter(min(want, _cap) if _cap else want)
    return True


def cap_blas_threads(n: int | None) -> bool:
    """At most ``n`` BLAS threads in this process from now on (``None``: no cap). A worker
    process given ``n`` cores keeps to them."""
    global _cap
    _cap = n
    return set_blas_threads(n)


@contextmanager
def one_blas_thread():
    """NumPy products on one BLAS thread inside, the count restored after. For small products in
    a process that trains with torch: a second OpenBLAS thread, once woken, spins for a while
    waiting for more work, and called again within that while it never sleeps. It then takes a
    whole core from torch and from the window (measured: 98 % of a core in a training worker
    that collected layer health every few hundred steps)."""
    found = _openblas()
    if found is None:
        yield
        return
    setter, getter, _default = found
    before = int(getter())
    setter(1)
    try:
        yield
    finally:
        setter(before)


def blas_threads() -> int | None:
    found = _openblas()
    return int(found[1]()) if found else None
