"""The run store: recording, concurrency, interruption, migrations, editing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.checkpoint import Model, dataset_record, load_checkpoint
from engine.config import TrainConfig
from engine.runs.record import Recording, RunRecorder
from engine.runs.store import MAX_STEP_POINTS, RunStore, StoreError, downsample
from engine.training.launch import RunPlan, start_run
from engine.training.run import FinishedEvent, TrainingRun
from tests.conftest import ROOT


def record(store, ds, config, **kw):
    """A run of ``config`` recorded the way every consumer records one (start_run → Recording)."""
    run = start_run(RunPlan(config, ds))
    with Recording(run, store, source="test", **kw) as rec:
        last = list(rec.events())[-1]
    assert not rec.error and rec.last is last
    return rec.run_id, run, last


def test_a_run_is_recorded_with_everything_a_report_needs(tmp_path, small_letters):
    store = RunStore(tmp_path / "runs.db")
    config = TrainConfig(epochs=3, batch_size=4, engine="numpy", seed=2).validate()
    run_id, run, last = record(store, small_letters, config)
    row = store.run(run_id)
    assert row.status == "finished" and row.source == "test"
    assert row.name == "adamw lr 0.002 wd 0.15 · 64 relu · 3 ep · numpy"
    assert row.config == config.to_dict()  # every effective hyperparameter
    assert row.dataset_name == small_letters.name and row.split_seed == small_letters.split_seed
    assert {"torch", "numpy", "python", "backprop-studio"} <= set(row.versions)
    assert row.epochs_done == 3 and row.ended >= row.started
    assert row.test_acc == pytest.approx(last.test_acc) and row.test_acc_at_best == pytest.approx(last.best_test_acc)
    assert row.best_epoch == last.best_epoch and row.best_val_acc == pytest.approx(max(run.history.val_acc))
    epochs = store.epochs(run_id)
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert [e.train_loss for e in epochs] == pytest.approx(run.history.train_loss)
    assert [e.val_acc for e in epochs] == pytest.approx(run.history.val_acc)
    steps = store.steps(run_id)
    assert len(steps) == len(run.history.step_loss)  # 3 × 78 steps: no downsampling needed
    # the checkpoints beside the database open, the best one with the best epoch's weights
    final = load_checkpoint(row.final_checkpoint)
    best = load_checkpoint(row.best_checkpoint)
    assert final.history.epochs_completed == 3
    assert os.path.dirname(row.best_checkpoint) == str(tmp_path / "checkpoints")
    if last.best_epoch != 3:
        assert any((a != b).any() for a, b in zip(final.network.weights(), best.network.weights()))


def test_layer_health_is_recorded_per_layer_and_read_back_as_the_run_made_it(tmp_path, small_letters, monkeypatch):
    from engine.training import health

    monkeypatch.setattr(health, "BUDGET", 1.0)  # collect often whatever the machine's speed (every 10 steps)
    store = RunStore(tmp_path / "runs.db")
    config = TrainConfig(epochs=2, batch_size=4, engine="numpy", seed=2).validate()
    run_id, run, _ = record(store, small_letters, config)
    made = run.history.health
    got = store.health(run_id)
    assert len(got) == len(made) >= 2
    for a, b in zip(got, made):
        assert (a["global_step"], a["epoch"], a["warnings"]) == (
            b["global_step"],
            pytest.approx(b["epoch"]),
            b["warnings"],
        )
        assert (
            [lay["name"] for lay in a["layers"]]
            == [lay["name"] for lay in b["layers"]]
            == ["layer 1", "layer 2 (output)"]
        )
        for la, lb in zip(a["layers"], b["layers"]):
            for k in ("grad_norm", "update_ratio", "act_std", "dead", "saturated", "w_pct", "g_pct"):
                assert la[k] == pytest.approx(lb[k]), k
            assert ("w_hist" in la) == ("w_hist" in lb)  # histograms where the run took them
    with sqlite3.connect(tmp_path / "runs.db") as db:  # a table a report can query
        n = db.execute("SELECT COUNT(*) FROM health WHERE run_id = ? AND layer = 0", (run_id,)).fetchone()[0]
        worst = db.execute("SELECT MAX(grad_norm) FROM health WHERE run_id = ?", (run_id,)).fetchone()[0]
    assert n == len(made) and worst == pytest.approx(max(lay["grad_norm"] for r in made for lay in r["layers"]))


def test_warnings_are_kept_with_the_layer_they_name(tmp_path):
    from engine.runs.store import health_rows

    rec = {
        "global_step": 7,
        "epoch": 0.5,
        "layers": [
            {"name": "layer 1", "grad_norm": 1e-9, "dead": 0.9, "w_pct": [0.0]},
            {"name": "layer 10", "grad_norm": float("inf"), "dead": None},
            {"name": "layer 11 (output)", "grad_norm": 0.5, "dead": None},
        ],
        "warnings": ["layer 1: gradients vanish", "layer 10: gradients explode", "layer 1: 90% dead"],
    }
    rows = health_rows(3, [rec])
    assert [r["warnings"] for r in rows] == [
        "layer 1: gradients vanish\nlayer 1: 90% dead",
        "layer 10: gradients explode",
        "",
    ]
    assert rows[1]["grad_norm"] is None  # infinity as NULL
    store = RunStore(tmp_path / "runs.db")
    rid = store.start_run(name="x", config={}, dataset={}, source="test")
    store.write_progress(rid, [], health=[rec])
    back = store.health(rid)[0]
    assert sorted(back["warnings"]) == sorted(rec["warnings"])
    assert (
        back["layers"][1]["grad_norm"] == float("inf")
        or back["layers"][1]["grad_norm"] != back["layers"][1]["grad_norm"]
    )
    assert back["layers"][0]["w_pct"] == [0.0] and back["layers"][1]["dead"] is None


def test_a_store_of_the_first_schema_is_upgraded_with_its_runs(tmp_path):
    """r0001 (runs, epochs) → r0002 (health) → r0003 (store settings) by Alembic, the runs kept."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from engine.runs.store import MIGRATIONS, VERSION_TABLE

    path = tmp_path / "runs.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "r0001")
        conn.execute(sa.text("INSERT INTO runs (name, config, started, status) VALUES ('old', '{}', 1.0, 'finished')"))
    engine.dispose()
    with sqlite3.connect(path) as db:
        assert db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0] == "r0001"
        assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'health'").fetchall()
    store = RunStore(path)
    assert store.schema_revision() == "r0003"
    (row,) = store.runs()
    assert row.name == "old" and store.health(row.id) == [] and store.checkpoint_cap() is None


def test_the_step_loss_is_downsampled_to_at_most_2000_points():
    points = [(i, float(i % 10)) for i in range(1, 10001)]
    out = downsample(points)
    assert len(out) == MAX_STEP_POINTS
    assert out[0] == [3.0, 3.0]  # steps 1..5 (losses 1..5): their means
    assert sum(v for _, v in out) / len(out) == pytest.approx(sum(v for _, v in points) / len(points))
    assert downsample(points[:50]) == [[s, v] for s, v in points[:50]]


def test_statuses_stopped_diverged_failed(tmp_path, small_letters):
    store = RunStore(tmp_path / "runs.db")
    config = TrainConfig(epochs=50, batch_size=4, engine="numpy").validate()
    run = TrainingRun(config, small_letters)
    rec = RunRecorder(store, config, dataset_record(small_letters), name="s", source="test")
    for ev in run.events():
        rec.on_event(ev)
        if getattr(ev, "global_step", 0) == 5:
            run.stop()
        last = ev
    rec.finish(last)
    assert store.run(rec.run_id if rec.run_id else 1).status == "stopped"
    bad = TrainConfig(epochs=3, lr=100, optim="sgd", loss_reduction="sum", init="normal", engine="numpy").validate()
    run_id, _, last = record(store, small_letters, bad)
    assert store.run(run_id).status == "diverged" and "diverged" in store.run(run_id).message


def test_rename_tag_note_and_delete(tmp_path, small_letters):
    store = RunStore(tmp_path / "runs.db")
    run_id, _, _ = record(store, small_letters, TrainConfig(epochs=1, engine="numpy").validate())
    store.edit(run_id, name="baseline", tags=["course", "table 2"], note="wd as in the report")
    row = store.run(run_id)
    assert (row.name, row.tags, row.note) == ("baseline", ["course", "table 2"], "wd as in the report")
    with pytest.raises(ValueError):
        store.edit(run_id, status="finished")
    files = [row.final_checkpoint, row.best_checkpoint]
    assert all(os.path.exists(f) for f in files)
    assert store.delete([run_id]) == 1
    assert store.run(run_id) is None and store.epochs(run_id) == [] and store.health(run_id) == []
    assert not any(os.path.exists(f) for f in files)


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "runs.db"
    RunStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE runstore_version SET version_num = 'r9999'")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer Backprop Studio.*r9999.*not be recorded"):
        RunStore(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path):
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="runs.db: not a run store database"):
        RunStore(path)


def _store_with_runs(path, n: int = 40):
    from engine.runs.store import EpochRow

    store = RunStore(path)
    for r in range(n):
        rid = store.start_run(name=f"run {r}", config={"lr": r}, dataset={}, source="test")
        store.write_progress(rid, [EpochRow(e, 1.0 / e, 0.5, 1.0, 0.5) for e in range(1, 6)], epochs_done=5)
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_a_damaged_store_is_refused_before_anything_is_written_to_it(tmp_path):
    path = tmp_path / "runs.db"
    _store_with_runs(path)
    with open(path, "r+b") as fh:  # a b-tree page's header overwritten: SQLite's "malformed"
        fh.seek(4096 * 2)
        fh.write(b"\x0d\xff\xff\xff\xff\xff\xff\xff" * 4)
    before = path.read_bytes()
    with pytest.raises(
        StoreError, match=r"runs.db: the run store is damaged \(SQLite: Page 3: .*sqlite3 FILE .recover"
    ):
        RunStore(path)
    assert path.read_bytes() == before


def test_a_damaged_row_is_one_line_when_read_not_a_traceback(tmp_path):
    path = tmp_path / "runs.db"
    _store_with_runs(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"run 17")  # inside a run's name: the file's structure stays sound
    data[at + 4 : at + 6] = b"\xff\xfe"
    path.write_bytes(bytes(data))
    store = RunStore(path)
    with pytest.raises(StoreError, match="runs.db: cannot read the run store .*UTF-8.*it may be damaged"):
        store.runs()


def test_another_applications_database_is_left_exactly_as_it_was(tmp_path):
    path = tmp_path / "contacts.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        db.execute("INSERT INTO contacts VALUES ('Li Lei', '123')")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"contacts.db: another application's database \(tables contacts\)"):
        RunStore(path)
    assert path.read_bytes() == before  # no table created, still in rollback-journal mode
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_the_schema_is_versioned_by_migrations(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    assert store.schema_revision() == "r0003"
    with sqlite3.connect(tmp_path / "runs.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


WRITER = """
import sys, time
from engine.runs.store import RunStore, EpochRow
store = RunStore(sys.argv[1])
for r in range(int(sys.argv[2])):
    rid = store.start_run(name=f"{sys.argv[3]}-{r}", config={}, dataset={}, source="test")
    print(rid, flush=True)
    for e in range(1, int(sys.argv[4]) + 1):
        store.write_progress(rid, [EpochRow(e, 1.0 / e, 0.5, 1.0, 0.5)], epochs_done=e)
        time.sleep(float(sys.argv[5]))
    store.write_progress(rid, [], status="finished")
"""


def _writer(tmp_path, db, runs, tag, epochs, pause):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return subprocess.Popen(
        [sys.executable, str(script), str(db), str(runs), tag, str(epochs), str(pause)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_write_the_store_at_once(tmp_path):
    db = tmp_path / "runs.db"
    RunStore(db).close()
    procs = [_writer(tmp_path, db, 5, tag, 40, 0.0) for tag in ("a", "b")]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    store = RunStore(db)
    rows = store.runs()
    assert len(rows) == 10 and all(r.status == "finished" and r.epochs_done == 40 for r in rows)
    assert {r.name[0] for r in rows} == {"a", "b"}
    assert all(len(store.epochs(r.id)) == 40 for r in rows)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_writer_killed_mid_run_leaves_it_interrupted_and_the_database_intact(tmp_path):
    db = tmp_path / "runs.db"
    RunStore(db).close()
    p = _writer(tmp_path, db, 1, "k", 100000, 0.0)  # writes as fast as it can
    run_id = int(p.stdout.readline())
    time.sleep(0.5)
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    store = RunStore(db)  # opening reaps runs whose process is gone
    row = store.run(run_id)
    assert row.status == "interrupted" and row.epochs_done > 0
    assert len(store.epochs(run_id)) == row.epochs_done
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_running_process_own_runs_are_not_reaped(tmp_path, small_letters):
    store = RunStore(tmp_path / "runs.db")
    rid = store.start_run(name="live", config={}, dataset={}, source="test")
    RunStore(tmp_path / "runs.db")  # another open while this process still runs it
    assert store.run(rid).status == "running"


def train_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", "train", "--engine", "numpy", "--quiet", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_records_its_runs(tmp_path):
    db = tmp_path / "cli.db"
    out = train_cli("--epochs", "2", "--runs-db", str(db))
    assert out.returncode == 0, out.stderr
    rows = RunStore(db).runs()
    assert len(rows) == 1 and rows[0].status == "finished" and rows[0].source == "cli" and rows[0].epochs_done == 2
    assert train_cli("--epochs", "1", "--no-record").returncode == 0


def test_a_newer_store_does_not_stop_training(tmp_path):
    db = tmp_path / "runs.db"
    RunStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runstore_version SET version_num = 'r9999'")
    out = train_cli("--epochs", "1", "--runs-db", str(db))
    assert out.returncode == 0
    assert "warning:" in out.stderr and "newer Backprop Studio" in out.stderr and "Traceback" not in out.stderr


def test_recording_survives_a_finished_event(small_letters, tmp_path):
    # a FinishedEvent without a model: no checkpoint paths, the status still closes
    store = RunStore(tmp_path / "runs.db")
    rec = RunRecorder(store, TrainConfig(), dataset_record(small_letters), name="x", source="test")
    rec.finish(FinishedEvent(1, 0.1, 0.5, False, 1.0, epochs_completed=1, step=4, steps_per_epoch=4))
    row = store.runs()[0]
    assert row.status == "finished" and row.final_checkpoint == "" and row.test_acc == 0.5


def test_the_best_checkpoint_holds_the_best_weights_not_the_final_ones(tmp_path, small_letters):
    import numpy as np

    store = RunStore(tmp_path / "runs.db")
    config = TrainConfig(epochs=1, engine="numpy").validate()
    run = TrainingRun(config, small_letters)
    last = run.run()
    best = [np.full_like(w, 0.25) for w in run.network.weights()]  # plainly not the final weights
    rec = RunRecorder(store, config, dataset_record(small_letters), name="b", source="test")
    model = Model(run.network, small_letters.classes, small_letters.norm_size, config, run.history)
    rec.finish(last, model, best)
    row = store.runs()[0]
    for got, want in zip(load_checkpoint(row.best_checkpoint).network.weights(), best):
        np.testing.assert_array_equal(got, want)
    final = load_checkpoint(row.final_checkpoint).network.weights()
    for got, want in zip(final, run.network.weights()):
        np.testing.assert_array_equal(got, want)  # and the final model was left as it was


def test_a_run_of_your_functions_records_which_version_of_your_code_it_used(tmp_path, small_letters):
    """Each file's SHA-256 and a copy of it: after an edit, the earlier run still names (and
    keeps) the code it ran."""
    import hashlib
    import shutil

    ops = tmp_path / "ops.py"
    shutil.copy(ROOT / "tests" / "fixtures" / "userfn" / "mnist" / "ops.py", ops)
    store = RunStore(tmp_path / "runs.db")
    config = TrainConfig(epochs=1, batch_size=32, hidden=[8], engine="user", functions=[str(ops)])
    first_id, _, _ = record(store, small_letters, config)
    original = ops.read_bytes()
    ops.write_bytes(original + b"\n# tuned the backward\n")
    second_id, _, _ = record(store, small_letters, config)
    first, second = (store.run(i).versions["functions"][0] for i in (first_id, second_id))
    assert first["file"] == str(ops) and first["sha256"] == hashlib.sha256(original).hexdigest()
    assert second["sha256"] == hashlib.sha256(ops.read_bytes()).hexdigest() != first["sha256"]
    assert Path(first["copy"]).read_bytes() == original and Path(first["copy"]).parent == store.checkpoints / "code"
    plain, _, _ = record(store, small_letters, TrainConfig(epochs=1, batch_size=32, hidden=[8], engine="numpy"))
    assert "functions" not in store.run(plain).versions


@pytest.mark.parametrize("fails", ["start_run", "write_progress"])
def test_a_store_that_refuses_writes_is_one_line_said_once(tmp_path, monkeypatch, fails):
    import sqlalchemy as sa

    from tests.conftest import cli_in_process

    def refuse(self, *args, **kwargs):
        raise sa.exc.OperationalError(
            "INSERT INTO runs (name) VALUES (?)",
            ("x",),
            sqlite3.OperationalError("attempt to write a readonly database"),
        )

    monkeypatch.setattr(RunStore, fails, refuse)
    db = tmp_path / "runs.db"
    code, out, err = cli_in_process(
        "train", "--data", "builtin", "--epochs", "1", "--engine", "numpy", "--quiet", "--runs-db", db
    )
    assert code == 0 and "final: epochs=1" in out  # the run itself goes on
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    why = "the run is not recorded" if fails == "start_run" else "the run store stopped recording"
    assert warnings == [f"warning: {why}: attempt to write a readonly database ({db})"]
    assert "[SQL:" not in err and "sqlalche.me" not in err and "INSERT" not in err
