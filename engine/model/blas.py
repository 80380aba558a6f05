"""NumPy's BLAS thread count at run time, on every OS, through ``threadpoolctl``.

Small matrix products (a batch of 8 through a 1024×64 layer) run faster on one BLAS
thread: waking a second one costs more than the product, and an idle OpenBLAS thread spins
for a while after each call. NumPy gives no API for this; ``threadpoolctl`` finds the BLAS
library NumPy loaded (OpenBLAS, MKL or Accelerate, on Linux, Windows and macOS) and calls
its own setter. Only NumPy's BLAS is touched: torch keeps its own thread settings.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager


@functools.lru_cache(maxsize=1)
def _numpy_blas():
    """threadpoolctl's controllers for the BLAS library NumPy loaded, and its start-up thread
    count (None if none is found)."""
    import numpy  # noqa: F401 - loads the library we look for
    from threadpoolctl import ThreadpoolController

    try:
        libs = ThreadpoolController().select(user_api="blas").lib_controllers
    except Exception:  # noqa: BLE001 - an unknown platform or library: no control, not an error
        return None
    # NumPy's wheels keep their BLAS beside the package (numpy.libs, numpy/.dylibs, scipy_openblas);
    # a conda NumPy shares the environment's; torch's own BLAS is never ours to set
    own = [c for c in libs if "numpy" in _norm(c.filepath) or "scipy_openblas" in _norm(c.filepath)]
    libs = own or [c for c in libs if "/torch/" not in _norm(c.filepath)]
    if not libs:
        return None
    return libs, int(libs[0].num_threads)


def _norm(path: str) -> str:
    return (path or "").replace("\\", "/").lower()


def _get() -> int:
    found = _numpy_blas()
    return int(found[0][0].num_threads) if found else 0


def _set(n: int) -> None:
    for lib in _numpy_blas()[0]:
        lib.set_num_threads(n)


_cap: int | None = None  # this process's most (a worker process given n cores): see cap_blas_threads


def set_blas_threads(n: int | None) -> bool:
    """``n`` threads for NumPy's BLAS, or its start-up default for ``None`` (never more than the
    cap); False if unsupported."""
    found = _numpy_blas()
    if found is None:
        return False
    want = int(n if n is not None else found[1])
    _set(min(want, _cap) if _cap else want)
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
    if _numpy_blas() is None:
        yield
        return
    before = _get()
    _set(1)
    try:
        yield
    finally:
        _set(before)


def blas_threads() -> int | None:
    return _get() if _numpy_blas() else None
