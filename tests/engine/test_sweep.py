"""Sweeps: the search space, Optuna studies on the run host, pruning, the results table, storage."""

from __future__ import annotations

import csv
import dataclasses
import glob
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from engine.checkpoint import dataset_record
from engine.errors import UserError
from engine.runs.store import RunStore
from engine.runs.sweep import Sweep, build_spec, format_table, importances, open_study, parse_param, results
from tests.conftest import ROOT


def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'sweeps.db'}"


def spec_for(ds, grid, seeds=(0,), **kw):
    base = {"engine": "numpy", "epochs": 3, "batch_size": 16}
    base.update(kw.pop("base", {}))
    spec = build_spec("letters", base, grid, list(seeds), **kw)
    spec.dataset = {**dataset_record(ds), "norm_size": list(ds.norm_size)}
    return spec


# -- the search space ----------------------------------------------------------------------
def test_params_lists_and_ranges():
    assert parse_param("momentum=0.88,0.9").grid_values() == [0.88, 0.9]
    assert parse_param("lr=1e-4..1e-2:3:log").grid_values() == [1e-4, 1e-3, 1e-2]
    assert parse_param("weight_decay=0..0.2:3").grid_values() == [0.0, 0.1, 0.2]
    assert parse_param("batch_size=8..64:4:log").grid_values() == [8, 16, 32, 64]
    assert parse_param("hidden=64,128x64").grid_values() == ["64", "128x64"]
    assert parse_param("optim=SGD,adam").grid_values() == ["sgd", "adam"]


@pytest.mark.parametrize(
    "grid, message",
    [
        ("lr=-1", "--grid lr=-1.0: learning rate: -1.0 must be greater than 0"),
        ("optim=sgd,nadam", "--grid optim=nadam: optimizer: unknown 'nadam'"),
        ("colour=red", "--grid colour: not a hyperparameter"),
        ("momentum=0.9,1.5", "--grid momentum=1.5: momentum: 1.5 must be in [0, 1)"),
        ("lr=1..0.1", "the range's low end must be below its high end"),
        ("lr=0..1:log", "a log range must be above 0"),
        ("seed=1,2", "--seeds"),
        ("momentum", "write name=values"),
        ("batch_size=8,x", "--grid batch_size=x: not a whole number"),
    ],
)
def test_an_invalid_grid_is_refused_naming_it(small_letters, grid, message):
    with pytest.raises(UserError) as err:
        spec_for(small_letters, [grid])
    assert message in str(err.value)


def test_random_search_needs_a_budget(small_letters):
    with pytest.raises(UserError, match="--trials"):
        spec_for(small_letters, ["lr=1e-4..1e-1:log"], search="random")


# -- running -------------------------------------------------------------------------------
def test_a_two_worker_grid_sweep_fills_the_table_and_the_run_store(tmp_path, small_letters):
    spec = spec_for(small_letters, ["lr=0.001,0.01"], seeds=(0, 1))
    study, spec = open_study(sqlite_url(tmp_path), "grid", spec)
    store = RunStore(tmp_path / "runs.db")
    seen = []
    reports = []
    sweep = Sweep(
        study,
        spec,
        small_letters,
        workers=2,
        store=store,
        on_event=lambda k, p: (seen.append(k), k == "trial" and reports.append(p)),
    )
    trials = sweep.run()
    assert len(trials) == 4 and all(t.state == "complete" for t in trials)
    # each report is the trial as it was when said: the window reads them later, on its own thread
    # (given the live object, a quick trial's "running" read "complete" and its curve was never drawn)
    assert sorted(r.state for r in reports) == ["complete"] * 4 + ["running"] * 4
    assert all(not r.curve for r in reports if r.state == "running")
    assert {(t.params["lr"], t.seed) for t in trials} == {(0.001, 0), (0.001, 1), (0.01, 0), (0.01, 1)}
    rows = results(study, spec)
    assert [r.params["lr"] for r in rows] == [0.001, 0.01]
    assert all(len(r.val) == 2 and len(r.test) == 2 for r in rows)
    assert sum(r.best for r in rows) <= 1  # marked only when clearly best (the statistics tests say when)
    runs = store.runs(sweep="grid")
    assert len(runs) == 4 and all(r.status == "finished" and r.source == "sweep" for r in runs)
    assert {r.config["seed"] for r in runs} == {0, 1} and {r.config["lr"] for r in runs} == {0.001, 0.01}
    # the table's numbers are the runs' numbers
    by_cfg = {}
    for r in runs:
        by_cfg.setdefault(r.config["lr"], []).append(r.val_acc)
    for row in rows:
        assert sorted(row.val) == pytest.approx(sorted(by_cfg[row.params["lr"]]))
    assert "progress" in seen and "event" in seen
    assert sweep.progress().done == 4


def test_a_seeded_trial_is_the_same_run_as_train(tmp_path, small_letters):
    from engine.config import TrainConfig
    from engine.training.run import TrainingRun

    spec = spec_for(small_letters, ["lr=0.004"], seeds=(3,))
    study, spec = open_study(sqlite_url(tmp_path), "same", spec)
    (trial,) = Sweep(study, spec, small_letters, workers=1).run()
    alone = TrainingRun(
        TrainConfig(engine="numpy", epochs=3, batch_size=16, lr=0.004, seed=3).validate(), small_letters
    )
    last = alone.run()
    assert trial.val_acc == alone.history.val_acc[-1] and trial.test_acc == last.test_acc


def test_pruning_stops_a_poor_trial_early(tmp_path, small_letters):
    spec = spec_for(
        small_letters,
        ["lr=0.01,0.009,0.0000001"],
        base={"epochs": 30, "batch_size": 1, "optim": "sgd", "momentum": 0.9},
        prune="median",
    )
    study, spec = open_study(sqlite_url(tmp_path), "prune", spec)
    store = RunStore(tmp_path / "runs.db")
    trials = Sweep(study, spec, small_letters, workers=1, store=store).run()  # one worker: grid order
    states = {t.params["lr"]: t.state for t in trials}
    assert states == {0.01: "complete", 0.009: "complete", 0.0000001: "pruned"}
    poor = next(r for r in store.runs(sweep="prune") if r.config["lr"] == 0.0000001)
    assert poor.epochs_done < 20 and len(store.epochs(poor.id)) < 20 and poor.status == "stopped"
    good = next(r for r in store.runs(sweep="prune") if r.config["lr"] == 0.01)
    assert good.epochs_done == 30
    row = next(r for r in results(study, spec) if r.params["lr"] == 0.0000001)
    assert row.pruned == 1 and not row.val


def test_random_search_runs_each_sampled_configuration_with_every_seed(tmp_path, small_letters):
    spec = spec_for(small_letters, ["lr=1e-4..1e-1:log", "act=relu,tanh"], seeds=(0, 1), search="random", trials=3)
    study, spec = open_study(sqlite_url(tmp_path), "random", spec)
    trials = Sweep(study, spec, small_letters, workers=2).run()
    assert len(trials) == 6
    rows = results(study, spec)
    assert len(rows) == 3 and all(len(r.val) == 2 for r in rows)
    assert all(1e-4 <= r.params["lr"] <= 1e-1 and r.params["act"] in ("relu", "tanh") for r in rows)
    imp = importances(study)
    assert set(imp) <= {"lr", "act"} and (not imp or abs(sum(imp.values()) - 1) < 1e-6)


def test_cancel_stops_running_trials_and_keeps_finished_ones(tmp_path, small_letters):
    spec = spec_for(small_letters, ["lr=0.001,0.002,0.003,0.004"], base={"epochs": 200, "batch_size": 4})
    study, spec = open_study(sqlite_url(tmp_path), "cancel", spec)
    sweep = None

    def on_event(kind, payload):
        if kind == "event" and getattr(payload[1], "global_step", 0) == 20:
            sweep.cancel()

    sweep = Sweep(study, spec, small_letters, workers=2, on_event=on_event)
    t = time.perf_counter()
    trials = sweep.run()
    assert time.perf_counter() - t < 30
    assert len(trials) <= 2 and all(t.state == "cancelled" for t in trials)


def test_cancel_does_not_wait_for_a_worker_asking_the_study(tmp_path, small_letters):
    """Cancel is clicked on the GUI thread: it must not queue behind a worker that holds the study
    (asking it for the next trial reads every trial: ~100 ms for a 600-trial grid, a stalled window)."""
    import threading

    spec = spec_for(small_letters, ["lr=0.001,0.002"])
    study, spec = open_study(sqlite_url(tmp_path), "quick-cancel", spec)
    sweep = Sweep(study, spec, small_letters, workers=1)

    class Run:
        stopped = threading.Event()

        def stop(self):
            self.stopped.set()

    run = Run()
    sweep._runs[0] = run
    with sweep._lock:  # a worker in the middle of study.ask()
        done = threading.Event()
        threading.Thread(target=lambda: (sweep.cancel(), done.set()), daemon=True).start()
        assert done.wait(10)  # returned while the study's lock is still held
    assert sweep.cancelled and run.stopped.is_set()


def test_a_trial_sampled_after_the_grid_ran_out_is_surplus(tmp_path, small_letters):
    """Two machines race for the last waiting trial: the loser's ask() makes Optuna sample a fresh
    trial. It must not run, nor enter the table (a CI run once saw a configuration counted thrice)."""
    spec = spec_for(small_letters, ["lr=0.001,0.01"])
    study, spec = open_study(sqlite_url(tmp_path), "race", spec)
    sweep = Sweep(study, spec, small_letters, workers=1)
    taken = [study.ask(spec.distributions()) for _ in range(2)]  # another machine took both waiting trials
    assert all(sweep._claim(t) is not None for t in taken)
    fresh = study.ask(spec.distributions())  # what our ask() gets when it comes second
    assert sweep._claim(fresh) is None
    assert fresh.number not in {t.number for t in study.get_trials() if t.state.name != "FAIL"}
    for t, v in zip(taken, (0.5, 0.6)):
        t.set_user_attr("state", "complete")
        study.tell(t, v)
    rows = results(study, spec)
    assert sorted(len(r.val) for r in rows) == [1, 1] and sum(r.failed for r in rows) == 0


def test_random_search_does_not_sample_beyond_its_budget(tmp_path, small_letters):
    spec = spec_for(small_letters, ["lr=1e-4..1e-1:log"], seeds=(0,), search="random", trials=1)
    study, spec = open_study(sqlite_url(tmp_path), "budget", spec)
    sweep = Sweep(study, spec, small_letters, workers=1)
    first, second = study.ask(spec.distributions()), study.ask(spec.distributions())  # asked at once
    assert sweep._claim(first) == 0 and sweep._claim(second) is None


def test_a_study_name_cannot_be_created_twice(tmp_path, small_letters):
    spec = spec_for(small_letters, ["lr=0.001"])
    open_study(sqlite_url(tmp_path), "twice", spec)
    with pytest.raises(UserError, match="--study twice: already exists"):
        open_study(sqlite_url(tmp_path), "twice", spec)


def test_an_unreachable_storage_is_one_line_naming_it():
    t = time.perf_counter()
    with pytest.raises(UserError) as err:
        open_study("postgresql+psycopg://someone:secret@127.0.0.1:1/nowhere", "x")
    msg = str(err.value)
    assert msg.startswith("--storage postgresql+psycopg://someone@127.0.0.1:1/nowhere: cannot use it")
    assert "\n" not in msg and "secret" not in msg
    assert time.perf_counter() - t < 30


def test_the_cli_refuses_a_bad_grid_before_anything_runs(tmp_path):
    db = tmp_path / "runs.db"
    for grid, expect in (("lr=-1", "lr=-1"), ("optim=nadam", "unknown 'nadam'")):
        out = subprocess.run(
            [sys.executable, "main.py", "sweep", "--grid", grid, "--runs-db", str(db)]
            + ["--storage", sqlite_url(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 2
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --grid") and expect in lines[0]
    assert not (tmp_path / "sweeps.db").exists() and not db.exists()  # nothing was created


# -- the table -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def finished(tmp_path_factory, small_letters):
    tmp = tmp_path_factory.mktemp("table")
    spec = spec_for(small_letters, ["weight_decay=0.05,0.15", "act=relu,tanh"], seeds=(0, 1))
    study, spec = open_study(sqlite_url(tmp), "table", spec)
    Sweep(study, spec, small_letters, workers=2).run()
    return study, spec


def test_csv_parses_back(finished):
    study, spec = finished
    rows = list(csv.DictReader(io.StringIO(format_table(results(study, spec), spec, "csv"))))
    assert len(rows) == 4
    assert {r["weight_decay"] for r in rows} == {"0.05", "0.15"} and {r["act"] for r in rows} == {"relu", "tanh"}
    assert all(0 <= float(r["val_acc_mean"]) <= 1 and r["runs"] == "2" for r in rows)
    assert all(float(r["val_acc_ci_low"]) <= float(r["val_acc_mean"]) <= float(r["val_acc_ci_high"]) for r in rows)
    assert [r["best"] for r in rows].count("yes") == sum(r.best for r in results(study, spec)) <= 1


def test_markdown_is_a_table(finished):
    study, spec = finished
    rows = results(study, spec)
    text = format_table(rows, spec, "markdown").strip()
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(lines) == 2 + 4
    assert all(line.endswith("|") and line.count("|") == 6 for line in lines)
    assert set(lines[1]) <= set("|-")
    assert "epoch-3 validation accuracy (%, ± sample std)" in lines[0]
    if any(r.best for r in rows):
        assert sum("★" in line for line in lines) == 1
    else:  # the top two overlap: said, with the seeds that would separate them
        assert sum("★" in line for line in lines) == 0 and "no clear best" in text.splitlines()[-1]


def test_the_plain_table_lines_up_in_chinese_and_says_its_spread(finished, monkeypatch):
    """Chinese headings are two columns wide a character: padding by len() misaligned the plain
    table, and the "± sample std" was not put into the full-width "（%" heading."""
    from engine.tabular import display_width

    study, spec = finished
    rows = results(study, spec)
    monkeypatch.setenv("BACKPROP_STUDIO_LANG", "zh_CN")
    lines = [line.removesuffix("  ← best") for line in format_table(rows, spec, "plain").splitlines()]
    head, body = lines[0], lines[1 : 1 + len(rows)]
    assert "（%，± 样本标准差）" in head and "测试集准确率" in head and head.rstrip().endswith("运行次数")
    starts = {display_width(line.rstrip().rsplit("  ", 1)[0]) for line in [head, *body]}
    assert len(starts) == 1  # the last column starts at one place on every line
    monkeypatch.setenv("BACKPROP_STUDIO_LANG", "en")
    assert "validation accuracy (%, ± sample std)" in format_table(rows, spec, "plain").splitlines()[0]


def test_latex_is_a_tabular(finished):
    study, spec = finished
    rows = results(study, spec)
    text = format_table(rows, spec, "latex")
    lines = text.strip().splitlines()
    assert r"\begin{tabular}{llrrr}" in lines and lines[-1] == r"\end{table}"
    assert [ln for ln in lines if ln in (r"\toprule", r"\midrule", r"\bottomrule")] == [
        r"\toprule",
        r"\midrule",
        r"\bottomrule",
    ]
    assert any(ln.startswith(r"\caption{") for ln in lines) and r"\label{tab:sweep}" in lines
    body = [line for line in lines if line.endswith(r"\\")]
    assert len(body) == 5 and all(line.count(" & ") == 4 for line in body)
    assert r"weight\_decay" in body[0] and r"$\pm$" in text and text.count(r"\textbf{") == 5 * sum(r.best for r in rows)


# -- PostgreSQL: several machines share a sweep --------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL server (as the postgres user when we are root), stopped afterwards."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL's server is not installed (/usr/lib/postgresql/*/bin); .ci/run installs it")
    bindir = os.path.dirname(bins[-1])
    root = tempfile.mkdtemp(prefix="bps-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    subprocess.run(
        [*as_user, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    import psycopg

    def start():
        server = subprocess.Popen(
            [*as_user, f"{bindir}/postgres", "-D", data, "-p", str(port), "-k", root]
            + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while True:
            try:
                psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if time.time() > deadline or server.poll() is not None:
                    server.kill()
                    pytest.fail("the private PostgreSQL server did not start")
                time.sleep(0.2)
        PG["server"] = server

    def stop():
        server = PG.pop("server", None)
        if server is None:
            return
        server.terminate()  # a "smart" shutdown would wait for the clients: SIGTERM ends their sessions
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)

    PG.update(start=start, stop=stop)
    start()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        stop()
        shutil.rmtree(root, ignore_errors=True)


PG: dict = {}  # the private server's start() and stop(), for the test that takes it away mid-sweep


def test_a_sweep_waits_for_its_postgresql_server_to_come_back(postgres, small_letters):
    """The server stopped while a trial trains and started again seconds later: the sweep says
    it is waiting, retries, and finishes every trial — no traceback, nothing lost."""
    import threading

    spec = spec_for(small_letters, ["lr=0.001,0.002,0.004"], seeds=(0,))
    study, spec = open_study(postgres, "pg-outage", spec)
    notices, outage = [], threading.Event()

    def on_event(kind, payload):
        if kind == "storage":
            notices.append(payload)
        if kind == "trial" and payload.state == "complete" and not outage.is_set():
            outage.set()  # after the first trial: the server goes away, and comes back 4 s later
            PG["stop"]()
            threading.Timer(4.0, PG["start"]).start()

    sweep = Sweep(study, spec, small_letters, workers=1, on_event=on_event)
    trials = sweep.run()
    assert outage.is_set() and notices and "unreachable" in notices[0] and "retrying for up to 120 s" in notices[0]
    assert not sweep.storage_error and [t.state for t in trials] == ["complete"] * 3
    assert all(len(r.val) == 1 for r in results(study, spec))


def test_a_sweep_whose_storage_stays_away_stops_with_one_line(postgres, small_letters):
    spec = spec_for(small_letters, ["lr=0.001,0.002"], seeds=(0,))
    study, spec = open_study(postgres, "pg-gone", spec)

    def on_event(kind, payload):
        if kind == "trial" and payload.state == "complete" and "server" in PG:
            PG["stop"]()

    sweep = Sweep(study, spec, small_letters, workers=1, on_event=on_event)
    sweep.patience = 3.0
    try:
        sweep.run()
    finally:
        PG["start"]()
    assert sweep.storage_error.startswith("the sweep's storage stayed unreachable for 3 s")
    assert "sweep-worker --study NAME" in sweep.storage_error and "\n" not in sweep.storage_error


def test_a_two_worker_sweep_on_postgresql(postgres, small_letters):
    spec = spec_for(small_letters, ["lr=0.001,0.01"], seeds=(0, 1))
    study, spec = open_study(postgres, "pg-local", spec)
    store = RunStore(postgres)  # the run store can live in the same database
    trials = Sweep(study, spec, small_letters, workers=2, store=store).run()
    assert len(trials) == 4 and all(t.state == "complete" for t in trials)
    assert len(store.runs(sweep="pg-local")) == 4
    assert all(store.health(r.id) for r in store.runs(sweep="pg-local"))  # the health table on PostgreSQL too
    assert all(len(r.val) == 2 for r in results(study, spec))


def test_sweep_workers_on_two_machines_share_one_study(postgres, tmp_path):
    """Two sweep-worker processes (as on two machines) pull the trials of one study until it is done."""
    data = tmp_path / "letters"
    from tests.conftest import write_course_layout

    write_course_layout(data, (26, 8, 8))
    from engine.data.layouts import open_dataset

    ds = open_dataset(str(data))
    spec = spec_for(ds, ["lr=0.001,0.003,0.01"], seeds=(0, 1), base={"epochs": 4, "batch_size": 4})
    study, spec = open_study(postgres, "pg-shared", spec)
    cmd = [sys.executable, "main.py", "sweep-worker", "--storage", postgres, "--study", "pg-shared"]
    cmd += ["--workers", "1", "--runs-db", postgres, "--format", "csv"]
    procs = [
        subprocess.Popen(
            cmd + ["--data", str(data)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    study, spec = open_study(postgres, "pg-shared")
    rows = results(study, spec)
    assert len(rows) == 3 and all(len(r.val) == 2 for r in rows)
    runs = RunStore(postgres).runs(sweep="pg-shared")
    assert len(runs) == 6 and len({r.pid for r in runs}) == 2  # both workers ran trials
    # a worker whose data differs from the study's is refused in one line
    other = tmp_path / "other"
    write_course_layout(other, (26, 8, 8), seed=5)
    bad = subprocess.run(cmd + ["--data", str(other)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "content fingerprint" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_the_table_shows_mean_and_std_over_seeds(small_letters):
    from engine.runs.sweep import Row

    spec = spec_for(small_letters, ["lr=0.001,0.01"], seeds=(0, 1, 2))
    rows = [Row({"lr": 0.001}, [0.70, 0.71, 0.90], [0.5, 0.6, 0.7], best=True), Row({"lr": 0.01}, [0.4], [0.3])]
    md = format_table(rows, spec, "markdown")
    # the sample std (n − 1): 0.1127 and 0.1, not the population's 0.0920 and 0.0816
    assert "**77.0 ± 11.3**" in md and "**60.0 ± 10.0**" in md and "| 0.01 | 40.0 | 30.0 | 1 |" in md
    parsed = list(csv.DictReader(io.StringIO(format_table(rows, spec, "csv"))))
    assert float(parsed[0]["val_acc_mean"]) == pytest.approx(0.77) and float(parsed[0]["val_acc_std"]) == pytest.approx(
        0.1127, abs=1e-4
    )
    # the 95 % t interval: 0.77 ± 4.303 · 0.1127 / √3
    assert float(parsed[0]["val_acc_ci_high"]) == pytest.approx(0.77 + 4.303 * 0.11269 / 3**0.5, abs=1e-3)
    assert "± 28.0" in format_table(rows, spec, "markdown", ci=True)


def test_a_sweep_without_a_validation_split_is_scored_on_test_as_the_mnist_course_reports(tmp_path, small_letters):
    """The MNIST course trains on all its data: every trial was reported failed and the table was
    empty. Now each is scored by its last epoch's test accuracy, said in the heading; the
    per-epoch table is the course's format; two trials finishing together never share a place."""
    from engine.data.dataset import Split
    from engine.runs.sweep import per_epoch_table

    no_val = dataclasses.replace(small_letters, val=Split(small_letters.val.x[:0], small_letters.val.y[:0]))
    spec = spec_for(no_val, ["lr=0.001,0.01,0.05"], seeds=(0, 1), base={"val_split": 0.0, "epochs": 2})
    study, spec = open_study(sqlite_url(tmp_path), "noval", spec)
    sweep = Sweep(study, spec, no_val, workers=2)
    trials = sweep.run()
    assert all(t.state == "complete" and t.test_acc is not None for t in trials)
    assert sorted(t.finished_as for t in trials) == list(range(1, 7))
    rows = results(study, spec)
    assert all(len(r.val) == 2 and r.scored_on == "test" and len(r.curves) == 2 for r in rows)
    assert all(len(c) == 2 for r in rows for c in r.curves)  # the test accuracy after each epoch
    for r in rows:
        assert sorted(r.val) == pytest.approx(sorted(c[-1] for c in r.curves), abs=1e-6)  # the last epoch's
    table = format_table(rows, spec, "markdown")
    head = table.splitlines()[0]
    assert "epoch-2 test accuracy (%, ± sample std, no validation split)" in head and head.count("test accuracy") == 1
    lines = per_epoch_table(rows, spec).splitlines()
    assert lines[0] == "lr 0.001 (test accuracy, 2 seed(s)):" and lines[1].startswith("[0] Accuracy: 0.")
    assert " ± " in lines[1] and lines[2].startswith("[1] Accuracy: ")


def test_the_heading_names_each_rows_own_epochs_when_epochs_are_swept(tmp_path, small_letters):
    spec = spec_for(small_letters, ["epochs=1,2"])
    study, spec = open_study(sqlite_url(tmp_path), "epochs", spec)
    Sweep(study, spec, small_letters, workers=2).run()
    head = format_table(results(study, spec), spec, "markdown").splitlines()[0]
    assert "last-epoch validation accuracy" in head and "epoch-2" not in head


@pytest.mark.parametrize(
    "args, expect",
    [
        (["--seeds", "0..100000000"], "100,000,001 seeds is more than 10,000 (--max-trials raises it)"),
        (["--grid", "lr=,,,"], "--grid lr=,,,: no values"),
        (["--grid", "momentum=0..0.9:1000", "--seeds", "0..99"], "1,000 configurations × 100 seeds = 100,000 trials"),
    ],
)
def test_a_sweep_too_big_or_empty_is_refused_before_anything_is_queued(tmp_path, args, expect):
    from tests.engine.test_paths import run_cli

    db = tmp_path / "runs.db"
    code, out, err = run_cli("sweep", *args, "--runs-db", db, "--storage", sqlite_url(tmp_path))
    assert code == 2 and err.count("\n") == 1 and expect in err
    assert not (tmp_path / "sweeps.db").exists() and not db.exists()


def test_more_workers_than_cores_is_capped_and_said(tmp_path, monkeypatch):
    from tests.engine.test_paths import run_cli

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    code, out, err = run_cli(
        "sweep", "--workers", "8", "--grid", "lr=0.01", "--epochs", "1", "--engine", "numpy", "--no-record",
        "--storage", sqlite_url(tmp_path),
    )  # fmt: skip
    assert code == 0 and "--workers 8 on 2 cores: using 2" in err and "on 2 worker(s)" in err


def test_a_trial_left_running_by_a_killed_sweep_is_redone_when_the_sweep_is_joined(tmp_path, small_letters):
    """The trial a killed process was running: joining the study marks it interrupted and runs it
    again with its parameters and seed, so every configuration gets all its seeds."""
    from optuna.trial import TrialState

    spec = spec_for(small_letters, ["lr=0.001,0.01"], seeds=(0,))
    study, spec = open_study(sqlite_url(tmp_path), "killed", spec)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process of this machine that is no longer there
    stale = study.ask(spec.distributions())  # what the killed sweep had claimed: the first waiting trial
    stale.set_user_attr("owner", f"{socket.gethostname()}:{gone.pid}")
    sweep = Sweep(study, spec, small_letters, workers=1)
    sweep.run()
    assert sweep.redone == [stale.number]
    trials = study.get_trials(deepcopy=False)
    old = next(t for t in trials if t.number == stale.number)
    assert old.state == TrialState.FAIL and old.user_attrs["interrupted"]
    redo = next(t for t in trials if t.user_attrs.get("redo_of") == stale.number)
    assert redo.state == TrialState.COMPLETE and redo.params == old.params and redo.user_attrs["seed"] == 0
    rows = results(study, spec)
    assert [len(r.val) for r in rows] == [1, 1] and not any(r.failed for r in rows)  # not one seed short
    # a trial a live process runs (this one) is left alone
    alive = study.ask(spec.distributions())
    alive.set_user_attr("owner", f"{socket.gethostname()}:{os.getppid()}")
    again = Sweep(study, spec, small_letters, workers=1)
    again.run()
    assert again.redone == [] and study.get_trials(deepcopy=False)[alive.number].state == TrialState.RUNNING
