"""Backprop Studio's engine: models with hand-written gradients, data, training, checkpoints.

Nothing in this package imports Qt; the GUI and the CLI drive it through
:class:`engine.training.TrainingRun` and the plain functions of its modules.
"""

__version__ = "0.2.0"
