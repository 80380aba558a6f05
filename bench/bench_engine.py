"""Engine benchmarks, side by side in one process, printed as ratios (``make bench``).

1. Training-step throughput at batch 8 and 128 (1024 → 64 → 26, relu, adam):
   the torch engine (hand-written Functions) and the NumPy engine vs the same MLP on
   PyTorch built-ins (``F.linear``, ``F.relu``, ``F.cross_entropy``, built-in autograd).
2. A full letters run at the course's settings (50 epochs, batch 8) with each engine vs the
   course's pipeline: a ``Dataset`` decoding each image on every access inside a ``DataLoader``.
3. The NumPy engine on a busy machine: MNIST-sized steps (784 → 256 → 64 → 10, no bias, sgd,
   batch 128 and 256) with a CPU-bound process running beside it, the run's own thread count
   (1, the default) vs NumPy's start-up BLAS threads (every core), float32 and float64.

Options: ``--quick`` (fewer steps, 5-epoch full runs) for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import TrainConfig  # noqa: E402
from engine.model.build import build_network  # noqa: E402
from engine.model.init import initial_weights  # noqa: E402
from engine.model.torch_network import _torch_optimizer  # noqa: E402

LETTERS_DIR = ROOT.parent / "shared" / "datasets" / "character_classification"


class BuiltinMLP(torch.nn.Module):
    """The reference: the same network on PyTorch's own ops and autograd."""

    def __init__(self, weights):
        super().__init__()
        self.params = torch.nn.ParameterList([torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights])

    def forward(self, x):
        n = len(self.params) // 2
        for i in range(n):
            x = F.linear(x, self.params[2 * i], self.params[2 * i + 1])
            if i < n - 1:
                x = F.relu(x)
        return x


def step_rates(batch: int, steps: int, repeats: int = 3) -> dict[str, float]:
    """Samples per second of a training step (index a batch, forward, loss, backward, step, count)."""
    rng = np.random.default_rng(0)
    n = 4096
    x_np = rng.standard_normal((n, 1024)).astype(np.float32)
    y_np = rng.integers(0, 26, n)
    config = TrainConfig(batch_size=batch).validate()
    sizes = [1024, 64, 26]
    orders = [rng.integers(0, n, batch) for _ in range(steps)]

    def run_engine(engine):
        net = build_network(TrainConfig(batch_size=batch, engine=engine).validate(), 1024, 26)
        net.configure_threads()
        x, y = net.prepare(x_np), net.prepare_labels(y_np)

        def go():
            for idx in orders:
                net.train_step(*net.batch(x, y, idx))

        return go

    def run_builtin():
        build_network(config, 1024, 26).configure_threads()  # same thread policy as the engine
        model = BuiltinMLP(initial_weights(sizes, "relu", 0))
        opt = _torch_optimizer(config, list(model.parameters()))
        x, y = torch.from_numpy(x_np), torch.from_numpy(y_np.astype(np.int64))

        def go():
            for idx in orders:
                t = torch.from_numpy(idx)
                xb, yb = x.index_select(0, t), y.index_select(0, t)
                opt.zero_grad(set_to_none=True)
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                loss.item()
                loss.backward()
                opt.step()
                int((logits.argmax(1) == yb).sum())

        return go

    fns = {"builtin": run_builtin(), "torch": run_engine("torch"), "numpy": run_engine("numpy")}
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):  # interleaved, so machine noise hits all alike
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return {k: steps * batch / v for k, v in best.items()}


# -- the course's pipeline, reimplemented -------------------------------------------------


class CourseDataset(torch.utils.data.Dataset):
    """Decodes each image on every access, as the course's script does."""

    def __init__(self, root: Path, split_file: str):
        from engine.data.dataset import LETTERS

        labels = json.loads((root / split_file).read_text())
        self.items = [(root / "images" / k, LETTERS.index(v.upper())) for k, v in labels.items()]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        from PIL import Image

        path, label = self.items[i]
        img = Image.open(path).convert("L").resize((32, 32), Image.BILINEAR)
        x = torch.from_numpy(np.asarray(img, np.float32) / 255.0)
        return ((x - 0.5) / 0.5).reshape(-1), label


def course_pipeline(epochs: int) -> tuple[float, float]:
    """(seconds, test accuracy) of the course-style run: DataLoader, per-layer Functions, AdamW."""
    from engine.model.functions import TorchMLP, cross_entropy

    torch.set_num_threads(1)
    torch.manual_seed(0)
    loaders = {
        s: torch.utils.data.DataLoader(CourseDataset(LETTERS_DIR, f"{s}.json"), batch_size=8, shuffle=(s == "train"))
        for s in ("train", "validation", "test")
    }
    model = TorchMLP(1024, [64], 26, "relu")
    with torch.no_grad():
        for p, w in zip(model.params_in_order(), initial_weights([1024, 64, 26], "relu", 0)):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.15)

    def accuracy(loader):
        correct = total = 0
        with torch.no_grad():
            for xb, yb in loader:
                correct += int((model(xb).argmax(1) == yb).sum())
                total += len(yb)
        return correct / total

    t = time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loaders["train"]:
            opt.zero_grad()
            loss = cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        accuracy(loaders["validation"])
    acc = accuracy(loaders["test"])
    return time.perf_counter() - t, acc


def our_run(engine: str, epochs: int) -> tuple[float, float, float]:
    """(seconds including opening the dataset from a warm cache, final test accuracy,
    test accuracy of the best-validation weights)."""
    from engine.data.layouts import open_dataset
    from engine.training.run import TrainingRun

    t = time.perf_counter()
    ds = open_dataset(LETTERS_DIR)
    last = TrainingRun(TrainConfig(engine=engine, epochs=epochs), ds).run()
    return time.perf_counter() - t, last.test_acc, last.best_test_acc


def busy_machine_rates(steps: int) -> None:
    """Section 3: samples/s of NumPy-engine steps with a CPU-bound process beside them."""
    import subprocess

    from engine.model.blas import set_blas_threads

    rng = np.random.default_rng(0)
    n = 8192
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        for precision in ("float32", "float64"):
            for batch in (128, 256):
                rates = {}
                for label, threads in (("one thread (the run's)", 1), ("NumPy's default", None)):
                    c = TrainConfig(
                        hidden=[256, 64],
                        engine="numpy",
                        optim="sgd",
                        lr=0.1,
                        weight_decay=0.0,
                        init="uniform",
                        bias=False,
                        batch_size=batch,
                        precision=precision,
                    ).validate()
                    net = build_network(c, 784, 10)
                    set_blas_threads(threads)
                    orders = [rng.integers(0, n, batch) for _ in range(steps)]
                    net.train_step(x[orders[0]], y[orders[0]])
                    t = time.perf_counter()
                    for idx in orders:
                        net.train_step(x[idx], y[idx])
                    rates[label] = steps * batch / (time.perf_counter() - t)
                one, default = rates.values()
                print(
                    f"{precision} batch {batch}: one thread {one:>9,.0f}/s ({60000 / one:5.1f} s per MNIST epoch)   "
                    f"NumPy's default {default:>9,.0f}/s ({60000 / default:5.1f} s)  → one thread {one / default:.1f}x"
                )
    finally:
        burner.kill()
        burner.wait()
        set_blas_threads(None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    steps = 300 if a.quick else 3000
    print(f"torch {torch.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    print("\n== training-step throughput, 1024 → 64 → 26 relu, adam (samples/s, best of 3) ==")
    for batch in (8, 128):
        r = step_rates(batch, steps if batch == 8 else steps // 4)
        print(
            f"batch {batch:>3}: built-ins {r['builtin']:>10,.0f}   torch engine {r['torch']:>10,.0f} "
            f"({r['torch'] / r['builtin']:.2f}x)   numpy engine {r['numpy']:>10,.0f} "
            f"({r['numpy'] / r['builtin']:.2f}x)"
        )
    print(f"\n== NumPy engine on a busy machine (a CPU-bound process beside it; {os.cpu_count()} CPUs) ==")
    busy_machine_rates(60 if a.quick else 400)
    if not LETTERS_DIR.exists():
        print(f"\n(skipping the full-run comparison: {LETTERS_DIR} not found)")
        return 0
    epochs = 5 if a.quick else 50
    print(f"\n== full letters run, {epochs} epochs, batch 8, adam lr 2e-3 wd 0.15 ==")
    from engine.data.layouts import open_dataset

    open_dataset(LETTERS_DIR)  # warm the decoded-dataset cache, as any second open is
    base_t, base_acc = course_pipeline(epochs)
    print(f"course pipeline (Dataset decoding per item + DataLoader): {base_t:7.1f} s, test acc {base_acc:.4f}")
    for engine in ("numpy", "torch"):
        t, acc, best = our_run(engine, epochs)
        print(
            f"backprop studio, {engine:<5} engine:                     {t:7.1f} s, test acc {acc:.4f} "
            f"(at best val {best:.4f})  → {base_t / t:.1f}x faster"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
