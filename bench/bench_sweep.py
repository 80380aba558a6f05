"""Run store and sweep costs, side by side in one run (printed as ratios).

1. Recording a run in the store vs not recording it (same run, in-process).
2. A letters sweep on 2 workers vs 1 worker (10 trials; --quick: 4 trials, fewer epochs).

    .venv/bin/python bench/bench_sweep.py [--quick]
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
    tmp = tempfile.mkdtemp()
    os.environ["BACKPROP_STUDIO_RUNS_DB"] = os.path.join(tmp, "runs.db")
    from engine.checkpoint import Model, dataset_record
    from engine.config import preset_config
    from engine.data.layouts import open_dataset
    from engine.runs.record import RunRecorder
    from engine.runs.store import RunStore
    from engine.runs.sweep import Sweep, build_spec, open_study
    from engine.training.run import TrainingRun

    letters = ROOT.parent / "shared" / "datasets" / "character_classification"
    ds = open_dataset(str(letters) if letters.exists() else "builtin")
    epochs = 10 if a.quick else 50
    config = preset_config("letters-course", epochs=epochs).validate()
    store = RunStore(os.path.join(tmp, "runs.db"))
    plain, recorded = [], []
    for _ in range(1 if a.quick else 3):
        run = TrainingRun(config, ds)
        t = time.perf_counter()
        run.run()
        plain.append(time.perf_counter() - t)
        run = TrainingRun(config, ds)
        t = time.perf_counter()
        rec = RunRecorder(store, config, dataset_record(ds), name="bench", source="bench")
        last = None
        for ev in run.events():
            rec.on_event(ev)
            last = ev
        rec.finish(last, Model(run.network, ds.classes, ds.norm_size, config, run.history), run.best_weights)
        recorded.append(time.perf_counter() - t)
    p, r = min(plain), min(recorded)
    print(
        f"recording a {epochs}-epoch run: {p:.2f} s unrecorded, {r:.2f} s recorded (checkpoints included): "
        f"throughput ratio {p / r:.3f}x (target >= 0.98x)"
    )
    n = 2 if a.quick else 5
    grid = "weight_decay=" + ",".join(str(w) for w in (0.08, 0.1, 0.12, 0.15, 0.18)[:n])
    times = {}
    for workers in (1, 2):
        spec = build_spec("letters-course", {"epochs": epochs}, [grid], [0, 1])
        spec.dataset = {**dataset_record(ds), "norm_size": list(ds.norm_size)}
        study, spec = open_study(f"sqlite:///{tmp}/sweeps.db", f"bench-{workers}", spec)
        t = time.perf_counter()
        Sweep(study, spec, ds, workers=workers, store=store).run()
        times[workers] = time.perf_counter() - t
    print(
        f"sweep of {2 * n} trials ({epochs} epochs, batch 8): 1 worker {times[1]:.1f} s, 2 workers {times[2]:.1f} s, "
        f"speed-up {times[1] / times[2]:.2f}x (target >= 1.7x; {os.cpu_count()} cores)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
