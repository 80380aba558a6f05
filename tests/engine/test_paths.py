"""Paths as students have them: spaces, Chinese folder names, Windows drive letters; every
command and the run store, and a CLI that says what it is."""

from __future__ import annotations

import sqlite3

import pytest
from PIL import Image

from engine import __version__
from engine.runs.store import RunStore, database_url, describe_target
from tests.conftest import cli_in_process as run_cli
from tests.conftest import write_course_layout


@pytest.fixture(scope="module")
def chinese_course(tmp_path_factory):
    root = tmp_path_factory.mktemp("home") / "数据 集" / "第二次 作业"
    return write_course_layout(root, (26, 6, 6))


def test_train_test_predict_and_the_store_with_spaces_and_chinese_names(chinese_course, tmp_path):
    folder = tmp_path / "我的 模型"
    folder.mkdir()
    ckpt = folder / "字母 模型.pt"
    store = folder / "运行 记录.db"
    code, out, err = run_cli(
        "train",
        "--data",
        chinese_course,
        "--hsize",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--engine",
        "numpy",
        "--out",
        ckpt,
        "--runs-db",
        store,
        "--quiet",
    )
    assert code == 0, err
    assert ckpt.is_file() and f"saved={ckpt}" in out
    code, out, err = run_cli("test", "--checkpoint", ckpt, "--data", chinese_course)
    assert code == 0 and out.strip().splitlines()[-1].startswith("accuracy="), err
    image = next((chinese_course / "images").iterdir())
    picture = folder / "一张 图片.png"
    Image.open(image).save(picture)
    code, out, err = run_cli("predict", "--checkpoint", ckpt, picture)
    assert code == 0 and out.split("\t")[0] == str(picture), err
    runs = RunStore(store).runs()
    assert len(runs) == 1 and runs[0].dataset_path.endswith("第二次 作业") and runs[0].final_checkpoint
    with sqlite3.connect(store) as conn:  # a real SQLite file at that very path
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_store_locations_with_drive_letters_and_spaces_become_sqlite_urls():
    assert database_url(r"C:\Users\张三\My Runs\runs.db") == "sqlite:///C:/Users/张三/My Runs/runs.db"
    assert database_url("/home/李四/my runs/runs.db") == "sqlite:////home/李四/my runs/runs.db"
    assert describe_target("postgresql+psycopg://ta:secret@db/course") == "postgresql+psycopg://ta@db/course"


def test_a_mistyped_store_folder_is_one_line_and_creates_nothing(tmp_path):
    from engine.runs.store import StoreError

    missing = tmp_path / "no such folder" / "runs.db"
    with pytest.raises(StoreError, match="no such folder"):
        RunStore(missing)
    assert not missing.parent.exists()


def test_version_and_help_name_the_command():
    code, out, err = run_cli("--version")
    assert code == 0 and out.strip().endswith(__version__)
    code, out, err = run_cli("test", "--help")
    assert code == 0
    for option in ("--checkpoint", "--split", "--data"):
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(option))
        assert len(line.split()) > 2 or option in line, line  # each option has words after it


def test_every_option_of_every_command_has_help():
    from engine.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = []
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.dest != "help" and not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_sweep_epochs_help_does_not_promise_resume():
    from engine.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    epochs = next(a for a in sub.choices["sweep"]._actions if a.dest == "epochs")
    assert "--resume" not in epochs.help
    engine = next(a for a in sub.choices["train"]._actions if a.dest == "engine")
    assert "user" in engine.help
