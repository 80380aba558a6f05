"""The torch engine's networks: :class:`TorchNetwork` (the studio's Functions) and
:class:`UserNetwork` (the user's own ops), built by :func:`engine.model.build.build_network`.
Importing this module imports torch."""

from __future__ import annotations

import math

import numpy as np
import torch

from engine.config import TrainConfig
from engine.i18n import _
from engine.model.functions import TorchMLP, mlp_loss_and_grads
from engine.model.network import Network


class TorchNetwork(Network):
    engine = "torch"

    def _build(self, weights):
        c = self.config
        self.device = torch.device(c.device)
        self.dtype = torch.float64 if c.precision == "float64" else torch.float32
        self._torch = TorchMLP(self.in_features, c.hidden, self.n_classes, c.act).to(self.device, self.dtype)
        with torch.no_grad():
            for p, w in zip(self._torch.params_in_order(), weights):
                p.copy_(torch.from_numpy(np.asarray(w)).to(p.dtype))
        self._params = self._torch.params_in_order()
        self._opt = _torch_optimizer(c, self._params)

    def prepare(self, x):
        return torch.from_numpy(x).to(self.device)

    def prepare_labels(self, y):
        return torch.from_numpy(y.astype(np.int64)).to(self.device)

    def batch(self, x, y, idx):
        t = torch.from_numpy(idx)
        if self.device.type != "cpu":
            t = t.to(self.device)
        return x.index_select(0, t).to(self.dtype), y.index_select(0, t)

    def configure_threads(self):
        """The run's own thread count (default 1: small batches also run faster on one thread,
        a second OpenMP team costing a hand-off per op); part of its settings, so the numbers
        do not depend on the machine's core count."""
        if self.device.type == "cpu":
            torch.set_num_threads(self.config.threads)

    def train_step(self, x, y):
        c = self.config
        loss_t, logits, grads = mlp_loss_and_grads(c.act, x, y, self._params, c.loss_reduction)
        loss = loss_t.item()
        if c.loss_reduction == "sum":
            loss /= len(y)
        if not math.isfinite(loss):
            return loss, 0
        for p, g in zip(self._params, grads):
            p.grad = g
        self._freeze_biases()
        self._opt.step()
        return loss, int((logits.argmax(1) == y).sum())

    def _freeze_biases(self) -> None:
        """A bias-free MLP: the (zero) biases get no gradient, so no optimizer moves them."""
        if not self.config.bias:
            for p in self._params[1::2]:
                p.grad = None

    def _logits_batch(self, xb):
        with torch.no_grad():
            return self._torch(xb.to(self.dtype)).float().cpu().numpy()

    def weights(self):
        return [p.detach().cpu().numpy().copy() for p in self._params]

    def set_weights(self, weights):
        with torch.no_grad():
            for p, w in zip(self._params, weights):
                p.copy_(torch.from_numpy(np.asarray(w)).to(p.dtype))

    def optimizer_state(self):
        return {"engine": "torch", "name": self.config.optim, "torch": self._opt.state_dict()}

    def load_optimizer_state(self, state):
        if not isinstance(state, dict) or state.get("engine") != "torch" or state.get("name") != self.config.optim:
            return False
        sd = state.get("torch")
        if (
            not isinstance(sd, dict)
            or not isinstance(sd.get("state"), dict)
            or not isinstance(sd.get("param_groups"), list)
        ):
            raise ValueError("optimizer state is not a torch optimizer state")
        for i, entry in sd["state"].items():
            if not isinstance(i, int) or not 0 <= i < len(self._params) or not isinstance(entry, dict):
                raise ValueError(f"optimizer state entry {i!r} does not fit the network")
            for k, v in entry.items():
                _check_buffer(k, v, self._params[i])
        self._opt.load_state_dict(sd)
        c = self.config  # the configured numbers win over whatever the file says
        for group in self._opt.param_groups:
            group["lr"], group["weight_decay"] = c.lr, c.weight_decay
            if "momentum" in group:
                group["momentum"] = c.momentum
        return True


class UserNetwork(TorchNetwork):
    """An MLP whose forward and backward passes are the user's own ops (engine ``user``).

    torch Functions train through ``.apply`` and autograd, as the course's ``MLP`` does;
    NumPy operators through their ``forward``/``backward`` in the run's precision. The optimizer is
    PyTorch's, as for the torch engine, so the two differ only in the user's ops."""

    engine = "user"

    def _build(self, weights):
        from engine.model.userops import load_kit, loss_convention

        super()._build(weights)
        self.kit, self.found = load_kit(self.config.functions, self.config.function_roles)
        missing = self.kit.missing(self.config.act)
        if missing:
            raise ValueError(_("your functions lack {missing}").format(missing=", ".join(missing)))
        # the run's "loss gradient" setting is followed: a backward in the other convention is fed
        # N (or 1/N) instead of 1, so a summed-loss template trains as "mean" asks, and vice versa
        self.convention = loss_convention(self.kit)
        styles = {style for _cls, style, _v in self.kit.ops.values()}
        self._autograd = styles == {"torch"}  # all torch Functions: called directly, in torch
        if self._autograd:
            self._direct_plan()

    def _g0(self, n: int) -> float:
        """The gradient fed into their loss's backward: 1, or N / 1/N where their backward follows
        the other convention than the run's ``loss_reduction``."""
        if self.convention == "mean" and self.config.loss_reduction == "sum":
            return float(n)
        if self.convention == "sum" and self.config.loss_reduction == "mean":
            return 1.0 / n
        return 1.0

    def _direct_plan(self) -> None:
        """What a direct step calls, worked out once per run rather than once per step: the layer
        op's class and weight layout, the activation's class, the loss ops and their targets."""
        kit, act = self.kit, self.config.act
        self._layer = kit.layer_kind()
        self._layer_cls = kit.ops[self._layer][0]
        self._in_out = self._layer == "linear" and kit.ops["linear"][2].get("w_layout") == "in_out"
        self._act_cls = kit.ops[act][0]
        roles = ("cross_entropy",) if kit.loss_kind() == "cross_entropy" else ("softmax", "log", "nll")
        self._loss_ops = [(role, kit.ops[role][0], kit.ops[role][2].get("labels") == "onehot") for role in roles]
        self._g0s: dict[int, torch.Tensor] = {}

    def _direct_step(self, x, y):
        """Forward and backward through the user's Functions called directly (no autograd graph,
        as the reference's fused path): (loss tensor, logits), the parameters' .grad set."""
        from engine.model.userops import Ctx, onehot

        params, layer_cls, in_out, act_cls = self._params, self._layer_cls, self._in_out, self._act_cls
        linear = self._layer == "linear"
        n_layers = len(params) // 2
        tape, h = [], x
        with torch.no_grad():
            for i in range(n_layers):
                W = params[2 * i]
                if linear:
                    ctx = Ctx(3, (i > 0, True, True))
                    h = layer_cls.forward(ctx, h, W.t() if in_out else W, params[2 * i + 1])
                else:
                    ctx = Ctx(2, (i > 0, True))
                    h = layer_cls.forward(ctx, h, W.t())
                tape.append((i, layer_cls, ctx))
                if i < n_layers - 1:
                    ctx = Ctx(1)
                    h = act_cls.forward(ctx, h)
                    tape.append((-1, act_cls, ctx))
            logits = h
            for role, cls, hot in self._loss_ops:
                if role == "nll" or role == "cross_entropy":
                    target = torch.from_numpy(onehot(y.numpy(), logits.shape[1])).to(self.dtype) if hot else y
                    ctx = Ctx(2)
                    h = cls.forward(ctx, h, target)
                else:
                    ctx = Ctx(1)
                    h = cls.forward(ctx, h)
                tape.append((-1, cls, ctx))
            loss = h
            g = self._g0s.get(len(y))
            if g is None:
                g = self._g0s[len(y)] = torch.full((), self._g0(len(y)), dtype=logits.dtype)
            for i, cls, ctx in reversed(tape):
                out = cls.backward(ctx, g)
                if i >= 0:
                    dW = out[1].t() if (in_out or not linear) else out[1]
                    _set_grad(params[2 * i], dW.contiguous(), cls, f"layer {i + 1} W")
                    if linear:
                        _set_grad(params[2 * i + 1], out[2], cls, f"layer {i + 1} b")
                    else:
                        params[2 * i + 1].grad = torch.zeros_like(params[2 * i + 1])
                    g = out[0]
                else:
                    g = out[0] if isinstance(out, (tuple, list)) else out
        return loss, logits

    def train_step(self, x, y):
        from engine.model.userops import mlp_loss_and_grads

        self.stepped_past_nonfinite_loss = False
        if self._autograd:
            loss_t, logits = self._direct_step(x, y)
            loss = float(loss_t.reshape(-1)[0])
        else:
            params = [p.detach().numpy() for p in self._params]
            loss, grads, logits_np = mlp_loss_and_grads(
                self.kit, self.config.act, params, x.numpy(), y.numpy(), self._g0(len(y)), input_grad=False
            )
            if not math.isfinite(loss) and not all(np.isfinite(g).all() for g in grads):
                return loss, 0
            for i, (p, g) in enumerate(zip(self._params, grads, strict=True)):
                who = f"layer {i // 2 + 1} {'W' if i % 2 == 0 else 'b'}"
                _set_grad(p, torch.from_numpy(np.ascontiguousarray(g)).to(p.dtype), None, who)
            logits = torch.from_numpy(np.asarray(logits_np))
        if not math.isfinite(loss):
            # their loss is inf (the log of an underflowed probability) while every gradient is
            # finite: the course's own loop trains on, and so do we (the run says why)
            if not all(p.grad is not None and bool(torch.isfinite(p.grad).all()) for p in self._params):
                return loss, 0
            self.stepped_past_nonfinite_loss = True
        self._freeze_biases()
        self._opt.step()
        return loss, int((logits.argmax(1) == y).sum())


def _check_buffer(k: str, v, p: torch.Tensor) -> None:
    """One saved optimizer buffer: a float tensor the parameter's shape, or a non-negative step count."""
    if not isinstance(v, torch.Tensor) or not v.is_floating_point():
        raise ValueError(f"optimizer state {k!r} is not a float tensor")
    if k == "step":
        if v.numel() != 1 or not math.isfinite(float(v)) or float(v) < 0:
            raise ValueError(f"optimizer step {v!r} is not a count")
    elif tuple(v.shape) != tuple(p.shape):
        raise ValueError(f"optimizer buffer {k!r} has shape {list(v.shape)}, the parameter {list(p.shape)}")


def _set_grad(p: torch.Tensor, g, cls, who: str) -> None:
    """A user's gradient onto a parameter, or a message naming the op and the shapes. A torch
    Function's gradient that autograd would sum to the parameter's shape (a bias gradient given per
    sample) is summed here too: their Functions train as they do under autograd in the course."""
    if g is not None and g.shape == p.shape:
        p.grad = g
        return
    if cls is not None and g is not None and g.dim() > p.dim():
        try:
            g = g.sum_to_size(p.shape)
        except RuntimeError:
            pass
    if g is None or tuple(g.shape) != tuple(p.shape):
        op = f"{cls.__name__}.backward" if cls is not None else _("your backward")
        got = "None" if g is None else _("shape {shape}").format(shape=list(g.shape))
        raise ValueError(
            _("{op} gave the gradient of {who} as {got}; {who} has shape {shape}").format(
                op=op, who=who, got=got, shape=list(p.shape)
            )
        )
    p.grad = g


def _fused(cls, params, **kw) -> torch.optim.Optimizer:
    """The single-kernel ("fused") variant where this torch has it: the same update, fewer dispatches."""
    try:
        return cls(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, **kw)


def _torch_optimizer(c: TrainConfig, params) -> torch.optim.Optimizer:
    """The ``torch.optim`` class the name means (adam: L2 decay; adamw: decoupled)."""
    if c.optim == "sgd":
        return _fused(torch.optim.SGD, params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    if c.optim == "adam":
        return _fused(torch.optim.Adam, params, lr=c.lr, weight_decay=c.weight_decay)
    if c.optim == "adamw":
        return _fused(torch.optim.AdamW, params, lr=c.lr, weight_decay=c.weight_decay)
    if c.optim == "adagrad":
        return _fused(torch.optim.Adagrad, params, lr=c.lr, weight_decay=c.weight_decay)
    if c.optim == "rmsprop":
        return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    return torch.optim.Adadelta(params, lr=c.lr, weight_decay=c.weight_decay)
