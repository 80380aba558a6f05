"""The NumPy optimizers follow torch.optim's update rules step for step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.numpy_ops import NumpyOptimizer


@pytest.mark.parametrize("name,kw", [
    ("sgd", {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01, "weight_decay": 0.15}),
    ("adagrad", {"lr": 0.1, "weight_decay": 0.01}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.0, "weight_decay": 0.0}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.01}),
    ("adadelta", {"lr": 1.0, "weight_decay": 0.01}),
])
def test_numpy_optimizer_matches_torch(name, kw):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(50).astype(np.float32)
    grads = [rng.standard_normal(50).astype(np.float32) for _ in range(20)]
    tp = torch.nn.Parameter(torch.tensor(p0.copy()))
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.AdamW, "adagrad": torch.optim.Adagrad,
           "rmsprop": torch.optim.RMSprop, "adadelta": torch.optim.Adadelta}[name]
    topt = cls([tp], **kw)
    p, g = p0.copy(), np.zeros(50, np.float32)
    nopt = NumpyOptimizer(name, p, g, kw["lr"], kw.get("momentum", 0.0), kw.get("weight_decay", 0.0))
    for grad in grads:
        tp.grad = torch.tensor(grad.copy())
        topt.step()
        g[...] = grad
        nopt.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=2e-5, atol=2e-6)


def test_optimizer_state_round_trips():
    p, g = np.ones(4, np.float32), np.full(4, 0.5, np.float32)
    a = NumpyOptimizer("adam", p, g, 0.1)
    a.step()
    q = np.ones(4, np.float32)
    b = NumpyOptimizer("adam", q, g, 0.1)
    b.load_state_dict(a.state_dict())
    q[...] = p
    a.step()
    b.step()
    np.testing.assert_array_equal(p, q)
