"""Check the user's own ops against the studio's reference, and say what is wrong in words.

Everything here that calls user code runs in a sandbox child (:mod:`engine.inspect.sandbox`):
:func:`check_files` and :func:`race_files` are the children's entry points and return plain
data (dicts, lists, numbers, strings) that the CLI and the window show.

Each op with a role is run on random inputs at batch sizes 1, 8 and 37 in float64: the forward
error and each input's gradient error relative to the reference. A failure is then matched
against the signatures of the usual mistakes (a factor of the batch size, a transposed weight
gradient, an unsummed bias gradient, an activation derivative through the wrong tensor, an
overflowing softmax, a saved tensor changed in place, the wrong number of gradients, results
that change from call to call, a failure at batch size 1) and each match is said in plain words
with its evidence. Then the whole MLP built from the ops is checked end to end against central
finite differences.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
from pathlib import Path

import numpy as np

from engine.i18n import _
from engine.inspect import guard
from engine.inspect.check_result import FilesCheck, MlpResult, OpResult, RaceResult
from engine.model import userops as U
from engine.model.reference import numerical_gradient

BATCHES = (1, 8, 37)
FWD_TOL = 1e-6
GRAD_TOL = 1e-5
FWD_TOL32, GRAD_TOL32 = 1e-4, 1e-3  # relative, for code that runs only in float32
E2E_TOL32 = 1e-2  # float32 finite differences (eps 1e-2) against their float32 backward
E2E_TOL = 1e-5
GRAD_NAMES = {
    "linear": ["x", "W", "b"],
    "matmul": ["x", "W"],
    "cross_entropy": ["logits", "labels"],
    "nll": ["log-probabilities", "labels"],
}


def rel_err(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    if not np.all(np.isfinite(a)):
        return float("inf")
    denom = max(np.linalg.norm(b), 1e-12)
    return float(np.linalg.norm(a - b) / denom)


def user_frames(exc: BaseException, files: list[str], limit: int = 6) -> str:
    """The traceback trimmed to frames in the user's files, and the error line."""
    folders = {str(Path(f).resolve().parent) for f in files}  # their files and the modules beside them
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if str(Path(f.filename).resolve().parent) in folders]
    lines = [f'  File "{Path(f.filename).name}", line {f.lineno}, in {f.name}\n    {f.line or ""}' for f in frames]
    err = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return "\n".join([*lines[-limit:], err]) if lines else err


# == one op ======================================================================================
def _constant_factor(u, r) -> float | None:
    """s if u ≈ s·r for one constant s (r not ~0), else None."""
    u, r = np.asarray(u, np.float64), np.asarray(r, np.float64)
    if u.shape != r.shape or not np.all(np.isfinite(u)):
        return None
    rr = float((r * r).sum())
    if rr < 1e-20:
        return None
    s = float((u * r).sum() / rr)
    if np.linalg.norm(u - s * r) > 1e-6 * max(np.linalg.norm(u), 1e-12):
        return None
    return s


def _activation_alternatives(role: str, x, g) -> dict:
    """What an activation's backward gives when written with the wrong tensor."""
    sig = 1 / (1 + np.exp(-x))
    if role == "sigmoid":
        return {
            "input": g * x * (1 - x),  # σ'(x) written as x(1-x): the input where the output is needed
            "output": g * (1 / (1 + np.exp(-sig))) * (1 - 1 / (1 + np.exp(-sig))),  # σ(y)(1-σ(y)): through y
        }
    if role == "tanh":
        t = np.tanh(x)
        return {"input": g * (1 - x * x), "output": g * (1 - np.tanh(t) ** 2)}
    return {}


def _diagnose_grad(role, k, name, u, r, n, x, g) -> list[str]:
    """Plain-words reasons for a wrong gradient ``u`` (reference ``r``) of input ``k``."""
    if u is None:
        return [_("backward returned None for the gradient of {name}").format(name=name)]
    u = np.asarray(u, np.float64)
    said = _shape_mistake(role, k, name, u, r, n)
    if said is None and u.shape == r.shape:
        said = _activation_mistake(role, u, x, g) or _factor_mistake(name, u, r, n)
    return [said] if said else []


def _shape_mistake(role, k, name, u, r, n) -> str | None:
    """A gradient of the wrong shape: transposed, a bias gradient not summed, or just wrong."""
    if role in ("linear", "matmul") and k == 1 and u.shape == r.T.shape and u.shape != r.shape:
        if np.allclose(u, r.T, rtol=1e-6, atol=1e-9):
            return _(
                "the gradient of {name} is transposed: it has shape {shape}, {name} has {expected} "
                "(dW = gᵀ x for y = x Wᵀ + b)"
            ).format(name=name, shape=list(u.shape), expected=list(r.shape))
    if role == "linear" and k == 2 and u.ndim == 2 and u.shape[0] == n and u.shape[1:] == r.shape:
        if np.allclose(u.sum(0), r, rtol=1e-6, atol=1e-9):
            return _(
                "the bias gradient is not summed over the batch: shape {shape} where b has {expected} "
                "(db = Σ over the batch of g)"
            ).format(shape=list(u.shape), expected=list(r.shape))
    if u.shape != r.shape:
        return _("the gradient of {name} has shape {shape}, expected {expected}").format(
            name=name, shape=list(u.shape), expected=list(r.shape)
        )
    return None


def _activation_mistake(role, u, x, g) -> str | None:
    """An activation's derivative written from its input, or from the activation of its output."""
    formula = "σ′ = y(1 − y)" if role == "sigmoid" else "tanh′ = 1 − y²"
    for which, alt in _activation_alternatives(role, x, g).items():
        if rel_err(u, alt) < 1e-6:
            if which == "input":
                return _(
                    "the derivative is written with the input x where it needs the output y: {formula}, "
                    "with y from forward"
                ).format(formula=formula)
            return _("the derivative applies the activation again to its output: use y directly ({formula})").format(
                formula=formula
            )
    return None


def _factor_mistake(name, u, r, n) -> str | None:
    """A gradient a constant factor away from the reference: N, 1/N, −1 or another number."""
    s = _constant_factor(u, r)
    if s is None or n <= 1:
        return None
    if abs(s - n) < 1e-6 * n:
        return _(
            "the gradient of {name} is {n}× the reference at batch size {n} (a factor equal to the "
            "batch size): the loss is a batch mean: did you divide by N?"
        ).format(name=name, n=n)
    if abs(s * n - 1) < 1e-6:
        return _(
            "the gradient of {name} is 1/{n} of the reference at batch size {n}: divided by the "
            "batch size once too often (or a mean where a sum is needed)"
        ).format(name=name, n=n)
    if abs(s + 1) < 1e-6:
        return _("the gradient of {name} has the wrong sign").format(name=name)
    if abs(s - 1) > 1e-6:
        return _("the gradient of {name} is off by a constant factor {factor}").format(name=name, factor=f"{s:.4g}")
    return None


def _float32(value):
    """Float arrays (one, or a list of them) as float32; anything else as it is."""
    if isinstance(value, list):
        return [_float32(v) for v in value]
    a = np.asarray(value)
    return a.astype(np.float32) if np.issubdtype(a.dtype, np.floating) else value


_GUARD: dict = {"snapshot": None, "replaced": []}  # set by check_files: what the user's code may not change


def _put_back() -> None:
    """Undo any change the user's code made to the names the check computes with (engine.inspect.guard)."""
    if _GUARD["snapshot"] is not None:
        _GUARD["replaced"] += guard.restore(_GUARD["snapshot"])


def _run_once(cls, style, role, variant, inputs, g):
    op = U.Op(cls, style, len(inputs))
    given = U.user_inputs(role, inputs, variant)
    before = [np.array(a, copy=True) for a in given]
    try:
        with np.errstate(all="ignore"):
            out = op.forward(*given)
    finally:
        _put_back()
    changed = [i for i, (a, b) in enumerate(zip(given, before, strict=True)) if not np.array_equal(a, b)]
    try:
        with np.errstate(all="ignore"):
            grads = op.backward(g)
    finally:
        _put_back()
    return op, np.asarray(out, np.float64), list(grads), changed, op.modified_saved()


def replaced_note(names: list[str]) -> str:
    return _(
        "your code replaces {names} (a monkeypatch of what the check computes with): the check put it back, "
        "but a verdict your code can rewrite cannot be trusted; remove the assignment"
    ).format(names=", ".join(sorted(set(names))[:5]))


LOSS_ROLES = ("cross_entropy", "nll")


def _autograd_sums(style: str, role: str, k: int, u, r, n: int) -> bool:
    """A torch Function's bias gradient given per sample ([N, out]) where autograd sums it to the
    bias's shape: right after autograd, wrong as returned (a WARN, not a FAIL)."""
    if style == "numpy" or role != "linear" or k != 2 or u is None:
        return False
    u = np.asarray(u, np.float64)
    return u.ndim == 2 and u.shape[0] == n and u.shape[1:] == np.shape(r) and np.allclose(u.sum(0), r, 1e-6, 1e-9)


def convention_warning(found: str, expected: str, n: int) -> str:
    """What a loss gradient in the other reduction convention means, for the course and for a fix."""
    if found == "sum":
        return _(
            "backward gives the gradient of the summed loss ({n}× the batch-mean loss's at batch size {n}) while "
            "forward returns the mean: inconsistent by a factor of N (the batch size). This is the letters "
            "course template's convention and its published hyperparameters assume it: checked with "
            "--reduction sum (or --preset letters-course) this passes. If you fix it (divide by N), train the "
            "same way with the weight decay ÷ N under Adam's L2 decay (0.15 → 0.15/8 ≈ 0.019 at batch 8), and "
            "with SGD also the learning rate × N; with the course's settings unchanged the decay is N× stronger "
            "and the accuracy drops (measured: 0.80 → 0.46)"
        ).format(n=n)
    return _(
        "backward gives the gradient of the batch-mean loss, 1/{n} of what the summed-loss convention expects "
        "at batch size {n} (you asked for --reduction {expected}): consistent with a mean forward, the textbook "
        "choice, but the letters course's published hyperparameters assume the summed-loss gradient: to train "
        "as the course does, multiply the weight decay by N under Adam (with SGD: learning rate ÷ N, weight "
        "decay × N), or check with --reduction mean"
    ).format(n=n, expected=expected)


def check_op(f: U.Found, cls, variant: dict, files: list[str], reduction: str = "mean") -> OpResult:
    """The checks of one op: rows per batch size, and diagnoses (FAIL) and warnings (WARN).

    ``reduction``: the convention the loss's backward is expected to follow, ``mean`` (the
    gradient of the batch-mean loss) or ``sum`` (of the summed loss, the letters course's
    template, whose forward still returns the mean). A loss gradient in the other convention is
    a WARN that explains it, not a FAIL."""
    return _OpCheck(f, cls, variant, files, reduction).run()


class _OpCheck:
    """One op checked at each batch size of ``BATCHES``: its forward against the reference, each
    gradient against the reference's, the number of gradients, in-place writes, determinism —
    then, across batch sizes, each finding said once (with the other sizes it was seen at)."""

    def __init__(self, f: U.Found, cls, variant: dict, files: list[str], reduction: str):
        self.f, self.cls, self.variant, self.files, self.reduction = f, cls, variant, files, reduction
        self.role = f.role
        self.names = GRAD_NAMES.get(self.role, ["x"])
        self.res = {
            "name": f.name,
            "role": self.role,
            "style": f.style,
            "how": f.how,
            "file": Path(f.file).name,
            "line": f.line,
            "rows": [],
            "diagnoses": [],
            "passed": True,
            "forward_error": 0.0,
            "grad_errors": {},
            "warnings": [],
            "convention": None,  # the loss gradient's convention when it is not the one expected
        }
        self.diags: dict[str, tuple[str, list[int]]] = {}  # the same finding at several batch sizes is said once
        self.warned: dict[str, str] = {}
        self.n = 0  # the batch size being checked (0: none, after the loop)

    # -- findings --------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """A FAIL's diagnosis, said once with the batch sizes it was seen at."""
        _first, seen = self.diags.setdefault(re.sub(r"\d+", "N", text), (text, []))
        if self.n and self.n not in seen:
            seen.append(self.n)

    def warn(self, text: str) -> None:
        self.warned.setdefault(re.sub(r"\d+", "N", text), text)

    def grad_name(self, k: int) -> str:
        return self.names[k] if k < len(self.names) else f"input {k}"

    # -- the check -------------------------------------------------------------------------------
    def run(self) -> OpResult:
        if self.role in ("ignore",):
            self.res["passed"] = None
            self.res["forward_error"] = None  # not checked: shown as "–"
            return OpResult.from_dict(self.res)
        rng = np.random.default_rng(0)
        for n in BATCHES:
            self.n = n
            self._batch(n, rng)
        self.n = 0
        return self._finish()

    def _batch(self, n: int, rng) -> None:
        role = self.role
        row = {"batch": n, "forward": None, "grads": {}, "error": ""}
        self.res["rows"].append(row)
        inputs = (
            U.probe_inputs("relu", n, rng)
            if role == "activation"
            else U.probe_inputs(role, n, rng, variant=self.variant)
        )
        x = inputs[0]
        called = self._call(inputs, rng, row)
        if called is None:
            return
        g, ref, out, grads, changed, modified, ftol, gtol = called
        in_place = self._in_place_texts(changed, modified)
        count_wrong = self._count(grads, len(inputs))
        if role == "activation":
            row["forward"] = 0.0 if out.shape == x.shape else float("inf")
        else:
            row["forward"] = rel_err(out, ref)
            if not np.isfinite(row["forward"]) or row["forward"] > ftol:
                self.res["passed"] = False
            self._gradients(row, inputs, g, grads, ftol, gtol, count_wrong)
        if in_place:
            self._in_place_verdict(in_place, row, ftol, gtol)
        self._again(inputs, g, out, grads)

    def _call(self, inputs: list, rng, row: dict):
        """Their forward and backward on ``inputs``, in float64, or in float32 where only that works:
        (g, reference output, output, gradients, changed inputs, modified saved tensors, tolerances),
        or None when it fails in both (the row says their error)."""
        role = self.role
        try:
            with np.errstate(all="ignore"):
                ref = U.reference_forward(role, inputs, self.variant) if role != "activation" else None
            if role in ("cross_entropy", "nll"):
                g = np.asarray(1.0)
            else:
                g = rng.standard_normal(inputs[0].shape if ref is None else np.shape(ref))
            _op, out, grads, changed, modified = _run_once(self.cls, self.f.style, role, self.variant, inputs, g)
            return g, ref, out, grads, changed, modified, FWD_TOL, GRAD_TOL
        except Exception as exc:  # noqa: BLE001 - their error, shown with their frames
            try:  # code that works only in float32, the dtype it trains in, is checked in float32
                _op, out, grads, changed, modified = _run_once(
                    self.cls, self.f.style, role, self.variant, _float32(inputs), _float32(g)
                )
            except Exception:  # noqa: BLE001 - fails in both: their error, as float64 gave it
                row["error"] = user_frames(exc, self.files)
                self.res["passed"] = False
                return None
            self.warn(
                _(
                    "works only in float32, the dtype it trains in (in float64: {error}); checked in float32, "
                    "to float32's precision"
                ).format(error=user_frames(exc, self.files).strip().splitlines()[-1])
            )
            return g, ref, out, grads, changed, modified, FWD_TOL32, GRAD_TOL32

    def _in_place_texts(self, changed: list, modified: list) -> list[str]:
        """Said after the gradients are compared: a FAIL if they are wrong, else a WARN."""
        texts = []
        if changed:
            texts.append(
                _(
                    "forward changes its input in place (input {inputs}): the caller's array, or a tensor saved "
                    "for backward, is modified; work on a copy"
                ).format(inputs=", ".join(self.names[i] if i < len(self.names) else str(i) for i in changed))
            )
        if modified:
            texts.append(
                _(
                    "a tensor saved for backward was then modified in place in forward (saved tensor #{i}): "
                    "backward sees the changed values; save a copy or avoid the in-place op"
                ).format(i=modified[0] + 1)
            )
        return texts

    def _count(self, grads: list, n_inputs: int) -> bool:
        """The number of gradients: one per forward input (torch), or one per differentiable input."""
        n_diff = n_inputs - (1 if self.role in ("cross_entropy", "nll") else 0)
        if self.f.style != "numpy" and len(grads) != n_inputs:
            self.say(
                _("backward returns {n} gradient(s); forward takes {inputs} inputs (return one per input)").format(
                    n=len(grads), inputs=n_inputs
                )
            )
            return True
        if self.f.style == "numpy" and len(grads) not in (n_inputs, n_diff):
            self.say(
                _("backward returns {n} gradient(s) for {inputs} differentiable input(s)").format(
                    n=len(grads), inputs=n_diff
                )
            )
            return True
        return False

    def _gradients(self, row: dict, inputs: list, g, grads: list, ftol: float, gtol: float, count_wrong: bool):
        role, n, reduction = self.role, self.n, self.reduction
        with np.errstate(all="ignore"):
            refs = U.reference_backward(role, inputs, g, self.variant)
        if role in LOSS_ROLES and reduction == "sum":
            refs = [refs[0] * n, *refs[1:]]  # the summed loss's gradient, as the course's template gives
        n_diff = len(inputs) - (1 if role in LOSS_ROLES else 0)
        for k in range(n_diff):
            u = grads[k] if k < len(grads) else None
            err = rel_err(u, refs[k]) if u is not None else float("inf")
            if err > gtol and k == 0 and role in LOSS_ROLES and n > 1 and row["forward"] <= ftol:
                if self._other_convention(row, u, refs[k]):
                    continue
            if err > gtol and _autograd_sums(self.f.style, role, k, u, refs[k], n):
                row["grads"][self.names[k]] = rel_err(np.sum(u, 0), refs[k])  # what autograd makes of it
                self.warn(
                    _(
                        "the bias gradient is not summed over the batch (shape {shape} where b has {expected}): "
                        "autograd sums it to b's shape for you, so training works, but what your backward "
                        "returns is not ∂L/∂b; return g.sum(0)"
                    ).format(shape=list(np.shape(u)), expected=list(np.shape(refs[k])))
                )
                continue
            row["grads"][self.grad_name(k)] = err
            if err > gtol:
                self.res["passed"] = False
                if u is None and count_wrong:
                    continue
                for d in _diagnose_grad(role, k, self.grad_name(k), u, refs[k], n, inputs[0], g):
                    self.say(d)

    def _other_convention(self, row: dict, u, ref) -> bool:
        """A loss gradient exactly N (or 1/N) times the expected one: the other convention, a WARN."""
        s = _constant_factor(u, ref)
        other = {"mean": ("sum", self.n), "sum": ("mean", 1 / self.n)}[self.reduction]
        if s is None or abs(s - other[1]) >= 1e-6 * max(other[1], 1):
            return False
        self.res["convention"] = other[0]
        row["grads"][self.names[0]] = rel_err(u, ref * other[1])  # exact in its convention
        self.warn(convention_warning(other[0], self.reduction, self.n))
        return True

    def _in_place_verdict(self, in_place: list[str], row: dict, ftol: float, gtol: float) -> None:
        wrong = any(v > gtol or not np.isfinite(v) for v in row["grads"].values()) or (
            row["forward"] is not None and row["forward"] > ftol
        )
        if wrong:
            for text in in_place:
                self.say(text)
        else:
            self.warn(
                _(
                    "forward works in place on its input (as the course template's ReLU does): forward and "
                    "every gradient are still exact, and training is the same. It is unsafe when the caller "
                    "uses that input again (a residual connection, a second loss, a layer's saved output): "
                    "work on a copy if in doubt"
                )
            )

    def _again(self, inputs: list, g, out, grads: list) -> None:
        """The same inputs again: the same numbers?"""
        try:
            _op2, out2, grads2, _c, _m = _run_once(self.cls, self.f.style, self.role, self.variant, inputs, g)
        except Exception:  # noqa: BLE001 - the first call worked; a second that fails is said above
            return
        same = np.allclose(out2, out, rtol=1e-12, atol=0, equal_nan=True) and all(
            (a is None and b is None)
            or (a is not None and b is not None and np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True))
            for a, b in zip(grads, grads2, strict=False)
        )
        if not same:
            self.res["passed"] = False
            self.say(_("non-deterministic: the same inputs give different results on a second call"))

    def _say_errors(self, failed: list[dict]) -> None:
        """Their code raised at some batch sizes: said once, with the sizes."""
        last = failed[0]["error"].splitlines()[-1]
        if len(failed) == 1 and failed[0]["batch"] == 1:
            self.say(_("fails on batch size 1 (works on larger batches): {error}").format(error=last))
        else:
            sizes = ", ".join(str(r["batch"]) for r in failed)
            self.say(_("raises an error at batch size {sizes}: {error}").format(sizes=sizes, error=last))

    def _example(self) -> dict | None:
        try:
            return worked_example(
                self.cls, self.f.style, self.role, self.variant, self.reduction, self.res["convention"]
            )
        except Exception:  # noqa: BLE001 - an example is a help, never a new failure
            return None

    def _finish(self) -> OpResult:
        res, role = self.res, self.role
        failed = [r for r in res["rows"] if r["error"]]
        if failed:
            self._say_errors(failed)
        if role in ("softmax", "cross_entropy"):
            _check_extremes(self.cls, self.f.style, role, self.variant, self.warn, res)
        errs = [r["forward"] for r in res["rows"] if r["forward"] is not None]
        res["forward_error"] = max(errs) if errs else None
        for r in res["rows"]:
            for k, v in r["grads"].items():
                res["grad_errors"][k] = max(res["grad_errors"].get(k, 0.0), v)
        if failed or self.diags:
            res["passed"] = False
        res["diagnoses"] = [
            text
            + (_(" (also at batch sizes {sizes})").format(sizes=", ".join(map(str, seen[1:]))) if len(seen) > 1 else "")
            for text, seen in self.diags.values()
        ]
        res["warnings"] = list(self.warned.values())
        if (self.diags or res["convention"]) and role != "activation":
            res["example"] = self._example()
        return OpResult.from_dict(res)


EXAMPLE_ROWS = 2  # a worked example is a batch of two: small enough to read, large enough for a 1/N


def worked_example(cls, style, role, variant, reduction: str, convention: str | None) -> dict | None:
    """The first gradient that differs from the reference, at batch size 2, beside the expected
    one: {"grad", "inputs" (name → rows), "expected", "theirs"} as nested lists rounded to four
    significant digits (at most 6 columns), or None when every gradient matches."""
    rng = np.random.default_rng(2)
    inputs = U.probe_inputs(role, EXAMPLE_ROWS, rng, variant=variant)
    with np.errstate(all="ignore"):
        ref = U.reference_forward(role, inputs, variant)
    g = np.asarray(1.0) if role in LOSS_ROLES else rng.standard_normal(np.shape(ref))
    _op, _out, grads, _c, _m = _run_once(cls, style, role, variant, inputs, g)
    with np.errstate(all="ignore"):
        refs = U.reference_backward(role, inputs, g, variant)
    if role in LOSS_ROLES and (convention or reduction) == "sum":
        refs = [refs[0] * EXAMPLE_ROWS, *refs[1:]]
    if role in LOSS_ROLES and convention and convention != reduction:  # say what the expected convention wants
        refs = [refs[0] * (EXAMPLE_ROWS if reduction == "sum" else 1 / EXAMPLE_ROWS), *refs[1:]]
    names = GRAD_NAMES.get(role, ["x"])
    n_diff = len(inputs) - (1 if role in LOSS_ROLES else 0)
    for k in range(n_diff):
        theirs = grads[k] if k < len(grads) else None
        if theirs is not None and rel_err(theirs, refs[k]) <= GRAD_TOL:
            continue

        def rows(a):
            a = np.atleast_2d(np.asarray(a, np.float64))[:, :6]
            return [[float(f"{v:.4g}") for v in row] for row in a]

        shown = {names[i] if i < len(names) else f"input {i}": rows(v) for i, v in enumerate(inputs[:1])}
        return {
            "grad": names[k] if k < len(names) else f"input {k}",
            "inputs": shown,
            "expected": rows(refs[k]),
            "theirs": None if theirs is None else rows(theirs),
        }
    return None


def format_example(ex: dict | None) -> list[str]:
    """A worked example as text lines: the input, then expected and theirs side by side."""
    if not ex:
        return []

    def cells(row):
        return " ".join(f"{v:>9.4g}" for v in row)

    lines = []
    for name, value in ex["inputs"].items():
        lines.append(_("worked example, batch of 2: {name} =").format(name=name))
        lines += [f"      [{cells(r)} ]" for r in value]
    width = max(len(cells(r)) for r in ex["expected"]) + 4
    expected, yours, none = _("expected ∂L/∂{g}").format(g=ex["grad"]), _("yours"), _("(none)")
    lines.append("    " + expected.ljust(width) + yours)
    theirs = ex["theirs"] or [[] for _row in ex["expected"]]
    for a, b in zip(ex["expected"], theirs, strict=False):
        lines.append(f"    [{cells(a)} ]".ljust(width + 4) + (f"[{cells(b)} ]" if b else none))
    return lines


def _stable_loss(inputs) -> np.ndarray:
    """The batch-mean cross-entropy through log-softmax: exact for any finite logits."""
    from engine.model.maths import log_softmax

    z, y = np.asarray(inputs[0], np.float64), np.asarray(inputs[1])
    labels = y.argmax(1) if y.ndim == 2 else y.astype(int)
    return np.asarray(-log_softmax(z)[np.arange(len(labels)), labels].mean())


def _check_extremes(cls, style, role, variant, warn, res) -> None:
    """Logits of about ±1000, where a correct textbook formula can still break: each finding a
    WARN naming the real cause (the op is right at ordinary inputs, or a diagnosis says so)."""
    rng = np.random.default_rng(7)
    inputs = U.probe_inputs(role, 4, rng, variant=variant)
    inputs[0] = inputs[0] * 500  # logits in the hundreds
    big = np.abs(inputs[0]).max()
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(U.Op(cls, style, len(inputs)).forward(*U.user_inputs(role, inputs, variant)), np.float64)
            ref = _stable_loss(inputs) if role == "cross_entropy" else None
    except Exception as exc:  # noqa: BLE001
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        warn(_("fails for large logits (about {big}): {error}").format(big=f"{big:.0f}", error=why))
        return
    if np.isnan(out).any():
        what = "softmax" if role == "softmax" else _("the loss")
        warn(
            _(
                "{what} is NaN for large logits (about {big}): exp overflows to inf (inf/inf); subtract each "
                "row's max before exp"
            ).format(what=what, big=f"{big:.0f}")
        )
    elif np.isinf(out).any():
        warn(
            _(
                "the loss is inf for large logits (about {big}) although each row's max is subtracted: the "
                "probability of a wrong label underflows to 0 and log(0) = −inf. Training can go on (the gradient "
                "q − onehot stays finite), but compute log-softmax, z − max − log Σ exp(z − max), instead of "
                "log(softmax)"
            ).format(big=f"{big:.0f}")
        )
    elif ref is not None and rel_err(out, ref) > 1e-3:
        warn(
            _(
                "the loss is finite but biased for large logits (about {big}): {value} where it is {exact}; an ε "
                "inside the log (log(p + ε)) caps each sample's loss at −log ε (ε = 1e-9: 20.7) and adds about ε/p "
                "at ordinary inputs; log-softmax needs no ε"
            ).format(
                big=f"{big:.0f}", value=f"{float(out.reshape(-1)[0]):.3g}", exact=f"{float(ref.reshape(-1)[0]):.3g}"
            )
        )


# == the whole MLP ===============================================================================
def check_mlp(kit: U.Kit, act: str, convention: str = "mean") -> MlpResult:
    """Gradients of an MLP built from the user's ops against central finite differences of
    the same ops' forward pass (float64, 7 → 5 → 4, batch 3). ``convention``: the loss
    gradient's (``sum``: the finite differences of the mean loss × N are the reference)."""
    missing = kit.missing(act)
    if missing:
        return MlpResult(ran=False, passed=None, why="needs " + ", ".join(missing), act=act)
    rng = np.random.default_rng(3)
    sizes = [7, 5, 4]
    params = []
    for i in range(len(sizes) - 1):
        params.append(rng.standard_normal((sizes[i + 1], sizes[i])) * 0.7)
        params.append(rng.standard_normal(sizes[i + 1]) * 0.1)
    x = rng.standard_normal((3, 7))
    y = np.array([0, 3, 1])
    names = [f"layer {i // 2 + 1} {'W' if i % 2 == 0 else 'b'}" for i in range(len(params))]
    eps, tol, note = 1e-6, E2E_TOL, ""
    try:
        _loss, grads, _memo = U.mlp_loss_and_grads(kit, act, params, x, y)
    except Exception as exc:  # noqa: BLE001
        try:  # ops that run only in float32 (the dtype they train in): checked in float32
            params, x = _float32(params), _float32(x)
            _loss, grads, _memo = U.mlp_loss_and_grads(kit, act, params, x, y)
            eps, tol, note = 1e-2, E2E_TOL32, "float32"
        except Exception:  # noqa: BLE001
            return MlpResult(
                ran=True, passed=False, why=_("the MLP's backward failed: {error}").format(error=exc), act=act
            )

    def loss_at(ps):
        return U.mlp_loss_and_grads(kit, act, ps, x, y)[0]

    errors = {}
    for i, p in enumerate(params):
        if kit.layer_kind() == "matmul" and i % 2 == 1:
            continue  # a matmul network has no biases
        # p moved in place and put back exactly; the user's code gets copies (it may write into them)
        num = numerical_gradient(lambda: loss_at([q.copy() for q in params]), p, eps)
        if convention == "sum":
            num *= len(y)
        errors[names[i]] = rel_err(grads[i], num)
    worst = max(errors.values()) if errors else 0.0
    return MlpResult(
        ran=True,
        passed=bool(worst <= tol),
        why="" if worst <= tol else _mlp_cause(errors, worst),
        errors={k: float(v) for k, v in errors.items()},
        worst=float(worst),
        convention=convention,
        dtype=note or "float64",
        act=act,
    )


def _mlp_cause(errors: dict, worst: float) -> str:
    """Which parameter the whole-network check parts on first, in backprop order (the last layer's
    W first): the op to look at."""
    names = sorted(errors, key=lambda k: (-int(k.split()[1]), k.split()[2] != "W"))
    first = next((k for k in names if errors[k] > E2E_TOL), names[0] if names else "")
    return _(
        "the network's gradients differ from finite differences ({worst}); the first to differ in backprop "
        "order is {first} ({error}): look at the ops that compute it"
    ).format(worst=f"{worst:.2e}", first=first, error=f"{errors.get(first, 0):.2e}")


# == the sandbox's entry points ==================================================================
def _checked(f: U.Found, cls, variant: dict, paths: list[str], reduction: str, at_import: list) -> OpResult:
    """:func:`check_op` of one op, failed with a note if their code replaced what the check computes with."""
    _GUARD["replaced"] = []
    r = check_op(f, cls, variant, paths, reduction)
    replaced = at_import + _GUARD["replaced"]
    if replaced and r.passed is not None:  # nothing it says can be trusted: a FAIL naming what
        r = dataclasses.replace(r, diagnoses=(*r.diagnoses, replaced_note(replaced)), passed=False)
    return r


def _mlp_activation(kit) -> str:
    """The whole-MLP check's activation: their first one that is not the identity (else relu)."""
    acts = [a for a in U.ACTIVATIONS if a in kit.ops and a != "identity"] or [a for a in U.ACTIVATIONS if a in kit.ops]
    return acts[0] if acts else "relu"


def check_files(
    paths: list[str], roles: dict | None = None, act: str | None = None, reduction: str = "mean"
) -> FilesCheck:
    """Load, find, assign roles, check each op and the whole MLP. Runs in a sandbox child.
    ``reduction``: the loss gradient's expected convention (see :func:`check_op`)."""
    _GUARD["snapshot"], _GUARD["replaced"] = guard.snapshot(), []
    try:
        modules = U.load_modules(paths)
    finally:
        _put_back()
    at_import = list(_GUARD["replaced"])
    found, classes = U.discover(modules)
    variants = U.assign_roles(found, classes, roles or {})
    results = [_checked(f, classes[f.name], variants.get(f.name, {}), paths, reduction, at_import) for f in found]
    convention = next((r.convention for r in results if r.convention), reduction)
    kit = U.build_kit(found, classes, variants)
    mlp = check_mlp(kit, act or _mlp_activation(kit), convention)
    return FilesCheck(
        ops=tuple(f.to_dict() for f in found),
        results=tuple(results),
        mlp=mlp,
        reduction=reduction,
        activations=tuple(a for a in U.ACTIVATIONS if a in kit.ops),
    )


def race_files(
    paths: list[str],
    roles: dict,
    act: str,
    x: np.ndarray,
    y: np.ndarray,
    hidden: list[int],
    steps: int,
    lr: float = 0.05,
    batch: int = 8,
    seed: int = 0,
    tol: float = 1e-6,
) -> RaceResult:
    """The user's MLP and the reference from the same weights on the same batches, SGD in float64:
    each step's two losses, and the first step (and parameter) where they part. In a sandbox child."""
    modules = U.load_modules(paths)
    found, classes = U.discover(modules)
    kit = U.build_kit(found, classes, U.assign_roles(found, classes, roles or {}))
    missing = kit.missing(act)
    if missing:
        return RaceResult(error=_("your functions lack {ops}").format(ops=", ".join(missing)))
    race = _Race(kit, paths, act, [x.shape[1], *hidden, int(y.max()) + 1], seed, tol)
    order = np.random.default_rng(seed).permutation(len(y))
    for s in range(steps):
        idx = order[(s * batch) % len(y) :][:batch]
        if len(idx) < batch:
            idx = order[:batch]
        if not race.step(s + 1, x[idx].astype(np.float64), y[idx], lr):
            break
    return RaceResult(tuple(race.ref_loss), tuple(race.usr_loss), race.first, steps, tol)


class _Race:
    """Both networks of :func:`race_files`, stepped together; ``first`` is where they part."""

    def __init__(self, kit: U.Kit, paths: list[str], act: str, sizes: list[int], seed: int, tol: float):
        from engine.model.init import initial_weights

        self.kit, self.ref_kit, self.paths, self.act, self.tol = kit, _reference_kit(kit), paths, act, tol
        start = [w.astype(np.float64) for w in initial_weights(sizes, act, seed)]
        self.ref_p = [w.copy() for w in start]
        self.usr_p = [w.copy() for w in start]
        layer = _("layer {n}")
        self.names = [f"{layer.format(n=i // 2 + 1)} {'W' if i % 2 == 0 else 'b'}" for i in range(len(start))]
        n_layers = len(start) // 2  # the order backward computes them: last layer first, W then b
        order = [i for k in reversed(range(n_layers)) for i in (2 * k, 2 * k + 1)]
        self.backprop_order = [i for i in order if i % 2 == 0] if kit.layer_kind() == "matmul" else order
        self.ref_loss: list[float] = []
        self.usr_loss: list[float] = []
        self.first: dict | None = None

    def _stop(self, step: int, why: str) -> bool:
        self.first = self.first or {"step": step, "parameter": "", "error": float("inf"), "loss_difference": None}
        self.first["stopped"] = why
        return False

    def step(self, step: int, xb: np.ndarray, yb: np.ndarray, lr: float) -> bool:
        """One SGD step of both; False when the race cannot go on."""
        lr_, gr, _memo = U.mlp_loss_and_grads(self.ref_kit, self.act, self.ref_p, xb, yb)
        try:
            lu, gu, _memo = U.mlp_loss_and_grads(self.kit, self.act, self.usr_p, xb, yb)
        except Exception as exc:  # noqa: BLE001 - their op failed mid-race: the race ends here
            return self._stop(step, user_frames(exc, self.paths).splitlines()[-1])
        self.ref_loss.append(lr_)
        self.usr_loss.append(lu)
        if not np.isfinite(lu):
            return self._stop(step, _("your network's loss is not finite (it diverged)"))
        errors = [(self.names[i], rel_err(gu[i], gr[i])) for i in self.backprop_order]
        bad = [(n, e) for n, e in errors if e > self.tol]
        if self.first is None and (bad or abs(lu - lr_) > self.tol * max(1.0, abs(lr_))):
            self.first = {
                "step": step,
                "parameter": bad[0][0] if bad else "",
                "error": bad[0][1] if bad else abs(lu - lr_),
                "loss_difference": lu - lr_,
                "all": bad,
            }
        if any(not np.isfinite(e) for _n, e in bad):
            return self._stop(step, _("a gradient of the wrong shape or not finite: the race cannot go on"))
        for p, g in zip(self.ref_p, gr, strict=True):
            p -= lr * g
        for p, g in zip(self.usr_p, gu, strict=True):
            p -= lr * np.asarray(g, np.float64)
        return True


def _race_bad_names(first: dict) -> str:
    more = [f"{n} ({e:.1e})" for n, e in first.get("all", [])[1:4]]
    return _("; then {others}").format(others=", ".join(more)) if more else ""


class _RefOp:
    """The reference as an op: forward/backward from :mod:`engine.model.userops`'s formulas."""

    role = ""

    def forward(self, *inputs):
        self.inputs = inputs
        return U.reference_forward(self.role, list(inputs), {})

    def backward(self, g):
        return tuple(U.reference_backward(self.role, list(self.inputs), g, {}))


def _reference_kit(kit: U.Kit) -> U.Kit:
    ops = {}
    for role in kit.ops:
        cls = type(f"Ref_{role}", (_RefOp,), {"role": role})
        ops[role] = (cls, "numpy", {})
    return U.Kit(ops)


# == reports =====================================================================================
def _e(v) -> str:
    if v is None:
        return "-"
    return "inf" if not np.isfinite(v) else f"{v:.1e}"


def format_report(res: FilesCheck) -> str:
    """The check as a plain-text table, each op's diagnoses under it, then the whole MLP."""
    lines = [f"{'op':<22} {'role':<14} {'result':<7} {'forward':>8}  " + _("gradients (relative error, worst batch)")]
    for r in res.results:
        grads = ", ".join(f"{k} {_e(v)}" for k, v in r.grad_errors.items())
        lines.append(f"{r.name:<22} {r.role:<14} {r.verdict:<7} {_e(r.forward_error):>8}  {grads}  ({r.where})")
        lines += [f"    ✗ {d}" for d in r.diagnoses]
        lines += [f"    ⚠ {w}" for w in r.warnings]
        lines += [f"    {t}" for t in format_example(r.example)]
        if not r.diagnoses:
            error = next((row.error for row in r.rows if row.error), "")
            if error:
                lines.append("    " + error.replace("\n", "\n    "))
    lines += _format_mlp(res.mlp)
    if not res.passed:
        lines.append(_("some checks FAILED"))
    elif res.warnings:
        lines.append(
            _("all checks passed, with {n} warning(s) (⚠ above; --strict makes them fail)").format(n=res.warnings)
        )
    else:
        lines.append(_("all checks passed"))
    return "\n".join(lines)


def _format_mlp(m: MlpResult) -> list[str]:
    if not m.ran:
        return [_("whole MLP: not checked ({why})").format(why=m.why)]
    errs = ", ".join(f"{k} {_e(v)}" for k, v in m.errors.items())
    conv = _(" (of the summed loss, the file's convention)") if m.convention == "sum" else ""
    lines = [
        _("whole MLP ({act}) vs finite differences{convention}: {verdict}").format(
            act=m.act, convention=conv, verdict=m.verdict
        )
        + (" [float32]" if m.dtype == "float32" else "")
        + f"  {errs}"
    ]
    if m.why and not m.passed:
        lines.append(f"    ✗ {m.why}")
    return lines


def format_race(res: RaceResult) -> str:
    if res.error:
        return res.error
    ref, usr = np.asarray(res.reference), np.asarray(res.yours)
    lines = []
    if len(ref):
        diff = np.abs(ref - usr)
        lines.append(
            _(
                "race over {n} of {steps} steps (same weights, same batches, SGD, float64): loss {start} → "
                "reference {reference}, yours {yours}; largest |difference| {diff}"
            ).format(
                n=len(ref),
                steps=res.steps,
                start=f"{ref[0]:.4f}",
                reference=f"{ref[-1]:.4f}",
                yours=f"{usr[-1]:.4f}",
                diff=f"{diff.max():.2e}",
            )
        )
    first = res.first_difference
    if first:
        what = ""
        if first["parameter"]:
            what = _("; first gradient to differ (in backprop order): {parameter} (relative error {error})").format(
                parameter=first["parameter"], error=f"{first['error']:.2e}"
            )
            what += _race_bad_names(first)
        lines.append(
            _("they part at step {step} (tolerance {tol}){what}").format(
                step=first["step"], tol=f"{res.tolerance:.0e}", what=what
            )
        )
        if first.get("stopped"):
            lines.append(_("the race stopped there: {why}").format(why=first["stopped"]))
    else:
        lines.append(_("they agree at every step within {tol}").format(tol=f"{res.tolerance:.0e}"))
    return "\n".join(lines)
