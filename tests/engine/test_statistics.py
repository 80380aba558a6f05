"""The statistics of the results tables, against values computed by hand."""

from __future__ import annotations

import math

import pytest

from engine.runs.statistics import best_of, seeds_to_separate, summarize, t975


def test_the_sample_std_and_the_t_interval_by_hand():
    s = summarize([0.70, 0.71, 0.90])
    assert s.n == 3 and s.mean == pytest.approx(0.77)
    # Σ(x − x̄)² = 0.0049 + 0.0036 + 0.0169 = 0.0254; / (n − 1) = 0.0127; √ = 0.112694
    assert s.std == pytest.approx(math.sqrt(0.0127), abs=1e-12)
    assert s.half_width == pytest.approx(4.303 * math.sqrt(0.0127) / math.sqrt(3), abs=1e-12)
    one = summarize([0.5])
    assert one.std == 0 and math.isinf(one.half_width) and summarize([]) is None


def test_t_quantiles_from_the_table_and_beyond_it():
    assert t975(2) == 4.303 and t975(30) == 2.042
    assert t975(60) == pytest.approx(2.000, abs=2e-3) and t975(120) == pytest.approx(1.980, abs=2e-3)
    assert t975(10**6) == pytest.approx(1.96, abs=1e-3) and math.isinf(t975(0))


def test_the_best_row_is_claimed_only_when_its_interval_clears_the_runner_ups():
    clear = best_of([[0.80, 0.81, 0.79], [0.70, 0.71, 0.69], [0.50, 0.52, 0.51]])
    assert clear.index == 0
    # the courses' "wd 0.18 is best" on three seeds: 79.7 ± 0.8 against 79.4 ± 1.8: noise
    noisy = best_of([[0.794, 0.796, 0.801], [0.780, 0.795, 0.811]])
    assert noisy.index is None and "no clear best" in noisy.note and "overlap" in noisy.note
    assert "seeds each would separate them" in noisy.note
    single = best_of([[0.8], [0.7]])
    assert single.index is None and "one seed each" in single.note


def test_seeds_needed_to_separate_two_rows():
    top, second = summarize([0.80, 0.82, 0.78]), summarize([0.78, 0.80, 0.76])
    n = seeds_to_separate(top, second)
    # intervals part when t(n − 1)(s₁ + s₂)/√n < 0.02, with s₁ = s₂ = 0.02: t/√n < 0.5
    assert n is not None and t975(n - 1) / math.sqrt(n) < 0.5 <= t975(n - 2) / math.sqrt(n - 1)
    assert seeds_to_separate(second, top) is None
