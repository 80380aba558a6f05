"""Screenshot every main view after a real run, in a real window (run under Xvfb: ``make screenshots``).

Usage: ``xvfb-run -a -s "-screen 0 1600x1000x24" python bench/screenshots.py OUTDIR [--dark] [--data DIR]``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    dark = "--dark" in sys.argv
    data = sys.argv[sys.argv.index("--data") + 1] if "--data" in sys.argv else "builtin"
    size = sys.argv[sys.argv.index("--size") + 1] if "--size" in sys.argv else "1500x920"
    width, height = (int(v) for v in size.split("x"))
    lang = sys.argv[sys.argv.index("--lang") + 1] if "--lang" in sys.argv else "en"
    tag = ("-dark" if dark else "") + ("" if data == "builtin" else "-" + Path(data).name) + f"-{size}"
    tag += "" if lang == "en" else f"-{lang}"
    os.environ.setdefault("BACKPROP_STUDIO_SETTINGS", os.path.join(tempfile.mkdtemp(), "s.ini"))
    os.environ.setdefault("BACKPROP_STUDIO_RUNS_DB", os.path.join(tempfile.mkdtemp(), "runs.db"))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication([])
    app.setStyle("Fusion")
    if dark:
        pal = QPalette()
        for role, color in (
            (QPalette.Window, "#2b2b2b"),
            (QPalette.WindowText, "#e6e6e6"),
            (QPalette.Base, "#1e1e1e"),
            (QPalette.AlternateBase, "#2b2b2b"),
            (QPalette.Text, "#e6e6e6"),
            (QPalette.Button, "#3a3a3a"),
            (QPalette.ButtonText, "#e6e6e6"),
            (QPalette.Highlight, "#0072B2"),
            (QPalette.ToolTipBase, "#3a3a3a"),
            (QPalette.ToolTipText, "#e6e6e6"),
        ):
            pal.setColor(role, QColor(color))
        for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):  # as an OS dark theme does
            pal.setColor(QPalette.Disabled, role, QColor("#7a7a7a"))
        app.setPalette(pal)
    from engine.config import TrainConfig
    from gui.main_window import MainWindow
    from gui.style import apply_plot_theme

    apply_plot_theme()
    from gui import i18n

    i18n.install(lang)  # --lang zh_CN: the window in Chinese
    w = MainWindow(load_default=False)
    if "--natural" not in sys.argv:  # --natural: the size the window picks for this screen itself
        w.resize(width, height)
        w.move(0, 0)
    w.show()
    loop = QEventLoop()

    def wait(signal, ms=120000):
        """Until ``signal`` (or ``ms``): a timer of its own, stopped after, so a stale one never
        ends a later wait early."""
        timer = QTimer(singleShot=True, interval=ms)
        timer.timeout.connect(loop.quit)
        signal.connect(loop.quit)
        timer.start()
        loop.exec()
        timer.stop()
        signal.disconnect(loop.quit)

    def pause(ms):
        timer = QTimer(singleShot=True, interval=ms)
        timer.timeout.connect(loop.quit)
        timer.start()
        loop.exec()
        timer.stop()

    def shot(name, whole_screen=False):
        pause(300)
        g = w.frameGeometry()
        args = () if whole_screen else (g.x(), g.y(), g.width(), g.height())
        app.primaryScreen().grabWindow(0, *args).save(str(out / f"{name}{tag}.png"))

    w.open_dataset(data)
    wait(w.dataset_loaded)
    shot("1-dataset-start")
    small = data == "builtin"
    w.hyper.set_config(
        TrainConfig(
            epochs=40 if small else 6,
            engine="numpy",
            batch_size=8 if small else 64,
            hidden=[64] if small else [256],
            lr=2e-3 if small else 5e-4,
            weight_decay=0.15 if small else 0.02,
        )
    )
    w.start_training()
    pause(1500)
    w.controller.toggle_pause()
    shot("2-training-live")
    w.controller.toggle_pause()
    wait(w.training_finished)
    pause(800)
    w.tabs.setCurrentWidget(w.plots)
    shot("3-training-done")
    w.tabs.setCurrentWidget(w.browser)
    w.browser.wrong_only.setChecked(True)
    shot("4-predictions")
    letters = ROOT.parent / "shared" / "datasets" / "character_classification"
    files = sorted((letters / "new_images").glob("*.png")) + sorted((letters / "images").glob("*.jpg"))[:6]
    bad = Path(tempfile.mkdtemp()) / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    w.classify_paths([str(f) for f in files] + [str(bad)])
    wait(w.classification_done)
    shot("5-classify")
    w.tabs.setCurrentWidget(w.weights_panel)
    shot("6-weights")
    w.tabs.setCurrentWidget(w.dataset_panel)
    shot("7-dataset")
    dialog = w.gradient_check()
    pause(6000)
    shot("8-gradcheck", whole_screen=True)
    dialog.close()
    w.dirty = False
    w.hyper.set_config(TrainConfig(epochs=3, engine="numpy", lr=100.0, batch_size=64, optim="sgd"))
    w.start_training()
    wait(w.training_finished)
    pause(500)
    for box in w.findChildren(QMessageBox):
        box.close()
    w.tabs.setCurrentWidget(w.plots)
    shot("9-diverged")
    w.plots.set_log_loss(True)
    shot("9b-diverged-log")
    # the runs recorded so far, the last two overlaid
    w.tabs.setCurrentWidget(w.runs_view)
    w.runs_view.refresh()
    w.runs_view.select_ids(set(sorted(w.runs_view.rows)[-2:]))
    shot("10-runs")
    # a small sweep from the window: the table, the curves, parallel coordinates, importance
    from gui.views.sweeps import NewSweepDialog

    d = NewSweepDialog(w)
    d.grid.setPlainText("lr=0.001,0.003,0.01\nact=relu,tanh")
    d.seeds.setText("0,1")
    w.hyper.set_config(TrainConfig(epochs=4, batch_size=32, engine="numpy"))
    d.base = w.hyper.config().to_dict()
    d.spec = d.spec_for(d.base)
    w.new_sweep(d)
    wait(w.sweep_panel.finished, 300000)
    shot("11-sweep")
    # your own functions: the letters course's modules and one with a mistake, checked and raced
    fix = ROOT / "tests" / "fixtures" / "userfn"
    mine = Path(tempfile.mkdtemp())
    for f in [*(fix / "letters").glob("*.py"), fix / "mistakes" / "sigmoid_input.py"]:
        (mine / f.name).write_bytes(f.read_bytes())
    w.functions_view.load([str(mine / n) for n in ("network.py", "losses.py", "sigmoid_input.py")])
    w.tabs.setCurrentWidget(w.functions_view)
    wait(w.functions_view.checked)
    rows = [w.functions_view.table.item(i, 0).text() for i in range(w.functions_view.table.rowCount())]
    w.functions_view.table.selectRow(rows.index("Sigmoid"))
    w.functions_view.race()
    wait(w.functions_view.raced)
    shot("12-functions")
    # inside the network: health of the last run, the step-through, the embedding
    w.dirty = False
    w.hyper.set_config(TrainConfig(epochs=30, engine="numpy", batch_size=32, hidden=[64]))
    w.start_training()
    wait(w.training_finished)
    w.tabs.setCurrentWidget(w.internals)
    w.internals.tabs.setCurrentWidget(w.internals.health)
    shot("13-health")
    w.internals.tabs.setCurrentWidget(w.internals.distributions)
    shot("14-distributions")
    w.internals.tabs.setCurrentWidget(w.internals.explain)
    w.internals.explain.explain_selected()
    w.internals.explain.steps.setCurrentRow(w.internals.explain.steps.count() - 3)
    shot("15-explain")
    w.internals.tabs.setCurrentWidget(w.internals.embedding)
    w.internals.embedding.method.setCurrentText("t-SNE")
    w.internals.embedding.as_labels.setChecked(True)
    w.internals.embedding.compute()
    while not w.internals.embedding.go.isEnabled():
        pause(200)
    shot("16-embedding")
    w.internals.tabs.setCurrentWidget(w.internals.units)
    w.internals.units.show_unit(1, 5)
    shot("17-units")
    w.internals.tabs.setCurrentWidget(w.internals.network)
    shot("18-network")
    w.dirty = False
    w.close()
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
