"""One backward pass, step by step, with the actual numbers (``main.py explain``, the Explain view).

For one image: the forward pass layer by layer (z = x Wᵀ + b, y = f(z), softmax q, the loss
−log q_y), then the backward pass as the courses derive it: ∂L/∂z = q − onehot(y) at the output;
for each layer ∂L/∂W = (∂L/∂z)ᵀ x, ∂L/∂b = ∂L/∂z, ∂L/∂x = ∂L/∂z W; below it ∂L/∂z = ∂L/∂y ⊙ f′
written through y. Each backward step is checked against both engines' backward passes and a
central finite-difference probe, in float64. "Apply this update" gives the loss on this image
after one SGD step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.i18n import _
from engine.model.maths import activation_grad, cross_entropy
from engine.model.reference import central_difference, forward, forward_backward

DERIVATIVE = {
    "relu": ("[y > 0]", "∂L/∂z = ∂L/∂y ⊙ [y > 0]"),
    "sigmoid": ("y (1 − y)", "∂L/∂z = ∂L/∂y ⊙ y (1 − y)"),
    "tanh": ("1 − y²", "∂L/∂z = ∂L/∂y ⊙ (1 − y²)"),
    "identity": ("1", "∂L/∂z = ∂L/∂y"),
}
FORWARD = {"relu": "max(z, 0)", "sigmoid": "1 / (1 + e^−z)", "tanh": "tanh z", "identity": "z"}
TOL = 1e-6


@dataclass
class Step:
    """One line of the step-through: a formula, its shapes and its numbers."""

    phase: str  # "forward" | "backward"
    layer: int  # 1-based linear layer (0: the input / the loss)
    name: str  # e.g. "z₁", "∂L/∂W₂"
    formula: str
    value: np.ndarray
    shape: tuple = ()
    check: bool | None = None  # backward steps: equal to the engines and finite differences
    detail: str = ""

    @property
    def norm(self) -> float:
        return float(np.linalg.norm(self.value))


@dataclass
class Explanation:
    steps: list[Step] = field(default_factory=list)
    loss: float = 0.0
    label: int = 0
    predicted: int = 0
    q: np.ndarray | None = None
    grads: list = field(default_factory=list)
    all_checked: bool = True

    def backward(self) -> list[Step]:
        return [s for s in self.steps if s.phase == "backward"]


def _sub(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _loss(weights, act, x, y) -> float:
    return cross_entropy(forward(weights, act, x)[1][-1], y)


def _engine_grads(weights, act, x, y) -> dict[str, list[np.ndarray]]:
    """Both engines' own backward passes (their hand-written Functions/operators), in float64."""
    import torch

    from engine.model.functions import mlp_loss_and_grads
    from engine.model.numpy_ops import NumpyMLP

    params = [torch.from_numpy(w.copy()) for w in weights]
    _l, _z, tg = mlp_loss_and_grads(act, torch.from_numpy(x), torch.from_numpy(y), params)
    sizes = [weights[0].shape[1], *[w.shape[0] for w in weights[0:-2:2]]]
    npm = NumpyMLP(sizes[0], sizes[1:], weights[-2].shape[0], act)
    npm.flat = npm.flat.astype(np.float64)
    npm.flat_grad = npm.flat_grad.astype(np.float64)
    npm.params, npm.grads, off = [], [], 0
    for w in weights:
        npm.params.append(npm.flat[off : off + w.size].reshape(w.shape))
        npm.grads.append(npm.flat_grad[off : off + w.size].reshape(w.shape))
        off += w.size
    for p, w in zip(npm.params, weights, strict=True):
        p[...] = w
    npm.loss_and_grads(x, y)
    return {"torch": [g.numpy() for g in tg], "numpy": [g.copy() for g in npm.grads]}


def _fd_probe(weights, act, x, y, i: int, grad: np.ndarray, rng, k: int = 6) -> float:
    """Largest relative error of ``grad`` against central differences at ``k`` random entries."""
    w = weights[i]
    worst = 0.0
    scale = 1e-2 * float(np.abs(grad).max())  # entries far below the largest are compared on its scale
    flat = np.abs(grad).ravel()
    picks = [int(flat.argmax())] + [int(rng.integers(0, flat.size)) for _ in range(k - 1)]
    for p in picks:
        idx = np.unravel_index(p, w.shape)
        num = central_difference(lambda: _loss(weights, act, x, y), w, idx, 1e-5)
        worst = max(worst, abs(num - grad[idx]) / max(abs(num), abs(grad[idx]), scale, 1e-12))
    return worst


def explain(weights: list[np.ndarray], act: str, x: np.ndarray, label: int) -> Explanation:
    """The step-through for one image ``x`` (normalised, shape [features]) with true ``label``."""
    weights = [np.asarray(w, np.float64) for w in weights]
    xb = np.asarray(x, np.float64).reshape(1, -1)
    y = np.array([int(label)])
    ins, zs, ys, grads, q = forward_backward(weights, act, xb, y)
    n = len(weights) // 2
    ex = Explanation(label=int(label), q=q[0], grads=grads, predicted=int(np.argmax(q[0])))
    ex.loss = float(-np.log(max(q[0, label], 1e-300)))
    add = ex.steps.append
    add(Step("forward", 0, "x", "the input as the network sees it (normalised pixels)", xb[0], xb.shape))
    for i in range(n):
        k = _sub(i + 1)
        W = weights[2 * i]
        add(
            Step(
                "forward",
                i + 1,
                f"z{k}",
                f"z{k} = {'x' if i == 0 else 'y' + _sub(i)} W{k}ᵀ + b{k}",
                zs[i][0],
                zs[i].shape,
                detail=f"[1×{W.shape[1]}] · [{W.shape[1]}×{W.shape[0]}] + [{W.shape[0]}]",
            )
        )
        if i < n - 1:
            add(Step("forward", i + 1, f"y{k}", f"y{k} = {FORWARD[act]} (elementwise on z{k})", ys[i][0], ys[i].shape))
    add(Step("forward", n, "q", f"q = softmax(z{_sub(n)})", q[0], q.shape))
    add(Step("forward", 0, "L", f"L = −log q_y = −log q[{label}]", np.array([ex.loss]), (1,)))

    engines = _engine_grads(weights, act, xb, y)
    rng = np.random.default_rng(0)

    def verdict(i: int, mine: np.ndarray) -> tuple[bool, str]:
        grads[i] = mine  # the chain's own numbers are what is checked (and what "apply" would use)
        e = {
            name: float(np.abs(g[i] - grads[i]).max() / max(np.abs(grads[i]).max(), 1e-12))
            for name, g in engines.items()
        }
        fd = _fd_probe(weights, act, xb, y, i, grads[i], rng)
        ok = bool(all(v < TOL for v in e.values()) and fd < 1e-4)
        return ok, _("torch engine {torch}, numpy engine {numpy}, finite differences {fd}").format(
            torch=f"{e['torch']:.1e}", numpy=f"{e['numpy']:.1e}", fd=f"{fd:.1e}"
        )

    dz = q.copy()
    dz[0, label] -= 1
    add(Step("backward", n, f"∂L/∂z{_sub(n)}", "∂L/∂z = q − onehot(y)", dz[0], dz.shape))
    for i in reversed(range(n)):
        k = _sub(i + 1)
        xin = "x" if i == 0 else f"y{_sub(i)}"
        ok, detail = verdict(2 * i, dz.T @ ins[i])
        add(
            Step(
                "backward",
                i + 1,
                f"∂L/∂W{k}",
                f"∂L/∂W{k} = (∂L/∂z{k})ᵀ {xin}",
                grads[2 * i],
                grads[2 * i].shape,
                ok,
                detail,
            )
        )
        ok_b, detail_b = verdict(2 * i + 1, dz.sum(0))
        add(
            Step(
                "backward",
                i + 1,
                f"∂L/∂b{k}",
                f"∂L/∂b{k} = ∂L/∂z{k}",
                grads[2 * i + 1],
                grads[2 * i + 1].shape,
                ok_b,
                detail_b,
            )
        )
        dx = dz @ weights[2 * i]
        add(Step("backward", i + 1, f"∂L/∂{xin}", f"∂L/∂{xin} = ∂L/∂z{k} W{k}", dx[0], dx.shape))
        ex.all_checked = ex.all_checked and ok and ok_b
        if i:
            dz = dx * activation_grad(act, ys[i - 1])
            ks = _sub(i)
            add(
                Step(
                    "backward",
                    i,
                    f"∂L/∂z{ks}",
                    DERIVATIVE[act][1].replace("∂L/∂z", f"∂L/∂z{ks}").replace("∂L/∂y", f"∂L/∂y{ks}"),
                    dz[0],
                    dz.shape,
                    detail=f"f′(z) = {DERIVATIVE[act][0]}, written through y{ks}",
                )
            )
    return ex


def apply_update(weights: list[np.ndarray], act: str, x: np.ndarray, label: int, lr: float) -> tuple[float, float]:
    """The loss on this image before and after one SGD step of rate ``lr`` on it alone."""
    weights = [np.asarray(w, np.float64) for w in weights]
    xb = np.asarray(x, np.float64).reshape(1, -1)
    y = np.array([int(label)])
    grads = forward_backward(weights, act, xb, y)[3]
    after = [w - lr * g for w, g in zip(weights, grads, strict=True)]
    return _loss(weights, act, xb, y), _loss(after, act, xb, y)


def format_explanation(ex: Explanation, classes: list[str]) -> str:
    lines = [
        _("label {label}, predicted {predicted} (q = {q}); loss −log q_y = {loss}").format(
            label=classes[ex.label],
            predicted=classes[ex.predicted],
            q=f"{ex.q[ex.predicted]:.3f}",
            loss=f"{ex.loss:.4f}",
        )
    ]
    for s in ex.steps:
        mark = "" if s.check is None else ("  ✓ " if s.check else "  ✗ ") + s.detail
        shape = "×".join(map(str, s.shape))
        lines.append(f"{s.phase:<8} {s.name:<8} [{shape:>8}] ‖·‖ {s.norm:10.4g}   {s.formula}{mark}")
    lines.append(
        _("every backward step equals both engines and finite differences")
        if ex.all_checked
        else _("SOME backward steps differ from the engines or finite differences")
    )
    return "\n".join(lines)
