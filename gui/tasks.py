"""Background tasks: any blocking call (decoding, classification, checkpoint I/O, evaluation)
runs in a worker thread; the result, errors and progress come back as signals on the GUI thread.

One :class:`Tasks` per window. ``cancel_all()`` is the only thing that sets the cancel flag,
and it is called only once the window really closes: a cancelled quit leaves it clear.
"""

from __future__ import annotations

import threading
import time

import shiboken6
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, QThreadPool, Signal
from superqt.utils import create_worker

from engine.errors import UserError

_not_running: set = set()  # workers started but not yet running (see wait_for_workers)


def start_worker(worker) -> None:
    """Start a superqt worker, known to :func:`wait_for_workers` until it runs."""
    _not_running.add(worker)
    worker.started.connect(lambda w=worker: _not_running.discard(w), Qt.DirectConnection)
    worker.start()


def start_task(fn, *args, **kwargs):
    """Any blocking call as a superqt worker (not yet started: see :func:`start_worker`)."""
    return create_worker(fn, *args, _start_thread=False, _ignore_errors=True, **kwargs)


def wait_for_workers(timeout_ms: int = 10000) -> bool:
    """Wait until every worker thread is done; False on timeout. Started in a running event loop,
    a superqt worker enters the thread pool only on a 1 ms timer: one started just before the
    window closed was not waited for, and ran after the window was gone ("Signal source has
    been deleted"). Events (not user input) are processed until each such worker runs."""
    deadline = time.monotonic() + timeout_ms / 1000
    while _not_running and time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ExcludeUserInputEvents, 10)
        _not_running.difference_update([w for w in list(_not_running) if _deleted(w)])
    left = max(0, int((deadline - time.monotonic()) * 1000))
    return QThreadPool.globalInstance().waitForDone(left) and not _not_running


def _deleted(worker) -> bool:
    try:
        repr(worker)  # raises once the C++ object is gone (a worker that will never run)
        return False
    except RuntimeError:
        return True


def describe_error(exc: BaseException) -> str:
    """A user's words for a failure: a UserError's own message; otherwise what happened,
    without the exception class (it means nothing to the user)."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory; close other programs or use a smaller model or dataset"
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}"
    text = str(exc).strip() or "an unexpected error"
    return f"{text} (an unexpected error; please report it)"


class Tasks(QObject):
    """Runs background work; ``busy`` says what runs (the status bar shows it)."""

    progress = Signal(int, int, str)  # done, total, message (emitted from any thread, queued)
    busy = Signal(str)  # a label while something runs, "" when idle
    failed = Signal(str, str)  # title, message

    def __init__(self, parent=None):
        super().__init__(parent)
        self._running: list = []
        self._labels: dict[int, str] = {}
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> threading.Event:
        return self._cancel

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, done: int, total: int, message: str) -> None:
        """Called from a worker thread."""
        self.progress.emit(done, total, message)

    def run(self, fn, *args, on_done, label: str, on_error=None):
        worker = start_task(fn, *args)
        self._running.append(worker)
        self._labels[id(worker)] = label
        self.busy.emit(label)

        def alive() -> bool:  # a result queued just before the window closed arrives after it
            return shiboken6.isValid(self)

        def returned(value):
            if alive() and not self._cancel.is_set():  # the window is closing: nothing new is shown
                on_done(value)

        def errored(exc):
            if not alive():
                return
            if on_error:
                on_error(exc)
            else:
                self.failed.emit(label, describe_error(exc))

        def finished():
            if not alive():
                return
            if worker in self._running:
                self._running.remove(worker)
            self._labels.pop(id(worker), None)
            self.busy.emit(next(iter(self._labels.values()), ""))

        worker.returned.connect(returned)
        worker.errored.connect(errored)
        worker.finished.connect(finished)
        start_worker(worker)
        return worker

    def count(self) -> int:
        return len(self._running)

    def cancel_all(self, timeout_ms: int = 10000) -> bool:
        """The window is closing: long tasks give up; wait for every worker thread."""
        self._cancel.set()
        return wait_for_workers(timeout_ms)
