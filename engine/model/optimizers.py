"""The NumPy engine's optimizers: PyTorch's update rules (``torch.optim`` defaults) over one flat buffer.

Names mean what PyTorch means: ``adam`` adds L2 weight decay to the gradient
(``torch.optim.Adam``), ``adamw`` decays decoupled (``p *= 1 - lr·wd``,
``torch.optim.AdamW``), the others add L2 decay to the gradient as torch does;
``rmsprop`` has momentum 0 unless it is set.
"""

from __future__ import annotations

import numpy as np


class NumpyOptimizer:
    def __init__(
        self,
        name: str,
        params: np.ndarray,
        grads: np.ndarray,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        if name not in ("sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta"):
            raise ValueError(f"unknown optimizer {name!r}")
        self.name, self.p, self.g = name, params, grads
        self.lr, self.momentum, self.wd = lr, momentum, weight_decay
        self.t = 0
        self.state: dict[str, np.ndarray] = {}
        self._tmp = np.empty_like(params)

    def _buf(self, key: str) -> np.ndarray:
        if key not in self.state:
            self.state[key] = np.zeros_like(self.p)
        return self.state[key]

    def step(self) -> None:
        p, g, lr, tmp = self.p, self.g, self.lr, self._tmp
        if self.wd and self.name == "adamw":
            p *= 1 - lr * self.wd
        elif self.wd:
            g += self.wd * p
        self.t += 1
        if self.name == "sgd":
            if self.momentum:
                first = "momentum_buffer" not in self.state
                buf = self._buf("momentum_buffer")
                if first:
                    buf[...] = g
                else:
                    buf *= self.momentum
                    buf += g
                g = buf
            p -= lr * g
        elif self.name in ("adam", "adamw"):
            b1, b2, eps = 0.9, 0.999, 1e-8
            m, v = self._buf("exp_avg"), self._buf("exp_avg_sq")
            # m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²
            np.subtract(g, m, out=tmp)
            tmp *= 1 - b1
            m += tmp
            np.multiply(g, g, out=tmp)
            tmp -= v
            tmp *= 1 - b2
            v += tmp
            # p -= lr/bc1 · m / (√v/√bc2 + eps)  ==  p -= (lr √bc2 / bc1) · m / (√v + eps √bc2)
            bc1 = 1 - b1**self.t
            bc2_sqrt = (1 - b2**self.t) ** 0.5
            np.sqrt(v, out=tmp)
            tmp += eps * bc2_sqrt
            np.divide(m, tmp, out=tmp)
            tmp *= lr * bc2_sqrt / bc1
            p -= tmp
        elif self.name == "adagrad":
            s = self._buf("sum")
            s += g * g
            np.sqrt(s, out=tmp)
            tmp += 1e-10
            p -= lr * g / tmp
        elif self.name == "rmsprop":
            alpha, eps = 0.99, 1e-8
            v = self._buf("square_avg")
            v *= alpha
            v += (1 - alpha) * g * g
            np.sqrt(v, out=tmp)
            tmp += eps
            if self.momentum:
                buf = self._buf("momentum_buffer")
                buf *= self.momentum
                buf += g / tmp
                p -= lr * buf
            else:
                p -= lr * g / tmp
        else:  # adadelta
            rho, eps = 0.9, 1e-6
            v, u = self._buf("square_avg"), self._buf("acc_delta")
            v *= rho
            v += (1 - rho) * g * g
            delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * delta * delta
            p -= lr * delta

    def state_dict(self) -> dict:
        return {"step": self.t, "lr": self.lr, **{k: v.copy() for k, v in self.state.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore buffers and the step count; ``lr`` stays the configured one (it is checked, not taken)."""
        step = state.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not np.isfinite(step) or step < 0:
            raise ValueError(f"optimizer step {step!r} is not a count")
        buffers = {}
        for k, v in state.items():
            if k in ("step", "lr"):
                continue
            if k not in ("momentum_buffer", "exp_avg", "exp_avg_sq", "sum", "square_avg", "acc_delta"):
                raise ValueError(f"optimizer state has an unknown buffer {k!r}")
            a = np.asarray(v)
            if a.size != self.p.size or not np.issubdtype(a.dtype, np.floating):
                raise ValueError(f"optimizer buffer {k!r} does not fit the network")
            buffers[k] = a.astype(self.p.dtype).reshape(self.p.shape).copy()
        self.t = int(step)
        self.state.update(buffers)
