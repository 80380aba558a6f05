"""The CLI contract of DESIGN.md, run as a user runs it: in a subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
import torch
from PIL import Image

from engine.checkpoint import load_checkpoint
from engine.errors import UserError
from tests.conftest import (
    ROOT,
    checkpoint_variant,
    class_folders,
    idx_folder,
    noise_folders,
    setting,
    write_course_layout,
)
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
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite was started in the background
    code, stdout, stderr = cli_in_process(
        "train", "--data", "builtin", "--epochs", "1", "--engine", "numpy", "--quiet", "--no-record", "--out", out
    )
    assert pressed and code == 130 and "interrupted" in stderr
    assert stderr.count("saving the trained model first") == 1
    assert "could not save" not in stderr and "disk" not in stderr
    assert "final: epochs=1" in stdout and f"saved={out}" in stdout
    assert checkpoint.load_checkpoint(out).history.epochs_completed == 1  # nothing lost
    assert signal.getsignal(signal.SIGINT) is before  # the handler given back


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


@pytest.mark.slow
def test_cli_test_reproduces_the_test_accuracy_train_printed(tmp_path):
    """The reported bug: trained with --seed 3, then `test` re-split with seed 0 and scored training images."""
    root = noise_folders(tmp_path / "noise", 100)
    out = tmp_path / "m.pt"
    r = cli(
        "train",
        "--data",
        root,
        "--seed",
        "3",
        "--split-seed",
        "7",
        "--epochs",
        "30",
        "--norm-size",
        "8",
        "--hsize",
        "64",
        "--out",
        out,
    )
    assert r.returncode == 0, r.stderr
    final = r.stdout.strip().splitlines()[-1]
    train_test_acc = float(final.split("test_acc=")[1].split()[0])
    t = cli("test", "--checkpoint", out, "--data", root)
    assert t.returncode == 0, t.stderr
    assert f"accuracy={train_test_acc:.4f}" in t.stdout
    assert "split seed 7" in t.stdout
    assert train_test_acc < 0.6  # noise: a model that never saw its test images is near chance (1/3)


def test_cli_on_idx_data_starts_from_the_mnist_preset_and_prints_every_hyperparameter(tmp_path):
    root = idx_folder(tmp_path / "idx")
    r = cli("train", "--data", root, "--optim", "sgd", "--epochs", "1", "--hsize", "16")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any("preset mnist-course" in line and "optim" in line for line in lines)
    for key, value in (
        ("momentum", "0"),
        ("weight_decay", "0"),
        ("lr", "0.1"),
        ("batch_size", "128"),
        ("init", "uniform"),
        ("loss_reduction", "mean"),
        ("val_split", "0"),
        ("split_seed", "0"),
        ("input_norm", "standardize"),
        ("input_mean", "0.1307"),
        ("input_std", "0.3081"),
        ("bias", "False"),
        ("threads", "1"),
        ("precision", "float64"),
    ):
        assert f"  {key} = {value}" in lines, key
    assert lines.index("  epochs = 1") < next(i for i, line in enumerate(lines) if line.startswith("epoch 1/1"))


def _one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--norm-size", "0"], "norm size: 0×0"),
        (["--norm-size", "-5"], "norm size: -5×-5"),
        (["--norm-size", "100000"], "norm size: 100000×100000"),
        (["--hsize", "65536,65536"], "parameters is more than the limit"),
        (["--hsize", "0"], "hidden sizes: 0 must be at least 1"),
        (["--lr", "-1"], "learning rate: -1.0 must be greater than 0"),
        (["--optim", "lbfgs"], "optimizer: unknown 'lbfgs'"),
        (["--preset", "nope"], "invalid choice: 'nope'"),
        (["--val-split", "0.9"], "validation split: 0.9"),
    ],
)
def test_bad_training_values(tmp_path, args, needle):
    root = class_folders(tmp_path / "f")
    _one_line_error(cli("train", "--data", root, "--epochs", "1", *args, limit_gb=6), needle)


def test_a_tiny_checkpoint_declaring_a_giant_layer_stays_in_bounds(good, tmp_path):
    path = checkpoint_variant(
        good, tmp_path, setting("state_dict", "net.0.W", value=torch.zeros(1).expand(65536, 65536))
    )
    _one_line_error(cli("predict", "--checkpoint", path, "x.png", limit_gb=6), "has shape [65536, 65536]")
    cfg = checkpoint_variant(good, tmp_path, lambda p: p["configs"].update(hidden_size=[65536, 65536], n_layers=3))
    _one_line_error(cli("predict", "--checkpoint", cfg, "x.png", limit_gb=6), "parameters is more than the limit")


def test_a_tiny_checkpoint_claiming_a_huge_history_is_refused_before_it_is_read(good, tmp_path):
    """A stride-0 tensor of 10⁸ step losses is bytes on disk and 4.9 GB as a list: the length is
    checked first, so the refusal costs nothing."""
    path = checkpoint_variant(good, tmp_path, setting("history", "step_loss", value=torch.zeros(1).expand(10**8)))
    _one_line_error(
        cli("predict", "--checkpoint", path, "x.png", limit_gb=3), "100,000,000 entries in 'step_loss' is more"
    )


def test_an_unwritable_output_is_refused_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = cli("train", "--data", class_folders(tmp_path / "f"), "--epochs", "1", "--out", blocker / "m.pt")
    _one_line_error(r, "is not writable; nothing was trained")
    (tmp_path / "dir.pt").mkdir()
    r = cli("train", "--data", tmp_path / "f", "--epochs", "1", "--out", tmp_path / "dir.pt")
    _one_line_error(r, "exists and is not a regular file")


def test_a_diverged_run_never_replaces_a_good_checkpoint(tmp_path):
    root = class_folders(tmp_path / "f")
    out = tmp_path / "m.pt"
    assert cli("train", "--data", root, "--epochs", "2", "--out", out).returncode == 0
    before = out.read_bytes()
    r = cli(
        "train",
        "--data",
        root,
        "--epochs",
        "30",
        "--optim",
        "sgd",
        "--lr",
        "100",
        "--momentum",
        "0.9",
        "--act",
        "identity",
        "--out",
        out,
    )
    assert r.returncode == 1 and "diverged" in r.stderr and "m.recovered.pt" in r.stderr
    assert out.read_bytes() == before
    recovered = load_checkpoint(tmp_path / "m.recovered.pt")
    assert recovered.network.weights_finite()
    p = cli("predict", "--checkpoint", tmp_path / "m.recovered.pt", root / "a" / "0.png")
    assert p.returncode == 0 and "nan" not in p.stdout


def test_file_names_cannot_split_the_predict_output(good, tmp_path):
    img = tmp_path / "evil\tname\nA\t1.0.png"
    Image.new("L", (32, 32), 128).save(img)
    r = cli("predict", "--checkpoint", good[0], img)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and lines[0].split("\t")[0].endswith("evil\\tname\\nA\\t1.0.png")
    assert len(lines[0].split("\t")) == 3


def test_unreadable_image_name_with_a_newline_is_one_error_line(good, tmp_path):
    img = tmp_path / "bad\nname.png"
    img.write_text("not an image")
    r = cli("predict", "--checkpoint", good[0], img)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "bad\\nname.png" in r.stderr


def test_cache_commands(tmp_path):
    env_cache = tmp_path / "c"
    r = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "cache", "info"],
        capture_output=True,
        text=True,
        env={**os.environ, "BACKPROP_STUDIO_CACHE": str(env_cache)},
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0 and "0 dataset(s)" in r.stdout


def test_pickles_with_code_never_run(tmp_path):
    marker = tmp_path / "ran"
    for proto in (2, 4):
        path = tmp_path / f"evil{proto}.pt"

        class Evil:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))

        buf = io.BytesIO()
        torch.save({"state_dict": {}, "x": Evil()}, buf, pickle_protocol=proto)
        path.write_bytes(buf.getvalue())
        with pytest.raises(UserError, match="refused: the file holds Python code or objects"):
            load_checkpoint(path)
    assert not marker.exists()
