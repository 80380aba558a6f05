"""The run host: training in worker processes, with the same events, exact results, contained
failures and no process left behind."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.config import TrainConfig
from engine.training.host import RunHost, attach_dataset, death_reason, share_dataset
from engine.training.run import EpochEvent, EvalEvent, FailedEvent, FinishedEvent, StepEvent, TrainingRun


@pytest.fixture(scope="module")
def host():
    with RunHost() as h:
        yield h


def wait_for(cond, timeout=20.0):
    t = time.perf_counter()
    while not cond() and time.perf_counter() - t < timeout:
        time.sleep(0.01)
    assert cond()


def _children_alive(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as fh:  # a zombie is not alive
                if fh.read().split()[2] != "Z":
                    alive.append(pid)
        except (ProcessLookupError, FileNotFoundError):
            pass
    return alive


def test_shared_dataset_round_trip(small_letters):
    shm, spec = share_dataset(small_letters)
    try:
        view_shm, ds = attach_dataset(spec)
        for k in ("train", "val", "test"):
            np.testing.assert_array_equal(getattr(ds, k).x, getattr(small_letters, k).x)
            np.testing.assert_array_equal(getattr(ds, k).y, getattr(small_letters, k).y)
        assert ds.classes == small_letters.classes and ds.fingerprint == small_letters.fingerprint
        assert not ds.train.x.flags.writeable
        del ds
        view_shm.close()
    finally:
        shm.close()
        shm.unlink()


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_hosted_run_is_bit_identical_to_in_process(host, small_letters, engine):
    c = TrainConfig(epochs=3, batch_size=16, engine=engine, optim="adam")
    hosted = host.start(c, small_letters)
    events = list(hosted.events())
    ref = TrainingRun(c, small_letters)
    ref_events = list(ref.events())
    # what must be identical: every step, epoch, evaluation and the end, with their values (how
    # the events were batched, and when health was collected, depend on the machine's speed)
    core = (StepEvent, EpochEvent, EvalEvent, FinishedEvent)

    def values(evs):
        return [
            (type(e).__name__, e.epoch, getattr(e, "step", None), getattr(e, "loss", None), getattr(e, "val_acc", None))
            for e in evs
            if isinstance(e, core)
        ]

    assert values(events) == values(ref_events)
    kinds = [type(e) for e in events]
    assert kinds.count(StepEvent) == 3 * 20 and kinds.count(EpochEvent) == 3 and kinds.count(EvalEvent) == 3
    assert isinstance(events[-1], FinishedEvent) and events[-1].test_acc == ref_events[-1].test_acc
    for a, b in zip(hosted.network.weights(), ref.network.weights()):
        np.testing.assert_array_equal(a, b)
    assert hosted.history.step_loss == ref.history.step_loss and hosted.history.val_acc == ref.history.val_acc
    assert hosted.best_weights is not None and hosted.first_layer.shape == ref.network.weights()[0].shape


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_resume_across_the_process_boundary_is_exact(host, small_letters, engine):
    c = TrainConfig(epochs=2, batch_size=16, engine=engine, optim="sgd", momentum=0.9)
    straight = TrainingRun(c, small_letters)
    straight.run()
    first = host.start(c, small_letters, max_steps=27)  # stops mid-epoch 2
    last = first.run()
    assert last.partial and first.history.position.step == 7
    second = host.start(c, small_letters, first.network, first.history)
    second.run()
    for a, b in zip(second.network.weights(), straight.network.weights()):
        np.testing.assert_array_equal(a, b)
    assert second.history.step_loss == straight.history.step_loss


def test_pause_resume_and_stop_across_processes(host, small_letters):
    run = host.start(TrainConfig(epochs=1000, batch_size=1, engine="numpy"), small_letters)
    seen: list = []
    reader = threading.Thread(target=lambda: seen.extend(run.events()))
    reader.start()

    def steps():
        return [e for e in list(seen) if isinstance(e, StepEvent)]

    wait_for(lambda: len(steps()) > 5)
    run.pause()
    time.sleep(0.3)  # what was in flight arrives
    n = len(steps())
    time.sleep(0.5)
    assert run.paused and len(steps()) == n  # nothing trains while paused
    run.resume()
    wait_for(lambda: len(steps()) > n + 3)
    assert [e.global_step for e in steps()] == list(range(1, len(steps()) + 1))  # no step lost or repeated
    t = time.perf_counter()
    run.stop()
    reader.join(10)
    assert isinstance(seen[-1], FinishedEvent) and seen[-1].stopped
    assert time.perf_counter() - t < 2.0


@pytest.mark.parametrize(
    "hook, reason",
    [
        ("raise", "stopped with an error: a deliberate failure"),
        ("segfault", "signal 11"),
        ("exit", "exit status 3"),
        ("memory", "ran out of memory"),
    ],
)
def test_a_failing_worker_is_a_failed_run(host, small_letters, hook, reason):
    run = host.start(TrainConfig(epochs=50, batch_size=4, engine="numpy"), small_letters, test_hook=hook)
    pid = run.pid
    last = list(run.events())[-1]
    assert isinstance(last, FailedEvent) and reason in last.reason
    time.sleep(0.2)
    assert not _children_alive([pid])
    ok = host.start(TrainConfig(epochs=1, batch_size=64, engine="numpy"), small_letters).run()
    assert isinstance(ok, FinishedEvent)  # the next run works at once


def test_a_killed_worker_is_a_failed_run(host, small_letters):
    run = host.start(TrainConfig(epochs=1000, batch_size=1, engine="numpy"), small_letters)
    it = run.events()
    next(it)
    os.kill(run.pid, signal.SIGKILL)
    last = list(it)[-1]
    assert isinstance(last, FailedEvent) and "killed (signal 9" in last.reason


def test_a_stuck_worker_is_killed_after_stop(small_letters):
    with RunHost(grace=1.0) as h:
        h.start(TrainConfig(epochs=1, batch_size=64, engine="numpy"), small_letters).run()  # warm: imports done
        run = h.start(TrainConfig(epochs=1000, batch_size=1, engine="numpy"), small_letters, test_hook="hang")
        threading.Timer(0.8, run.stop).start()
        t = time.perf_counter()
        last = list(run.events())[-1]
        assert isinstance(last, FailedEvent) and "did not stop within 1 s" in last.reason
        assert time.perf_counter() - t < 6 and not _children_alive([run.pid])


def test_no_worker_outlives_the_host(small_letters):
    h = RunHost()
    run = h.start(TrainConfig(epochs=1000, batch_size=1, engine="numpy"), small_letters)
    next(run.events())
    spare = h._spare
    pids = [run.pid] + ([spare.process.pid] if spare else [])
    h.close()
    time.sleep(0.3)
    assert not _children_alive(pids)


def test_workers_exit_when_their_parent_is_killed(tmp_path):
    """Detects the parent's death: the lifeline pipe breaks and the worker leaves by itself."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import time\n"
        "from engine.training.host import RunHost\n"
        "if __name__ == '__main__':\n"
        "    h = RunHost()\n"
        "    h._spare.process.join(0.1)\n"
        "    print(h._spare.process.pid, flush=True)\n"
        "    time.sleep(60)\n"
    )
    script = tmp_path / "parent.py"
    script.write_text(code)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    child = int(proc.stdout.readline())
    time.sleep(1.0)
    assert _children_alive([child])
    proc.kill()
    proc.wait()
    deadline = time.time() + 20
    while _children_alive([child]) and time.time() < deadline:
        time.sleep(0.2)
    assert not _children_alive([child])


def test_death_reasons_are_words():
    assert death_reason(-9) == "the training process was killed (signal 9: killed)"
    assert "segmentation fault" in death_reason(-11) and "exit status 2" in death_reason(2)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced like this on Linux only")
def test_a_real_allocation_beyond_the_memory_limit_is_a_failed_run(small_letters):
    with RunHost(memory_limit=512 << 20) as h:
        run = h.start(TrainConfig(epochs=3, batch_size=4, engine="numpy"), small_letters, test_hook="allocate")
        pid = run.pid
        last = list(run.events())[-1]
        assert isinstance(last, FailedEvent) and "ran out of memory" in last.reason
        time.sleep(0.2)
        assert not _children_alive([pid])
        # under the same limit, an ordinary run fits
        assert isinstance(h.start(TrainConfig(epochs=1, engine="numpy"), small_letters).run(), FinishedEvent)


def test_a_pool_of_warm_workers_runs_several_at_once(small_letters):
    config = TrainConfig(epochs=3, batch_size=8, engine="numpy", seed=4)
    with RunHost(spares=2) as h:
        warm = {w.process.pid for w in h._idle}
        assert len(warm) == 2
        runs = [h.start(config, small_letters), h.start(config, small_letters)]
        assert {r.pid for r in runs} == warm  # both took a warm worker: no start-up wait
        ends = []
        threads = [threading.Thread(target=lambda r=r: ends.append(r.run())) for r in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(isinstance(e, FinishedEvent) and not e.stopped for e in ends)
        # the same seed gives the same weights whichever worker ran it
        for a, b in zip(runs[0].network.weights(), runs[1].network.weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        wait_for(lambda: len(h._idle) == 2)  # both went back to the pool
        assert {w.process.pid for w in h._idle} == warm


def test_a_worker_that_ran_user_code_is_never_reused(small_letters, tmp_path):
    """An edited functions file is read again by the next run, and global state the user's module
    changed (here torch's default dtype) never reaches the next, ordinary run."""
    import shutil

    fix = Path(__file__).resolve().parents[1] / "fixtures" / "userfn" / "letters"
    for f in fix.glob("*.py"):
        shutil.copy(f, tmp_path / f.name)
    network = tmp_path / "network.py"
    network.write_text("import torch\ntorch.set_default_dtype(torch.float64)\n" + network.read_text())
    files = [str(tmp_path / n) for n in ("network.py", "losses.py", "activations.py")]
    with RunHost(spares=1) as h:
        user = h.start(TrainConfig(epochs=1, batch_size=16, engine="user", functions=files), small_letters)
        first_pid = user.pid
        assert isinstance(user.run(), FinishedEvent)
        plain = h.start(TrainConfig(epochs=1, batch_size=16, engine="torch"), small_letters)
        assert plain.pid != first_pid
        last = plain.run()
        assert isinstance(last, FinishedEvent), last  # "mat1 and mat2 must have the same dtype" before


def test_a_shared_block_left_by_a_killed_process_is_removed_when_the_next_run_shares_its_data(small_letters):
    """kill -9 of a whole process group leaves its shared-memory blocks (its resource tracker dies
    too); the next run that shares a dataset removes those of processes that are gone."""
    import os
    import subprocess
    import sys
    from multiprocessing import resource_tracker, shared_memory

    from engine.training.host import SHM_PREFIX, share_dataset

    if not os.path.isdir("/dev/shm"):
        pytest.skip("shared-memory blocks are not files on this OS (they go with their last handle)")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = shared_memory.SharedMemory(name=f"{SHM_PREFIX}{gone.pid}_dead", create=True, size=4096)
    resource_tracker.unregister(stale._name, "shared_memory")  # as if its maker's tracker had died
    stale.close()
    assert os.path.exists(f"/dev/shm/{SHM_PREFIX}{gone.pid}_dead")
    shm, spec = share_dataset(small_letters)
    try:
        assert not os.path.exists(f"/dev/shm/{SHM_PREFIX}{gone.pid}_dead")
        assert spec.shm_name.startswith(f"{SHM_PREFIX}{os.getpid()}_")
    finally:
        shm.close()
        shm.unlink()
