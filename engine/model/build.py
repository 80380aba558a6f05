"""Building a network for a config, and the devices it may run on.

The factory lives apart from :class:`~engine.model.network.Network` so the base class's module
never imports its torch subclasses (which import it): no import cycle.
"""

from __future__ import annotations

import numpy as np

from engine.config import TrainConfig
from engine.model.network import Network, NumpyNetwork


def available_devices() -> list[str]:
    """``cpu`` plus ``cuda`` / ``mps`` where torch sees one (imports torch)."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def build_network(
    config: TrainConfig, in_features: int, n_classes: int, weights: list[np.ndarray] | None = None
) -> Network:
    """The network of ``config.engine``; its parameter count is checked before anything is allocated."""
    if config.engine == "user":
        from engine.model.userops import in_worker

        if in_worker():  # the user's code runs only in worker processes
            from engine.model.torch_network import UserNetwork

            return UserNetwork(config, in_features, n_classes, weights)
        # elsewhere (the window's predictions, a checkpoint opened) the reference computes the
        # same forward pass
    if config.engine == "numpy":
        return NumpyNetwork(config, in_features, n_classes, weights)
    from engine.model.torch_network import TorchNetwork

    return TorchNetwork(config, in_features, n_classes, weights)
