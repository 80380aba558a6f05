"""The engine suites' shared fixture: a good checkpoint to break."""

from __future__ import annotations

import pytest
import torch

from engine.checkpoint import Model, save_checkpoint
from engine.config import TrainConfig
from engine.training.run import TrainingRun


@pytest.fixture(scope="module")
def good(small_letters, tmp_path_factory):
    """(path of a good checkpoint, its payload as a dict) to mutate."""
    run = TrainingRun(TrainConfig(epochs=1, batch_size=64, hidden=[16]), small_letters)
    run.run()
    path = tmp_path_factory.mktemp("good") / "good.pt"
    save_checkpoint(path, Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history))
    return path, torch.load(path, weights_only=True)
