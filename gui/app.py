"""Start the desktop app: QApplication, names (QSettings uses them), plot theme, the window."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


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


def run_app(argv: list[str]) -> int:
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.style import apply_plot_theme

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setOrganizationName("Backprop Studio")
    app.setApplicationName("Backprop Studio")
    app.setApplicationDisplayName("Backprop Studio")
    app.setWindowIcon(QIcon(str(RESOURCES / "icon.png")))
    pg.setConfigOptions(imageAxisOrder="row-major")
    apply_plot_theme()
    dataset = next((a for a in argv if not a.startswith("-")), None)
    window = MainWindow(dataset_path=dataset)
    window.show()
    QTimer.singleShot(0, window.controller.warm)  # a worker process imports while the user looks
    from gui.tasks import start_task, start_worker

    warm = start_task(warm_up)
    warm.finished.connect(settle_heap)
    warm.finished.connect(window.hyper.refresh_devices)  # cuda / mps, now that torch is imported
    start_worker(warm)
    if "--quit-when-ready" in argv:  # start-up smoke test: open, load the data, report, leave

        def ready(ds):
            print(f"ready: {window.windowTitle()} | {window.dataset_status.message()}", flush=True)
            window.close()
            app.quit()

        window.dataset_loaded.connect(ready)
    return app.exec()
