from __future__ import annotations

import sys

import pytest

from engine.model import blas
from engine.model.blas import blas_threads, set_blas_threads


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the OpenBLAS lookup reads /proc/self/maps")
def test_blas_threads_can_be_set_and_restored():
    if blas_threads() is None:
        pytest.skip("this NumPy is not linked against OpenBLAS")
    default = blas._openblas()[2]  # the count found when the library was first looked up
    assert set_blas_threads(1) and blas_threads() == 1
    assert set_blas_threads(None) and blas_threads() == default
