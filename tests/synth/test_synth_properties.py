"""Invariants of the sampling helpers the simulation is built on (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.synth._calendar import _largest_remainder, _systematic
from triage.synth._draws import _low_discrepancy, _stratified, _van_der_corput
from triage.synth._roots import solve_increasing, solve_intercept

weights = st.lists(st.floats(0.01, 100.0), min_size=1, max_size=30)


@given(total=st.integers(0, 10_000), w=weights)
def test_largest_remainder_is_exact_and_proportional(total: int, w: list[float]) -> None:
    arr = np.array(w)
    parts = _largest_remainder(total, arr)
    assert parts.sum() == total
    assert (parts >= 0).all()
    assert np.all(np.abs(parts - total * arr / arr.sum()) < 1.0 + 1e-9)


@given(n=st.integers(1, 2_000), w=weights, seed=st.integers(0, 2**32 - 1))
def test_systematic_counts_stay_within_one_of_expectation(
    n: int, w: list[float], seed: int
) -> None:
    p = np.array(w) / np.sum(w)
    drawn = _systematic(np.random.default_rng(seed), n, p)
    counts = np.bincount(drawn, minlength=len(p))
    assert counts.sum() == n
    assert np.all(np.abs(counts - n * p) <= 1.0 + 1e-9)


@settings(max_examples=30)
@given(n=st.integers(2, 400), k=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_stratified_draws_cover_each_group_evenly(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, k, n)
    u = _stratified(rng, groups)
    assert ((u >= 0) & (u < 1)).all()
    for g in np.unique(groups):
        vals = np.sort(u[groups == g])
        m = len(vals)
        # exactly one draw in each stratum [i/m, (i+1)/m)
        assert np.array_equal(np.floor(vals * m).astype(int), np.arange(m))


@settings(max_examples=30)
@given(n=st.integers(1, 2_000), seed=st.integers(0, 2**32 - 1))
def test_low_discrepancy_draws_are_uniform_and_balanced(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    key = rng.integers(0, 3, n)
    u = _low_discrepancy(rng, (key,))
    assert ((u >= 0) & (u < 1)).all()
    # any run of 2^j consecutive points of the sequence hits every dyadic cell once
    pts = _van_der_corput(64)
    assert np.array_equal(np.sort(np.floor(pts * 64)), np.arange(64))


def test_low_discrepancy_keeps_each_rows_probability() -> None:
    """Averaged over seeds, a row's draw is below p as often as p says (marginal uniformity)."""
    keys = (np.repeat([0, 1], 50),)
    hits = np.zeros(100)
    for seed in range(400):
        hits += _low_discrepancy(np.random.default_rng(seed), keys) < 0.3
    assert np.all(np.abs(hits / 400 - 0.3) < 0.1)


@given(
    target=st.floats(0.02, 0.98),
    offsets=st.lists(st.floats(-3, 3), min_size=1, max_size=50),
)
def test_solved_intercepts_hit_their_target(target: float, offsets: list[float]) -> None:
    off = np.array(offsets)
    w = np.ones_like(off)
    a = solve_intercept(off, w, target)
    assert abs(float(np.mean(1 / (1 + np.exp(-(a + off))))) - target) < 1e-6


@given(
    target=st.floats(-50.0, 50.0),
    slope=st.floats(0.1, 10.0),
    shift=st.floats(-5.0, 5.0),
)
def test_solve_increasing_finds_the_root_or_the_nearer_end(
    target: float, slope: float, shift: float
) -> None:
    """Inside the bracket the root is found to float precision; outside it, the nearer end."""

    def f(x: float) -> float:
        return slope * (x - shift) + np.tanh(x)

    x = solve_increasing(f, target, -3.0, 3.0, what="a test line")
    assert -3.0 <= x <= 3.0
    if f(-3.0) >= target:
        assert x == -3.0
    elif f(3.0) <= target:
        assert x == 3.0
    else:
        assert abs(f(x) - target) < 1e-9 * max(1.0, abs(target))


def test_solve_increasing_says_when_it_does_not_converge(monkeypatch: pytest.MonkeyPatch) -> None:
    """A root finder that runs out of iterations raises a clear error instead of a wrong root."""
    import triage._roots as roots

    monkeypatch.setattr(roots, "_MAXITER", 1)
    with pytest.raises(RuntimeError, match="Solving the cube did not converge in 1 iterations"):
        roots.solve_increasing(lambda x: x**3, 0.3, -1.0, 2.0, what="the cube")
