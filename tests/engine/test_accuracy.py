"""Real training runs to the accuracy the issue asks for (slow: seconds to a minute each)."""

from __future__ import annotations

import pytest

from engine.config import TrainConfig
from engine.data import open_dataset
from engine.training import TrainingRun
from tests.conftest import FASHION_DIR, LETTERS_DIR


@pytest.mark.slow
@pytest.mark.skipif(not LETTERS_DIR.exists(), reason=f"the shared letters set is not at {LETTERS_DIR}")
@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_course_settings_reach_the_course_accuracy(engine):
    """hidden 64, relu, adam lr 2e-3, wd 0.15, batch 8, 50 epochs (the course reports 84.2%)."""
    last = TrainingRun(TrainConfig(engine=engine), open_dataset(LETTERS_DIR)).run()
    assert last.best_test_acc >= 0.83, last
    assert last.test_acc >= 0.75, last


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_DIR.exists(),
                    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_reaches_88_percent():
    config = TrainConfig(engine="numpy", hidden=[512], lr=5e-4, weight_decay=0.02, batch_size=64, epochs=25)
    last = TrainingRun(config, open_dataset(FASHION_DIR)).run()
    assert max(last.test_acc, last.best_test_acc) >= 0.88, last
