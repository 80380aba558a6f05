"""Every hand-written backward against a reference: torch gradcheck (float64) and central differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.inspect.gradcheck import format_table, run_all
from engine.model import functions as Fn
from engine.model import numpy_ops as N

RESULTS = run_all()


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: f"{r.engine}-{r.op}")
def test_every_backward_matches_central_differences(result):
    assert result.passed, f"{result.engine} {result.op}: max error {result.max_error} {result.detail}"
    assert result.max_error < 1e-5  # a number for every row, torch ones included


def test_gradcheck_covers_both_engines_both_reductions_and_the_fused_paths():
    names = {(r.engine, r.op) for r in RESULTS}
    for engine in ("torch", "numpy"):
        assert (engine, "cross_entropy (sum)") in names and (engine, "mlp+loss (tanh, sum)") in names


def test_gradcheck_reports_a_broken_backward(monkeypatch):
    """The checker must fail when a backward is wrong, or it proves nothing."""
    monkeypatch.setattr(N.Tanh, "backward", staticmethod(lambda ctx, g: g * (1 - ctx.saved_tensors[0])))
    failed = [r for r in run_all() if not r.passed]
    assert {r.op for r in failed} == {"tanh", "mlp+loss (tanh, mean)", "mlp+loss (tanh, sum)"}
    assert all(r.engine == "numpy" for r in failed)
    monkeypatch.undo()
    monkeypatch.setattr(Fn.SigmoidFunction, "backward", staticmethod(lambda ctx, g: g))
    assert [r.op for r in run_all() if not r.passed] == ["sigmoid"]
    assert "FAIL" in format_table(failed)


def test_a_backward_missing_the_1_over_n_is_caught(monkeypatch):
    """The course's classic mistake: the batch-mean loss's gradient without the 1/N."""

    def no_mean(ctx, g=1.0):
        logp, y = ctx.saved_tensors
        d = np.exp(logp)
        d[np.arange(len(y)), y] -= 1
        return d * g, None

    monkeypatch.setattr(N.CrossEntropy, "backward", staticmethod(no_mean))
    failed = {r.op for r in run_all() if not r.passed}
    assert "cross_entropy (mean)" in failed and "cross_entropy (sum)" not in failed


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
    ctx = N.Context()
    assert np.isfinite(N.CrossEntropy.forward(ctx, np.array([[1000.0, -1000.0, 0.0]], np.float32), np.array([1])))
    assert np.isfinite(N.CrossEntropy.backward(ctx)[0]).all()
    assert np.isfinite(N.Sigmoid.forward(N.Context(), np.array([-1000.0, 1000.0]))).all()


def test_numpy_network_gradients_match_torch_autograd():
    rng = np.random.default_rng(3)
    net = N.NumpyMLP(12, [9, 6], 4, "tanh")
    for p in net.params:
        p[...] = rng.standard_normal(p.shape) * 0.5
    x = rng.standard_normal((5, 12)).astype(np.float32)
    y = rng.integers(0, 4, 5)
    loss, _ = net.loss_and_grads(x, y)
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.params]
    ref = _reference(torch.tensor(x, dtype=torch.float64), torch.tensor(y), tparams, "tanh")
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-5)
    for g, t in zip(net.grads, tparams):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_sum_reduction_gradient_is_n_times_the_mean_one():
    rng = np.random.default_rng(4)
    net = N.NumpyMLP(6, [5], 3, "relu")
    for p in net.params:
        p[...] = rng.standard_normal(p.shape)
    x, y = rng.standard_normal((7, 6)).astype(np.float32), rng.integers(0, 3, 7)
    mean_loss, _ = net.loss_and_grads(x, y, "mean")
    g_mean = net.flat_grad.copy()
    sum_loss, _ = net.loss_and_grads(x, y, "sum")
    assert sum_loss == pytest.approx(7 * mean_loss, rel=1e-5)
    np.testing.assert_allclose(net.flat_grad, 7 * g_mean, rtol=1e-4, atol=1e-6)


def test_numpy_ops_keep_no_state_on_the_operator():
    """Two interleaved calls each get their own gradient: state lives in ctx, never on the op."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((6, 3))
    ca, cb = N.Context(), N.Context()
    N.Tanh.forward(ca, a)
    N.Tanh.forward(cb, b)  # would overwrite a shared self.y
    np.testing.assert_allclose(N.Tanh.backward(ca, np.ones_like(a)), 1 - np.tanh(a) ** 2)
    assert not [k for k in vars(N.Tanh) if not k.startswith("_") and k not in ("forward", "backward")]


def test_central_differences_match_a_known_gradient_and_leave_the_array_as_it_was():
    from engine.model.reference import central_difference, numerical_gradient

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    before = x.copy()
    a = rng.standard_normal((3, 4))

    def loss():
        return float((a * x**3).sum())  # ∂/∂x = 3 a x²

    num = numerical_gradient(loss, x, 1e-6)
    assert np.allclose(num, 3 * a * before**2, atol=1e-6)
    assert (x == before).all()  # every entry put back exactly
    assert central_difference(loss, x, (1, 2), 1e-6) == pytest.approx(3 * a[1, 2] * before[1, 2] ** 2, abs=1e-6)
    only = numerical_gradient(loss, x, 1e-6, at=[(0, 0)])
    assert only[0, 0] != 0 and np.count_nonzero(only) == 1
