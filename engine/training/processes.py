"""What differs by operating system, in one place: child processes, their limits and their end.

Everything here works on Linux, Windows and macOS. The portable path uses ``psutil`` (killing a
process tree, liveness, memory use); where the OS has them, POSIX extras are used on top:
a process group per sandbox child (so a child that detaches from its parent is still killed),
``RLIMIT_AS`` (an address-space cap the kernel enforces) and ``RLIMIT_FSIZE`` (a cap on what
the child prints). Where they are missing the same promises are kept by watching: the parent
polls the child tree's memory and kills it past its allowance.

Set ``BACKPROP_STUDIO_PORTABLE=1`` to use only the portable path on a POSIX machine (the
tests do, to run the Windows/macOS code here); it is inherited by spawned children.

Nothing here is a security boundary: a child can read and write the user's files.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
import time

import psutil


def posix_extras() -> bool:
    """Whether process groups and resource limits are used (POSIX, unless forced portable)."""
    return os.name == "posix" and hasattr(os, "setpgrp") and not os.environ.get("BACKPROP_STUDIO_PORTABLE")


# == how a process ended =========================================================================
_SIGNAL_WORDS = {
    "SIGKILL": "killed",
    "SIGSEGV": "segmentation fault",
    "SIGTERM": "terminated",
    "SIGBUS": "bus error",
    "SIGABRT": "aborted",
    "SIGXFSZ": "output limit",
}


def signal_words(sig: int) -> str:
    """Words for signal number ``sig`` ("" if unknown): every name looked up where it exists."""
    for name, words in _SIGNAL_WORDS.items():
        if getattr(signal, name, None) == sig:
            return words
    try:
        return signal.Signals(sig).name
    except ValueError:
        return ""


def was_killed(sig: int) -> bool:
    return getattr(signal, "SIGKILL", 9) == sig


# == liveness and ending ==========================================================================
def pid_alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs (a zombie does not). Never signals it: on Windows
    ``os.kill(pid, 0)`` would terminate it."""
    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # someone else's process: it exists
        return True


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def kill_tree(pid: int | None, known: list[psutil.Process] | tuple = (), timeout: float = 5.0) -> None:
    """Kill ``pid``, its process group (POSIX extras), every descendant found now and the
    ``known`` ones seen earlier (children that have since been orphaned); wait for the
    descendants. ``pid`` itself is left for its parent to join (waiting here would reap it and
    lose its exit status)."""
    if pid is None:
        return
    procs = {p.pid: p for p in known}
    procs.update({p.pid: p for p in descendants(pid)})
    try:
        procs[pid] = psutil.Process(pid)
    except psutil.Error:
        pass
    if posix_extras():
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    for p in procs.values():
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs([p for p in procs.values() if p.pid != pid], timeout=timeout)


def kill_descendants(timeout: float = 5.0) -> None:
    """Kill every descendant of this process (not itself) and wait for them: what the user's code
    started, called by a sandbox child when that code is done, so nothing outlives the check —
    not even a child in a session of its own, which a process-group kill misses."""
    procs = descendants(os.getpid())
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=timeout)


# == limits set inside a child ====================================================================
def adopt_orphans() -> bool:
    """Linux: orphaned descendants (a daemon's double fork) are re-parented to this process
    instead of to init, so they stay in its tree and are killed with it. False elsewhere, where
    only the descendants still linked to this process are found."""
    if not posix_extras() or not os.uname().sysname == "Linux":
        return False
    try:
        import ctypes

        pr_set_child_subreaper = 36
        return ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def new_process_group() -> None:
    """Put this process in a group of its own, where the OS has groups."""
    if posix_extras():
        try:
            os.setpgrp()
        except OSError:
            pass


def address_space() -> int:
    """This process's address space in bytes (0 if unknown)."""
    try:
        return int(psutil.Process().memory_info().vms)
    except psutil.Error:
        return 0


def limit_memory(limit: int | None) -> bool:
    """Allow ``limit`` bytes of address space beyond what this process holds now (``None``: drop
    a previous limit). False where the OS cannot (the parent then watches: :class:`MemoryWatch`)."""
    if not posix_extras():
        return False
    try:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        cap = address_space() + limit if limit else hard
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        return True
    except (ImportError, ValueError, OSError):
        return False


def limit_memory_enforced() -> bool:
    """Whether :func:`limit_memory` is enforced by the OS here (else the parent watches)."""
    if not posix_extras():
        return False
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


def limit_output(size: int) -> bool:
    """Files this process writes are capped at ``size`` bytes (a longer write fails with EFBIG
    instead of killing it); False where the OS cannot."""
    if not posix_extras():
        return False
    try:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        return True
    except (ImportError, ValueError, OSError, AttributeError):
        return False


def watch_parent(poll: float = 0.5) -> None:
    """End this process soon after its parent is gone (a daemon thread polls the parent)."""
    parent = os.getppid()

    def watch():
        while pid_alive(parent) and os.getppid() == parent:
            time.sleep(poll)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="lifeline").start()


# == limits watched from the parent ===============================================================
class MemoryWatch:
    """The portable memory limit: the resident memory of a process and its descendants, compared
    with ``limit`` bytes beyond what it held when :meth:`start` was called."""

    def __init__(self, pid: int, limit: int | None):
        self.pid, self.limit = pid, limit
        self.base = 0
        self.seen: dict[int, psutil.Process] = {}

    def start(self) -> None:
        self.base = self._used()

    def _used(self) -> int:
        total = 0
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        for p in procs:
            self.seen.setdefault(p.pid, p)
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def exceeded(self) -> bool:
        return bool(self.limit) and self._used() - self.base > self.limit


# == files =======================================================================================
def make_ordinary_file(fd: int, path: str) -> None:
    """Give a file made by ``mkstemp`` (0600) the mode of an ordinary file (0666 less umask)."""
    umask = os.umask(0)
    os.umask(umask)
    mode = 0o666 & ~umask
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        else:  # Windows before Python 3.13: only the read-only bit exists
            os.chmod(path, mode | stat.S_IWRITE)
    except OSError:
        pass
