"""Windows and macOS, simulated here: every module imports without the POSIX-only names, and the
portable process code (no process groups, no resource limits) keeps the sandbox's and the run
host's promises."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.training import processes

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "userfn"

# Imported first, as the real platform would have them: the standard library's and the
# dependencies' own platform code is theirs, not ours, and cannot be simulated by a flag.
_PRELOAD = """
import multiprocessing, multiprocessing.shared_memory, subprocess, shutil, tempfile, pathlib, platform
import ctypes, ctypes.util, asyncio, socket, signal, threading, queue, sqlite3, logging, json, gettext, locale
import numpy, torch, PIL.Image, psutil, threadpoolctl, platformdirs, sqlalchemy, alembic, optuna, onnx
import PySide6.QtCore, PySide6.QtGui, PySide6.QtWidgets, PySide6.QtNetwork, pyqtgraph, superqt
"""

_SIMULATE = """
import os, signal, sys, importlib, pkgutil, traceback
sys.platform = {platform!r}
for name in {signals!r}:
    if hasattr(signal, name):
        delattr(signal, name)
for name in {os_names!r}:
    if hasattr(os, name):
        delattr(os, name)
for name in {modules!r}:
    sys.modules[name] = None  # "import resource" raises ImportError, as on Windows
failed = []
for package in ("engine", "gui"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if ".migrations" in info.name:
            continue
        try:
            importlib.import_module(info.name)
        except BaseException:
            failed.append(info.name + ": " + traceback.format_exc().strip().splitlines()[-1])
import main  # the entry point too
print("imported", len([m for m in sys.modules if m.split(".")[0] in ("engine", "gui")]))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""

WINDOWS = {
    "platform": "win32",
    "signals": ["SIGKILL", "SIGXFSZ", "SIGBUS", "SIGHUP", "SIGPIPE", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD"],
    "os_names": ["setpgrp", "killpg", "fchmod", "setsid", "getpgid", "sched_getaffinity", "fork", "getuid"],
    "modules": ["resource", "fcntl", "termios", "pwd", "grp"],
}
MACOS = {"platform": "darwin", "signals": [], "os_names": ["sched_getaffinity"], "modules": []}


@pytest.mark.parametrize("simulated", [WINDOWS, MACOS], ids=["win32", "darwin"])
def test_every_module_imports_on_a_simulated_platform(simulated):
    script = _PRELOAD + textwrap.dedent(_SIMULATE).format(**simulated)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert int(done.stdout.split()[1]) > 60  # really walked the packages


# == the portable path, forced on this machine =====================================================
@pytest.fixture
def portable(monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_PORTABLE", "1")  # inherited by the spawned children
    assert not processes.posix_extras()
    yield


def _children() -> set[int]:
    import psutil

    return {
        p.pid
        for p in psutil.Process().children()
        if p.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(p.cmdline())
    }


@pytest.mark.parametrize(
    "name, words",
    [
        ("hangs", "did not finish within 3 s"),
        ("segfault", "crashed the worker"),
        ("exits", "called sys.exit(3)"),
        ("floods", "printed more than"),
        ("allocates", "ran out of memory"),
    ],
)
def test_the_sandbox_keeps_its_promises_without_process_groups_or_rlimits(portable, name, words):
    from engine.inspect.sandbox import SandboxError
    from tests.engine.test_userfn import check

    before = _children()
    with pytest.raises(SandboxError) as info:
        check(FIX / "hostile" / f"{name}.py", time_limit=3, memory_limit=1 << 30)
    assert words in str(info.value)
    assert _children() <= before


def test_memory_past_the_limit_is_caught_by_watching_when_the_os_has_no_rlimit(portable):
    """No RLIMIT_AS: the allocation itself succeeds in the child, so only the parent's watch
    can end it."""
    from engine.inspect.sandbox import SandboxError, run_sandboxed

    with pytest.raises(SandboxError, match="ran out of memory"):
        run_sandboxed(hold_memory, 600 << 20, memory_limit=200 << 20, time_limit=60)


def hold_memory(nbytes: int):  # runs in the sandbox child
    import numpy as np

    block = np.ones(nbytes, np.uint8)  # touched: resident, not only reserved
    time.sleep(60)
    return int(block[0])


def test_the_sandbox_kills_the_childs_own_children(portable, tmp_path):
    """Without a process group the tree is found by walking it (psutil)."""
    import psutil

    from engine.inspect.sandbox import SandboxError, run_sandboxed

    pid_file = tmp_path / "grandchild.pid"
    with pytest.raises(SandboxError, match="did not finish"):
        run_sandboxed(start_a_child_and_hang, str(pid_file), time_limit=5)
    pid = int(pid_file.read_text())
    psutil.wait_procs([psutil.Process(pid)] if psutil.pid_exists(pid) else [], timeout=5)
    assert not processes.pid_alive(pid)


def start_a_child_and_hang(pid_file: str):  # runs in the sandbox child
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(pid_file).write_text(str(child.pid))
    time.sleep(600)


@pytest.mark.parametrize(
    "hook, reason",
    [("exit", "exit status 3"), ("segfault", "segmentation fault"), ("hold", "ran out of memory")],
)
def test_the_run_host_reports_a_failed_worker_on_the_portable_path(portable, small_letters, hook, reason):
    from engine.config import TrainConfig
    from engine.training.host import RunHost
    from engine.training.run import FailedEvent, FinishedEvent

    with RunHost(memory_limit=512 << 20) as host:
        run = host.start(TrainConfig(epochs=50, batch_size=4, engine="numpy"), small_letters, test_hook=hook)
        pid = run.pid
        last = run.run()
        assert isinstance(last, FailedEvent) and reason in last.reason, last
        assert not processes.pid_alive(pid)
        ok = host.start(TrainConfig(epochs=1, batch_size=64, engine="numpy"), small_letters).run()
        assert isinstance(ok, FinishedEvent)  # the next run works at once


def test_liveness_never_signals_the_process():
    """On Windows os.kill(pid, 0) terminates the process: liveness must not use it."""
    assert "kill" not in processes.pid_alive.__code__.co_names
    assert processes.pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not processes.pid_alive(child.pid)
    assert not processes.pid_alive(None)


def test_a_zombie_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    import psutil

    deadline = time.monotonic() + 60
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.05)  # waits for the condition (a zombie), not for a time
    assert not processes.pid_alive(child.pid)
    child.wait()


def test_signal_words_exist_for_what_a_platform_has():
    import signal

    assert processes.signal_words(signal.SIGSEGV) == "segmentation fault"
    assert processes.signal_words(signal.SIGTERM) == "terminated"
    assert processes.signal_words(999) == ""


def test_a_saved_checkpoint_is_an_ordinary_file(tmp_path, monkeypatch):
    """mkstemp makes 0600; without os.fchmod (Windows before 3.13) chmod by path is used."""
    import stat
    import tempfile

    for without_fchmod in (False, True):
        if without_fchmod:
            monkeypatch.delattr(os, "fchmod")
        fd, tmp = tempfile.mkstemp(dir=tmp_path)
        processes.make_ordinary_file(fd, tmp)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(os.stat(tmp).st_mode) == 0o666 & ~umask


@pytest.mark.slow
def test_the_wheel_installs_both_commands_the_icon_and_the_desktop_files(tmp_path):
    """What ``pip install .`` (or pipx) installs, without make: the console command (the CLI
    and the app, output visible on Windows), the GUI command, the migrations and the desktop
    files; the version from the one source of truth."""
    import configparser
    import shutil
    import zipfile

    from engine import __version__

    source = tmp_path / "source"  # built from a copy: the build writes build/ and *.egg-info beside it
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "build", "__pycache__", ".*_cache", "screenshots"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    if done.returncode != 0 and "No matching distribution" in done.stderr:
        pytest.skip("no package index to fetch the build backend from")
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("backprop_studio-*.whl"))
    assert wheel.name.startswith(f"backprop_studio-{__version__}-")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        entry = next(n for n in names if n.endswith("entry_points.txt"))
        points = configparser.ConfigParser()
        points.read_string(z.read(entry).decode("utf-8"))
    assert points["console_scripts"]["backprop-studio"] == "main:main"
    assert points["gui_scripts"]["backprop-studio-gui"] == "main:gui_main"
    for needed in (
        "main.py",
        "engine/training/processes.py",
        "engine/runs/migrations/env.py",
        "share/icons/hicolor/256x256/apps/backprop-studio.png",
        "share/applications/backprop-studio.desktop",
        "share/mime/packages/backprop-studio.xml",
    ):
        assert any(n == needed or n.endswith("/" + needed) for n in names), needed
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)
