"""The NumPy optimizers follow torch.optim's update rules step for step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.model.optimizers import NumpyOptimizer


@pytest.mark.parametrize(
    "name,kw",
    [
        ("sgd", {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0}),
        ("sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
        ("adam", {"lr": 0.01, "weight_decay": 0.15}),
        ("adamw", {"lr": 0.01, "weight_decay": 0.15}),
        ("adagrad", {"lr": 0.1, "weight_decay": 0.01}),
        ("rmsprop", {"lr": 0.01, "momentum": 0.0, "weight_decay": 0.0}),
        ("rmsprop", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.01}),
        ("adadelta", {"lr": 1.0, "weight_decay": 0.01}),
    ],
)
@pytest.mark.parametrize("scale", [1.0, 1e-6, 0.0], ids=["N(0,1) grads", "tiny grads", "zero grads"])
def test_numpy_optimizer_matches_torch(name, kw, scale):
    """Tiny and zero gradients make eps dominate: a mis-scaled eps (e.g. adam's not rescaled by
    √(bias correction)) shows there, not with N(0, 1) gradients."""
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(50).astype(np.float32)
    grads = [(rng.standard_normal(50) * scale).astype(np.float32) for _ in range(20)]
    tp = torch.nn.Parameter(torch.tensor(p0.copy()))
    cls = {
        "sgd": torch.optim.SGD,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adadelta": torch.optim.Adadelta,
    }[name]
    topt = cls([tp], **kw)
    p, g = p0.copy(), np.zeros(50, np.float32)
    nopt = NumpyOptimizer(name, p, g, kw["lr"], kw.get("momentum", 0.0), kw.get("weight_decay", 0.0))
    for grad in grads:
        tp.grad = torch.tensor(grad.copy())
        topt.step()
        g[...] = grad
        nopt.step()
    tol = 2e-6 if scale == 1.0 else 1e-9  # tiny steps: compare the displacement itself
    np.testing.assert_allclose(p - p0, tp.detach().numpy() - p0, rtol=2e-4, atol=tol)


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


def test_names_mean_what_pytorch_means():
    """adam is torch.optim.Adam (L2 into the gradient), adamw decoupled, rmsprop momentum 0 by default."""
    from engine.config import TrainConfig
    from engine.model.torch_network import _torch_optimizer

    p = [torch.nn.Parameter(torch.ones(3))]
    assert type(_torch_optimizer(TrainConfig(optim="adam").validate(), p)) is torch.optim.Adam
    assert type(_torch_optimizer(TrainConfig(optim="adamw").validate(), p)) is torch.optim.AdamW
    rms = _torch_optimizer(TrainConfig(optim="rmsprop").validate(), p)
    assert rms.param_groups[0]["momentum"] == 0
    a, b = np.ones(3, np.float32), np.ones(3, np.float32)
    g = np.full(3, 0.1, np.float32)
    NumpyOptimizer("adam", a, g.copy(), 0.01, weight_decay=0.5).step()
    NumpyOptimizer("adamw", b, g.copy(), 0.01, weight_decay=0.5).step()
    assert not np.allclose(a, b)  # the two decays differ on the very first step
