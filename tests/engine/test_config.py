from __future__ import annotations

import pytest

from engine.config import PRESETS, TrainConfig, parameter_count, parse_hidden_sizes, preset_config
from engine.errors import UserError


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"lr": 0}, "learning rate: 0.0 must be greater than 0"),
        ({"lr": -1e-3}, "learning rate"),
        ({"lr": float("nan")}, "learning rate: nan is not a finite number"),
        ({"hidden": []}, "hidden sizes: give at least one layer size"),
        ({"hidden": "64,abc"}, "hidden sizes: 'abc' is not a whole number"),
        ({"hidden": [64, 2.5]}, "hidden sizes: 2.5 is not a whole number"),
        ({"hidden": [0]}, "hidden sizes: 0 must be at least 1"),
        ({"batch_size": 0}, "batch size: 0 must be a whole number ≥ 1"),
        ({"epochs": 1.5}, "epochs"),
        ({"optim": "lbfgs"}, "optimizer: unknown 'lbfgs'"),
        ({"act": "gelu"}, "activation: unknown 'gelu'"),
        ({"engine": "jax"}, "engine: unknown 'jax'"),
        ({"momentum": 1.0}, "momentum: 1.0 must be in [0, 1)"),
        ({"weight_decay": -0.1}, "weight decay: -0.1 must not be negative"),
        ({"engine": "numpy", "device": "cuda"}, "the numpy engine runs on the CPU only"),
    ],
)
def test_invalid_hyperparameters_get_a_clear_message(changes, message):
    with pytest.raises(UserError) as err:
        TrainConfig(**changes).validate()
    assert message in str(err.value)


def test_valid_config_normalises():
    c = TrainConfig(hidden="128, 64", act="ReLU", optim="SGD").validate()
    assert c.hidden == [128, 64] and c.act == "relu" and c.optim == "sgd"
    assert TrainConfig.from_dict({**c.to_dict(), "unknown": 1}) == c


def test_summary_and_parameter_count():
    c = TrainConfig(hidden=[64])
    assert c.summary(1024, 26) == "1024 → 64 → 26, relu"
    assert parameter_count(1024, [64], 26) == 1024 * 64 + 64 + 64 * 26 + 26
    assert parse_hidden_sizes("32 16") == [32, 16]


def test_durations_read_as_clock_times():
    from engine.training.run import format_duration

    assert [format_duration(s) for s in (0, 75, 3725, float("inf"))] == ["0:00", "1:15", "1:02:05", "–"]


def test_presets_name_everything_and_nothing_leaks():
    for name, values in PRESETS.items():
        needed = {"optim", "lr", "momentum", "weight_decay", "batch_size", "init", "loss_reduction", "val_split"}
        assert needed | {"input_norm", "bias", "precision"} <= set(values), name
    mnist = preset_config("mnist-fnn", optim="sgd")
    assert mnist.momentum == 0 and mnist.weight_decay == 0 and mnist.hidden == [256, 64] and mnist.val_split == 0
    course = preset_config("letters-course")
    assert (course.optim, course.init, course.loss_reduction) == ("adam", "normal", "sum")
