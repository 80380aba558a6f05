"""The NumPy engine: the same MLP as operator objects with ``forward`` / ``backward``.

Operators mirror the torch Functions' shape (``forward(x)`` saves what
``backward(g)`` needs). Parameters and their gradients live in two flat
float32 buffers, each layer's ``W``/``b`` a view into them, so the optimizers
update the whole network with a handful of vectorised operations.
A parameter's gradient is written by its one op per step (``accumulate=False``, the
network's case: each parameter feeds exactly one op), or *added* when asked, for graphs
where a tensor feeds several ops.
"""

from __future__ import annotations

import numpy as np

DTYPE = np.float32


class MatMul:
    """``y = x Wᵀ``; dx = g W, dW = gᵀ x."""

    def __init__(self, W: np.ndarray, dW: np.ndarray):
        self.W, self.dW = W, dW

    def forward(self, x):
        self.x = x
        return x @ self.W.T

    def backward(self, g, need_dx=True, accumulate=True):
        if accumulate:
            self.dW += g.T @ self.x
        else:
            np.matmul(g.T, self.x, out=self.dW)
        return g @ self.W if need_dx else None


class Bias:
    """``y = x + b``; db = Σ g over the batch."""

    def __init__(self, b: np.ndarray, db: np.ndarray):
        self.b, self.db = b, db

    def forward(self, x):
        x += self.b  # x is always a fresh matmul result, safe to overwrite
        return x

    def backward(self, g, accumulate=True):
        if accumulate:
            self.db += g.sum(0)
        else:
            np.sum(g, 0, out=self.db)
        return g


class ReLU:
    """``y = max(x, 0)``; dx = g · [y > 0]."""

    def forward(self, x):
        self.y = np.maximum(x, 0, out=x)
        return self.y

    def backward(self, g):
        g *= self.y > 0
        return g


class Sigmoid:
    """``y = 1 / (1 + e^-x)``; dx = g · y (1 - y)."""

    def forward(self, x):
        # Stable for large |x|: 0.5 (1 + tanh(x / 2)) never overflows.
        self.y = 0.5 * (1 + np.tanh(0.5 * x))
        return self.y

    def backward(self, g):
        return g * self.y * (1 - self.y)


class Tanh:
    """``y = tanh x``; dx = g · (1 - y²)."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y * self.y)


class Identity:
    def forward(self, x):
        return x

    def backward(self, g):
        return g


class LogSoftmax:
    """``y = z - max z - log Σ exp(z - max z)``; dz = g - softmax(z) Σ g."""

    def forward(self, z):
        shifted = z - z.max(1, keepdims=True)
        self.y = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        return self.y

    def backward(self, g):
        return g - np.exp(self.y) * g.sum(1, keepdims=True)


class NLLLoss:
    """``L = -mean(logp[i, y_i])``; dlogp = -onehot(y) / N."""

    def forward(self, logp, y):
        self.shape, self.y = logp.shape, y
        return -float(logp[np.arange(len(y)), y].mean())

    def backward(self, g=1.0):
        d = np.zeros(self.shape, DTYPE)
        d[np.arange(len(self.y)), self.y] = -g / len(self.y)
        return d


class CrossEntropy:
    """LogSoftmax then NLL, with the closed form dz = (softmax(z) - onehot(y)) / N."""

    def forward(self, z, y):
        self.logp = LogSoftmax().forward(z)
        self.y = y
        return -float(self.logp[np.arange(len(y)), y].mean())

    def backward(self, g=1.0):
        d = np.exp(self.logp)
        d[np.arange(len(self.y)), self.y] -= 1
        d *= g / len(self.y)
        return d


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "identity": Identity}


class NumpyMLP:
    """Linear → act → ... → Linear over flat parameter/gradient buffers."""

    def __init__(self, in_features: int, hidden: list[int], n_classes: int, act: str):
        self.sizes = [in_features, *hidden, n_classes]
        self.act = act
        shapes = []
        for i in range(len(self.sizes) - 1):
            shapes += [(self.sizes[i + 1], self.sizes[i]), (self.sizes[i + 1],)]
        total = sum(int(np.prod(s)) for s in shapes)
        self.flat = np.zeros(total, DTYPE)
        self.flat_grad = np.zeros(total, DTYPE)
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        offset = 0
        for s in shapes:
            n = int(np.prod(s))
            self.params.append(self.flat[offset : offset + n].reshape(s))
            self.grads.append(self.flat_grad[offset : offset + n].reshape(s))
            offset += n
        self.layers: list = []
        n_lin = len(self.sizes) - 1
        for i in range(n_lin):
            self.layers.append(MatMul(self.params[2 * i], self.grads[2 * i]))
            self.layers.append(Bias(self.params[2 * i + 1], self.grads[2 * i + 1]))
            if i < n_lin - 1:
                self.layers.append(ACTIVATIONS[act]())
        self.loss = CrossEntropy()

    def forward(self, x: np.ndarray) -> np.ndarray:
        h = x
        for layer in self.layers:
            h = layer.forward(h)
        return h

    def loss_and_logits(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Forward, loss, and backward, writing every gradient into ``flat_grad``."""
        z = self.forward(x)
        loss = self.loss.forward(z, y)
        g = self.loss.backward()
        first = self.layers[0]
        for layer in reversed(self.layers):
            if isinstance(layer, MatMul):
                g = layer.backward(g, need_dx=layer is not first, accumulate=False)
            elif isinstance(layer, Bias):
                g = layer.backward(g, accumulate=False)
            else:
                g = layer.backward(g)
        return loss, z


class NumpyOptimizer:
    """PyTorch's update rules (``torch.optim`` defaults) over one flat buffer.

    Weight decay is L2 (added to the gradient) as ``torch.optim`` does, except for
    adam, which decays decoupled as ``torch.optim.AdamW`` (``p *= 1 - lr·wd``): the
    course's best settings (wd 0.15) reach its 84% only with that rule.
    """

    def __init__(self, name: str, params: np.ndarray, grads: np.ndarray, lr: float,
                 momentum: float = 0.0, weight_decay: float = 0.0):
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
        if self.wd and self.name == "adam":
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
        elif self.name == "adam":
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
        elif self.name == "adadelta":
            rho, eps = 0.9, 1e-6
            v, u = self._buf("square_avg"), self._buf("acc_delta")
            v *= rho
            v += (1 - rho) * g * g
            delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * delta * delta
            p -= lr * delta
        else:  # validated by TrainConfig; kept for direct use
            raise ValueError(f"unknown optimizer {self.name!r}")

    def state_dict(self) -> dict:
        return {"step": self.t, **{k: v.copy() for k, v in self.state.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.t = int(state.get("step", 0))
        for k, v in state.items():
            if k != "step":
                self.state[k] = np.asarray(v, DTYPE).reshape(self.p.shape).copy()
