"""Shared fixtures: a private dataset cache and settings file per test session, small datasets."""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
LETTERS_DIR = ROOT.parent / "shared" / "datasets" / "character_classification"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _user_folders() -> list[str]:
    """The real folders the app would write to outside a test: its data, cache and config
    folders, and the checkout (a store named "false" once appeared there)."""
    import platformdirs

    app = "backprop-studio"
    folders = [
        platformdirs.user_data_path(app, appauthor=False),
        platformdirs.user_cache_path(app, appauthor=False),
        platformdirs.user_config_path(app, appauthor=False),
        Path.home() / ".config" / "Backprop Studio",  # QSettings' own folder on Linux
    ]
    return [str(f) + os.sep for f in folders]


_REAL_FOLDERS = tuple(_user_folders())  # read before HOME and the XDG folders point into the temp folder
_BUILD_OUTPUT = (".egg-info", os.sep + "build" + os.sep, os.sep + ".venv" + os.sep, "__pycache__", ".pytest_cache")
_WRITES_OUTSIDE: list[str] = []


def _audit(event: str, args) -> None:
    """Every file this test process opens for writing (or creates, renames, removes): one in the
    user's real folders or in the checkout is recorded. Another program writing there (the app
    the user has open) is not this test's doing and is never counted."""
    if event == "open":
        path, mode, flags = args
        writing = (mode is not None and any(c in str(mode) for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if not writing:
            return
    elif event in ("os.mkdir", "os.remove"):
        path = args[0] if args[-1] is None else None  # relative to a dir_fd: inside a folder already judged
    elif event in ("os.rename", "os.replace"):
        path = args[1] if args[2] is None and args[3] is None else None  # where it lands
    else:
        return
    if isinstance(path, int) or path is None:
        return
    try:
        full = os.path.abspath(os.fsdecode(path))
    except (TypeError, ValueError):
        return
    if full.startswith(_REAL_FOLDERS) or (
        full.startswith(str(ROOT) + os.sep)
        and not full.startswith(str(ROOT / "tests" / "fixtures"))
        and not any(b in full for b in _BUILD_OUTPUT)
    ):
        _WRITES_OUTSIDE.append(f"{event} {full}")


sys.addaudithook(_audit)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    # Every folder the app or a library could write to is inside the temp folder: HOME, the XDG
    # folders (platformdirs on Linux), the Windows ones where they are read.
    for var, sub in (
        ("HOME", ""),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_STATE_HOME", ".local/state"),
        ("APPDATA", "AppData/Roaming"),
        ("LOCALAPPDATA", "AppData/Local"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(home / sub)
    os.environ["BACKPROP_STUDIO_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    # runs and sweeps are recorded in a private store, never in the user's data folder
    os.environ["BACKPROP_STUDIO_RUNS_DB"] = str(tmp_path_factory.mktemp("runs") / "runs.db")
    yield


@pytest.fixture(autouse=True)
def _writes_only_in_temp_folders():
    """A test that writes into the user's real data, cache or config folder, or into the
    checkout, fails (seen by an audit hook in this process: another program writing there is
    not the test's doing)."""
    _WRITES_OUTSIDE.clear()
    yield
    found, _WRITES_OUTSIDE[:] = list(_WRITES_OUTSIDE), []
    assert not found, f"the test wrote outside its temporary folders: {found[:5]}"


@pytest.fixture(scope="session")
def small_letters():
    """A small generated letters set (26 × 12 / 3 / 3), built once per session."""
    from engine.data.dataset import LETTERS, Dataset
    from engine.data.letters import NORM_SIZE, generate

    s = generate({"train": 12, "val": 3, "test": 3}, seed=7)
    return Dataset("small letters", "builtin", "builtin", list(LETTERS), NORM_SIZE, s["train"], s["val"], s["test"])


def write_course_layout(root: Path, n_per_split=(12, 4, 4), seed: int = 0) -> Path:
    """A tiny course-layout dataset: JSON label files and PNG crops of rendered letters."""
    import json

    from PIL import Image

    from engine.data.dataset import LETTERS
    from engine.data.letters import render_letter

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    i = 0
    for split, n in zip(("train", "validation", "test"), n_per_split):
        labels = {}
        for _ in range(n):
            i += 1
            letter = LETTERS[i % 26]
            name = f"{i:04d}.png"
            big = Image.fromarray(render_letter(rng, letter)).resize((48, 40))
            big.save(root / "images" / name)
            labels[name] = letter.lower() if i % 3 == 0 else letter
        (root / f"{split}.json").write_text(json.dumps(labels))
    return root


_EXIT: dict[str, int] = {}


def noise_folders(root: Path, n_per_class=100, classes=("a", "b", "c")) -> Path:
    """Class folders of random 8×8 images: nothing to learn, a split's chance is 1/3."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n_per_class):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / c / f"{i}.png")
    return root


def write_gz_idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(gzip.compress(header + arr.astype(np.uint8).tobytes()))


def idx_folder(root: Path, with_test=True, n=300) -> Path:
    """A small gzip IDX dataset (6×6 images of 10 classes a class's brightness tells apart)."""
    rng = np.random.default_rng(1)
    root.mkdir(parents=True)
    y = rng.integers(0, 10, n)
    x = (rng.integers(0, 60, (n, 6, 6)) + y[:, None, None] * 19).astype(np.uint8)
    write_gz_idx(root / "train-images-idx3-ubyte.gz", x)
    write_gz_idx(root / "train-labels-idx1-ubyte.gz", y)
    if with_test:
        write_gz_idx(root / "t10k-images-idx3-ubyte.gz", x[:50])
        write_gz_idx(root / "t10k-labels-idx1-ubyte.gz", y[:50])
    return root


def checkpoint_variant(good, tmp_path, change) -> Path:
    """A copy of the ``good`` checkpoint with ``change`` made to its payload."""
    import torch

    payload = torch.load(good[0], weights_only=True)
    change(payload)
    path = tmp_path / "bad.pt"
    torch.save(payload, path)
    return path


def setting(*keys, value):
    """A change for :func:`checkpoint_variant`: the payload's ``keys`` path set to ``value`` (or ``value(payload)``)."""

    def change(p):
        d = p
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value(p) if callable(value) else value

    return change


def class_folders(root, classes=("a", "b"), n=12):
    """Class folders of ``n`` plain 8×8 grey images each."""
    from PIL import Image

    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n):
            Image.new("L", (8, 8), i * 20).save(root / c / f"{i}.png")
    return root


def pytest_sessionfinish(session, exitstatus):
    _EXIT["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """End the process with pytest's own status once everything is reported.

    After a full GUI session PySide6 can abort during interpreter teardown
    ("none_dealloc: deallocating None", a refcount bug inside the C extension) although
    every test passed; that abort would turn a green run red. Skipping the teardown
    (as the app itself never reaches it in tests) keeps the exit status honest.
    """
    if "status" in _EXIT and "PySide6" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT["status"])


def main_py(*args, cwd=ROOT, timeout: float = 300, limit_gb: float | None = None, env: dict | None = None):
    """``python main.py ARGS`` in a fresh process, as a user runs it: the one way tests run the
    command line where a process matters (exit status, both streams, signals, limits).
    ``limit_gb`` caps the process's address space (POSIX); ``env`` adds variables."""
    import subprocess

    def limit():
        if limit_gb:
            import resource

            n = int(limit_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (n, n))

    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        preexec_fn=limit if limit_gb else None,
    )


def cli_in_process(*args) -> tuple[int, str, str]:
    """The command line called in this process (exit status, stdout, stderr): where a separate
    process proves nothing, seconds faster than :func:`main_py`."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from engine.cli import main as cli_main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = cli_main([str(a) for a in args])
        except SystemExit as exc:  # argparse's --version / --help
            code = exc.code
    return code, out.getvalue(), err.getvalue()
