"""Numbers a student can put in a report: honest splits, exact resume, no shared state, no leaking presets."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.checkpoint import Model, dataset_record, load_checkpoint, save_checkpoint
from engine.config import PRESETS, TrainConfig, preset_config
from engine.data.dataset import Split, assign_splits
from engine.data.layouts import open_dataset
from engine.training.run import StepEvent, TrainingRun, WarningEvent, epoch_order
from tests.conftest import LETTERS_DIR, ROOT, write_course_layout
from tests.conftest import main_py as _cli

COURSE_CKPT = ROOT.parent / "shared" / "checkpoints" / "letters-course-2022.pth"


def _noise_folders(root: Path, n_per_class=100, classes=("a", "b", "c")) -> Path:
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n_per_class):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / c / f"{i}.png")
    return root


def _write_idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(gzip.compress(header + arr.astype(np.uint8).tobytes()))


def _idx_folder(root: Path, with_test=True, n=300) -> Path:
    rng = np.random.default_rng(1)
    root.mkdir(parents=True)
    y = rng.integers(0, 10, n)
    x = (rng.integers(0, 60, (n, 6, 6)) + y[:, None, None] * 19).astype(np.uint8)
    _write_idx(root / "train-images-idx3-ubyte.gz", x)
    _write_idx(root / "train-labels-idx1-ubyte.gz", y)
    if with_test:
        _write_idx(root / "t10k-images-idx3-ubyte.gz", x[:50])
        _write_idx(root / "t10k-labels-idx1-ubyte.gz", y[:50])
    return root


# -- splits ---------------------------------------------------------------------------------


def _ids(split: Split) -> set:
    return (
        {bytes(x) + bytes([y]) for x, y in zip(split.x.reshape(len(split), -1), split.y)}
        if not split.names
        else set(split.names)
    )


@pytest.mark.parametrize("layout", ["course", "folders-flat", "folders-train-only", "idx-with-test", "idx-single"])
def test_the_three_splits_are_disjoint_for_every_layout(tmp_path, layout):
    if layout == "course":
        root = write_course_layout(tmp_path / "c", (30, 10, 10))
    elif layout == "folders-flat":
        root = _noise_folders(tmp_path / "f", 40)
    elif layout == "folders-train-only":
        root = _noise_folders(tmp_path / "t" / "train", 40).parent
    elif layout == "idx-with-test":
        root = _idx_folder(tmp_path / "i")
    else:
        root = _idx_folder(tmp_path / "s", with_test=False)
        for name in list(root.iterdir()):
            name.rename(root / name.name.replace("train-", "data-"))
    for split_seed in (0, 5):
        ds = open_dataset(root, norm_size=(8, 8), split_seed=split_seed, val_split=0.2)
        assert len(ds.train) and len(ds.val) and len(ds.test)
        if ds.train.names:  # image files: names identify them
            tr, va, te = set(ds.train.names), set(ds.val.names), set(ds.test.names)
            assert not (tr & va or tr & te or va & te)
            assert len(tr) + len(va) + len(te) == len(ds.train) + len(ds.val) + len(ds.test)
        elif layout == "idx-single":  # carved from one pool: indices of one permutation
            total = len(ds.train) + len(ds.val) + len(ds.test)
            assert total == 300 and len(ds.test) == 30 and len(ds.val) == 60


def test_split_rule_carves_disjoint_index_sets():
    pool = Split(
        np.arange(100, dtype=np.uint8).reshape(100, 1, 1), np.zeros(100, np.int64), [str(i) for i in range(100)]
    )
    for pools in ({"all": pool}, {"train": pool}, {"train": pool, "val": Split(pool.x[:0], pool.y[:0], [])}):
        tr, va, te, _ = assign_splits(pools, 3, 0.2, (1, 1))
        names = [set(s.names) for s in (tr, va, te)]
        assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
        assert sum(map(len, names)) == 100 and len(te) == 10 and len(va) == 20
    a = assign_splits({"all": pool}, 3, 0.2, (1, 1))
    b = assign_splits({"all": pool}, 4, 0.2, (1, 1))
    assert set(a[2].names) != set(b[2].names)  # the split seed decides the split


def test_split_seed_is_separate_from_the_training_seed(tmp_path):
    root = _noise_folders(tmp_path / "f", 30)
    a = open_dataset(root, norm_size=(8, 8), split_seed=0)
    b = open_dataset(root, norm_size=(8, 8), split_seed=0)
    assert a.test.names == b.test.names
    assert a.fingerprint == b.fingerprint and a.fingerprint


@pytest.mark.slow
def test_cli_test_reproduces_the_test_accuracy_train_printed(tmp_path):
    """The reported bug: trained with --seed 3, then `test` re-split with seed 0 and scored training images."""
    root = _noise_folders(tmp_path / "noise", 100)
    out = tmp_path / "m.pt"
    r = _cli(
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
    t = _cli("test", "--checkpoint", out, "--data", root)
    assert t.returncode == 0, t.stderr
    assert f"accuracy={train_test_acc:.4f}" in t.stdout
    assert "split seed 7" in t.stdout
    assert train_test_acc < 0.6  # noise: a model that never saw its test images is near chance (1/3)


# -- exact resume ---------------------------------------------------------------------------


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


# -- no shared state between training and classification -------------------------------------


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


# -- honest optimizers, presets, warnings ---------------------------------------------------


def test_presets_name_everything_and_nothing_leaks():
    for name, values in PRESETS.items():
        needed = {"optim", "lr", "momentum", "weight_decay", "batch_size", "init", "loss_reduction", "val_split"}
        assert needed | {"input_norm", "bias", "precision"} <= set(values), name
    mnist = preset_config("mnist-fnn", optim="sgd")
    assert mnist.momentum == 0 and mnist.weight_decay == 0 and mnist.hidden == [256, 64] and mnist.val_split == 0
    course = preset_config("letters-course")
    assert (course.optim, course.init, course.loss_reduction) == ("adam", "normal", "sum")


def test_cli_on_idx_data_starts_from_the_mnist_preset_and_prints_every_hyperparameter(tmp_path):
    root = _idx_folder(tmp_path / "idx")
    r = _cli("train", "--data", root, "--optim", "sgd", "--epochs", "1", "--hsize", "16")
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


def test_resumed_optimizer_state_cannot_change_the_learning_rate(small_letters, tmp_path):
    run = TrainingRun(TrainConfig(epochs=1, batch_size=64, optim="adam"), small_letters)
    run.run()
    path = tmp_path / "m.pt"
    save_checkpoint(path, Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history))
    ckpt = torch.load(path, weights_only=True)
    ckpt["optimizer_state"]["torch"]["param_groups"][0]["lr"] = -5.0
    torch.save(ckpt, path)
    m = load_checkpoint(path)
    assert all(g["lr"] == pytest.approx(2e-3) for g in m.network._opt.param_groups)


def test_format_1_adam_was_adamw_and_stays_so(small_letters, tmp_path):
    run = TrainingRun(TrainConfig(epochs=1, batch_size=64, optim="adamw"), small_letters)
    run.run()
    path = tmp_path / "old.pt"
    save_checkpoint(path, Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history))
    ckpt = torch.load(path, weights_only=True)
    ckpt["format_version"], ckpt["hyperparameters"]["optim"] = 1, "adam"
    ckpt["optimizer_state"]["name"] = "adam"
    torch.save(ckpt, path)
    assert load_checkpoint(path).config.optim == "adamw"


# -- the real course checkpoint ---------------------------------------------------------------

needs_course = pytest.mark.skipif(
    not COURSE_CKPT.exists() or not LETTERS_DIR.exists(),
    reason="../shared course checkpoint or letters dataset not present",
)


@needs_course
@pytest.mark.parametrize("state_dict_only", [False, True])
def test_the_real_course_checkpoint(tmp_path, state_dict_only):
    path = COURSE_CKPT
    if state_dict_only:  # a later course version saves no configs
        path = tmp_path / "sd_only.pth"
        torch.save({"state_dict": torch.load(COURSE_CKPT, weights_only=True)["state_dict"]}, path)
        m = load_checkpoint(path)
        assert m.notes and "assumed relu" in m.notes[0] and m.norm_size == (32, 32) and m.config.hidden == [64]
    t = _cli("test", "--checkpoint", path, "--data", LETTERS_DIR)
    assert t.returncode == 0, t.stderr
    assert "accuracy=0.8425" in t.stdout
    p = _cli(
        "predict",
        "--checkpoint",
        path,
        LETTERS_DIR / "new_images" / "predict01.png",
        LETTERS_DIR / "new_images" / "predict02.png",
    )
    labels = [line.split("\t")[1] for line in p.stdout.splitlines()]
    assert p.returncode == 0 and labels == ["A", "B"]


def test_state_dict_only_checkpoint_with_a_non_square_input_is_refused_clearly(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save(
        {
            "state_dict": {
                "net.0.W": torch.zeros(4, 30),
                "net.0.b": torch.zeros(4),
                "net.2.W": torch.zeros(3, 4),
                "net.2.b": torch.zeros(3),
            }
        },
        path,
    )
    from engine.errors import UserError

    with pytest.raises(UserError, match="30 inputs: not a square image"):
        load_checkpoint(path)
