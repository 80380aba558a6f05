"""Background tasks: any blocking call (decoding, classification, checkpoint I/O, evaluation)
runs in a worker thread; the result, errors and progress come back as signals on the GUI thread.

One :class:`Tasks` per window. ``cancel_all()`` is the only thing that sets the cancel flag,
and it is called only once the window really closes: a cancelled quit leaves it clear.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from engine.errors import UserError


def start_task(fn, *args, **kwargs):
    """Any blocking call as a superqt worker (not yet started)."""
    return create_worker(fn, *args, _start_thread=False, _ignore_errors=True, **kwargs)


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

        def errored(exc):
            if on_error:
                on_error(exc)
            else:
                self.failed.emit(label, describe_error(exc))

        def finished():
            if worker in self._running:
                self._running.remove(worker)
            self._labels.pop(id(worker), None)
            self.busy.emit(next(iter(self._labels.values()), ""))

        worker.returned.connect(on_done)
        worker.errored.connect(errored)
        worker.finished.connect(finished)
        worker.start()
        return worker

    def count(self) -> int:
        return len(self._running)

    def cancel_all(self, timeout_ms: int = 10000) -> bool:
        """The window is closing: long tasks give up; wait for every worker thread."""
        self._cancel.set()
        return QThreadPool.globalInstance().waitForDone(timeout_ms)
