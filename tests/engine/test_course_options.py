"""What the MNIST course's pipeline needs: input normalisation, nn.Linear's uniform init, a
bias-free MLP — each carried by the model through train → save → load → predict → ONNX — and
numbers that depend on the settings and seed, not on the machine's cores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.checkpoint import Model, load_checkpoint, save_checkpoint
from engine.config import TrainConfig, preset_config
from engine.data.images import input_stats, normalize
from engine.errors import UserError
from engine.model.init import initial_weights
from engine.predict import predict_arrays
from engine.training.run import FinishedEvent, TrainingRun, resolve_inputs


def test_the_three_normalisations_are_torchvisions_op_for_op():
    x = np.array([[[0, 51, 255]]], np.uint8)
    minus = normalize(x, TrainConfig(input_norm="minus-one-one"))
    np.testing.assert_array_equal(minus, ((torch.tensor(x, dtype=torch.float32) / 255 - 0.5) / 0.5).reshape(1, -1))
    np.testing.assert_allclose(normalize(x, TrainConfig(input_norm="zero-one")), [[0, 0.2, 1]], atol=1e-7)
    c = TrainConfig(input_norm="standardize", input_mean=0.1307, input_std=0.3081)
    expected = ((torch.tensor(x, dtype=torch.float32) / 255 - 0.1307) / 0.3081).reshape(1, -1).numpy()
    np.testing.assert_array_equal(normalize(x, c), expected)
    np.testing.assert_array_equal(normalize(x), minus)  # no config: the letters course's


def test_standardize_without_numbers_measures_the_training_split(small_letters):
    c = resolve_inputs(TrainConfig(input_norm="standardize").validate(), small_letters)
    flat = small_letters.train.x.astype(np.float64) / 255
    assert c.input_mean == pytest.approx(flat.mean(), abs=1e-6) and c.input_std == pytest.approx(flat.std(), abs=1e-6)
    assert input_stats(small_letters.train.x) == pytest.approx((flat.mean(), flat.std()))
    given = TrainConfig(input_norm="standardize", input_mean=0.1307, input_std=0.3081).validate()
    assert resolve_inputs(given, small_letters) is given  # given numbers are kept


def test_uniform_init_is_nn_linears_bound_and_no_bias_means_zero_biases():
    w = initial_weights([784, 256, 10], "relu", 0, "uniform")
    bound = 1 / np.sqrt(784)
    assert np.abs(w[0]).max() <= bound and np.abs(w[0]).max() > 0.95 * bound
    assert np.abs(w[1]).max() <= bound and np.any(w[1] != 0)  # nn.Linear draws its bias too
    assert abs(float(w[0].std()) - bound / np.sqrt(3)) < 0.01 * bound  # U(−a, a) has std a/√3
    free = initial_weights([784, 256, 10], "relu", 0, "uniform", bias=False)
    assert not any(np.any(b) for b in free[1::2])
    with pytest.raises(UserError, match="init"):
        TrainConfig(init="kaiming").validate()


@pytest.mark.parametrize("engine", ["torch", "numpy"])
@pytest.mark.parametrize("norm", ["minus-one-one", "zero-one", "standardize"])
def test_each_normalisation_and_no_bias_through_train_save_load_predict_onnx(small_letters, tmp_path, engine, norm):
    ort = pytest.importorskip("onnxruntime")
    from engine.export import export_onnx

    c = TrainConfig(
        epochs=2, batch_size=16, hidden=[16], engine=engine, optim="sgd", lr=0.1, init="uniform", input_norm=norm
    )
    c.bias = norm != "zero-one"  # one of them bias-free
    run = TrainingRun(c, small_letters)
    last = run.run()
    assert isinstance(last, FinishedEvent)
    if not c.bias:  # biases never moved
        assert not any(np.any(b) for b in run.network.weights()[1::2])
    model = Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history)
    save_checkpoint(tmp_path / "m.pt", model)
    back = load_checkpoint(tmp_path / "m.pt")
    assert (back.config.input_norm, back.config.bias) == (norm, c.bias)
    assert back.config.input_std == run.config.input_std and (norm != "standardize" or back.config.input_std > 0)
    x = small_letters.test.x
    probs = predict_arrays(back, x)
    np.testing.assert_allclose(probs, predict_arrays(model, x), atol=1e-6)
    # the accuracy the run reported is what the loaded model gives: the normalisation came along
    assert np.mean(probs.argmax(1) == small_letters.test.y) == pytest.approx(last.test_acc)
    session = ort.InferenceSession(str(export_onnx(back, tmp_path / "m.onnx")), providers=["CPUExecutionProvider"])
    pixels = x.astype(np.float32).reshape(len(x), 1, *x.shape[1:])
    _, onnx_probs = session.run(None, {"pixels": pixels})
    np.testing.assert_allclose(onnx_probs, probs, atol=1e-5)
    import onnx

    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert all(len(n.input) == (3 if c.bias else 2) for n in graph.node if n.op_type == "Gemm")


def test_the_mnist_course_preset_is_the_courses_pipeline():
    c = preset_config("mnist-course").validate()
    assert (c.hidden, c.bias, c.init, c.optim, c.lr, c.momentum, c.batch_size, c.epochs) == (
        [256, 64],
        False,
        "uniform",
        "sgd",
        0.1,
        0.0,
        128,
        10,
    )
    assert (c.input_norm, c.input_mean, c.input_std, c.val_split, c.loss_reduction, c.precision) == (
        "standardize",
        0.1307,
        0.3081,
        0.0,
        "mean",
        "float64",  # the course's NumPy loop: its lr 0.5 run rides out spikes that overflow float32
    )


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_a_runs_numbers_do_not_depend_on_the_machines_thread_budget(small_letters, engine):
    """The same settings and seed give the same weights whether the process may use 1 or 2
    threads (the run computes with its own ``threads`` setting)."""
    from engine.model.blas import cap_blas_threads

    c = TrainConfig(epochs=1, batch_size=64, hidden=[32], engine=engine, optim="sgd", lr=0.1)
    results = []
    for budget in (1, 2):
        torch.set_num_threads(budget)
        cap_blas_threads(budget)
        try:
            run = TrainingRun(c, small_letters, health=False)
            run.run()
            results.append(run.network.weights())
        finally:
            cap_blas_threads(None)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_a_bare_state_dict_loads_and_a_foreign_checkpoint_is_named(tmp_path):
    from engine.model.build import build_network

    c = TrainConfig(hidden=[8])
    net = build_network(c, 32 * 32, 26)
    torch.save(net.state_dict(), tmp_path / "bare.pt")  # what many students write
    model = load_checkpoint(tmp_path / "bare.pt")
    assert model.config.hidden == [8] and len(model.classes) == 26
    torch.save({"state_dict": {"svm.weight": torch.zeros(26, 1024)}, "configs": {}}, tmp_path / "recognition.pth")
    with pytest.raises(UserError, match=r"not a network checkpoint: it holds svm.weight \(expected net.N.W"):
        load_checkpoint(tmp_path / "recognition.pth")


def test_test_without_data_uses_the_recorded_data_and_never_another(tmp_path, small_letters):
    """A course checkpoint used to be tested on the built-in letters in silence (0.18 instead of 0.84)."""
    import shutil

    from engine.model.build import build_network
    from tests.conftest import write_course_layout
    from tests.engine.test_paths import run_cli

    net = build_network(TrainConfig(hidden=[8]), 32 * 32, 26)
    torch.save({"state_dict": net.state_dict()}, tmp_path / "course.pth")
    code, out, err = run_cli("test", "--checkpoint", tmp_path / "course.pth")
    assert code == 2 and "does not say which data" in err and "--data" in err and out == ""
    data = write_course_layout(tmp_path / "course data", (26, 6, 6))
    ckpt = tmp_path / "m.pt"
    code, out, err = run_cli("train", "--data", data, "--epochs", "1", "--hsize", "8", "--out", ckpt, "--no-record")
    assert code == 0, err
    code, out, err = run_cli("test", "--checkpoint", ckpt)
    assert code == 0 and out.strip().splitlines()[-1].startswith("accuracy="), err
    shutil.rmtree(data)
    code, out, err = run_cli("test", "--checkpoint", ckpt)
    assert code == 2 and "which is not here" in err and str(data) in err


def test_float64_runs_in_double_precision_on_both_engines_and_comes_back_from_a_checkpoint(small_letters, tmp_path):
    """The two engines agree step for step to float64 round-off (not float32's), the weights
    are float64 throughout, and save → load keeps them to the last bit."""
    nets = {}
    for engine in ("torch", "numpy"):
        c = TrainConfig(epochs=1, batch_size=32, hidden=[16], engine=engine, optim="sgd", lr=0.1, precision="float64")
        run = TrainingRun(c, small_letters, health=False)
        assert isinstance(run.run(), FinishedEvent)
        assert all(w.dtype == np.float64 for w in run.network.weights()), engine
        nets[engine] = run
    for a, b in zip(nets["torch"].network.weights(), nets["numpy"].network.weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-11)
    run = nets["numpy"]
    model = Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history)
    save_checkpoint(tmp_path / "m.pt", model)
    back = load_checkpoint(tmp_path / "m.pt")
    assert back.config.precision == "float64"
    for a, b in zip(back.network.weights(), run.network.weights()):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_activations_past_float32s_range_are_finite_in_float64(small_letters, engine):
    """What float64 is for: a spike that sends activations past 3.4e38 overflows a float32 run
    (the step is refused) and is an ordinary, finite step in float64."""
    from engine.model.build import build_network

    losses = {}
    for precision in ("float32", "float64"):
        c = TrainConfig(hidden=[8], act="identity", engine=engine, optim="sgd", lr=1e-3, precision=precision)
        c = c.validate()
        net = build_network(c, small_letters.in_features, len(small_letters.classes))
        weights = net.weights()
        weights[0] = np.full_like(weights[0], 1e20)  # |h| ≈ 1e23 · |x|: fine in float64 …
        weights[2] = np.full_like(weights[2], 1e18)  # … logits ≈ 1e42: past float32's 3.4e38
        net.set_weights(weights)
        net.configure_threads()
        x = net.prepare(normalize(small_letters.train.x[:16], c))
        y = net.prepare_labels(small_letters.train.y[:16])
        losses[precision] = net.train_step(*net.batch(x, y, np.arange(16)))[0]
    assert not np.isfinite(losses["float32"]) and np.isfinite(losses["float64"])
