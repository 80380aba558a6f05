"""Run a function that calls the user's code in a child process it cannot hurt us from.

:func:`run_sandboxed` starts a fresh ``spawn`` child in its own process group, with an
address-space limit where the OS allows, its stdout/stderr going to a size-capped file (a flood
of printing ends as an error, never fills the disk or a pipe), and a wall-clock limit. The
child sends back one plain-data result. Whatever the user's code does — raise, loop forever,
allocate without end, segfault, call ``sys.exit`` or ``os._exit`` — the call returns: a result,
or a :class:`SandboxError` whose message says what happened in one line (and the user's own
traceback frames where there are some). The whole process group is killed at the end, so
nothing is left behind.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import signal
import tempfile
import time
from pathlib import Path

from engine.training.host import SIGNAL_NAMES

TIME_LIMIT = 60.0
MEMORY_LIMIT = 2 << 30  # bytes of address space beyond the child's start-up
OUTPUT_LIMIT = 4 << 20  # bytes of printing
OUTPUT_TAIL = 2000  # characters of the printing shown back


class SandboxError(Exception):
    """The user's code did not produce a result: why, in words (``output``: what it printed)."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output


def _child(conn, target: str, args: tuple, kwargs: dict, memory_limit, out_path: str, files: list) -> None:
    os.setpgrp()  # our own process group: killed as a whole at the end
    os.environ["BACKPROP_STUDIO_WORKER"] = "1"
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
        import numpy  # noqa: F401 - counted in the start-up, not in the user's allowance
        import torch  # noqa: F401

        from engine.training.host import _limit_memory

        _limit_memory(memory_limit)
    except (ImportError, OSError, ValueError):
        pass
    module, _, name = target.rpartition(".")
    try:
        fn = getattr(importlib.import_module(module), name)
        result = ("ok", fn(*args, **kwargs))
    except MemoryError:
        result = ("error", "ran out of memory (the limit is there so the app stays usable)")
    except SystemExit as exc:
        result = ("error", f"your code called sys.exit({exc.code!r}) while it was imported or run")
    except KeyboardInterrupt:
        result = ("error", "interrupted")
    except BaseException as exc:  # noqa: BLE001 - their error, as their traceback
        from engine.inspect.functions import user_frames

        if isinstance(exc, OSError) and exc.errno == 27:  # EFBIG: the printing limit
            result = ("error", f"your code printed more than {OUTPUT_LIMIT >> 20} MiB")
        else:
            result = ("error", user_frames(exc, files))
    try:
        conn.send(result)
    except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
        conn.send(("error", f"the result could not be sent back: {exc}"))
    conn.close()


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4 * OUTPUT_TAIL))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return text[-OUTPUT_TAIL:]


def run_sandboxed(
    target: str,
    *args,
    files: list[str] | None = None,
    time_limit: float = TIME_LIMIT,
    memory_limit: int | None = MEMORY_LIMIT,
    cancel=None,
    **kwargs,
):
    """``target`` (``"package.module.function"``) called with ``args`` in a sandbox child; its
    result, or :class:`SandboxError`. ``cancel``: a callable polled; True stops the child."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    out_dir = tempfile.mkdtemp(prefix="backprop-sandbox-")
    out_path = Path(out_dir) / "output.txt"
    proc = ctx.Process(
        target=_child,
        args=(child, target, args, kwargs, memory_limit, str(out_path), list(files or [])),
        daemon=True,
    )
    proc.start()
    child.close()
    t0 = time.monotonic()
    result = None
    try:
        while True:
            if parent.poll(0.05):
                try:
                    result = parent.recv()
                except (EOFError, OSError):
                    result = None
                break
            if not proc.is_alive():
                if parent.poll(0):
                    continue
                break
            if time.monotonic() - t0 > time_limit:
                raise SandboxError(
                    f"did not finish within {time_limit:g} s (an endless loop?): stopped", _tail(out_path)
                )
            if cancel is not None and cancel():
                raise SandboxError("cancelled", _tail(out_path))
    finally:
        _kill_group(proc)
        parent.close()
        output = _tail(out_path)
        try:
            out_path.unlink(missing_ok=True)
            os.rmdir(out_dir)
        except OSError:
            pass
    if result is None:
        code = proc.exitcode
        if code is not None and code < 0:
            name = SIGNAL_NAMES.get(-code, f"signal {-code}")
            raise SandboxError(f"your code crashed the worker ({name})", output)
        raise SandboxError(f"your code ended the worker (exit status {code}) before it finished", output)
    status, value = result
    if status != "ok":
        raise SandboxError(value, output)
    return value, output


def _kill_group(proc) -> None:
    """The child and anything it started: gone."""
    pid = proc.pid
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
    proc.join(5)
    if proc.is_alive():  # pragma: no cover - setpgrp not reached yet
        proc.kill()
        proc.join(5)
