"""Reproduce both courses' published numbers with their own settings; prints two tables.

    python bench/reproduce_courses.py [--seeds 0,1,2] [--skip-mnist]

Letters course (report's Table 2): preset letters-course (N(0,1) init, the summed-loss
gradient, torch.optim.Adam), hidden 64, lr 2e-3, weight decay 0.08 … 0.18, 50 epochs.
MNIST course: preset mnist-course (784→256→64→10 without biases, uniform init, standardised
inputs, SGD lr 0.1, batch 128, all 60,000 images), 10 epochs, both engines.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from engine.config import preset_config  # noqa: E402
from engine.data.layouts import open_dataset  # noqa: E402
from engine.training.run import EvalEvent, TrainingRun  # noqa: E402

LETTERS = ROOT.parent / "shared" / "datasets" / "character_classification"
MNIST = ROOT.parent / "shared" / "datasets" / "mnist"
COURSE_TABLE2 = {0.08: (79.2, 82.5), 0.10: (80.5, 80.2), 0.12: (77.8, 79.8), 0.15: (80.8, 84.2), 0.18: (80.0, 82.8)}


def letters(seeds: list[int]) -> None:
    ds = open_dataset(LETTERS)
    print("| weight decay | course val / test | ours val / test (mean over seeds) | seeds | time/run |")
    print("|---|---|---|---|---|")
    for wd, (cv, ct) in COURSE_TABLE2.items():
        vals, tests, times = [], [], []
        for seed in seeds:
            run = TrainingRun(preset_config("letters-course", weight_decay=wd, seed=seed), ds)
            t0 = time.perf_counter()
            evs = list(run.events())
            times.append(time.perf_counter() - t0)
            vals.append([e for e in evs if isinstance(e, EvalEvent)][-1].val_acc * 100)
            tests.append(evs[-1].test_acc * 100)
        print(
            f"| {wd:g} | {cv:.1f} / {ct:.1f} | {np.mean(vals):.1f} / {np.mean(tests):.1f} "
            f"(± {np.std(vals):.1f} / {np.std(tests):.1f}) | {','.join(map(str, seeds))} | "
            f"{np.mean(times):.1f} s |",
            flush=True,
        )


def mnist() -> None:
    ds = open_dataset(MNIST, val_split=0.0)
    print("\n| engine | epochs | test accuracy (course: 0.9715 after 3, 0.9810 after 10) | time |")
    print("|---|---|---|---|")
    for engine in ("torch", "numpy"):
        run = TrainingRun(preset_config("mnist-course", engine=engine), ds)
        t0 = time.perf_counter()
        last = run.run()
        print(f"| {engine} | 10 | {last.test_acc:.4f} | {time.perf_counter() - t0:.1f} s |", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--skip-mnist", action="store_true")
    a = p.parse_args()
    letters([int(s) for s in a.seeds.split(",")])
    if not a.skip_mnist:
        mnist()
