"""``main.py runs``: list, show, compare and export the recorded runs, with filters."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from engine.config import TrainConfig
from engine.runs.store import RunStore
from tests.engine.test_paths import run_cli
from tests.engine.test_runs import record


@pytest.fixture(scope="module")
def store_path(tmp_path_factory, small_letters):
    path = tmp_path_factory.mktemp("runs") / "runs.db"
    store = RunStore(path)
    for wd, seed in ((0.05, 0), (0.15, 0), (0.15, 1)):
        record(store, small_letters, TrainConfig(epochs=2, batch_size=16, engine="numpy", weight_decay=wd, seed=seed))
    store.edit(1, tags=["baseline"])
    store.close()
    return path


def test_list_and_filters(store_path):
    code, out, err = run_cli("runs", "list", "--runs-db", store_path)
    assert code == 0 and len(out.strip().splitlines()) == 1 + 3, err
    code, out, _ = run_cli("runs", "list", "--where", "wd>0.1", "--format", "csv", "--runs-db", store_path)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["id"] for r in rows} == {"2", "3"} and {r["weight decay"] for r in rows} == {"0.15"}
    code, out, _ = run_cli("runs", "list", "--tag", "baseline", "--format", "json", "--runs-db", store_path)
    assert [r["id"] for r in json.loads(out)] == [1]
    code, out, _ = run_cli("runs", "list", "--where", "seed=1", "--where", "wd>=0.15", "--runs-db", store_path)
    assert len(out.strip().splitlines()) == 2


def test_show_compare_and_export(store_path, tmp_path):
    code, out, err = run_cli("runs", "show", "2", "--runs-db", store_path)
    assert code == 0 and out.startswith("#2 ") and "  weight_decay = 0.15" in out, err
    code, out, err = run_cli("runs", "show", "2", "--format", "json", "--runs-db", store_path)
    shown = json.loads(out)
    assert code == 0 and shown["id"] == 2 and shown["config"]["weight_decay"] == 0.15, err
    code, out, _ = run_cli("runs", "compare", "1", "2", "3", "--runs-db", store_path)
    lines = out.splitlines()
    assert any(ln.startswith("weight_decay") and "0.05" in ln and "0.15" in ln for ln in lines)
    assert any(ln.startswith("seed") for ln in lines) and not any(ln.startswith("lr ") for ln in lines)
    code, out, _ = run_cli("runs", "export", "--format", "latex", "--runs-db", store_path, "--out", tmp_path / "r.tex")
    tex = (tmp_path / "r.tex").read_text(encoding="utf-8")
    assert r"\toprule" in tex and r"\caption{Runs}" in tex and tex.count(r"\\") >= 4
    code, out, _ = run_cli("runs", "export", "--curves", "--runs-db", store_path)
    long = list(csv.DictReader(io.StringIO(out)))
    assert {r["metric"] for r in long} == {"train_loss", "train_acc", "val_loss", "val_acc"}
    assert len(long) == 3 * 2 * 4 and all(float(r["value"]) >= 0 for r in long)


def test_bad_filters_and_ids_are_one_line(store_path):
    code, out, err = run_cli("runs", "list", "--where", "wd~0.1", "--runs-db", store_path)
    assert code == 2 and err.count("\n") == 1 and "--where 'wd~0.1'" in err
    code, out, err = run_cli("runs", "show", "99", "--runs-db", store_path)
    assert code == 2 and "run 99: not in" in err
    code, out, err = run_cli("runs", "compare", "1", "--runs-db", store_path)
    assert code == 2 and "two or more" in err


def test_a_store_that_cannot_keep_checkpoints_never_costs_the_model_asked_for(tmp_path, monkeypatch):
    """A full disk where the store keeps its checkpoints: train --out wrote nothing and exited 2.
    The model asked for is written first; the failed store copy is a warning; the run is recorded
    as finished with the reason."""
    blocker = tmp_path / "not a folder"
    blocker.write_text("x")
    monkeypatch.setattr(RunStore, "checkpoint_path", lambda self, run_id, kind: blocker / f"run-{run_id}-{kind}.pt")
    out = tmp_path / "m.pt"
    code, stdout, err = run_cli(
        "train", "--epochs", "1", "--hsize", "8", "--engine", "numpy", "--out", out, "--runs-db", tmp_path / "r.db"
    )
    assert code == 0 and out.is_file() and f"saved={out}" in stdout, err
    assert "warning: the run store's copy of the model was not saved" in err
    run = RunStore(tmp_path / "r.db").runs()[0]
    assert run.status == "finished" and "checkpoint not saved" in run.message and not run.final_checkpoint


def test_prune_deletes_old_untagged_checkpoints_and_keeps_everything_else(tmp_path, small_letters):
    path = tmp_path / "runs.db"
    store = RunStore(path)
    for seed in range(4):
        record(store, small_letters, TrainConfig(epochs=1, batch_size=32, engine="numpy", seed=seed))
    store.edit(1, tags=["report"])  # the oldest, tagged: never pruned
    files = {r.id: r.final_checkpoint for r in store.runs()}
    store.close()
    assert all(files.values())
    code, out, err = run_cli("runs", "prune", "--keep", "2", "--dry-run", "--runs-db", path)
    assert code == 0 and "would delete" in err and "of 1 run(s)" in err and files[2] in out
    assert all(p and os.path.exists(p) for p in files.values())  # a dry run deletes nothing
    code, out, err = run_cli("runs", "prune", "--keep", "2", "--runs-db", path)
    assert code == 0 and err.startswith("deleted") and "kept: the 2 most recent runs and every tagged run" in err
    store = RunStore(path)
    rows = {r.id: r for r in store.runs()}
    assert {i for i, p in files.items() if os.path.exists(p)} == {1, 3, 4}
    assert rows[2].final_checkpoint == "" and rows[2].best_checkpoint == ""
    assert rows[2].test_acc is not None and store.epochs(2)  # the run itself is kept
    code, _, err = run_cli("runs", "prune", "--keep", "-1", "--runs-db", path)
    assert code == 2 and "--keep: -1 must be 0 or more" in err


def test_import_a_course_log_and_a_csv_as_runs(tmp_path):
    """The MNIST course's printed log (test accuracy after each epoch) and a CSV of per-epoch
    metrics become runs that list, export and compare with the studio's own."""
    log = tmp_path / "exp2.log"
    log.write_text("loading MNIST…\n[0] Accuracy: 0.9485\n[1] Accuracy: 0.9621\nsaved\n[2] Accuracy: 97.10%\n")
    db = tmp_path / "runs.db"
    code, _, err = run_cli(
        "runs", "import", "--from", log, "--name", "course b128", "--set", "lr=0.1", "--set", "optim=sgd",
        "--dataset", "mnist", "--runs-db", db,
    )  # fmt: skip
    assert code == 0 and "as run #1 (3 epoch(s))" in err, err
    table = tmp_path / "letters.csv"
    table.write_text("Epoch,Loss,Train Accuracy,Validation Accuracy,test_acc\n1,2.5,40%,0.35,\n2,1.1,0.75,0.70,0.71\n")
    code, _, err = run_cli("runs", "import", "--from", table, "--runs-db", db)
    assert code == 0, err
    store = RunStore(db)
    log_run, csv_run = store.run(1), store.run(2)
    assert (log_run.name, log_run.source, log_run.dataset_name, log_run.status) == (
        "course b128",
        "import",
        "mnist",
        "finished",
    )
    assert log_run.config == {"val_split": 0.0, "lr": 0.1, "optim": "sgd"}  # the evaluated split is test
    assert [e.val_acc for e in store.epochs(1)] == pytest.approx([0.9485, 0.9621, 0.971])
    assert log_run.test_acc == pytest.approx(0.971) and log_run.best_epoch == 3
    got = [v for e in store.epochs(2) for v in (e.train_loss, e.train_acc, e.val_acc)]
    assert got == pytest.approx([2.5, 0.40, 0.35, 1.1, 0.75, 0.70])
    assert csv_run.name == "letters" and csv_run.test_acc == pytest.approx(0.71) and csv_run.best_val_acc == 0.70
    code, out, _ = run_cli("runs", "list", "--runs-db", db, "--format", "csv")
    assert "nan" not in out and "course b128" in out
    empty = tmp_path / "notes.txt"
    empty.write_text("nothing here\n")
    code, _, err = run_cli("runs", "import", "--from", empty, "--runs-db", db)
    assert code == 2 and "notes.txt: no epochs found" in err and len(err.strip().splitlines()) == 1


def test_a_checkpoint_cap_keeps_the_store_to_the_last_n_runs_after_every_run(tmp_path, small_letters):
    path = tmp_path / "runs.db"
    store = RunStore(path)
    config = TrainConfig(epochs=1, batch_size=32, engine="numpy")
    record(store, small_letters, config)
    store.close()
    code, _, err = run_cli("runs", "prune", "--keep", "2", "--always", "--runs-db", path)
    assert code == 0 and "checkpoint cap: after every run, only the 2 most recent runs" in err
    store = RunStore(path)
    assert store.checkpoint_cap() == 2
    for seed in (1, 2, 3):
        record(store, small_letters, TrainConfig(epochs=1, batch_size=32, engine="numpy", seed=seed))
    rows = {r.id: r for r in store.runs()}
    kept = {i for i, r in rows.items() if r.final_checkpoint and os.path.exists(r.final_checkpoint)}
    assert kept == {3, 4}  # each new run pruned the older ones by itself
    assert len(list(store.checkpoints.glob("*.pt"))) == sum(
        len({r.final_checkpoint, r.best_checkpoint} - {""}) for r in rows.values()
    )  # no file left that a row does not name
    store.close()
    code, _, err = run_cli("runs", "prune", "--no-cap", "--runs-db", path)
    assert code == 0 and "no checkpoint cap" in err
    store = RunStore(path)
    assert store.checkpoint_cap() is None
    record(store, small_letters, TrainConfig(epochs=1, batch_size=32, engine="numpy", seed=4))
    assert sum(bool(r.final_checkpoint) for r in store.runs()) == 3  # no cap: the new run pruned nothing
