"""The user's own operators: load their files, find their ops, give each a role, call them.

**Runs only in a worker process** (a run host worker or a sandbox child): importing a module
runs its code. :func:`require_worker` guards every entry point that imports user files.

Two shapes are accepted, as the courses hand them out:

- ``torch.autograd.Function`` subclasses (the letters course): ``forward(ctx, *inputs)`` and
  ``backward(ctx, grad)`` static methods, state through ``ctx.save_for_backward``;
- NumPy operator classes (the MNIST course): ``forward(*inputs)`` / ``backward(grad)`` methods
  on an instance that keeps its state in ``self.memory``; or static ``forward(ctx, …)`` /
  ``backward(ctx, grad)`` as the studio's own NumPy engine.

:class:`Op` calls any of them the same way, with NumPy arrays in and out, calling ``forward``
and ``backward`` directly (not through autograd) so what the user's backward returns is seen
as written: how many gradients, of what shapes. :class:`UserNetwork` trains an MLP built from
the ops; torch Functions go through ``.apply`` and autograd there, at the reference's speed.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.i18n import _
from engine.model.maths import activation, activation_grad, softmax

WORKER_ENV = "BACKPROP_STUDIO_WORKER"
ROLES = (
    "linear",
    "matmul",
    "relu",
    "sigmoid",
    "tanh",
    "identity",
    "activation",  # another elementwise function: checked for shape and determinism only
    "cross_entropy",
    "softmax",
    "log",
    "nll",
    "ignore",
)
ACTIVATIONS = ("relu", "sigmoid", "tanh", "identity")
NAME_RULES = [  # (pattern on the lower-cased class name, role): first match wins
    (r"cross_?entropy|^ce(loss)?$|softmax_?ce", "cross_entropy"),
    (r"nll", "nll"),
    (r"softmax", "softmax"),
    (r"linear|dense|affine|^fc$", "linear"),
    (r"matmul|^mm$|matrixmul", "matmul"),
    (r"relu", "relu"),
    (r"sigmoid|logistic", "sigmoid"),
    (r"tanh", "tanh"),
    (r"identity|noop", "identity"),
    (r"^log$|^logarithm|^log_?op$", "log"),
]


def in_worker() -> bool:
    return os.environ.get(WORKER_ENV) == "1"


def require_worker() -> None:
    if not in_worker():
        raise RuntimeError("the user's functions are imported only in a worker process")


# == loading =====================================================================================
def load_modules(paths: list[str]) -> list:
    """Import each file with its own folder on ``sys.path`` (so ``network.py`` importing its
    ``activations.py`` works, and gets the same module object)."""
    require_worker()
    modules = []
    for p in paths:
        path = Path(p).resolve()
        folder = str(path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        name = path.stem
        existing = sys.modules.get(name)
        if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path:
            modules.append(existing)
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{path}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        modules.append(module)
    return modules


def _is_torch_function(cls) -> bool:
    import torch

    return isinstance(cls, type) and issubclass(cls, torch.autograd.Function) and cls is not torch.autograd.Function


def _is_numpy_op(cls) -> bool:
    if not isinstance(cls, type) or _is_torch_function(cls):
        return False
    fwd, bwd = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(fwd) and callable(bwd)):
        return False
    try:
        import torch

        if issubclass(cls, torch.nn.Module):
            return False
    except ImportError:  # pragma: no cover
        pass
    return True


def _params(fn) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []


def _required(params) -> int:
    return sum(
        1
        for p in params
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


@dataclass
class Found:
    """One op found in the user's files."""

    name: str  # the class name
    module: str
    file: str
    line: int
    style: str  # "torch" | "numpy-ctx" | "numpy"
    arity: int  # required forward inputs (not counting ctx or self)
    role: str = "ignore"
    how: str = ""  # "name" | "probe" | "user" | ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def discover(modules) -> tuple[list[Found], dict]:
    """The ops defined in ``modules`` (classes imported from elsewhere are skipped) and a map
    from class name to class."""
    found, classes = [], {}
    folders = {str(Path(getattr(m, "__file__", "") or ".").resolve().parent) for m in modules}

    def theirs(cls, m) -> bool:
        """Defined in this module, or in another module of the user's folders (``network.py``
        importing its ``activations.py``)."""
        if cls.__module__ == m.__name__:
            return True
        origin = getattr(sys.modules.get(cls.__module__), "__file__", None)
        return bool(origin) and str(Path(origin).resolve().parent) in folders

    for m in modules:
        for name, cls in vars(m).items():
            if name.startswith("_") or not isinstance(cls, type) or not theirs(cls, m):
                continue
            if _is_torch_function(cls):
                style = "torch"
                arity = _required(_params(cls.forward)) - 1
            elif _is_numpy_op(cls):
                raw = inspect.getattr_static(cls, "forward")
                fwd_params = _params(cls.forward)
                if isinstance(raw, staticmethod) and fwd_params and fwd_params[0].name == "ctx":
                    style, arity = "numpy-ctx", _required(fwd_params) - 1
                else:
                    style = "numpy"
                    arity = _required(fwd_params) - (0 if isinstance(raw, staticmethod) else 1)
            else:
                continue
            if name in classes:
                continue
            try:
                line = inspect.getsourcelines(cls)[1]
            except (OSError, TypeError):
                line = 0
            classes[name] = cls
            home = sys.modules.get(cls.__module__, m)
            found.append(Found(name, home.__name__, getattr(home, "__file__", ""), line, style, max(arity, 0)))
    return found, classes


def role_from_name(name: str) -> str | None:
    low = name.lower()
    for pattern, role in NAME_RULES:
        if re.search(pattern, low):
            return role
    return None


# == calling an op ===============================================================================
class Ctx:
    """A stand-in for torch's ``ctx`` when a Function is called directly: records what was
    saved and each saved tensor's version, so a tensor modified after saving is noticed."""

    def __init__(self, n_inputs: int, needs=None):
        self.needs_input_grad = tuple(needs) if needs is not None else (True,) * n_inputs
        self._saved: tuple = ()
        self._versions: tuple = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors
        self._versions = tuple(getattr(t, "_version", None) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        return self._saved

    @property
    def saved_variables(self) -> tuple:  # older torch spelling
        return self._saved

    def modified_saved(self) -> list[int]:
        """Indices of saved tensors changed in place since they were saved."""
        return [
            i
            for i, (t, v) in enumerate(zip(self._saved, self._versions, strict=False))
            if v is not None and getattr(t, "_version", v) != v
        ]

    def mark_non_differentiable(self, *_a) -> None:
        pass

    def mark_dirty(self, *_a) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


def _to_numpy(v):
    if v is None:
        return None
    try:
        import torch

        if isinstance(v, torch.Tensor):
            return v.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, (int, float, np.number)):
        return np.asarray(v, np.float64)
    return np.asarray(v)


class Op:
    """One user op called with NumPy arrays: ``forward(*inputs)`` then ``backward(g)``.

    Integer arrays (labels) are passed as int64. ``dtype`` picks float64 or float32 for the
    floating inputs of torch Functions; NumPy ops get the arrays as given."""

    def __init__(self, cls, style: str, n_inputs: int, needs=None):
        self.cls, self.style, self.n_inputs, self.needs = cls, style, n_inputs, needs
        self.instance = None
        self.ctx = None

    def _convert(self, arrays):
        if self.style != "torch":
            return list(arrays)
        import torch

        return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]

    def forward(self, *arrays):
        inputs = self._convert(arrays)
        if self.style == "numpy":
            self.instance = self.cls()
            out = self.instance.forward(*inputs)
        else:
            self.ctx = Ctx(len(inputs), self.needs)
            if self.style == "torch":
                import torch

                with torch.no_grad():
                    out = self.cls.forward(self.ctx, *inputs)
            else:
                out = self.cls.forward(self.ctx, *inputs)
        return _to_numpy(out)

    def backward(self, g) -> tuple:
        """The gradients as returned (one array or a tuple), always as a tuple of arrays/None."""
        if self.style == "torch":
            import torch

            g_in = torch.from_numpy(np.ascontiguousarray(g)) if np.ndim(g) else torch.tensor(float(g), dtype=_dt(g))
            with torch.no_grad():
                out = self.cls.backward(self.ctx, g_in)
        elif self.style == "numpy-ctx":
            out = self.cls.backward(self.ctx, g)
        else:
            try:
                out = self.instance.backward(g)
            except TypeError as exc:
                if np.ndim(g) == 0 and "positional argument" in str(exc):
                    out = self.instance.backward()  # a loss whose backward takes no gradient
                else:
                    raise
        if not isinstance(out, (tuple, list)):
            out = (out,)
        return tuple(_to_numpy(v) for v in out)

    def modified_saved(self) -> list[int]:
        return self.ctx.modified_saved() if isinstance(self.ctx, Ctx) else []


def _dt(g):
    import torch

    return torch.float64 if np.asarray(g).dtype == np.float64 else torch.float32


# == the studio's reference, in float64 NumPy ===================================================
def onehot(y, c):
    out = np.zeros((len(y), c))
    out[np.arange(len(y)), y] = 1.0
    return out


def reference_forward(role: str, inputs: list, variant: dict):
    x = inputs[0]
    if role == "linear":
        W = inputs[1] if variant.get("w_layout", "out_in") == "out_in" else inputs[1].T
        return x @ W.T + inputs[2]
    if role == "matmul":
        return x @ inputs[1]
    if role in ("relu", "sigmoid", "tanh", "identity"):
        return activation(role, x).copy()
    if role == "softmax":
        return softmax(x)
    if role == "log":
        return np.log(x)
    y = _labels(inputs[1])
    if role == "cross_entropy":
        q = softmax(x)
        return np.asarray(-np.log(q[np.arange(len(y)), y]).mean())
    if role == "nll":
        return np.asarray(-x[np.arange(len(y)), y].mean())
    raise ValueError(role)


def reference_backward(role: str, inputs: list, g, variant: dict) -> list:
    """One gradient per input (None for labels)."""
    x = inputs[0]
    if role == "linear":
        out_in = variant.get("w_layout", "out_in") == "out_in"
        W = inputs[1] if out_in else inputs[1].T
        dW = g.T @ x
        return [g @ W, dW if out_in else dW.T, g.sum(0)]
    if role == "matmul":
        return [g @ inputs[1].T, x.T @ g]
    if role in ("relu", "sigmoid", "tanh", "identity"):
        return [g * activation_grad(role, activation(role, x))]
    if role == "softmax":
        q = softmax(x)
        return [q * (g - (g * q).sum(1, keepdims=True))]
    if role == "log":
        return [g / x]
    y = _labels(inputs[1])
    n = len(y)
    if role == "cross_entropy":
        return [float(g) * (softmax(x) - onehot(y, x.shape[1])) / n, None]
    if role == "nll":
        return [-float(g) * onehot(y, x.shape[1]) / n, None]
    raise ValueError(role)


def _labels(y):
    y = np.asarray(y)
    return y.argmax(1) if y.ndim == 2 else y.astype(np.int64)


@dataclass
class Kit:
    """The ops an MLP is built from: linear (or matmul + a bias-free network), one activation
    per name, and the loss (cross-entropy, or softmax → log → nll)."""

    ops: dict  # role -> (cls, style, variant)

    def has(self, *roles) -> bool:
        return all(r in self.ops for r in roles)

    def loss_kind(self) -> str | None:
        if "cross_entropy" in self.ops:
            return "cross_entropy"
        if self.has("softmax", "log", "nll"):
            return "softmax-log-nll"
        return None

    def layer_kind(self) -> str | None:
        return "linear" if "linear" in self.ops else "matmul" if "matmul" in self.ops else None

    def missing(self, act: str) -> list[str]:
        out = []
        if self.layer_kind() is None:
            out.append(_("a linear (or matmul) op"))
        if act not in self.ops:
            out.append(_("a {act} activation").format(act=act))
        if self.loss_kind() is None:
            out.append(_("a loss (cross-entropy, or softmax, log and nll)"))
        return out


class CourseNLL:
    """The MNIST course's loss as its training loop computes it (students write no loss op): the
    mean negative log-likelihood of the labels, fed back into their ``Log.backward``."""

    def __init__(self):
        self.memory = {}

    def forward(self, logq, y):
        logq = np.asarray(logq)
        self.memory["logq"], self.memory["y"] = logq, np.asarray(y, np.int64)
        picked = logq[np.arange(len(self.memory["y"])), self.memory["y"]]
        return -(picked.sum() / len(picked))

    def backward(self, grad=1.0):
        logq, y = self.memory["logq"], self.memory["y"]
        d = np.zeros_like(logq)
        d[np.arange(len(y)), y] = -np.asarray(grad, logq.dtype).reshape(-1)[0] / len(y)
        return d


def loss_convention(kit: Kit) -> str | None:
    """Which loss the user's loss backward is the gradient of: ``mean`` (the batch-mean loss's),
    ``sum`` (the summed loss's: the letters course's template), or None (neither: a wrong gradient,
    which the check diagnoses). Probed on a batch of 4."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 6))
    y = np.array([0, 3, 1, 5])
    try:
        with np.errstate(all="ignore"):
            if kit.loss_kind() == "cross_entropy":
                _loss, op = op_call(kit, "cross_entropy", z, y)
                g = op_grads(kit, "cross_entropy", op, np.asarray(1.0))[0]
            else:
                q, op1 = op_call(kit, "softmax", z)
                logq, op2 = op_call(kit, "log", q)
                _loss, op3 = op_call(kit, "nll", logq, y)
                g = op_grads(kit, "nll", op3, np.asarray(1.0))[0]
                g = op_grads(kit, "softmax", op1, op_grads(kit, "log", op2, g)[0])[0]
        g = np.asarray(g.detach().numpy() if hasattr(g, "detach") else g, np.float64)
    except Exception:  # noqa: BLE001 - their loss fails here: the check says why; the run keeps g0 = 1
        return None
    mean = (softmax(z) - onehot(y, 6)) / len(y)
    for name, ref in (("mean", mean), ("sum", mean * len(y))):
        if g.shape == ref.shape and np.allclose(g, ref, rtol=1e-4, atol=1e-7):
            return name
    return None


def build_kit(found: list[Found], classes: dict, variants: dict) -> Kit:
    ops = {}
    for f in found:
        if f.role in ("ignore", "activation") or f.role in ops:
            continue
        ops[f.role] = (classes[f.name], f.style, variants.get(f.name, {}))
    if "cross_entropy" not in ops and "nll" not in ops and "softmax" in ops and "log" in ops:
        ops["nll"] = (CourseNLL, "numpy", {"course_loss": True})  # the MNIST course's loop's own loss
    return Kit(ops)


def op_call(kit: Kit, role: str, *inputs, needs=None):
    """Forward through the kit's ``role`` op; returns (output, the Op for its backward).
    ``needs``: ``ctx.needs_input_grad`` for ops that take a ``ctx`` (default: every input)."""
    cls, style, variant = kit.ops[role]
    op = Op(cls, style, len(inputs), needs)
    if role == "linear" and variant.get("w_layout") == "in_out":
        inputs = (inputs[0], inputs[1].T.copy(), inputs[2])
    if role in ("cross_entropy", "nll") and variant.get("labels") == "onehot":
        inputs = (inputs[0], onehot(inputs[1], inputs[0].shape[1]).astype(inputs[0].dtype))
    return op.forward(*inputs), op


def op_grads(kit: Kit, role: str, op: Op, g) -> list:
    grads = list(op.backward(g))
    _cls, _style, variant = kit.ops[role]
    if role == "linear" and variant.get("w_layout") == "in_out" and len(grads) > 1 and grads[1] is not None:
        grads[1] = grads[1].T
    return grads


def mlp_loss_and_grads(
    kit: Kit, act: str, params: list, x, y, g0: float = 1.0, input_grad: bool = True
) -> tuple[float, list, np.ndarray]:
    """Forward and backward of an MLP through the user's ops, in NumPy: (loss, one gradient per
    parameter, logits). ``params`` is ``[W0, b0, W1, b1, …]`` (biases unused by a matmul kit).
    ``g0``: the gradient fed into the loss's backward (N or 1/N to follow the run's convention).
    ``input_grad=False`` tells ops that read ``ctx.needs_input_grad`` that training does not need
    the first layer's input gradient (as the engines skip it); the check leaves it on."""
    layer = kit.layer_kind()
    n_layers = len(params) // 2
    h, tape = x, []
    for i in range(n_layers):
        W, b = params[2 * i], params[2 * i + 1]
        if layer == "linear":
            z, op = op_call(kit, "linear", h, W, b, needs=(input_grad or i > 0, True, True))
        else:
            z, op = op_call(kit, "matmul", h, W.T.copy(), needs=(input_grad or i > 0, True))
        tape.append(("layer", op))
        h = z
        if i < n_layers - 1:
            h, op = op_call(kit, act, z)
            tape.append((act, op))
    logits = h
    if kit.loss_kind() == "cross_entropy":
        loss, op = op_call(kit, "cross_entropy", logits, y)
        tape.append(("cross_entropy", op))
    else:
        q, op1 = op_call(kit, "softmax", logits)
        logq, op2 = op_call(kit, "log", q)
        loss, op3 = op_call(kit, "nll", logq, y)
        tape += [("softmax", op1), ("log", op2), ("nll", op3)]
    g = np.asarray(g0, logits.dtype)
    grads: list = [None] * len(params)
    k = n_layers - 1
    for role, op in reversed(tape):
        if role == "layer":
            gs = op_grads(kit, layer, op, g)
            if layer == "linear":
                grads[2 * k], grads[2 * k + 1] = gs[1], gs[2]
            else:
                grads[2 * k], grads[2 * k + 1] = gs[1].T, np.zeros_like(params[2 * k + 1])
            g = gs[0]
            k -= 1
        else:
            g = op_grads(kit, role, op, g)[0]
    return float(np.asarray(loss).reshape(-1)[0]), grads, logits


# == roles: by name, confirmed or found by probing ===============================================
PROBE_ROLES = {1: ("relu", "sigmoid", "tanh", "identity", "softmax", "log"), 2: ("matmul", "cross_entropy", "nll")}
PROBE_ROLES[3] = ("linear",)


def probe_inputs(role: str, n: int, rng, dtype=np.float64, variant: dict | None = None) -> list:
    """Random inputs for ``role`` at batch size ``n`` (shapes never square, so a transpose shows)."""
    variant = variant or {}
    if role == "linear":
        W = rng.standard_normal((3, 5))
        return [rng.standard_normal((n, 5)).astype(dtype), W.astype(dtype), rng.standard_normal(3).astype(dtype)]
    if role == "matmul":
        return [rng.standard_normal((n, 5)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)]
    if role == "log":
        return [rng.uniform(0.2, 2.0, (n, 6)).astype(dtype)]
    if role == "softmax":
        return [(2 * rng.standard_normal((n, 6))).astype(dtype)]
    if role in ("cross_entropy", "nll"):
        z = 2 * rng.standard_normal((n, 6))
        if role == "nll":
            z = np.log(softmax(z))
        y = rng.integers(0, 6, n)
        return [z.astype(dtype), onehot(y, 6).astype(dtype) if variant.get("labels") == "onehot" else y]
    x = rng.standard_normal((n, 6))
    x[np.abs(x) < 0.05] = 0.3  # away from relu's kink
    return [x.astype(dtype)]


def user_inputs(role: str, inputs: list, variant: dict) -> list:
    """The reference's inputs in the layout the user's op takes."""
    if role == "linear" and variant.get("w_layout") == "in_out":
        return [inputs[0], inputs[1].T.copy(), inputs[2]]
    return list(inputs)


def _matches(cls, style: str, role: str, variant: dict) -> bool:
    rng = np.random.default_rng(1234)
    inputs = probe_inputs(role, 4, rng, variant=variant)
    try:
        with np.errstate(all="ignore"):
            out = Op(cls, style, len(inputs)).forward(*user_inputs(role, inputs, variant))
            ref = reference_forward(role, inputs, variant)
        out = np.asarray(out, np.float64)
        return out.shape == np.shape(ref) and bool(np.allclose(out, ref, rtol=1e-4, atol=1e-5))
    except Exception:  # noqa: BLE001 - a probe that fails is a role that does not fit
        return False


def variants_of(role: str) -> list[dict]:
    if role == "linear":
        return [{"w_layout": "out_in"}, {"w_layout": "in_out"}]
    if role in ("cross_entropy", "nll"):
        return [{"labels": "index"}, {"labels": "onehot"}]
    return [{}]


def fit_variant(cls, style: str, role: str) -> dict | None:
    """The calling convention under which the op computes ``role``'s forward, or None."""
    for v in variants_of(role):
        if _matches(cls, style, role, v):
            return v
    return None


def assign_roles(found: list[Found], classes: dict, overrides: dict | None = None) -> dict:
    """Set each op's role (a user override, else its name if a probe agrees, else what a probe
    finds, else its name) and return the calling variant of each op by class name."""
    overrides = overrides or {}
    variants = {}
    for f in found:
        cls = classes[f.name]
        if f.name in overrides:
            f.role, f.how = overrides[f.name], "user"
            variants[f.name] = fit_variant(cls, f.style, f.role) or variants_of(f.role)[0] if f.role in ROLES else {}
            continue
        named = role_from_name(f.name)
        if named:
            v = fit_variant(cls, f.style, named)
            if v is not None:
                f.role, f.how, variants[f.name] = named, "name", v
                continue
        for role in PROBE_ROLES.get(f.arity, ()):
            if role == named:
                continue
            v = fit_variant(cls, f.style, role)
            if v is not None:
                f.role, f.how, variants[f.name] = role, "probe", v
                break
        else:
            if not named and is_model_class(cls):  # the course's NumpyModel: the network, not an op
                f.role, f.how, variants[f.name] = "ignore", "model", {}
                continue
            f.role = named or ("activation" if f.arity == 1 else "ignore")
            f.how = "name" if named else ""
            variants[f.name] = variants_of(f.role)[0] if f.role in ROLES and f.role != "ignore" else {}
    return variants


MODEL_NAME = re.compile(r"model|network|^net$|net$|^mlp|classifier", re.IGNORECASE)


def is_model_class(cls) -> bool:
    """A whole network written around the ops (the MNIST course's ``NumpyModel``, a letters
    ``MLP``): named like one, or building ops of its own in ``__init__``. Not checked as an op."""
    if MODEL_NAME.search(cls.__name__):
        return True
    init = getattr(cls, "__init__", None)
    code = getattr(init, "__code__", None)
    return code is not None and any(name in ("Matmul", "Linear", "Relu", "ReLU", "Softmax") for name in code.co_names)


def parse_roles(text: str) -> dict:
    """``"Class=role,Class=role"`` → dict (the config's ``function_roles``)."""
    out = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, role = part.partition("=")
        if name.strip() and role.strip():
            out[name.strip()] = role.strip()
    return out


def load_kit(paths: list[str], roles_text: str = "") -> tuple[Kit, list[Found]]:
    modules = load_modules(paths)
    found, classes = discover(modules)
    variants = assign_roles(found, classes, parse_roles(roles_text))
    return build_kit(found, classes, variants), found
