"""Helper of bench_gui.py: prints when the window is shown and when the default dataset is ready."""

import os
import sys
import time

T0 = time.perf_counter()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

app = QApplication([])
from gui.main_window import MainWindow  # noqa: E402
from gui.style import apply_plot_theme  # noqa: E402

apply_plot_theme()
w = MainWindow()
w.show()
app.processEvents()
print(f"shown={time.perf_counter() - T0:.3f}", flush=True)
w.dataset_loaded.connect(
    lambda ds: (print(f"ready={time.perf_counter() - T0:.3f}", flush=True), QTimer.singleShot(0, app.quit))
)
app.exec()
w.close()
