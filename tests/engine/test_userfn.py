"""Your own backward passes: found, given roles, checked with diagnoses, raced, trained — and
their code, run only in a sandbox child, cannot hurt the caller."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.inspect.functions import format_report
from engine.inspect.sandbox import SandboxError
from engine.inspect.sandboxed import check_in_sandbox, race_in_sandbox
from tests.conftest import main_py as cli

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "userfn"
LETTERS = [str(FIX / "letters" / n) for n in ("network.py", "losses.py", "activations.py")]
MNIST = [str(FIX / "mnist" / "ops.py")]


def check(*files, roles=None, **kw):
    files = [str(f) for f in files]
    res, _out = check_in_sandbox(files, roles, **kw)
    return res


def result(res, name):
    return res.result(name)


def mistake(name):
    return FIX / "mistakes" / f"{name}.py"


def test_the_letters_course_shape_is_found_given_roles_and_passes():
    res = check(*LETTERS)
    roles = {o["name"]: o["role"] for o in res.ops}
    assert roles == {
        "LinearFunction": "linear",
        "CrossEntropyLoss": "cross_entropy",
        "Tanh": "tanh",
        "Sigmoid": "sigmoid",
        "ReLU": "relu",
        "Identity": "identity",
    }
    assert "Linear" not in roles  # an nn.Module with forward only is not an op
    assert res.passed and all(r.passed for r in res.results)
    assert all(len(r.rows) == 3 for r in res.results)  # batch 1, 8 and 37
    assert res.mlp.passed and res.mlp.worst < 1e-6 and len(res.mlp.errors) == 4
    assert "all checks passed" in format_report(res)


def test_the_mnist_course_shape_with_memory_dicts_passes():
    res = check(*MNIST)
    assert {o["name"]: (o["role"], o["style"]) for o in res.ops} == {
        "Matmul": ("matmul", "numpy"),
        "Relu": ("relu", "numpy"),
        "Softmax": ("softmax", "numpy"),
        "Log": ("log", "numpy"),
        "NLLLoss": ("nll", "numpy"),
    }
    assert res.passed and res.mlp.passed
    assert set(res.mlp.errors) == {"layer 1 W", "layer 2 W"}  # a matmul network has no biases


def test_a_role_is_found_by_probing_when_the_name_says_nothing(tmp_path):
    f = tmp_path / "mystery.py"
    f.write_text(
        "import torch\n"
        "class Squash(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        y = torch.tanh(x); ctx.save_for_backward(y); return y\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        (y,) = ctx.saved_tensors; return g * (1 - y * y)\n"
    )
    res = check(f)
    assert [(o["role"], o["how"]) for o in res.ops] == [("tanh", "probe")]
    assert res.passed
    # and the user may correct a role: as sigmoid it fails, said as a forward error
    res = check(f, roles={"Squash": "sigmoid"})
    assert res.ops[0]["how"] == "user" and not res.results[0].passed
    assert res.results[0].forward_error > 1e-3


@pytest.mark.parametrize(
    "name, op, words",
    [
        ("transposed", "LinearFunction", ["gradient of W is transposed", "[5, 3]"]),
        ("bias_unsummed", "Linear", ["bias gradient is not summed over the batch"]),
        ("sigmoid_input", "Sigmoid", ["written with the input x where it needs the output y"]),
        ("tanh_output", "Tanh", ["applies the activation again to its output"]),
        ("inplace", "ReLU", ["saved for backward was then modified in place", "changes its input in place"]),
        ("wrong_count", "LinearFunction", ["backward returns 2 gradient(s); forward takes 3 inputs"]),
        ("nondeterministic", "ReLU", ["non-deterministic"]),
        ("batch_one", "CrossEntropyLoss", ["fails on batch size 1 (works on larger batches)", "IndexError"]),
    ],
)
def test_each_usual_mistake_is_diagnosed_in_words(name, op, words):
    """A FAIL: a wrong value or gradient at ordinary inputs."""
    res = check(mistake(name))
    r = result(res, op)
    assert r.passed is False and not res.passed
    text = " | ".join(r.diagnoses)
    for w in words:
        assert w in text, (w, text)
    assert "✗" in format_report(res)


@pytest.mark.parametrize(
    "name, op, words",
    [
        (
            "batch_factor",
            "CrossEntropyLoss",
            [
                "gradient of the summed loss (8× the batch-mean loss's at batch size 8)",
                "while forward returns the mean",
                "letters course template's convention",
                "weight decay ÷ N",
            ],
        ),
        ("softmax_overflow", "Softmax", ["NaN for large logits", "subtract each row's max"]),
        ("log_epsilon", "CrossEntropyLoss", ["finite but biased", "−log ε", "log-softmax needs no ε"]),
    ],
)
def test_what_is_right_at_ordinary_inputs_is_a_warning_that_names_its_cause(name, op, words):
    """A WARN, exit 0: right at ordinary inputs, but fragile at extreme ones or in the course's other
    convention."""
    res = check(mistake(name))
    r = result(res, op)
    assert r.passed and r.verdict == "WARN" and res.passed and res.warnings >= 1
    text = " | ".join(r.warnings)
    for w in words:
        assert w in text, (w, text)
    report = format_report(res)
    assert "⚠" in report and "with" in report.splitlines()[-1] and "FAIL" not in report


def test_the_course_convention_passes_when_it_is_the_one_expected():
    """The letters course's template (backward without 1/N) under --reduction sum: no convention
    warning, the whole MLP consistent with the summed loss; a mean backward under sum: a warning."""
    summed = [*LETTERS[:1], mistake("batch_factor"), LETTERS[2]]
    res = check(*summed, reduction="sum")
    r = result(res, "CrossEntropyLoss")
    assert not any("summed loss" in w for w in r.warnings) and res.mlp.passed
    assert res.mlp.convention == "sum"
    res = check(*LETTERS, reduction="sum")
    r = result(res, "CrossEntropyLoss")
    assert r.verdict == "WARN" and any("batch-mean loss, 1/8 of what" in w for w in r.warnings)
    assert res.passed and res.mlp.passed


def test_a_correct_op_gets_no_diagnosis_a_wrong_one_only_its_own():
    res = check(mistake("sigmoid_input"), *LETTERS[:2])
    assert result(res, "LinearFunction").diagnoses == () and result(res, "CrossEntropyLoss").passed
    assert len(result(res, "Sigmoid").diagnoses) == 1


def test_an_error_shows_only_the_users_frames():
    res = check(FIX / "hostile" / "raises.py")
    row = result(res, "ReLU").rows[1]
    assert 'File "raises.py", line 13, in forward' in row.error and "line 7, in helper" in row.error
    assert "engine" not in row.error and "AttributeError" in row.error.splitlines()[-1]


def _touch(path: str) -> None:  # what the pickle below calls wherever it is unpickled
    Path(path).write_text(str(os.getpid()))


class _Rigged:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (_touch, (self.path,))


def send_a_pickle(path: str):  # runs in the sandbox child, as a student's code could
    conn = sys._getframe(1).f_locals["conn"]  # the child's end of the pipe, found on the stack
    conn.send(_Rigged(path))  # a pickle: read with pickle.loads, it would run _touch there
    return "done"


def send_deep_json(_path: str):  # runs in the sandbox child
    conn = sys._getframe(1).f_locals["conn"]
    conn.send_bytes(b"[" * 200_000 + b"]" * 200_000)  # JSON nested past what a parser recurses into
    return "done"


@pytest.mark.parametrize("target", [send_a_pickle, send_deep_json])
def test_nothing_the_sandbox_child_sends_is_run_in_the_app(tmp_path, target):
    """The child has run someone's code: its answer is read as JSON, never unpickled (a crafted
    pickle runs code in the process that reads it: the window, or a TA grading a class), and an
    answer that is not one is said as such."""
    from engine.inspect.sandbox import run_sandboxed

    marker = tmp_path / "ran"
    with pytest.raises(SandboxError, match="not an answer"):
        run_sandboxed(target, str(marker), time_limit=30)
    assert not marker.exists()


def test_a_check_record_goes_through_json_unchanged_and_a_wrong_one_is_refused():
    import json

    from engine.inspect.check_result import FilesCheck

    res = check(*LETTERS)
    again = FilesCheck.from_dict(json.loads(json.dumps(res.to_dict())))
    assert again == res and again.passed == res.passed and format_report(again) == format_report(res)
    broken = res.to_dict()
    broken["results"][0]["grad_errors"] = {"W": "small"}
    with pytest.raises(ValueError, match="not a number"):
        FilesCheck.from_dict(broken)


@pytest.mark.parametrize(
    "name, words",
    [
        ("hangs", "did not finish within 3 s"),
        ("segfault", "crashed the worker (segmentation fault)"),
        ("exits", "called sys.exit(3)"),
        ("syntax_error", "SyntaxError"),
        ("floods", "printed more than"),
        ("allocates", "ran out of memory"),
    ],
)
def test_hostile_code_ends_as_a_clear_result_with_no_process_left(name, words):
    before = _children()
    t = time.perf_counter()
    with pytest.raises(SandboxError) as info:
        check(FIX / "hostile" / f"{name}.py", time_limit=3, memory_limit=1 << 30)
    assert words in str(info.value)
    assert time.perf_counter() - t < 30
    assert _children() <= before


def _children() -> set[int]:
    """This process's live child processes."""
    me = os.getpid()
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me and fields[0] != "Z":
                if b"resource_tracker" in (d / "cmdline").read_bytes():
                    continue  # multiprocessing's own helper, started once per process
                out.add(int(d.name))
    return out


def test_the_user_code_is_not_imported_in_the_calling_process():
    check(*MNIST)
    assert "ops" not in sys.modules and "network" not in sys.modules
    from engine.model.userops import load_modules

    with pytest.raises(RuntimeError, match="only in a worker"):
        load_modules(MNIST)


def race(files, act="relu", steps=200):
    from engine.data.images import normalize
    from engine.data.layouts import open_dataset

    ds = open_dataset("builtin")
    files = [str(f) for f in files]
    return race_in_sandbox(files, {}, act, normalize(ds.train.x[:800]), ds.train.y[:800], [16], steps)


def test_correct_functions_stay_with_the_reference_for_200_steps():
    res = race(LETTERS)
    assert res.first_difference is None and len(res.yours) == 200
    assert np.max(np.abs(np.subtract(res.yours, res.reference))) < 1e-9
    assert res.reference[-1] < res.reference[0] - 0.3  # it really trained
    res = race(MNIST, steps=50)
    assert res.first_difference is None


def test_a_wrong_function_is_flagged_at_step_1_with_the_right_parameter():
    # a sigmoid derivative through the input: only the first layer's gradients (behind it) differ
    res = race([LETTERS[0], LETTERS[1], mistake("sigmoid_input")], act="sigmoid")
    first = res.first_difference
    assert first["step"] == 1 and first["parameter"] == "layer 1 W"
    assert {n for n, _e in first["all"]} == {"layer 1 W", "layer 1 b"}
    # the cross-entropy without 1/N: every gradient is off, the last layer's first in backprop order
    res = race([LETTERS[0], mistake("batch_factor"), LETTERS[2]])
    assert res.first_difference["step"] == 1 and res.first_difference["parameter"] == "layer 2 W"


def test_cli_check_prints_the_table_and_exits_by_result():
    ok = cli("check", *LETTERS)
    assert ok.returncode == 0, ok.stderr
    assert "LinearFunction" in ok.stdout and "PASS" in ok.stdout and "all checks passed" in ok.stdout
    bad = cli("check", mistake("transposed"))
    assert bad.returncode == 1 and "transposed" in bad.stdout and "FAIL" in bad.stdout
    crash = cli("check", FIX / "hostile" / "segfault.py")
    assert crash.returncode == 1 and "segmentation fault" in crash.stderr and "Traceback" not in crash.stderr
    missing = cli("check", "no_such_file.py")
    assert missing.returncode == 2 and missing.stderr.strip() == "error: no_such_file.py: no such file"
    role = cli("check", *MNIST, "--role", "Relu=wibble")
    assert role.returncode == 2 and "Relu=wibble: unknown role" in role.stderr


def test_cli_check_race_trains_beside_the_reference_and_exits_by_where_they_part():
    ok = cli("check", *LETTERS, "--race", "--steps", "5")
    assert ok.returncode == 0, ok.stderr
    assert "they agree at every step" in ok.stdout
    bad = cli("check", LETTERS[0], LETTERS[1], mistake("sigmoid_input"), "--race", "--steps", "5")
    assert bad.returncode == 1 and "differ" in bad.stdout, bad.stdout[-2000:]


def test_cli_train_with_your_functions_runs_in_a_worker_and_learns(tmp_path):
    out = tmp_path / "mine.pt"
    r = cli(
        "train",
        "--engine",
        "user",
        "--functions",
        ",".join(LETTERS),
        "--epochs",
        "2",
        "--no-record",
        "--out",
        out,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "engine user" in r.stdout and out.exists()
    acc = float(r.stdout.strip().splitlines()[-1].split("val_acc=")[1].split()[0])
    assert acc > 0.3
    r = cli("train", "--engine", "user", "--epochs", "1", "--no-record")
    assert r.returncode == 2 and "load them first" in r.stderr


def test_the_user_engine_runs_their_backward_in_the_worker():
    """Proof that training uses their ops, not the reference: a transposed weight gradient
    fails the run (with the reason), where the reference would have trained."""
    from engine.config import TrainConfig
    from engine.data.layouts import open_dataset
    from engine.training.host import RunHost
    from engine.training.run import FailedEvent, FinishedEvent

    ds = open_dataset("builtin")
    wrong = [str(mistake("transposed")), LETTERS[1], LETTERS[2]]
    with RunHost(spares=1) as host:
        last = None
        for ev in host.start(TrainConfig(epochs=1, engine="user", functions=wrong), ds).events():
            last = ev
        assert isinstance(last, FailedEvent) and "shape" in last.reason
        for ev in host.start(TrainConfig(epochs=1, engine="user", functions=MNIST, hidden=[16]), ds).events():
            last = ev
        assert isinstance(last, FinishedEvent) and last.test_acc > 0.1  # NumPy ops train too


def test_processes_their_code_starts_are_killed_with_it(tmp_path, monkeypatch):
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("BACKPROP_TEST_PID_FILE", str(pid_file))
    with pytest.raises(SandboxError, match="did not finish"):
        check(FIX / "hostile" / "spawns.py", time_limit=4)
    pid = int(pid_file.read_text())
    deadline = time.time() + 5
    while time.time() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid)


def test_no_process_outlives_a_check_that_passed_not_even_one_in_a_session_of_its_own(tmp_path, monkeypatch):
    """Three children in sessions of their own and a double-forked daemon: the check passes and
    none of them is left running (they would hold the machine, and `check | cat` open)."""
    folder = tmp_path / "pids"
    folder.mkdir()
    monkeypatch.setenv("BACKPROP_TEST_PID_DIR", str(folder))
    pids: list[int] = []
    try:
        res = check(FIX / "hostile" / "escapes.py", time_limit=60)
        pids = [int(f.read_text()) for f in folder.iterdir()]
        assert res.passed and len(pids) == 4
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        assert not [p for p in pids if _alive(p)]
    finally:
        for p in pids or [int(f.read_text() or 0) for f in folder.iterdir()]:
            if p and _alive(p):
                os.kill(p, 9)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_diagnosis_comes_with_a_worked_example_expected_beside_theirs():
    """A batch of two, the expected gradient beside theirs: the summed-loss backward is exactly
    twice the batch-mean one there; a sigmoid written with x differs; a passing op has none."""
    res = check(mistake("batch_factor"))
    ex = result(res, "CrossEntropyLoss").example
    assert ex["grad"] == "logits" and np.shape(ex["inputs"]["logits"]) == np.shape(ex["expected"]) == (2, 6)
    np.testing.assert_allclose(ex["theirs"], 2 * np.array(ex["expected"]), rtol=2e-3)
    text = format_report(res)
    assert "worked example, batch of 2: logits =" in text and "expected ∂L/∂logits" in text and "yours" in text
    res = check(mistake("sigmoid_input"))
    ex = result(res, "Sigmoid").example
    assert ex["grad"] == "x" and not np.allclose(ex["theirs"], ex["expected"], rtol=1e-2)
    res = check(*LETTERS)
    assert all(r.example is None for r in res.results)


def test_an_infinite_loss_with_finite_gradients_trains_on_with_a_warning(small_letters):
    """The letters template's log(softmax) with the course's N(0, 1) init: the loss is inf at the
    first steps while q − onehot is finite. The course's loop trains such code; so does the user
    engine, saying why, instead of "diverged … lower the learning rate"."""
    from engine.config import TrainConfig
    from engine.training.events import FailedEvent, FinishedEvent, WarningEvent
    from engine.training.launch import RunPlan, start_run

    files = [LETTERS[0], str(FIX / "fragile" / "losses.py"), LETTERS[2]]
    config = TrainConfig(epochs=2, batch_size=8, engine="user", functions=files, init="normal", optim="adam")
    run = start_run(RunPlan(config, small_letters))
    events = list(run.events())
    warnings = [e.message for e in events if isinstance(e, WarningEvent)]
    assert any("is inf at epoch 1 step 1 while every gradient is finite" in w for w in warnings), warnings
    assert not any(isinstance(e, FailedEvent) for e in events)
    last = events[-1]
    assert isinstance(last, FinishedEvent) and last.epochs_completed == 2
    losses = run.history.train_loss  # the mean over the steps whose loss was finite (inf if none was)
    assert losses[0] == math.inf and math.isfinite(losses[-1])  # every step of epoch 1 was inf; then finite


def test_a_bias_gradient_autograd_would_sum_is_a_warning_and_trains_as_in_the_course(small_letters):
    """A torch Function returning the bias gradient per sample: autograd sums it, so it trained in
    the course. The check says so (WARN, not FAIL), and the user engine trains it exactly like
    the studio's own Functions."""
    from engine.config import TrainConfig
    from engine.training.launch import RunPlan, start_run

    linear = str(FIX / "fragile" / "linear.py")
    r = result(check(linear), "LinearFunction")
    assert r.verdict == "WARN" and not r.diagnoses
    assert "not summed over the batch" in r.warnings[0] and "autograd sums it" in r.warnings[0]
    config = TrainConfig(epochs=1, batch_size=16, hidden=[16], engine="user", functions=[linear, *LETTERS[1:]])
    theirs = start_run(RunPlan(config, small_letters))
    ours = start_run(RunPlan(TrainConfig(epochs=1, batch_size=16, hidden=[16]), small_letters))
    last_theirs, last_ours = list(theirs.events())[-1], list(ours.events())[-1]
    assert last_theirs.test_acc == pytest.approx(last_ours.test_acc)
    assert theirs.history.train_loss == pytest.approx(ours.history.train_loss, rel=1e-5)


def test_the_course_templates_in_place_relu_is_a_warning_a_wrong_one_a_fail():
    r = result(check(FIX / "fragile" / "inplace_relu.py"), "ReLU")
    assert r.verdict == "WARN" and not r.diagnoses and "unsafe when the caller uses" in r.warnings[0]
    r = result(check(mistake("inplace")), "ReLU")  # saved, then changed: its gradient is wrong
    assert r.verdict == "FAIL" and any("changes its input in place" in d for d in r.diagnoses)


def test_code_that_runs_only_in_float32_is_checked_in_float32_not_failed(tmp_path):
    """torch.heaviside with a float32 constant refuses float64 inputs: correct code, trained in
    float32. The op and the whole MLP are checked in float32 (a WARN that says so), not FAILed."""
    import shutil

    for f in LETTERS[:2]:
        shutil.copy(f, tmp_path)
    letters = Path(LETTERS[2]).read_text()
    start = letters.index("class ReLU")
    end = letters.find("\nclass ", start + 1)
    relu = (FIX / "fragile" / "heaviside_relu.py").read_text()
    (tmp_path / "activations.py").write_text(letters[:start] + relu[relu.index("class ReLU") :] + letters[end:])
    res = check(*sorted(tmp_path.glob("*.py")))
    r = result(res, "ReLU")
    assert r.verdict == "WARN" and r.grad_errors["x"] < 1e-3
    assert "works only in float32" in r.warnings[0] and "heaviside is not yet implemented" in r.warnings[0]
    assert res.passed and res.mlp.passed and res.mlp.dtype == "float32"
    assert "[float32]" in format_report(res)


def test_the_mnist_courses_ops_without_a_loss_train_with_the_courses_loss(tmp_path, small_letters):
    """The MNIST course's students write Matmul/Relu/Softmax/Log and no loss op (the course's loop
    computes the mean NLL): checked as a whole MLP and trained exactly as with an NLL op of theirs."""
    from engine.config import TrainConfig
    from engine.training.launch import RunPlan, start_run

    source = Path(MNIST[0]).read_text()
    noloss = tmp_path / "numpy_fnn.py"
    noloss.write_text(source[: source.index("class NLLLoss")])
    res = check(noloss)
    assert res.passed and res.mlp.ran and res.mlp.passed
    runs = {}
    for name, files in (("theirs", [str(noloss)]), ("with_nll", MNIST)):
        config = TrainConfig(epochs=1, batch_size=32, hidden=[16], engine="user", functions=files, optim="sgd", lr=0.1)
        run = start_run(RunPlan(config, small_letters))
        runs[name] = (list(run.events())[-1], run.history.train_loss)
    assert runs["theirs"][1] == pytest.approx(runs["with_nll"][1], rel=1e-6)
    assert runs["theirs"][0].test_acc == pytest.approx(runs["with_nll"][0].test_acc)


def test_the_courses_numpy_model_class_is_recognised_as_the_network_not_failed_as_an_op():
    res = check(FIX / "mnist" / "numpy_fnn.py")
    model = result(res, "NumpyModel")
    assert (model.role, model.passed) == ("ignore", None)
    assert next(o for o in res.ops if o["name"] == "NumpyModel")["how"] == "model"
    assert res.passed and res.mlp.passed  # its Matmul/Relu/Softmax/Log, with the course's NLL
    assert "NumpyModel             ignore         -" in format_report(res)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_user_engine_follows_the_runs_loss_gradient_setting_whatever_their_backward_gives(small_letters, reduction):
    """The letters template's loss backward gives the summed loss's gradient: with "Loss gradient:
    mean" it trains as the studio's own mean run, with "sum" as its sum run (it ignored the
    setting before). SGD, where the factor N shows."""
    from engine.config import TrainConfig
    from engine.training.launch import RunPlan, start_run

    common = dict(epochs=1, batch_size=16, hidden=[16], optim="sgd", lr=0.01, loss_reduction=reduction)
    theirs = [LETTERS[0], str(mistake("batch_factor")), LETTERS[2]]
    user = start_run(RunPlan(TrainConfig(engine="user", functions=theirs, **common), small_letters))
    ours = start_run(RunPlan(TrainConfig(engine="torch", **common), small_letters))
    list(user.events()), list(ours.events())
    assert user.history.train_loss == pytest.approx(ours.history.train_loss, rel=1e-5)
    assert user.history.val_acc == pytest.approx(ours.history.val_acc)


def test_code_that_rewrites_the_checks_arithmetic_fails_and_is_put_back():
    """``np.linalg.norm = lambda *a, **k: 0`` at import and ``np.allclose = …`` inside backward: the
    wrong (transposed) gradient is still found, the replacement is named, and NumPy is whole again."""
    res = check(FIX / "hostile" / "rigs_the_check.py")
    r = result(res, "LinearFunction")
    assert r.passed is False and not res.passed and r.verdict == "FAIL"
    text = " ".join(r.diagnoses)
    assert "transposed" in text  # the real mistake, found with the real norm
    assert "numpy.linalg.norm" in text and "numpy.allclose" in text and "monkeypatch" in text
    assert r.grad_errors["W"] > 0.1  # measured, not talked into 0


def test_the_guard_puts_back_what_was_replaced_and_ignores_what_was_not():
    import numpy as np

    from engine.inspect import guard

    snap = guard.snapshot()
    real = np.linalg.norm
    try:
        np.linalg.norm = lambda *a, **k: 0.0
        assert guard.restore(snap) == ["numpy.linalg.norm"]
        assert np.linalg.norm is real and guard.restore(snap) == []
    finally:
        np.linalg.norm = real


NEEDS_OPS = {
    "numpy": """
import os
import numpy as np


class Linear:
    @staticmethod
    def forward(ctx, x, W, b):
        ctx.save_for_backward(x, W)
        return x @ W.T + b

    @staticmethod
    def backward(ctx, g):
        x, W = ctx.saved_tensors
        with open(os.environ["BACKPROP_TEST_NEEDS_FILE"], "a") as f:
            f.write(f"{x.shape[1]} {ctx.needs_input_grad[0]}\\n")
        return (g @ W if ctx.needs_input_grad[0] else None), g.T @ x, g.sum(0)


class ReLU:
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > 0)


class CrossEntropy:
    @staticmethod
    def forward(ctx, z, y):
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        ctx.save_for_backward(p, y)
        return -np.log(p[np.arange(len(y)), y]).mean()

    @staticmethod
    def backward(ctx, g):
        p, y = ctx.saved_tensors
        d = p.copy()
        d[np.arange(len(y)), y] -= 1
        return d * g / len(y), None
""",
    "torch": """
import os
import torch


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, W, b):
        ctx.save_for_backward(x, W)
        return x @ W.t() + b

    @staticmethod
    def backward(ctx, g):
        x, W = ctx.saved_tensors
        with open(os.environ["BACKPROP_TEST_NEEDS_FILE"], "a") as f:
            f.write(f"{x.shape[1]} {ctx.needs_input_grad[0]}\\n")
        return (g @ W if ctx.needs_input_grad[0] else None), g.t() @ x, g.sum(0)


class ReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > 0)


class CrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, y):
        logp = torch.log_softmax(z, 1)
        ctx.save_for_backward(logp, y)
        return -logp[torch.arange(len(y)), y].mean()

    @staticmethod
    def backward(ctx, g):
        logp, y = ctx.saved_tensors
        d = logp.exp()
        d[torch.arange(len(y)), y] -= 1
        return d * g / len(y), None
""",
}


@pytest.mark.parametrize("style", sorted(NEEDS_OPS))
def test_training_tells_their_first_layer_its_input_gradient_is_not_needed(tmp_path, monkeypatch, small_letters, style):
    """As the studio's engines skip it: ``ctx.needs_input_grad[0]`` is False for the first layer
    only (the N × hidden × features product nobody uses), and the run still learns."""
    from engine.config import TrainConfig
    from engine.training.events import FinishedEvent
    from engine.training.launch import RunPlan, start_run

    ops, log = tmp_path / f"ops_{style}.py", tmp_path / "needs.txt"
    ops.write_text(NEEDS_OPS[style])
    monkeypatch.setenv("BACKPROP_TEST_NEEDS_FILE", str(log))
    config = TrainConfig(epochs=2, batch_size=16, hidden=[24], engine="user", functions=[str(ops)], optim="adam")
    events = list(start_run(RunPlan(config, small_letters)).events())
    assert isinstance(events[-1], FinishedEvent) and events[-1].test_acc > 2 / 26
    seen = {tuple(line.split()) for line in log.read_text().splitlines()}
    features = int(np.prod(small_letters.train.x.shape[1:]))
    assert seen == {(str(features), "False"), ("24", "True")}
