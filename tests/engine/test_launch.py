"""The one run lifecycle: a plan, ``start_run`` deciding where it trains, and ``Recording``
consuming it — the same route from the CLI, a sweep's trial and the window."""

from __future__ import annotations

import dataclasses

import psutil
import pytest

from engine.checkpoint import load_checkpoint
from engine.config import TrainConfig
from engine.runs import record as record_module
from engine.runs.record import Recording
from engine.runs.store import RunStore
from engine.training import launch
from engine.training.events import FailedEvent, FinishedEvent, StepEvent
from engine.training.host import HostedRun, RunHost
from engine.training.launch import Run, RunPlan, start_run
from engine.training.run import TrainingRun
from tests.conftest import ROOT

LETTERS_FUNCTIONS = ROOT / "tests" / "fixtures" / "userfn" / "letters"
SMALL = TrainConfig(epochs=2, batch_size=16, engine="numpy", seed=3)


def test_a_prepared_plan_is_what_the_run_trains(small_letters):
    plan = RunPlan(SMALL, small_letters).prepared()
    assert plan.network is not None and plan.history is not None
    run = start_run(plan)
    assert run.network is plan.network and run.history is plan.history  # not rebuilt
    weights = [w.copy() for w in plan.network.weights()]
    list(run.events())
    assert any((a != b).any() for a, b in zip(weights, plan.network.weights(), strict=True))


def test_standardized_inputs_are_measured_once_when_prepared(small_letters):
    plan = RunPlan(dataclasses.replace(SMALL, input_norm="standardize"), small_letters).prepared()
    assert plan.config.input_std > 0
    assert start_run(plan).config == plan.config


def test_without_a_host_a_run_trains_in_this_thread(small_letters):
    run = start_run(RunPlan(SMALL, small_letters))
    assert isinstance(run, TrainingRun) and isinstance(run, Run)
    assert isinstance(list(run.events())[-1], FinishedEvent)


def test_with_a_host_a_run_trains_in_its_worker_and_both_satisfy_one_protocol(small_letters):
    here = start_run(RunPlan(SMALL, small_letters))
    with RunHost(spares=1) as host:
        there = start_run(RunPlan(SMALL, small_letters), host=host)
        assert isinstance(there, HostedRun) and isinstance(there, Run)
        assert there.pid != psutil.Process().pid
        last_there = list(there.events())[-1]
    last_here = list(here.events())[-1]
    assert last_there.test_acc == last_here.test_acc  # the same run, wherever it trained
    assert there.history.train_loss == pytest.approx(here.history.train_loss, rel=1e-12)


@pytest.mark.parametrize("where", ["here", "worker"])
def test_max_steps_stops_after_that_many_steps(small_letters, where):
    plan = RunPlan(SMALL, small_letters, max_steps=1)
    with RunHost(spares=1) as host:
        run = start_run(plan, host=host if where == "worker" else None)
        events = list(run.events())
    assert sum(isinstance(e, StepEvent) for e in events) == 1
    last = events[-1]
    assert isinstance(last, FinishedEvent) and last.stopped and last.step == 1
    assert run.history.position is not None and run.history.position.step == 1


def test_the_users_own_functions_train_in_a_worker_of_their_own_closed_at_the_end(small_letters):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    files = [str(LETTERS_FUNCTIONS / n) for n in ("network.py", "losses.py", "activations.py")]
    config = dataclasses.replace(SMALL, engine="user", epochs=1, functions=files)
    run = start_run(RunPlan(config, small_letters))
    assert isinstance(run, HostedRun) and run.pid not in before  # never in this process
    assert isinstance(list(run.events())[-1], FinishedEvent)
    assert not psutil.pid_exists(run.pid) or psutil.Process(run.pid).status() == psutil.STATUS_ZOMBIE
    assert run._host._closed  # the host it started for this run alone is closed


def test_recording_closes_the_row_and_keeps_the_model(tmp_path, small_letters):
    store = RunStore(tmp_path / "runs.db")
    run = start_run(RunPlan(SMALL, small_letters))
    with Recording(run, store, source="test") as rec:
        assert store.run(rec.run_id).status == "running"
        events = list(rec.events())
    row = store.run(rec.run_id)
    assert row.status == "finished" and rec.last is events[-1]
    assert rec.model.network is run.network and rec.model.name == SMALL.validate().auto_name()
    assert rec.kept_copy == row.final_checkpoint
    assert load_checkpoint(row.final_checkpoint).history.epochs_completed == 2


def test_a_run_left_early_is_recorded_as_interrupted_with_what_it_reached(tmp_path, small_letters):
    store = RunStore(tmp_path / "runs.db")
    run = start_run(RunPlan(dataclasses.replace(SMALL, epochs=50), small_letters))
    with Recording(run, store, source="test") as rec:
        for ev in rec.events():
            if isinstance(ev, StepEvent) and ev.epoch == 2:
                break
    row = store.run(rec.run_id)
    assert row.status == "interrupted" and row.epochs_done == 1 and not row.final_checkpoint
    rec.finish()  # a second finish changes nothing
    assert store.run(rec.run_id).status == "interrupted"


def test_a_failed_run_after_an_epoch_keeps_its_last_good_weights(tmp_path, small_letters):
    store = RunStore(tmp_path / "runs.db")
    first = start_run(RunPlan(dataclasses.replace(SMALL, epochs=1), small_letters))
    list(first.events())
    good = first.network.weights()
    first.network.set_weights([w * 1e30 for w in good])  # the next step's loss overflows
    run = start_run(RunPlan(SMALL, small_letters, first.network, first.history))
    with Recording(run, store, source="test") as rec:
        list(rec.events())
    assert isinstance(rec.last, FailedEvent) and "diverged at epoch 2" in rec.last.reason
    row = store.run(rec.run_id)
    assert row.status == "diverged" and row.final_checkpoint
    kept = load_checkpoint(row.final_checkpoint)
    assert kept.history.epochs_completed == 1
    assert all((a == b * 1e30).all() for a, b in zip(kept.network.weights(), good, strict=True))


def test_without_a_store_recording_still_gives_the_model(small_letters):
    with Recording(start_run(RunPlan(SMALL, small_letters)), None, source="test", name="mine") as rec:
        list(rec.events())
    assert rec.run_id is None and rec.error == "" and rec.model.name == "mine"
    assert rec.model.history.epochs_completed == 2


class _Route:
    """Spies on the two doors every run goes through."""

    def __init__(self, monkeypatch):
        self.started, self.recorded = [], []
        real_start, real_init = launch.start_run, Recording.__init__

        def start(plan, host=None):
            self.started.append(plan.config.engine)
            return real_start(plan, host)

        def init(rec, run, store=None, **kw):
            self.recorded.append(kw["source"])
            real_init(rec, run, store, **kw)

        monkeypatch.setattr(launch, "start_run", start)
        monkeypatch.setattr(record_module.Recording, "__init__", init)


def test_the_cli_and_a_sweep_take_the_same_route(monkeypatch, tmp_path, small_letters):
    from engine.cli import main
    from engine.runs.sweep import Sweep, build_spec, open_study

    route = _Route(monkeypatch)
    db = tmp_path / "runs.db"
    assert main(["train", "--data", "builtin", "--epochs", "1", "--engine", "numpy", "--runs-db", str(db)]) == 0
    assert route.started == ["numpy"] and route.recorded == ["cli"]
    overrides = {"epochs": 1, "batch_size": 16, "engine": "numpy"}
    spec = build_spec("letters-course", overrides, ["lr=0.01,0.02"], seeds=[0])
    study, spec = open_study(f"sqlite:///{tmp_path / 'sweeps.db'}", "route", spec)
    Sweep(study, spec, small_letters, workers=1, store=RunStore(db)).run()
    assert route.started == ["numpy"] * 3 and route.recorded == ["cli", "sweep", "sweep"]
