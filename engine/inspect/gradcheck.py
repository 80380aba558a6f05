"""Check every hand-written backward against numerical differentiation.

One helper does it for every op of both engines: for ``L = Σ r · op(inputs)`` with a random
``r``, the exact gradient of each input is ``op.backward(r)``; central differences in float64
estimate it. The torch Functions also go through ``torch.autograd.gradcheck``. The fused
paths training uses (``MLPLossFunction``, ``NumpyMLP.loss_and_grads``) are checked whole,
for both loss reductions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.model import numpy_ops as N


@dataclass
class CheckResult:
    engine: str
    op: str
    passed: bool
    max_error: float  # max |analytic − numerical| over every input's gradient
    detail: str = ""


def finite_difference_error(
    f: Callable[[list[np.ndarray]], np.ndarray],
    inputs: list[np.ndarray],
    grads: list[np.ndarray | None],
    r: np.ndarray,
    eps: float = 1e-6,
) -> float:
    """Max |grads[i] − ∂(Σ r·f)/∂inputs[i]| by central differences (float64), over the inputs with a grad."""
    worst = 0.0
    for x, g in zip(inputs, grads):
        if g is None:
            continue
        num = np.zeros_like(x, dtype=np.float64)
        for j in np.ndindex(x.shape):
            keep = x[j]
            x[j] = keep + eps
            lp = float((f(inputs) * r).sum())
            x[j] = keep - eps
            lm = float((f(inputs) * r).sum())
            x[j] = keep
            num[j] = (lp - lm) / (2 * eps)
        worst = max(worst, float(np.abs(num - np.asarray(g, np.float64)).max()))
    return worst


def _cases(rng: np.random.Generator):
    """(name, torch fn or None, numpy op or None, inputs, which inputs are differentiable, extra args)."""
    from engine.model import functions as F  # torch, imported when a check runs

    x = rng.standard_normal((5, 7))
    x_kink = x + 0.1 * np.sign(x)  # away from relu's kink
    W, b = rng.standard_normal((3, 7)), rng.standard_normal(3)
    z = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    return [
        ("linear", F.linear, N.Linear, [x, W, b], ()),
        ("relu", F.ReLUFunction.apply, N.ReLU, [x_kink], ()),
        ("sigmoid", F.SigmoidFunction.apply, N.Sigmoid, [x], ()),
        ("tanh", F.TanhFunction.apply, N.Tanh, [x], ()),
        ("identity", F.IdentityFunction.apply, N.Identity, [x], ()),
        ("log_softmax", None, N.LogSoftmax, [z], ()),
        ("nll", None, N.NLLLoss, [N.LogSoftmax.forward(N.Context(), z)], (y,)),
        ("cross_entropy (mean)", F.cross_entropy, N.CrossEntropy, [z], (y, "mean")),
        ("cross_entropy (sum)", F.cross_entropy, N.CrossEntropy, [z], (y, "sum")),
    ]


def _check_numpy_op(op, inputs: list[np.ndarray], extra: tuple, rng) -> float:
    def f(ins):
        return np.asarray(op.forward(N.Context(), *[i.copy() for i in ins], *extra), np.float64)

    ctx = N.Context((True,) * len(inputs))
    out = np.asarray(op.forward(ctx, *[i.copy() for i in inputs], *extra))
    r = rng.standard_normal(out.shape)
    grads = op.backward(ctx, r if out.ndim else float(r))
    grads = list(grads) if isinstance(grads, tuple) else [grads]
    return finite_difference_error(f, [i.copy() for i in inputs], grads[: len(inputs)], r)


def _check_torch_fn(fn, inputs: list[np.ndarray], extra: tuple, rng) -> tuple[bool, float]:
    import torch

    ts = [torch.tensor(i, dtype=torch.float64, requires_grad=True) for i in inputs]
    extra_t = tuple(torch.tensor(e) if isinstance(e, np.ndarray) else e for e in extra)
    ok = torch.autograd.gradcheck(lambda *a: fn(*a, *extra_t), ts, eps=1e-6, atol=1e-5, rtol=1e-4)
    out = fn(*ts, *extra_t)
    r = rng.standard_normal(tuple(out.shape))
    grads = torch.autograd.grad(out, ts, torch.tensor(r))

    def f(ins):
        with torch.no_grad():
            return fn(*[torch.tensor(i) for i in ins], *extra_t).numpy()

    return bool(ok), finite_difference_error(f, [i.copy() for i in inputs], [g.numpy() for g in grads], r)


def _mlp_inputs(rng):
    x = rng.standard_normal((5, 6))
    y = rng.integers(0, 4, 5)
    params = [rng.standard_normal(s) * 0.5 for s in ((8, 6), (8,), (7, 8), (7,), (4, 7), (4,))]
    return x, y, params


def _check_fused(engine: str, act: str, reduction: str, rng) -> float:
    """The whole network and its loss, as training computes it, against finite differences."""
    import torch

    from engine.model import functions as F

    x, y, params = _mlp_inputs(rng)
    if engine == "numpy":
        mlp = N.NumpyMLP(6, [8, 7], 4, act)
        mlp.flat = mlp.flat.astype(np.float64)  # float64 buffers for the check
        mlp.flat_grad = mlp.flat_grad.astype(np.float64)
        mlp.params, mlp.grads, off = [], [], 0
        for p in params:
            mlp.params.append(mlp.flat[off : off + p.size].reshape(p.shape))
            mlp.grads.append(mlp.flat_grad[off : off + p.size].reshape(p.shape))
            mlp.params[-1][...] = p
            off += p.size
        mlp.loss_and_grads(x, y, reduction)
        grads = [g.copy() for g in mlp.grads]

        def f(ins):
            for dst, src in zip(mlp.params, ins):
                dst[...] = src
            return np.asarray(N.CrossEntropy.forward(N.Context(), mlp.forward(x), y, reduction))
    else:
        ts = [torch.tensor(p, requires_grad=True) for p in params]
        xt, yt = torch.tensor(x), torch.tensor(y)
        loss, _ = F.MLPLossFunction.apply(act, reduction, xt, yt, *ts)
        grads = [g.numpy() for g in torch.autograd.grad(loss, ts)]

        def f(ins):
            with torch.no_grad():
                return F.MLPLossFunction.apply(act, reduction, xt, yt, *[torch.tensor(i) for i in ins])[0].numpy()

    return finite_difference_error(f, [p.copy() for p in params], grads, np.ones(()))


def run_all(tol: float = 1e-5) -> list[CheckResult]:
    out = []
    rng = np.random.default_rng(0)
    for name, tfn, nop, inputs, extra in _cases(rng):
        for engine, impl in (("torch", tfn), ("numpy", nop)):
            if impl is None:
                continue
            try:
                if engine == "torch":
                    ok, err = _check_torch_fn(impl, inputs, extra, rng)
                    detail = "" if ok else "torch.autograd.gradcheck failed"
                else:
                    err = _check_numpy_op(impl, inputs, extra, rng)
                    ok, detail = True, ""
                out.append(CheckResult(engine, name, ok and err < tol, err, detail))
            except Exception as exc:  # noqa: BLE001 - gradcheck reports failures by raising; a crash fails
                out.append(CheckResult(engine, name, False, float("nan"), str(exc).splitlines()[0][:200]))
    for engine in ("torch", "numpy"):
        for act in ("relu", "sigmoid", "tanh", "identity"):
            for reduction in ("mean", "sum"):
                name = f"mlp+loss ({act}, {reduction})"
                try:
                    err = _check_fused(engine, act, reduction, rng)
                    out.append(CheckResult(engine, name, err < tol, err))
                except Exception as exc:  # noqa: BLE001
                    out.append(CheckResult(engine, name, False, float("nan"), str(exc).splitlines()[0][:200]))
    return out


def format_table(results: list[CheckResult]) -> str:
    lines = [f"{'engine':<7} {'operation':<28} {'result':<6} max |error|"]
    for r in results:
        lines.append(
            f"{r.engine:<7} {r.op:<28} {'PASS' if r.passed else 'FAIL':<6} {r.max_error:.2e} {r.detail}".rstrip()
        )
    n_fail = sum(not r.passed for r in results)
    lines.append(f"{len(results) - n_fail}/{len(results)} passed")
    return "\n".join(lines)
