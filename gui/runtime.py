"""What the running app does to Python itself: imports ahead of need, the heap after start-up,
and where the cyclic garbage collector may run. Kept apart from :mod:`gui.app` (the entry
point) so the window's modules never import the module that imports them."""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer


def warm_up() -> None:
    """Import what the first run would import lazily: building a torch optimizer pulls in
    torch._dynamo (about a second), which must not happen on the GUI thread at Start."""
    import torch

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])


def settle_heap() -> None:
    """Move everything alive after start-up (torch, Qt, pyqtgraph: ~10⁶ objects) out of the
    collector's reach. Otherwise each full collection walks them all: 100–200 ms in which
    the event loop stalls, measured by bench/bench_gui.py."""
    gc.collect()
    gc.freeze()


_collector = None
FULL_WHILE_BUSY_S = 120.0  # while a run or a sweep animates the window: a full collection at most this often


class _Collector(QObject):
    """Cyclic garbage collection on a GUI-thread timer, at Python's usual thresholds — except that
    while the app is busy (a run or a sweep drawing live) a full collection waits: it walks every
    object alive (torch, Qt, SQLAlchemy, Optuna: 60–80 ms here) and was the longest stall of a
    sweep's event loop. Young generations are still collected every tenth of a second; the full one runs
    once the app is idle, or every ``FULL_WHILE_BUSY_S`` seconds at most while it stays busy."""

    def __init__(self, busy, interval_ms: int = 100):
        super().__init__()
        self.busy = busy
        self.last_full = time.monotonic()
        self.full_collections = 0
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        (t0, t1, t2), (n0, n1, n2) = gc.get_threshold(), gc.get_count()
        if n0 <= t0:
            return
        gen = 0
        if n1 > t1:
            gen = 1
            if n2 > t2 and (not self.busy() or time.monotonic() - self.last_full >= FULL_WHILE_BUSY_S):
                gen = 2
        gc.collect(gen)
        if gen == 2:
            self.last_full = time.monotonic()
            self.full_collections += 1


def collect_garbage_in_gui_thread(busy=lambda: False) -> None:
    """Python's cyclic garbage collection in the GUI thread only (automatic collection off, a
    timer collects; see :class:`_Collector`). A collection started by a worker thread can destroy
    a Qt object there and deadlock against the GUI thread: seen when a t-SNE task's imports
    collected an old menu while the GUI thread deleted another. ``busy()``: whether the window is
    animating a run or a sweep now (full collections wait)."""
    global _collector
    if _collector is None:
        _collector = _Collector(busy)
    else:
        _collector.busy = busy
