"""Check every hand-written backward against numerical differentiation.

The torch Functions go through ``torch.autograd.gradcheck`` in float64; the
NumPy operators through central differences of a random linear functional
``L = Σ r · op(x)``, whose exact gradient is ``op.backward(r)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine import functions as F
from engine import numpy_ops as N


@dataclass
class CheckResult:
    engine: str
    op: str
    passed: bool
    max_error: float
    detail: str = ""


def _torch_cases() -> list[tuple[str, Callable, tuple]]:
    g = torch.Generator().manual_seed(0)

    def r(*shape, grad=True):
        return torch.randn(*shape, dtype=torch.float64, generator=g).requires_grad_(grad)

    x_away_from_kink = r(5, 7, grad=False)
    x_away_from_kink = (x_away_from_kink + 0.1 * x_away_from_kink.sign()).requires_grad_()
    y = torch.randint(0, 4, (5,), generator=g)
    return [
        ("linear", F.linear, (r(5, 7), r(3, 7), r(3))),
        ("relu", F.ReLUFunction.apply, (x_away_from_kink,)),
        ("sigmoid", F.SigmoidFunction.apply, (r(5, 7),)),
        ("tanh", F.TanhFunction.apply, (r(5, 7),)),
        ("identity", F.IdentityFunction.apply, (r(5, 7),)),
        ("cross_entropy", F.cross_entropy, (r(5, 4), y)),
        *[(f"mlp+loss ({act})", lambda x, W0, b0, W1, b1, W2, b2, act=act:
           F.MLPLossFunction.apply(act, x, y, W0, b0, W1, b1, W2, b2)[0],
           (r(5, 6), r(8, 6), r(8), r(7, 8), r(7), r(4, 7), r(4)))
          for act in ("relu", "sigmoid", "tanh", "identity")],
    ]


def check_torch() -> list[CheckResult]:
    out = []
    for name, fn, inputs in _torch_cases():
        try:
            ok = torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)
            out.append(CheckResult("torch", name, bool(ok), 0.0))
        except Exception as exc:  # noqa: BLE001 - gradcheck reports failures by raising
            out.append(CheckResult("torch", name, False, float("nan"), str(exc).splitlines()[0]))
    return out


def numeric_check(make_op: Callable[[], object], x: np.ndarray, param: np.ndarray | None = None,
                  dparam: np.ndarray | None = None, eps: float = 1e-6) -> float:
    """Max abs difference between ``backward`` and central differences, for x (and a parameter)."""
    rng = np.random.default_rng(1)
    op = make_op()
    y = op.forward(x.copy())
    r = rng.standard_normal(y.shape)
    if dparam is not None:
        dparam[...] = 0
    analytic_x = op.backward(r.copy())
    worst = 0.0

    def loss(xv):
        return float((make_op().forward(xv.copy()) * r).sum())

    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        num[i] = (loss(xp) - loss(xm)) / (2 * eps)
    worst = max(worst, float(np.abs(num - analytic_x).max()))
    if param is not None:
        analytic_p = dparam.copy()
        num_p = np.zeros_like(param)
        for i in np.ndindex(param.shape):
            keep = param[i]
            param[i] = keep + eps
            lp = loss(x)
            param[i] = keep - eps
            lm = loss(x)
            param[i] = keep
            num_p[i] = (lp - lm) / (2 * eps)
        worst = max(worst, float(np.abs(num_p - analytic_p).max()))
    return worst


def check_numpy(tol: float = 1e-5) -> list[CheckResult]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6))
    x_relu = x + 0.1 * np.sign(x)
    W, dW = rng.standard_normal((3, 6)), np.zeros((3, 6))
    b, db = rng.standard_normal(3), np.zeros(3)
    y = np.array([0, 2, 1, 2])
    z = rng.standard_normal((4, 3))

    class _MatMul(N.MatMul):
        def backward(self, g):
            return super().backward(g, need_dx=True)

    class _CE:  # wraps the loss as an op with a vector "output" for the checker
        def __init__(self, cls):
            self.cls = cls

        def forward(self, z_):
            self.op = self.cls()
            return np.array(self.op.forward(z_, y))

        def backward(self, g):
            return self.op.backward(float(g))

    cases = [
        ("matmul", lambda: _MatMul(W, dW), x, W, dW),
        ("bias", lambda: N.Bias(b, db), x[:, :3].copy(), b, db),
        ("relu", N.ReLU, x_relu, None, None),
        ("sigmoid", N.Sigmoid, x, None, None),
        ("tanh", N.Tanh, x, None, None),
        ("identity", N.Identity, x, None, None),
        ("log_softmax", N.LogSoftmax, z, None, None),
        ("nll", lambda: _CE(N.NLLLoss), N.LogSoftmax().forward(z), None, None),
        ("cross_entropy", lambda: _CE(N.CrossEntropy), z, None, None),
    ]
    out = []
    for name, make, xin, p, dp in cases:
        try:
            err = numeric_check(make, xin, p, dp)
            out.append(CheckResult("numpy", name, err < tol, err))
        except Exception as exc:  # noqa: BLE001 - a crash is a failed check, reported
            out.append(CheckResult("numpy", name, False, float("nan"), f"{type(exc).__name__}: {exc}"))
    return out


def run_all() -> list[CheckResult]:
    return check_torch() + check_numpy()


def format_table(results: list[CheckResult]) -> str:
    lines = [f"{'engine':<7} {'operation':<22} {'result':<6} max |error|"]
    for r in results:
        err = "gradcheck" if r.engine == "torch" and r.passed else f"{r.max_error:.2e}"
        lines.append(f"{r.engine:<7} {r.op:<22} {'PASS' if r.passed else 'FAIL':<6} {err} {r.detail}".rstrip())
    n_fail = sum(not r.passed for r in results)
    lines.append(f"{len(results) - n_fail}/{len(results)} passed")
    return "\n".join(lines)
