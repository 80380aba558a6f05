"""Start the desktop app: QApplication, names (QSettings uses them), plot theme, the window."""

from __future__ import annotations

import sys


def run_app(argv: list[str]) -> int:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.style import apply_plot_theme

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setOrganizationName("Backprop Studio")
    app.setApplicationName("Backprop Studio")
    app.setApplicationDisplayName("Backprop Studio")
    pg.setConfigOptions(imageAxisOrder="row-major")
    apply_plot_theme()
    dataset = next((a for a in argv if not a.startswith("-")), None)
    window = MainWindow(dataset_path=dataset)
    window.show()
    if "--quit-when-ready" in argv:  # start-up smoke test: open, load the data, report, leave
        def ready(ds):
            print(f"ready: {window.windowTitle()} | {window.dataset_status.text()}", flush=True)
            window.close()
            app.quit()

        window.dataset_loaded.connect(ready)
    return app.exec()
