"""The CLI contract of DESIGN.md, run as a user runs it: in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PIL import Image

from tests.conftest import ROOT, write_course_layout
from tests.conftest import main_py as cli


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return write_course_layout(tmp_path_factory.mktemp("data") / "course", (40, 10, 10))


def test_train_test_predict(course, tmp_path):
    ckpt = tmp_path / "m.pt"
    r = cli(
        "train",
        "--data",
        course,
        "--hsize",
        "16",
        "--epochs",
        "3",
        "--batch-size",
        "4",
        "--engine",
        "numpy",
        "--out",
        ckpt,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [ln.split()[1] for ln in lines if ln.startswith("epoch ")] == ["1/3", "2/3", "3/3"]
    assert all("ETA" in ln for ln in lines if ln.startswith("epoch "))
    assert lines[-1].startswith("final: epochs=3 test_loss=") and f"saved={ckpt}" in lines[-1]
    r = cli("test", "--checkpoint", ckpt, "--data", course)
    assert r.returncode == 0, r.stderr
    acc = float(r.stdout.strip().splitlines()[-1].removeprefix("accuracy="))
    printed = float(lines[-1].split("test_acc=")[1].split()[0])
    assert acc == pytest.approx(printed, abs=5e-5)  # the same split, the same model, the same number
    img = course / "images" / "0001.png"
    r = cli("predict", "--checkpoint", ckpt, img, img)
    assert r.returncode == 0, r.stderr
    rows = [ln.split("\t") for ln in r.stdout.strip().splitlines()]
    assert len(rows) == 2 and rows[0][0] == str(img) and rows[0][1] in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert rows[0][1:] == rows[1][1:]  # the same image twice, the same answer
    from engine.checkpoint import load_checkpoint
    from engine.predict import classify_files

    expected = classify_files(load_checkpoint(ckpt), [img])[0]
    assert rows[0][1] == expected.label and float(rows[0][2]) == pytest.approx(expected.probability, abs=1e-4)


def test_course_flag_aliases(course, tmp_path):
    r = cli(
        "train",
        "--data",
        course,
        "--hsize",
        "8",
        "--layer",
        "3",
        "--optim_type",
        "sgd",
        "--weight_decay",
        "0",
        "--batchsize",
        "8",
        "--valInterval",
        "2",
        "--epochs",
        "2",
        "--act",
        "tanh",
        "--out",
        tmp_path / "a.pt",
    )
    assert r.returncode == 0, r.stderr
    assert "1024 → 8 → 8 → 26, tanh, sgd" in r.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--lr", "0"], "error: learning rate: 0.0 must be greater than 0"),
        (["train", "--hsize", "64,x"], "error: hidden sizes: 'x' is not a whole number"),
        (["train", "--data", "/no/such/dir"], "error: /no/such/dir: no such file or folder"),
        (["test", "--checkpoint", "/no/such.pt", "--data", "builtin"], "error: /no/such.pt: no such file"),
        (["train", "--optim", "lbfgs"], "error: optimizer: unknown 'lbfgs'"),
        (["frobnicate"], "error: argument command: invalid choice"),
    ],
)
def test_user_errors_are_one_line_with_status_2(args, message):
    r = cli(*args)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith(message), r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_predict_reports_unreadable_files_and_goes_on(course, tmp_path):
    ckpt = tmp_path / "m.pt"
    assert cli("train", "--data", course, "--epochs", "1", "--hsize", "8", "--out", ckpt).returncode == 0
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    good = tmp_path / "good.png"
    Image.new("L", (20, 20), 200).save(good)
    r = cli("predict", "--checkpoint", ckpt, bad, good)
    assert r.returncode == 2
    assert f"error: {bad}:" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout.startswith(f"{good}\t")


def test_gradcheck_command():
    r = cli("gradcheck")
    assert r.returncode == 0, r.stdout
    rows = [line for line in r.stdout.splitlines() if line.startswith(("torch ", "numpy "))]
    assert len(rows) >= 30 and all(" PASS " in line for line in rows)
    assert all(float(line.split()[-1]) < 1e-5 for line in rows)  # a number on every row
    assert f"{len(rows)}/{len(rows)} passed" in r.stdout


def test_engine_imports_no_qt():
    code = (
        "import sys, pkgutil, importlib, engine\n"
        "for m in pkgutil.iter_modules(engine.__path__): importlib.import_module('engine.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt', 'gui')]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ctrl_c_stops_gently_and_still_saves(course, tmp_path):
    import signal

    ckpt = tmp_path / "m.pt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "train",
            "--data",
            str(course),
            "--epochs",
            "100000",
            "--hsize",
            "8",
            "--out",
            str(ckpt),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    for line in proc.stdout:
        if line.startswith("epoch 2/"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopping after this step" in err and "Traceback" not in err
    assert "final: epochs=" in out and ckpt.exists()


def test_ctrl_c_during_the_final_save_saves_first_then_stops(tmp_path, monkeypatch):
    import os
    import signal

    import engine.checkpoint as checkpoint
    from tests.conftest import cli_in_process

    real = checkpoint.save_checkpoint
    pressed = []

    def save_while_ctrl_c(path, model):
        if not pressed:  # the user presses Ctrl+C twice while the model is being written
            pressed.append(True)
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return real(path, model)

    monkeypatch.setattr(checkpoint, "save_checkpoint", save_while_ctrl_c)
    out = tmp_path / "m.pt"
    code, stdout, stderr = cli_in_process(
        "train", "--data", "builtin", "--epochs", "1", "--engine", "numpy", "--quiet", "--no-record", "--out", out
    )
    assert pressed and code == 130 and "interrupted" in stderr
    assert stderr.count("saving the trained model first") == 1
    assert "could not save" not in stderr and "disk" not in stderr
    assert "final: epochs=1" in stdout and f"saved={out}" in stdout
    assert checkpoint.load_checkpoint(out).history.epochs_completed == 1  # nothing lost
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler given back


@pytest.mark.parametrize("tty", [False, True])
def test_opening_a_large_dataset_says_how_far_it_is(capsys, tty):
    from engine.cli import _opening_progress

    now = [100.0]
    progress, finish = _opening_progress("big/", tty, clock=lambda: now[0])
    progress(64, 200_000, "decoding a.png")  # under a second: nothing yet (most datasets open quietly)
    assert capsys.readouterr().err == ""
    for done in range(1, 41):  # 40 reports, 0.25 s apart: 10 s in all
        now[0] += 0.25
        progress(done * 640, 200_000, "decoding a.png")
    finish()
    err = capsys.readouterr().err
    lines = [part for part in err.replace("\r", "\n").splitlines() if part]
    if tty:  # rewritten in place, twice a second, and the line ended at the close
        assert lines[-1] == "opening big/: 25,600 of 200,000 (13 %), about 1:08 left (Ctrl+C stops)"
        assert err.count("\r") == len(lines) and 15 <= len(lines) <= 20 and err.endswith("\n")
    else:  # a log: one line every 5 s (at 1 s and 6 s)
        assert lines[-1] == "opening big/: 15,360 of 200,000 (8 %), about 1:12 left (Ctrl+C stops)"
        assert "\r" not in err and len(lines) == 2
