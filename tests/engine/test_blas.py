from __future__ import annotations

import pytest

from engine.model import blas
from engine.model.blas import blas_threads, set_blas_threads


def test_blas_threads_can_be_set_and_restored():
    if blas_threads() is None:
        pytest.skip("threadpoolctl finds no BLAS library in this NumPy")
    default = blas._numpy_blas()[1]  # the count found when the library was first looked up
    assert blas._numpy_blas()[0][0].internal_api in ("openblas", "mkl", "blis", "accelerate")
    assert set_blas_threads(1) and blas_threads() == 1
    assert set_blas_threads(None) and blas_threads() == default


def test_a_cap_holds_for_later_requests_and_one_thread_is_restored(monkeypatch):
    if blas_threads() is None:
        pytest.skip("threadpoolctl finds no BLAS library in this NumPy")
    default = blas._numpy_blas()[1]
    try:
        assert blas.cap_blas_threads(1) and blas_threads() == 1
        set_blas_threads(None)  # the numpy engine's "default" for large batches: still the cap
        assert blas_threads() == 1
    finally:
        blas.cap_blas_threads(None)
    assert set_blas_threads(None) and blas_threads() == default
    set_blas_threads(2)
    with blas.one_blas_thread():
        assert blas_threads() == 1
    assert blas_threads() == 2
    set_blas_threads(None)


def test_layer_health_is_collected_on_one_blas_thread(monkeypatch):
    """A second OpenBLAS thread spins beside torch's after each use (a core taken from the window)."""
    if blas_threads() is None:
        pytest.skip("threadpoolctl finds no BLAS library in this NumPy")
    import numpy as np

    from engine.model.init import initial_weights
    from engine.training import health

    seen = []
    real = health.layer_health

    def spy(*a, **k):
        seen.append(blas_threads())
        return real(*a, **k)

    monkeypatch.setattr(health, "layer_health", spy)
    set_blas_threads(2)
    w = initial_weights([6, 4, 3], "relu", 0)
    x = np.random.default_rng(0).random((5, 6))
    health.HealthMonitor("relu", x, np.array([0, 1, 2, 0, 1])).collect(w, w, 1, 0.1, 0.01)
    assert seen == [1] and blas_threads() == 2
    set_blas_threads(None)
