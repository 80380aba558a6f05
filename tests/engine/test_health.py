"""Layer health on constructed cases, collection during training, and its cost bound."""

from __future__ import annotations

import numpy as np

from engine.config import TrainConfig
from engine.training.health import HealthEvent, forward_backward, layer_health
from engine.training.history import History
from engine.training.run import TrainingRun


def net(act="relu", scale=0.1, bias=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((16, 12)) * scale).astype(np.float64),
        np.full(16, bias),
        rng.standard_normal((5, 16)) * 0.3,
        np.zeros(5),
    ]


def data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n, 12)), rng.integers(0, 5, n)


def test_all_negative_biases_kill_every_relu_and_warn_by_name():
    w = net(bias=-100.0)
    x, y = data()
    layers, warnings = layer_health(w, w, "relu", x, y)
    assert layers[0]["dead"] == 1.0 and layers[0]["grad_norm"] == 0.0
    assert any(s.startswith("layer 1: 100% of its ReLUs are dead") for s in warnings)
    assert any(s.startswith("layer 1: gradients vanish") for s in warnings)
    healthy, warnings = layer_health(net(), net(), "relu", x, y)
    assert healthy[0]["dead"] < 0.2 and not warnings


def test_scaled_up_weights_saturate_sigmoid_and_tanh():
    x, y = data()
    for act in ("sigmoid", "tanh"):
        small, _ = layer_health(net(act, 0.01), net(act, 0.01), act, x, y)
        big, warnings = layer_health(net(act, 50.0), net(act, 50.0), act, x, y)
        assert small[0]["saturated"] < 0.05 and big[0]["saturated"] > 0.8
        assert any("saturated" in s and s.startswith("layer 1") for s in warnings)


def test_update_ratio_is_the_step_over_the_weights():
    x, y = data()
    w = net()
    layers, _ = layer_health(w, w, "relu", x, y)
    assert all(d["update_ratio"] == 0.0 for d in layers)  # a zero learning rate changes nothing
    moved = [a + 1e-3 * np.sign(a) for a in w]
    layers, _ = layer_health(w, moved, "relu", x, y)
    expect = np.linalg.norm(moved[0] - w[0]) / np.linalg.norm(w[0])
    assert abs(layers[0]["update_ratio"] - expect) < 1e-12


def test_the_health_gradients_are_the_true_gradients():
    x, y = data(6)
    w = net("tanh", 0.5)
    _i, _z, _y, grads, _q = forward_backward(w, "tanh", x, y)

    def loss(ws):
        z = forward_backward(ws, "tanh", x, y)[1][-1]
        z = z - z.max(1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1))).mean())

    for i in (0, 1, 2):
        num = np.zeros_like(w[i])
        for idx in np.ndindex(w[i].shape):
            p = [a.copy() for a in w]
            m = [a.copy() for a in w]
            p[i][idx] += 1e-6
            m[i][idx] -= 1e-6
            num[idx] = (loss(p) - loss(m)) / 2e-6
        assert np.abs(num - grads[i]).max() < 1e-7


def test_training_collects_health_into_the_history_and_a_zero_rate_means_no_update(small_letters):
    run = TrainingRun(TrainConfig(epochs=3, batch_size=8, engine="numpy", optim="sgd", lr=1e-3), small_letters)
    events = [e for e in run.events() if isinstance(e, HealthEvent)]
    assert events and len(run.history.health) == len(events)
    assert events[0].global_step == 1 and all(e.layers[0]["update_ratio"] > 0 for e in events)
    assert "w_hist" in events[0].layers[0]  # histograms at each epoch's first collection
    back = History.from_dict(run.history.to_dict())
    assert back.health == run.history.health
    frozen = TrainingRun(TrainConfig(epochs=1, batch_size=8, engine="torch", optim="sgd", lr=1e-12), small_letters)
    ratios = [e.layers[0]["update_ratio"] for e in frozen.events() if isinstance(e, HealthEvent)]
    assert ratios and max(ratios) < 1e-9
    off = TrainingRun(TrainConfig(epochs=1, batch_size=8, engine="numpy"), small_letters, health=False)
    assert not any(isinstance(e, HealthEvent) for e in off.events())
