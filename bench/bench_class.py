"""check --class: submissions per minute with 1 and 2 workers, side by side in one run.

    python bench/bench_class.py [--n 100] [--quick]

Makes N synthetic submissions (mixtures of tests/fixtures/userfn: correct, the course's
convention, the usual mistakes) in a temp folder and checks them one by one, then 2 at a time.
Target: >= 1.8x with 2 workers and under 2 s per submission (2-core machine).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIX = ROOT / "tests" / "fixtures" / "userfn"
SWAPS = [
    None,
    ("batch_factor.py", "losses.py"),
    ("sigmoid_input.py", "extra.py"),
    ("transposed.py", "extra.py"),
    ("tanh_output.py", "extra.py"),
    ("log_epsilon.py", "losses.py"),
]


def make_class(root: Path, n: int) -> None:
    letters = sorted((FIX / "letters").glob("*.py"))
    for i in range(n):
        d = root / f"student{i:03d}"
        d.mkdir(parents=True)
        for f in letters:
            shutil.copy(f, d / f.name)
        swap = SWAPS[i % len(SWAPS)]
        if swap:
            shutil.copy(FIX / "mistakes" / swap[0], d / swap[1])


def main() -> int:
    from engine.inspect.gradebook import check_class

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="20 submissions")
    a = ap.parse_args()
    n = 20 if a.quick else a.n
    tmp = Path(tempfile.mkdtemp())
    make_class(tmp / "class", n)
    times = {}
    for workers in (1, 2):
        t = time.perf_counter()
        grades = check_class(tmp / "class", tmp / f"out{workers}", workers=workers)
        times[workers] = time.perf_counter() - t
        assert len(grades) == n and not any(g.error for g in grades), [g.error for g in grades if g.error]
        print(
            f"{n} submissions, {workers} worker(s): {times[workers]:.1f} s, "
            f"{60 * n / times[workers]:.0f} submissions/min, {times[workers] / n:.2f} s each"
        )
    print(f"speed-up with 2 workers: {times[1] / times[2]:.2f}x (target >= 1.8x; under 2 s per submission)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
