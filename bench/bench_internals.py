"""The internals views' costs, measured side by side in one run (printed as ratios and times).

1. Health collection at the default interval vs none: training throughput ratio (target ≥ 0.97×).
2. The step-through of one image through a 1024→64→26 network (target ≤ 100 ms).
3. PCA of 2,000 points (target ≤ 50 ms); t-SNE of 2,000 points (target ≤ 10 s, with progress).
4. The GUI event loop while training with the Internals views that update live visible (Health,
   Distributions, Network), beside the Training tab in the same run, on the built-in letters as
   bench_gui.py (target p99 ≤ 16 ms).

    .venv/bin/python bench/bench_internals.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    import numpy as np

    from engine.config import preset_config
    from engine.data.layouts import open_dataset
    from engine.inspect.embed import layer_outputs, pca, tsne
    from engine.inspect.explain import explain
    from engine.model.init import initial_weights
    from engine.training.health import HealthEvent
    from engine.training.run import TrainingRun

    letters = ROOT.parent / "shared" / "datasets" / "character_classification"
    ds = open_dataset(str(letters) if letters.exists() else "builtin")
    epochs = 5 if a.quick else 20
    config = preset_config("letters", epochs=epochs).validate()
    rates: dict[bool, float] = {}
    counts, shares = 0, []
    for _ in range(2 if a.quick else 4):
        for health in (False, True):
            run = TrainingRun(config, ds, health=health)
            t = time.perf_counter()
            n = sum(isinstance(e, HealthEvent) for e in run.events())
            took = time.perf_counter() - t
            rates[health] = max(rates.get(health, 0.0), epochs * len(ds.train) / took)
            if health:
                counts = n
                shares.append(run.health_seconds / took)
    print(
        f"health collection ({counts} collections over {epochs} epochs): {rates[False]:,.0f} samples/s without, "
        f"{rates[True]:,.0f} with, ratio {rates[True] / rates[False]:.3f}x; the collections themselves took "
        f"{100 * float(np.median(shares)):.1f} % of the run (target: cost under 3 %)"
    )

    w = initial_weights([1024, 64, 26], "relu", 0)
    x = np.random.default_rng(0).random(1024)
    explain(w, "relu", x, 3)  # imports
    times = []
    for _ in range(5):
        t = time.perf_counter()
        explain(w, "relu", x, 3)
        times.append(time.perf_counter() - t)
    print(f"step-through of one image, 1024→64→26, checks included: {1000 * min(times):.1f} ms (target <= 100 ms)")

    xs = ds.test.x if len(ds.test) >= 2000 else np.concatenate([ds.train.x, ds.val.x, ds.test.x])
    from engine.data.images import normalize

    feats = layer_outputs(w, "relu", normalize(xs[:2000]), None)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        pca(feats)
        times.append(time.perf_counter() - t)
    print(f"PCA of {len(feats)} points: {1000 * min(times):.1f} ms (target <= 50 ms)")
    ticks = []
    t = time.perf_counter()
    tsne(feats, progress=lambda d, n: ticks.append(d))
    print(
        f"t-SNE of {len(feats)} points: {time.perf_counter() - t:.1f} s, {len(ticks)} progress reports (target <= 10 s)"
    )

    # 4. the event loop with the Internals tab shown during training
    tmp = tempfile.mkdtemp()
    os.environ["BACKPROP_STUDIO_SETTINGS"] = os.path.join(tmp, "settings.ini")
    os.environ["BACKPROP_STUDIO_RUNS_DB"] = os.path.join(tmp, "runs.db")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from engine.config import TrainConfig

    app = QApplication.instance() or QApplication([])
    from gui.main_window import MainWindow
    from gui.style import apply_plot_theme

    apply_plot_theme()
    from gui.runtime import settle_heap, warm_up

    win = MainWindow(load_default=False)
    win.resize(1400, 880)
    win.show()
    warm_up()
    settle_heap()
    gui_ds = open_dataset("builtin")  # as bench_gui.py: 8,320 images, epochs long enough to see steps
    win.session.set_dataset(gui_ds)
    win.controller.warm()
    time.sleep(3)
    results = {}
    win.plots.keep_box.setChecked(False)  # each run alone on the plots: the two runs compare alike
    views = (
        ("Training", win.plots, None),
        ("Internals ▸ Health", win.internals, win.internals.health),
        ("Internals ▸ Distributions", win.internals, win.internals.distributions),
        ("Internals ▸ Network", win.internals, win.internals.network),
    )
    for name, tab, sub in views[:2] if a.quick else views:
        win.plots.clear_previous()
        win.tabs.setCurrentWidget(tab)
        if sub is not None:
            win.internals.tabs.setCurrentWidget(sub)
        win.dirty = False
        win.hyper.set_config(TrainConfig(epochs=3 if a.quick else 20).validate())
        lateness: list[float] = []
        clock = QElapsedTimer()
        timer = QTimer(interval=10)

        def tick(lateness=lateness, clock=clock):
            if clock.isValid():
                lateness.append(max(0.0, clock.nsecsElapsed() / 1e6 - 10.0))
            clock.restart()

        timer.timeout.connect(tick)
        loop = QEventLoop()
        win.training_finished.connect(loop.quit)
        win.start_training()
        timer.start()
        loop.exec()
        timer.stop()
        win.training_finished.disconnect(loop.quit)
        results[name] = np.asarray(lateness[5:])  # from the first steps on (the run's start is measured elsewhere)
    for name, lat in results.items():
        print(
            f"event loop while training, {name} tab shown: p50 {np.percentile(lat, 50):.1f} ms, p99 "
            f"{np.percentile(lat, 99):.1f} ms, max {lat.max():.1f} ms over {len(lat)} ticks (target p99 <= 16 ms)"
        )
    print(f"({len(win.internals.health.records)} health collections in the last run)")
    win.dirty = False
    win.tasks.cancel_all()
    win.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
