"""Every hand-written backward against a reference: torch gradcheck (float64) and central differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine import functions as Fn
from engine import numpy_ops as N
from engine.gradcheck import _torch_cases, check_numpy, check_torch, format_table


@pytest.mark.parametrize("case", _torch_cases(), ids=lambda c: c[0])
def test_torch_function_passes_gradcheck(case):
    _name, fn, inputs = case
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("result", check_numpy(), ids=lambda r: r.op)
def test_numpy_op_matches_central_differences(result):
    assert result.passed, f"{result.op}: max error {result.max_error} {result.detail}"


def test_gradcheck_reports_a_broken_backward(monkeypatch):
    """The checker must fail when a backward is wrong, or it proves nothing."""
    monkeypatch.setattr(N.Tanh, "backward", lambda self, g: g * (1 - self.y))
    failed = [r for r in check_numpy() if not r.passed]
    assert [r.op for r in failed] == ["tanh"]
    monkeypatch.setattr(Fn.SigmoidFunction, "backward", staticmethod(lambda ctx, g: g))
    assert any(r.op == "sigmoid" and not r.passed for r in check_torch())
    assert "FAIL" in format_table(failed)


def _reference(x, y, params, act):
    """The same network on PyTorch built-ins and autograd (float64)."""
    h = x
    n = len(params) // 2
    for i in range(n):
        h = F.linear(h, params[2 * i], params[2 * i + 1])
        if i < n - 1:
            h = {"relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda t: t}[act](h)
    return F.cross_entropy(h, y)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "identity"])
def test_layerwise_fused_and_builtin_agree(act):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 10, dtype=torch.float64, generator=g)
    y = torch.randint(0, 4, (6,), generator=g)
    model = Fn.TorchMLP(10, [7, 5], 4, act).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, dtype=torch.float64, generator=g))
    params = model.params_in_order()
    ref_params = [p.detach().clone().requires_grad_() for p in params]
    ref = _reference(x, y, ref_params, act)
    ref.backward()
    layerwise = Fn.cross_entropy(model(x), y)
    layerwise.backward()
    lw_grads = [p.grad.clone() for p in params]
    loss, logits, direct = Fn.mlp_loss_and_grads(act, x, y, params)
    assert torch.allclose(loss, ref) and torch.allclose(layerwise, ref)
    for a, b, c in zip(lw_grads, direct, [p.grad for p in ref_params]):
        assert torch.allclose(a, c, atol=1e-10) and torch.allclose(b, c, atol=1e-10)


def test_direct_step_equals_autograd_backward_bit_for_bit():
    model = Fn.TorchMLP(32, [16], 5, "relu")
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
    x, y = torch.randn(8, 32), torch.randint(0, 5, (8,))
    loss, _ = model.loss_and_logits(x, y)
    loss.backward()
    _, _, grads = Fn.mlp_loss_and_grads("relu", x, y, model.params_in_order())
    for p, g in zip(model.params_in_order(), grads):
        assert torch.equal(p.grad, g)


def test_cross_entropy_is_stable_for_huge_logits():
    z = torch.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = Fn.cross_entropy(z, torch.tensor([0]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()
    ce = N.CrossEntropy()
    assert np.isfinite(ce.forward(np.array([[1000.0, -1000.0, 0.0]], np.float32), np.array([1])))
    assert np.isfinite(ce.backward()).all()
    assert np.isfinite(N.Sigmoid().forward(np.array([-1000.0, 1000.0]))).all()


def test_numpy_network_gradients_match_torch_autograd():
    rng = np.random.default_rng(3)
    net = N.NumpyMLP(12, [9, 6], 4, "tanh")
    for p in net.params:
        p[...] = rng.standard_normal(p.shape) * 0.5
    x = rng.standard_normal((5, 12)).astype(np.float32)
    y = rng.integers(0, 4, 5)
    loss, _ = net.loss_and_logits(x, y)
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.params]
    ref = _reference(torch.tensor(x, dtype=torch.float64), torch.tensor(y), tparams, "tanh")
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-5)
    for g, t in zip(net.grads, tparams):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_gradients_accumulate_when_a_tensor_feeds_two_ops():
    W = np.ones((2, 3))
    dW = np.zeros_like(W)
    op = N.MatMul(W, dW)
    x = np.arange(6.0).reshape(2, 3)
    g = np.ones((2, 2))
    op.forward(x)
    op.backward(g)
    op.backward(g)  # a second use adds, never overwrites
    np.testing.assert_allclose(dW, 2 * g.T @ x)
