"""The Internals tab: what backprop does inside the network, while it learns.

- **Health**: per layer, ‖∂L/∂W‖, the update ratio ‖ΔW‖/‖W‖ (log scale, the customary 1e-3 band
  marked), dead ReLUs or saturated units, activation mean ± std; warnings naming the layer.
- **Distributions**: a layer's weights or gradients as percentile bands over training, and
  the histogram at a chosen epoch.
- **Explain**: one image's forward and backward pass, step by step, with formulas, shapes,
  the numbers, and a check mark per step (both engines and finite differences agree).
- **Embedding**: a 2-D map of the logits or a hidden layer (PCA at once, t-SNE in the
  background with progress and Cancel); points coloured by class, misclassified ones ringed.
- **Units**: a hidden unit's weight image and the training images that activate it most.

The maths is in ``engine.training.health`` and ``engine.inspect``; this package only draws:
one module a panel, ``view`` the tab that holds them.
"""

from gui.views.internals.distributions import DistributionPanel
from gui.views.internals.embedding import EmbeddingPanel
from gui.views.internals.explain import ExplainPanel
from gui.views.internals.health import HealthPanel
from gui.views.internals.network import NetworkPanel
from gui.views.internals.units import UnitsPanel
from gui.views.internals.view import InternalsView

__all__ = [
    "DistributionPanel",
    "EmbeddingPanel",
    "ExplainPanel",
    "HealthPanel",
    "InternalsView",
    "NetworkPanel",
    "UnitsPanel",
]
