"""The run host: training in worker processes, behind the same event stream as :class:`TrainingRun`.

A :class:`RunHost` keeps one warm worker (started with ``spawn``, imports done) so a run starts
at once. :meth:`RunHost.start` hands the worker a job — the config, the weights, optimiser state
and history to continue from — and the dataset's arrays through one block of shared memory
(no decoding in the worker, nothing big pickled through a pipe). The returned
:class:`HostedRun` has :class:`TrainingRun`'s interface: ``events()``, ``pause()``,
``resume()``, ``stop()``, ``paused``, ``config``, ``dataset``, ``network``, ``history``.
Events come back in small batches through a queue whose feeder thread never blocks training;
pause and stop travel as process-shared events and are honoured within one step.

Failure is contained: an exception in the worker, a crash (segfault), ``os._exit``, a kill or an
exhausted memory limit ends the stream with a :class:`FailedEvent` saying so, and the next run
starts on a fresh worker. A worker that does not answer Stop within ``grace`` seconds is killed.
Workers never outlive the host's process: each watches a lifeline pipe and exits when it breaks.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import secrets
import threading
import time
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

from engine.config import TrainConfig
from engine.data.dataset import Dataset, Split
from engine.model.build import build_network
from engine.model.network import Network
from engine.training.events import (
    BestWeights,
    EvalEvent,
    FailedEvent,
    FinishedEvent,
    FirstLayer,
    RunResult,
    StepEvent,
    WorkerError,
    WorkerMessage,
)
from engine.training.history import History
from engine.training.processes import (
    MemoryWatch,
    limit_memory,
    limit_memory_enforced,
    pid_alive,
    signal_words,
    was_killed,
)
from engine.training.run import TrainingRun, resolve_inputs

BATCH_SECONDS = 0.05  # the worker sends what it has at least this often
FIRST_LAYER_SECONDS = 0.5  # first-layer snapshots for the Weights view


# == the dataset through shared memory ========================================================
@dataclass
class SharedDataset:
    """Where each split's arrays lie in one shared-memory block, and the dataset's small fields."""

    shm_name: str
    layout: dict  # split -> (x offset, x shape, y offset, n)
    fields: dict  # name, source, layout, classes, norm_size, fingerprint, split_seed, val_split, fixed_split


SHM_PREFIX = "bps_"  # our shared-memory blocks: bps_<pid of the process that made it>_<random>


def remove_stale_blocks(folder: str = "/dev/shm") -> list[str]:
    """Unlink the shared-memory blocks a process of ours left when it was killed with its whole
    process group (its resource tracker gone too, nothing freed them: 9 MiB each until reboot).
    Where blocks are files (Linux); elsewhere the OS frees them with their last handle."""
    if not os.path.isdir(folder):
        return []
    removed = []
    for name in os.listdir(folder):
        pid = name[len(SHM_PREFIX) :].split("_", 1)[0] if name.startswith(SHM_PREFIX) else ""
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            try:
                os.unlink(os.path.join(folder, name))
                removed.append(name)
            except OSError:
                pass
    return removed


def share_dataset(ds: Dataset) -> tuple[shared_memory.SharedMemory, SharedDataset]:
    parts = {k: getattr(ds, k) for k in ("train", "val", "test")}
    size = sum(s.x.nbytes + s.y.astype(np.int64).nbytes for s in parts.values()) or 1
    remove_stale_blocks()
    name = f"{SHM_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
    shm = shared_memory.SharedMemory(name=name, create=True, size=size)
    layout, off = {}, 0
    for k, s in parts.items():
        x = np.ascontiguousarray(s.x, np.uint8)
        y = np.ascontiguousarray(s.y, np.int64)
        np.ndarray(x.shape, np.uint8, shm.buf, off)[...] = x
        xo, off = off, off + x.nbytes
        np.ndarray(y.shape, np.int64, shm.buf, off)[...] = y
        layout[k] = (xo, tuple(x.shape), off, len(y))
        off += y.nbytes
    fields = {
        "name": ds.name,
        "source": ds.source,
        "layout": ds.layout,
        "classes": list(ds.classes),
        "norm_size": tuple(ds.norm_size),
        "fingerprint": ds.fingerprint,
        "split_seed": ds.split_seed,
        "val_split": ds.val_split,
        "fixed_split": ds.fixed_split,
    }
    return shm, SharedDataset(shm.name, layout, fields)


def attach_dataset(spec: SharedDataset) -> tuple[shared_memory.SharedMemory, Dataset]:
    """The dataset as views into the shared block (read-only: the worker never writes it)."""
    shm = shared_memory.SharedMemory(name=spec.shm_name)
    splits = {}
    for k, (xo, shape, yo, n) in spec.layout.items():
        x = np.ndarray(shape, np.uint8, shm.buf, xo)
        y = np.ndarray((n,), np.int64, shm.buf, yo)
        x.flags.writeable = y.flags.writeable = False
        splits[k] = Split(x, y)
    f = spec.fields
    ds = Dataset(
        f["name"],
        f["source"],
        f["layout"],
        f["classes"],
        tuple(f["norm_size"]),
        splits["train"],
        splits["val"],
        splits["test"],
        fingerprint=f["fingerprint"],
        split_seed=f["split_seed"],
        val_split=f["val_split"],
        fixed_split=f["fixed_split"],
    )
    return shm, ds


# == the worker process ========================================================================
@dataclass
class Job:
    config: dict
    data: SharedDataset
    weights: list[np.ndarray] | None
    optimizer_state: dict | None
    history: dict
    max_steps: int | None = None
    memory_limit: int | None = None  # bytes of address space beyond the warm worker's, where the OS allows
    threads: int | None = None  # torch's intra-op threads in the worker (None: torch's default)
    test_hook: str = ""  # tests only: "raise", "segfault", "exit", "hang" after the first step


def _watch_lifeline(conn) -> None:
    """Exit as soon as the parent is gone (its end of the pipe closes, whatever killed it)."""
    try:
        conn.recv()
    except (EOFError, OSError):
        pass
    os._exit(0)


def worker_main(jobs, events, stop, resume, lifeline) -> None:  # pragma: no cover - runs in a child process
    """A worker: import everything, then run jobs until told to quit (``None``)."""
    threading.Thread(target=_watch_lifeline, args=(lifeline,), daemon=True).start()
    os.environ["BACKPROP_STUDIO_WORKER"] = "1"  # the user's own functions may be imported here
    import torch  # noqa: F401 - the warm-up: imports happen before the first job

    while True:
        job = jobs.get()
        if job is None:
            return
        _run_job(job, events, stop, resume)


def _run_job(job: Job, events, stop, resume) -> None:  # pragma: no cover - runs in a child process
    shm = None
    try:
        limit_memory(job.memory_limit)
        config = TrainConfig.from_dict(job.config).validate()
        if job.threads:
            import torch

            from engine.model.blas import cap_blas_threads

            # the worker keeps to its cores, torch's and NumPy's BLAS alike, but never below the
            # run's own thread count: that is part of its settings (its numbers depend on it)
            torch.set_num_threads(max(job.threads, config.threads))
            cap_blas_threads(max(job.threads, config.threads))
        shm, ds = attach_dataset(job.data)
        net = build_network(config, ds.in_features, len(ds.classes), weights=job.weights)
        if job.optimizer_state is not None:
            net.load_optimizer_state(job.optimizer_state)
        run = TrainingRun(
            config, ds, net, History.from_dict(job.history), max_steps=job.max_steps, controls=(stop, resume)
        )  # the process-shared stop and resume: the host pauses and stops it
        batch: list = []
        last_send = last_layer = time.perf_counter()
        n_steps = 0
        for ev in run.events():
            batch.append(ev)
            now = time.perf_counter()
            if isinstance(ev, StepEvent):
                n_steps += 1
                if job.test_hook and n_steps == 2:
                    _test_hook(job.test_hook)
            if isinstance(ev, EvalEvent) and ev.best_epoch == ev.epoch:
                batch.append(BestWeights(net.weights()))
            if now - last_layer >= FIRST_LAYER_SECONDS:
                batch.append(FirstLayer(net.weights()[0]))
                last_layer = now
            final = isinstance(ev, (FinishedEvent, FailedEvent))
            if final or now - last_send >= BATCH_SECONDS or not resume.is_set():
                if final:
                    batch.append(FirstLayer(net.weights()[0]))
                    batch.append(RunResult(net.weights(), net.optimizer_state(), run.history.to_dict()))
                events.put(batch)
                batch, last_send = [], now
    except MemoryError:
        events.put([WorkerError("ran out of memory: use a smaller model, batch or dataset")])
    except Exception as exc:  # noqa: BLE001 - reported to the host as a failed run
        events.put([WorkerError(f"stopped with an error: {exc or type(exc).__name__}")])
    finally:
        if shm is not None:
            shm.close()


def _test_hook(kind: str) -> None:  # pragma: no cover - runs in a child process
    if kind == "raise":
        raise RuntimeError("a deliberate failure")
    if kind == "segfault":
        import ctypes

        ctypes.string_at(0)
    if kind == "exit":
        os._exit(3)
    if kind == "hang":
        while True:
            time.sleep(1)
    if kind == "memory":
        raise MemoryError
    if kind == "allocate":  # a real allocation
        np.ones(1 << 31, np.uint8)  # 2 GiB: fine without a limit, refused under a smaller one
    if kind == "hold":  # a real allocation that stays while training goes on
        _HELD.append(np.ones(1 << 31, np.uint8))


_HELD: list = []


def death_reason(exitcode: int | None) -> str:
    """Words for how a worker ended without a result."""
    if exitcode is None:
        return "the training process stopped answering and was killed"
    if exitcode < 0:
        sig = -exitcode
        name = signal_words(sig)
        how = "killed" if was_killed(sig) else "ended"
        return f"the training process was {how} (signal {sig}{': ' + name if name else ''})"
    return f"the training process exited unexpectedly (exit status {exitcode})"


# == the host ===================================================================================
@dataclass
class _Worker:
    process: mp.Process
    jobs: object
    events: object
    stop: object
    resume: object
    lifeline: object  # the parent's end: closing it (or dying) ends the worker


class RunHost:
    """Starts runs in worker processes and keeps ``spares`` of them warm (imports done, idle).

    Several runs may go at once (one worker each); a run that finds no warm worker starts a new
    one. Close the host (or use ``with``) when done.
    """

    def __init__(
        self,
        warm: bool = True,
        memory_limit: int | None = None,
        grace: float = 3.0,
        spares: int = 1,
        threads: int | None = None,
    ):
        self._ctx = mp.get_context("spawn")
        self.threads = threads
        self.memory_limit = memory_limit
        self.grace = grace
        self.spares = max(0, spares)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._runs: list[HostedRun] = []
        self._closed = False
        if warm:
            self.warm()

    @property
    def _spare(self) -> _Worker | None:  # the next warm worker a run would take
        return self._idle[0] if self._idle else None

    def warm(self, n: int | None = None) -> None:
        """Start workers until ``n`` (default ``spares``) are warm; they start in parallel."""
        n = self.spares if n is None else n
        with self._lock:
            if self._closed:
                return
            self._idle = [w for w in self._idle if w.process.is_alive()]
            while len(self._idle) < n:
                self._idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        ctx = self._ctx
        jobs, events = ctx.Queue(), ctx.Queue()
        stop, resume = ctx.Event(), ctx.Event()
        parent_end, child_end = ctx.Pipe()
        p = ctx.Process(
            target=worker_main, args=(jobs, events, stop, resume, child_end), daemon=True, name="backprop-worker"
        )
        p.start()
        child_end.close()
        return _Worker(p, jobs, events, stop, resume, parent_end)

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                w = self._idle.pop(0)
                if w.process.is_alive():
                    return w
                _end(w)
        return self._spawn()

    def start(
        self,
        config: TrainConfig,
        dataset: Dataset,
        network: Network | None = None,
        history: History | None = None,
        max_steps: int | None = None,
        test_hook: str = "",
        *,
        owns_host: bool = False,
    ) -> HostedRun:
        """Start training in a worker; a new network from ``config`` unless one is given to continue."""
        config = resolve_inputs(config.validate(), dataset)
        network = network or build_network(config, dataset.in_features, len(dataset.classes))
        history = history if history is not None else History()
        shm, spec = share_dataset(dataset)
        worker = self._take()
        worker.stop.clear()
        worker.resume.set()
        job = Job(
            config.to_dict(),
            spec,
            network.weights(),
            network.optimizer_state(),
            history.to_dict(),
            max_steps,
            self.memory_limit,
            self.threads,
            test_hook,
        )
        worker.jobs.put(job)
        run = HostedRun(self, worker, shm, config, dataset, network, history, owns_host=owns_host)
        self._runs.append(run)
        return run

    def _retire(self, worker: _Worker, reusable: bool) -> None:
        """After a run: the worker goes back to the warm pool if healthy and the pool has room;
        else it ends (and a fresh one is started if the pool is short)."""
        with self._lock:
            if reusable and worker.process.is_alive() and not self._closed and len(self._idle) < self.spares:
                self._idle.append(worker)
                return
            need_spare = len(self._idle) < self.spares and not self._closed
        _end(worker)
        if need_spare:  # a fresh warm worker for the next run, started off the caller's thread
            threading.Thread(target=self.warm, daemon=True).start()

    def close(self) -> None:
        """Stop every run and end every worker (joined; killed if they do not leave in time)."""
        self._closed = True
        for run in list(self._runs):
            run.stop()
            run.abandon()
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            try:
                w.jobs.put(None)
            except (OSError, ValueError):
                pass
        for w in idle:
            _end(w)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _end(w: _Worker, timeout: float = 2.0) -> None:
    try:
        w.jobs.put(None)
    except (OSError, ValueError):
        pass
    w.process.join(timeout)
    if w.process.is_alive():
        w.process.kill()
        w.process.join(5)
    try:
        w.lifeline.close()
    except OSError:  # closed meanwhile by another thread ending the same worker (a run ending as the host closes)
        pass
    for q in (w.jobs, w.events):
        q.close()
        q.cancel_join_thread()


@dataclass
class _State:
    first_layer: np.ndarray | None = None
    best_weights: list[np.ndarray] | None = None
    result: RunResult | None = None


class HostedRun:
    """A run in a worker process, with :class:`TrainingRun`'s interface.

    ``network`` and ``history`` are the host-side objects: at the end they hold the worker's final
    weights, optimiser state and history. ``best_weights`` holds the latest best-validation weights
    (for autosave), ``first_layer`` the latest first-layer snapshot.
    """

    def __init__(self, host, worker, shm, config, dataset, network, history, *, owns_host: bool = False):
        self._host, self._worker, self._shm = host, worker, shm
        self._owns_host = owns_host  # a host started for this run alone: closed when it ends
        self.config, self.dataset, self.network, self.history = config, dataset, network, history
        self._state = _State()
        self._stop_asked: float | None = None
        self._done = False
        # Where the OS cannot cap the worker's address space, the host watches its memory.
        self._watch = None
        if host.memory_limit and not limit_memory_enforced():
            self._watch = MemoryWatch(worker.process.pid, host.memory_limit)
            self._watch.start()

    # -- control (any thread) -----------------------------------------------------------
    def pause(self) -> None:
        self._worker.resume.clear()

    def resume(self) -> None:
        self._worker.resume.set()

    def stop(self) -> None:
        if self._stop_asked is None:
            self._stop_asked = time.monotonic()
        self._worker.stop.set()
        self._worker.resume.set()

    @property
    def paused(self) -> bool:
        return not self._worker.resume.is_set()

    @property
    def first_layer(self) -> np.ndarray | None:
        return self._state.first_layer

    @property
    def best_weights(self) -> list[np.ndarray] | None:
        return self._state.best_weights

    @property
    def pid(self) -> int | None:
        return self._worker.process.pid

    # -- the stream ---------------------------------------------------------------------
    def event_batches(self, poll: float = 0.05):
        """Batches of events as the worker sends them (extras folded into the run's state);
        ends after the final event. A dead or stuck worker ends it with a FailedEvent."""
        w = self._worker
        try:
            while not self._done:
                try:
                    batch = w.events.get(timeout=poll)
                except queue.Empty:
                    batch = self._check_alive()
                    if batch is None:
                        continue
                except (EOFError, OSError):
                    batch = [FailedEvent(0, 0, death_reason(w.process.exitcode))]
                if self._watch is not None and self._watch.exceeded():
                    w.process.kill()
                    w.process.join(5)
                    batch = [FailedEvent(0, 0, "ran out of memory: use a smaller model, batch or dataset")]
                out = []
                for item in batch:
                    if isinstance(item, WorkerMessage):
                        out += self._extra(item)
                    else:
                        out.append(item)
                if any(isinstance(e, (FinishedEvent, FailedEvent)) for e in out):
                    self._finish(out)
                if out:
                    yield out
        finally:
            if not self._done:  # the consumer left early (closed generator)
                self.abandon()

    def events(self):
        """One event at a time, as :meth:`TrainingRun.events`."""
        for batch in self.event_batches():
            yield from batch

    def run(self, on_event=None):
        last = None
        for last in self.events():
            if on_event:
                on_event(last)
        return last

    def _extra(self, item) -> list:
        """A worker's message folded into this run's state; a failure becomes the final event."""
        if isinstance(item, FirstLayer):
            self._state.first_layer = item.weights
        elif isinstance(item, BestWeights):
            self._state.best_weights = item.weights
        elif isinstance(item, RunResult):
            self._state.result = item
        elif isinstance(item, WorkerError):
            return [FailedEvent(0, 0, item.message)]
        return []

    def _check_alive(self):
        p = self._worker.process
        if not p.is_alive():
            try:  # a final batch may still be in the pipe
                return self._worker.events.get(timeout=0.2)
            except (queue.Empty, EOFError, OSError):
                return [FailedEvent(0, 0, death_reason(p.exitcode))]
        if self._stop_asked is not None and time.monotonic() - self._stop_asked > self._host.grace:
            p.kill()
            p.join(5)
            return [
                FailedEvent(0, 0, f"the training process did not stop within {self._host.grace:g} s and was killed")
            ]
        return None

    def _finish(self, out: list) -> None:
        """The run ended: bring its weights, optimiser state and history home; retire the worker."""
        self._done = True
        result = self._state.result
        if result is not None:
            self.network.set_weights(result.weights)
            try:
                self.network.load_optimizer_state(result.optimizer_state)
            except (ValueError, KeyError, RuntimeError, TypeError):
                pass
            new = History.from_dict(result.history)
            self.history.__dict__.update(new.__dict__)
        # A worker that imported the user's code is never used again: their module stays imported
        # (an edited file would not be re-read) and may have changed global state (torch's default
        # dtype, NumPy's error settings, a monkeypatch) that the next run would inherit.
        healthy = result is not None and self._worker.process.is_alive() and self.config.engine != "user"
        self._release(healthy)

    def abandon(self) -> None:
        """The host closes or the consumer left: end this run's worker now."""
        if not self._done:
            self._done = True
            self._worker.stop.set()
            self._worker.resume.set()
            self._release(False)

    def _release(self, reusable: bool) -> None:
        if self._shm is not None:
            self._shm.close()
            try:
                self._shm.unlink()
            except FileNotFoundError:
                pass
            self._shm = None
        if self in self._host._runs:
            self._host._runs.remove(self)
        self._host._retire(self._worker, reusable and not self._owns_host)
        if self._owns_host:
            self._host.close()
