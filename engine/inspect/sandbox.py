"""Run a function that calls the user's code in a child process, with bounds on what it may cost.

:func:`run_sandboxed` starts a fresh ``spawn`` child and bounds four things: **time** (a
wall-clock limit counted from when the child has finished starting, so a slow start-up on a
busy machine is never blamed on the user's code), **memory** (an address-space limit on POSIX,
and on every OS the parent watching the child tree's resident memory), **output** (printing
goes to a size-capped file on POSIX; elsewhere the file's size is watched) and **processes**
(the child and everything it started are killed at the end; on POSIX its process group too).
The child ends itself if the parent dies. Whatever the user's code does — raise, loop forever,
allocate without end, segfault, call ``sys.exit`` or ``os._exit`` — the call returns: a result,
or a :class:`SandboxError` whose message says what happened in one line (and the user's own
traceback frames where there are some).

It is **not a security boundary**: the user's code runs with the user's rights and can read and
write their files. It keeps a mistake from hanging or exhausting the app, nothing more. One
thing it does promise: nothing the child sends is ever run in the parent. The child answers in
JSON (``to_dict()`` of a result record, numbers, texts, lists), read with a size limit — never a
pickle, which the child's code could have made to run anything in the app on arrival.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine.training import processes

TIME_LIMIT = 60.0  # seconds of the user's code, counted once the child has started
START_LIMIT = 300.0  # seconds for the child to start (spawn, import numpy and torch) on a busy machine
MEMORY_LIMIT = 2 << 30  # bytes of address space beyond the child's start-up
OUTPUT_LIMIT = 4 << 20  # bytes of printing
OUTPUT_TAIL = 2000  # characters of the printing shown back
ANSWER_LIMIT = 64 << 20  # bytes of the child's JSON answer


class SandboxError(Exception):
    """The user's code did not produce a result: why, in words (``output``: what it printed)."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output


def _child(conn, target: Callable, args: tuple, kwargs: dict, memory_limit, out_path: str, files: list) -> None:
    processes.new_process_group()  # POSIX: our own process group, killed as a whole at the end
    processes.adopt_orphans()  # Linux: a daemonised grandchild stays in our tree
    processes.watch_parent()
    os.environ["BACKPROP_STUDIO_WORKER"] = "1"
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    processes.limit_output(OUTPUT_LIMIT)
    try:
        import numpy  # noqa: F401 - counted in the start-up, not in the user's allowance
        import torch

        # one thread each: the checks' arrays are tiny, and several sandboxes (a class checked N
        # at a time) must not fight over the cores with thread teams of their own
        torch.set_num_threads(1)
        from engine.model.blas import cap_blas_threads

        cap_blas_threads(1)
    except ImportError:
        pass
    processes.limit_memory(memory_limit)
    _send(conn, ("ready", None))  # the time limit starts now
    try:
        result = ("ok", target(*args, **kwargs))
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
    processes.kill_descendants()  # what their code started ends with it, before the answer is sent
    try:
        _send(conn, result)
    except Exception as exc:  # noqa: BLE001 - e.g. a result that is not plain data
        _send(conn, ("error", f"the result could not be sent back: {exc}"))
    conn.close()


def _plain(o):
    """JSON for what is not JSON already: a result record, a NumPy value or array, a tuple or set."""
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "tolist"):  # NumPy scalars and arrays
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"{type(o).__name__} is not plain data")


def _send(conn, message) -> None:
    conn.send_bytes(json.dumps(message, default=_plain).encode())


def _receive(conn):
    """The child's next message, ``[status, value]``; a message that is not one is an error."""
    try:
        message = json.loads(conn.recv_bytes(ANSWER_LIMIT))
    except (ValueError, RecursionError):  # not JSON (a pickle, say), or nested too deep to read
        return ["error", "the worker sent back something that is not an answer"]
    except OSError as exc:
        if "too long" in str(exc).lower() or "bad message length" in str(exc).lower():
            return ["error", f"the answer was larger than {ANSWER_LIMIT >> 20} MiB"]
        raise
    if not (isinstance(message, list) and len(message) == 2 and isinstance(message[0], str)):
        return ["error", "the worker sent back something that is not an answer"]
    return message


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
    target: Callable,
    *args,
    files: list[str] | None = None,
    time_limit: float = TIME_LIMIT,
    memory_limit: int | None = MEMORY_LIMIT,
    cancel=None,
    **kwargs,
):
    """``target`` (a module-level function, which the child imports by its name) called with
    ``args`` in a sandbox child; its result, or :class:`SandboxError`. ``cancel``: a callable
    polled; True stops the child."""
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
    started = time.monotonic()
    ready: float | None = None  # when the child had started: the user's time counts from here
    watch = processes.MemoryWatch(proc.pid, memory_limit)
    result = None
    try:
        while True:
            if parent.poll(0.05):
                try:
                    result = _receive(parent)
                except (EOFError, OSError):
                    result = None
                if result is not None and result[0] == "ready":
                    ready, result = time.monotonic(), None
                    watch.start()
                    continue
                break
            if not proc.is_alive():
                if parent.poll(0):
                    continue
                break
            _check_limits(ready, started, time_limit, watch, out_path)
            if cancel is not None and cancel():
                raise SandboxError("cancelled", _tail(out_path))
    finally:
        processes.kill_tree(proc.pid, list(watch.seen.values()))
        proc.join(5)
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
            name = processes.signal_words(-code) or f"signal {-code}"
            raise SandboxError(f"your code crashed the worker ({name})", output)
        raise SandboxError(f"your code ended the worker (exit status {code}) before it finished", output)
    status, value = result
    if status != "ok":
        raise SandboxError(str(value), output)
    return value, output


def _check_limits(ready, started, time_limit, watch, out_path: Path) -> None:
    """Raise :class:`SandboxError` when the child is past a limit the parent watches."""
    now = time.monotonic()
    if ready is None:
        if now - started > START_LIMIT:
            raise SandboxError(f"the worker did not start within {START_LIMIT:g} s (is the machine very busy?)")
        return
    if now - ready > time_limit:
        raise SandboxError(f"did not finish within {time_limit:g} s (an endless loop?): stopped", _tail(out_path))
    if watch.exceeded():
        raise SandboxError("ran out of memory (the limit is there so the app stays usable)", _tail(out_path))
    try:
        too_long = out_path.stat().st_size > OUTPUT_LIMIT
    except OSError:
        too_long = False
    if too_long:
        raise SandboxError(f"your code printed more than {OUTPUT_LIMIT >> 20} MiB", _tail(out_path))
