"""What the running app does to Python itself: imports ahead of need, the heap after start-up,
and where the cyclic garbage collector may run. Kept apart from :mod:`gui.app` (the entry
point) so the window's modules never import the module that imports them."""

from __future__ import annotations

import gc


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


def collect_garbage_in_gui_thread() -> None:
    """Python's cyclic garbage collection in the GUI thread only (pyqtgraph's GarbageCollector:
    automatic collection off, a timer collects at the usual thresholds). A collection started by
    a worker thread can destroy a Qt object there and deadlock against the GUI thread: seen when
    a t-SNE task's imports collected an old menu while the GUI thread deleted another."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=0.5)
