"""Training runs: events, falling loss on both engines, agreement, control, divergence, reproducibility."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine.checkpoint import Model, dataset_record, load_checkpoint, save_checkpoint
from engine.config import TrainConfig
from engine.data.dataset import Split
from engine.model.build import build_network
from engine.training.run import (
    EpochEvent,
    EvalEvent,
    FailedEvent,
    FinishedEvent,
    StepEvent,
    TrainingRun,
    WarningEvent,
    epoch_order,
)


def _collect(run):
    return list(run.events())


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_both_engines_learn(small_letters, engine):
    run = TrainingRun(TrainConfig(engine=engine, epochs=12, batch_size=16, weight_decay=0.0), small_letters)
    events = _collect(run)
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert epochs[-1].train_loss < 0.5 * epochs[0].train_loss
    assert epochs[-1].train_acc > 0.5
    assert isinstance(events[-1], FinishedEvent) and events[-1].test_acc is not None


def test_event_sequence(small_letters):
    config = TrainConfig(epochs=3, batch_size=64, val_interval=2)
    events = _collect(TrainingRun(config, small_letters))
    health = [e for e in events if type(e).__name__ == "HealthEvent"]
    assert health and all(events[events.index(h) - 1].global_step == h.global_step for h in health)
    events = [e for e in events if e not in health]  # each right after the step it measured
    kinds = [type(e).__name__ for e in events]
    steps = -(-len(small_letters.train) // 64)
    expected = (
        ["StepEvent"] * steps
        + ["EpochEvent"]
        + ["StepEvent"] * steps
        + ["EpochEvent", "EvalEvent"]
        + ["StepEvent"] * steps
        + ["EpochEvent", "EvalEvent"]  # the last epoch is always evaluated
        + ["FinishedEvent"]
    )
    assert kinds == expected
    s = [e for e in events if isinstance(e, StepEvent)]
    assert [e.global_step for e in s] == list(range(1, 3 * steps + 1))
    assert all(e.steps_per_epoch == steps for e in s)
    ev = [e for e in events if isinstance(e, EvalEvent)]
    assert [e.epoch for e in ev] == [2, 3]


def test_engines_agree_over_the_first_steps(small_letters):
    losses = {}
    for engine in ("torch", "numpy"):
        run = TrainingRun(TrainConfig(engine=engine, epochs=1, batch_size=8, seed=3), small_letters)
        losses[engine] = [e.loss for e in run.events() if isinstance(e, StepEvent)][:30]
    np.testing.assert_allclose(losses["torch"], losses["numpy"], rtol=1e-4)


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_seeded_runs_are_reproducible_bit_for_bit(small_letters, engine):
    def once():
        run = TrainingRun(TrainConfig(engine=engine, epochs=2, seed=11), small_letters)
        run.run()
        return run.history.step_loss, run.network.weights()

    (l1, w1), (l2, w2) = once(), once()
    assert l1 == l2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_divergence_stops_with_a_hint_and_good_weights(small_letters):
    run = TrainingRun(
        TrainConfig(optim="sgd", lr=90.0, momentum=0.9, act="identity", weight_decay=0, epochs=50), small_letters
    )
    last = run.run()
    assert isinstance(last, FailedEvent)
    assert f"diverged at epoch {last.epoch} step {last.step}" in last.reason
    assert "lower the learning rate" in last.reason
    assert run.network.weights_finite()


def test_pause_resume_and_stop_from_another_thread(small_letters):
    run = TrainingRun(TrainConfig(epochs=10_000, batch_size=1), small_letters)
    seen = []
    done = threading.Event()

    def consume():
        for ev in run.events():
            seen.append(ev)
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    while len(seen) < 20:
        time.sleep(0.01)
    run.pause()
    time.sleep(0.1)
    n = len(seen)
    time.sleep(0.3)
    assert len(seen) == n, "steps went on while paused"
    run.resume()
    time.sleep(0.2)
    assert len(seen) > n
    run.stop()
    assert done.wait(5), "stop was not honoured"
    t.join()
    assert isinstance(seen[-1], FinishedEvent) and seen[-1].stopped


def test_stop_while_paused_ends_the_run(small_letters):
    run = TrainingRun(TrainConfig(epochs=100), small_letters)
    gen = run.events()
    next(gen)
    run.pause()
    run.stop()
    rest = list(gen)
    assert isinstance(rest[-1], FinishedEvent) and rest[-1].stopped


def test_resuming_continues_exactly(small_letters, tmp_path):
    from engine.checkpoint import Model, load_checkpoint, save_checkpoint

    for engine in ("torch", "numpy"):
        straight = TrainingRun(TrainConfig(engine=engine, epochs=4, seed=5), small_letters)
        straight.run()
        first = TrainingRun(TrainConfig(engine=engine, epochs=2, seed=5), small_letters)
        first.run()
        path = tmp_path / f"{engine}.pt"
        save_checkpoint(
            path, Model(first.network, small_letters.classes, small_letters.norm_size, first.config, first.history)
        )
        loaded = load_checkpoint(path)
        config = TrainConfig.from_dict({**loaded.config.to_dict(), "epochs": 4})
        second = TrainingRun(config, small_letters, loaded.network, loaded.history)
        second.run()
        assert second.history.epoch == [1, 2, 3, 4]
        for a, b in zip(straight.network.weights(), second.network.weights()):
            np.testing.assert_array_equal(a, b)


def test_network_rejects_nothing_it_can_train():
    net = build_network(TrainConfig(hidden=[3, 3, 3], act="sigmoid").validate(), 4, 2)
    assert [w.shape for w in net.weights()] == [(3, 4), (3,), (3, 3), (3,), (3, 3), (3,), (2, 3), (2,)]


def _straight(config, ds):
    run = TrainingRun(config, ds)
    run.run()
    return run


def _stopped_and_resumed(config, ds, stop_at: int, tmp_path, engine):
    run = TrainingRun(config, ds)
    for ev in run.events():
        if isinstance(ev, StepEvent) and ev.global_step == stop_at:
            run.stop()
    path = tmp_path / f"stop{stop_at}-{engine}.pt"
    save_checkpoint(
        path, Model(run.network, ds.classes, ds.norm_size, run.config, run.history, dataset=dataset_record(ds))
    )
    m = load_checkpoint(path)
    resumed = TrainingRun(m.config, ds, m.network, m.history)
    resumed.run()
    return run, resumed


@pytest.mark.parametrize("engine", ["torch", "numpy"])
@pytest.mark.parametrize("optim", ["adam", "sgd"])
def test_resume_from_any_step_is_bit_identical(small_letters, tmp_path, engine, optim):
    config = TrainConfig(
        engine=engine, optim=optim, momentum=0.9 if optim == "sgd" else 0.0, lr=0.01, epochs=3, batch_size=64, seed=2
    ).validate()
    steps = -(-len(small_letters.train) // 64)
    straight = _straight(config, small_letters)
    for stop_at in (1, 3, steps, steps + 2, 2 * steps - 1):
        first, resumed = _stopped_and_resumed(config, small_letters, stop_at, tmp_path, engine)
        mid = stop_at % steps != 0
        assert (first.history.position is not None) == mid  # a partial epoch is never recorded as done
        assert first.history.epoch == list(range(1, stop_at // steps + 1))
        for a, b in zip(straight.network.weights(), resumed.network.weights()):
            np.testing.assert_array_equal(a, b)
        assert resumed.history.step_loss == straight.history.step_loss
        assert resumed.history.train_loss == straight.history.train_loss
        assert resumed.history.epoch == [1, 2, 3] and resumed.history.position is None


def test_a_stopped_run_reports_where_it_stopped(small_letters):
    run = TrainingRun(TrainConfig(epochs=2, batch_size=64), small_letters)
    last = None
    for last in run.events():
        if isinstance(last, StepEvent) and last.global_step == 2:
            run.stop()
    assert last.partial and last.epoch == 1 and last.step == 2 and last.epochs_completed == 0
    assert "epoch not finished" in last.where() and run.history.where().startswith("at epoch 1, step 2")


def test_each_epoch_has_its_own_shuffle():
    assert not np.array_equal(epoch_order(0, 1, 100), epoch_order(0, 2, 100))
    np.testing.assert_array_equal(epoch_order(0, 2, 100), epoch_order(0, 2, 100))


def test_classifying_from_another_thread_does_not_disturb_a_numpy_run(small_letters):
    config = TrainConfig(engine="numpy", epochs=2, batch_size=8, seed=4).validate()
    quiet = _straight(config, small_letters)
    run = TrainingRun(config, small_letters)
    done = threading.Event()
    errors = []

    def classify():
        x = np.random.default_rng(0).standard_normal((3, small_letters.in_features)).astype(np.float32)
        while not done.is_set():
            try:
                run.network.logits(x)  # a different batch size, concurrently
                run.network.snapshot().logits(x)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

    t = threading.Thread(target=classify)
    t.start()
    try:
        last = run.run()
    finally:
        done.set()
        t.join()
    assert not errors and not last.stopped
    for a, b in zip(quiet.network.weights(), run.network.weights()):
        np.testing.assert_array_equal(a, b)


def test_a_run_that_does_not_learn_is_told_so(small_letters):
    # Identical images with balanced labels: nothing to learn, the loss settles at ln 26.
    from engine.data.dataset import Dataset

    blank = Split(np.zeros((260, 8, 8), np.uint8), np.repeat(np.arange(26), 10), [])
    ds = Dataset("blank", "blank", "builtin", small_letters.classes, (8, 8), blank, blank, blank)
    run = TrainingRun(TrainConfig(optim="sgd", lr=0.5, epochs=8, batch_size=26, weight_decay=0.0), ds)
    warnings = [e for e in run.events() if isinstance(e, WarningEvent)]
    assert len(warnings) == 1 and "not learning" in warnings[0].message and "ln 26" in warnings[0].message
    healthy = TrainingRun(TrainConfig(epochs=3, batch_size=16), small_letters)
    assert not [e for e in healthy.events() if isinstance(e, WarningEvent)]
