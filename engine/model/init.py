"""Initial weights, drawn with NumPy from the seed so both engines start from the same numbers."""

from __future__ import annotations

import numpy as np


def initial_weights(
    sizes: list[int], act: str, seed: int, init: str = "he", bias: bool = True, dtype=np.float32
) -> list[np.ndarray]:
    """``[W0, b0, W1, ...]`` for layer sizes ``sizes``.

    ``he``: He-normal (std √(2/fan_in)) for layers feeding relu, Xavier-normal
    (√(2/(fan_in+fan_out))) otherwise, zero biases. ``xavier``: Xavier-normal everywhere,
    zero biases. ``normal``: weights N(0, 1) as the letters course's ``torch.randn``, zero biases.
    ``uniform``: weights and biases U(−1/√fan_in, 1/√fan_in), PyTorch's ``nn.Linear`` default
    (its kaiming_uniform with a = √5 has exactly that bound). ``bias=False``: biases are zero
    and stay zero (a bias-free MLP). ``dtype``: float32, or float64 for a run in double precision
    (the same draws, not rounded to float32).
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(len(sizes) - 1):
        fan_in, fan_out = sizes[i], sizes[i + 1]
        last = i == len(sizes) - 2
        if init == "uniform":
            bound = 1.0 / np.sqrt(fan_in)
            out.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
            b = rng.uniform(-bound, bound, fan_out).astype(dtype)
            out.append(b if bias else np.zeros(fan_out, dtype))
            continue
        if init == "normal":
            std = 1.0
        elif init == "he" and act == "relu" and not last:
            std = np.sqrt(2.0 / fan_in)
        else:
            std = np.sqrt(2.0 / (fan_in + fan_out))
        out.append((rng.standard_normal((fan_out, fan_in)) * std).astype(dtype))
        out.append(np.zeros(fan_out, dtype))
    return out
