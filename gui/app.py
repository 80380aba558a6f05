"""Start the desktop app: QApplication, names (QSettings uses them), plot theme, the window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def icon_path() -> Path:
    """The application icon: in the checkout, or where ``pip install`` put it (share/icons)."""
    for p in (
        RESOURCES / "backprop-studio.png",
        Path(sys.prefix) / "share" / "icons" / "hicolor" / "256x256" / "apps" / "backprop-studio.png",
    ):
        if p.is_file():
            return p
    return RESOURCES / "backprop-studio.png"


def run_app(argv: list[str]) -> int:
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from engine import __version__
    from gui.instance import InstanceServer, hand_over
    from gui.main_window import MainWindow
    from gui.style import apply_plot_theme

    existing = QApplication.instance()
    app = existing or QApplication([sys.argv[0], *argv])
    app.setOrganizationName("Backprop Studio")
    app.setApplicationName("Backprop Studio")
    app.setApplicationDisplayName("Backprop Studio")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("backprop-studio")
    from gui import i18n, settings

    # before any window exists: every tr() below reads the language chosen here
    i18n.install(os.environ.get("BACKPROP_STUDIO_LANG") or settings.read("language"))
    app.setWindowIcon(QIcon(str(icon_path())))
    # Qt removed its own options (-style fusion, -platform …): what is left is ours and files
    args = list(argv) if existing else app.arguments()[1:]
    own_flags = {"--quit-when-ready"}
    paths = [os.path.abspath(a) for a in args if not a.startswith("-") and a not in own_flags]
    if "--quit-when-ready" not in args and hand_over(paths):
        return 0  # the window already open took the files
    server = InstanceServer(parent=app)
    pg.setConfigOptions(imageAxisOrder="row-major")
    apply_plot_theme()
    dataset = paths[0] if len(paths) == 1 and os.path.isdir(paths[0]) else None
    window = MainWindow(dataset_path=dataset)
    window.show()
    server.paths_received.connect(window.open_from_launch)
    if paths and dataset is None:
        QTimer.singleShot(0, lambda: window.open_from_launch(paths))
    QTimer.singleShot(0, window.controller.warm)  # a worker process imports while the user looks
    from gui.runtime import settle_heap, warm_up
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
