"""Chance of selection: the share of the model's replicates under which the policy selects a case."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.allocate import Policy, PolicyError, allocate, chance_words, selection_chances
from triage.allocate._synthetic import random_candidates

_POLICY = "name='t'\ncapacity={k}\n[share.gender]\nwoman={{min=0.3}}\n"


def _brute_force(cands, scores: np.ndarray, k: int) -> set[str]:  # type: ignore[no-untyped-def]
    woman = (cands["gender"] == "woman").to_numpy()
    best, best_value = None, -math.inf
    for subset in combinations(range(len(cands)), k):
        sel = list(subset)
        if woman[sel].sum() < math.ceil(0.3 * k - 1e-9):
            continue
        value = scores[sel].sum()
        if value > best_value:
            best, best_value = sel, value
    assert best is not None
    return set(cands["case_id"].iloc[best])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(5, 10), k=st.integers(1, 4), b=st.integers(1, 7))
def test_matches_a_direct_computation(seed: int, n: int, k: int, b: int) -> None:
    cands = random_candidates(n, seed=seed, n_countries=4)
    cands["gender"] = np.where(np.arange(n) % 3 == 0, "woman", "man")
    reps = np.random.default_rng(seed).random((n, b))  # continuous: no exact ties
    policy = Policy.from_toml(_POLICY.format(k=k))
    chances = selection_chances(cands, policy, reps).by_case.set_index("case_id")
    counts = dict.fromkeys(cands["case_id"], 0)
    for j in range(b):
        for c in _brute_force(cands, reps[:, j], min(k, n)):
            counts[c] += 1
    for c, times in counts.items():
        assert chances.loc[c, "times_selected"] == times
        assert chances.loc[c, "p_selected"] == pytest.approx(times / b)
        assert chances.loc[c, "chance"] == chance_words(times, b)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_row_order_and_capacity(seed: int) -> None:
    cands = random_candidates(120, seed=seed, n_countries=8)
    reps = np.random.default_rng(seed).random((120, 6))
    policy = Policy.from_toml(_POLICY.format(k=30))
    first = selection_chances(cands, policy, reps).by_case
    order = np.random.default_rng(seed + 1).permutation(120)
    again = selection_chances(cands.iloc[order].reset_index(drop=True), policy, reps[order]).by_case
    assert first.equals(again)
    # Every replicate selects exactly the capacity.
    assert first["times_selected"].sum() == 30 * 6


def test_identical_replicates_agree_with_the_selection() -> None:
    cands = random_candidates(200, seed=5)
    policy = Policy.from_toml(_POLICY.format(k=50))
    reps = np.repeat(cands["score"].to_numpy()[:, None], 4, axis=1)
    chances = selection_chances(cands, policy, reps).by_case
    chosen = set(allocate(cands, policy).selected)
    assert set(chances.loc[chances["p_selected"] == 1, "case_id"]) == chosen
    assert set(chances["p_selected"]) == {0.0, 1.0}


def test_words_and_bad_input() -> None:
    assert chance_words(20, 20) == "selected under all 20 plausible models"
    assert chance_words(0, 20) == "left out under all 20 plausible models"
    assert chance_words(19, 20) == "selected under 19 of 20 plausible models"
    assert chance_words(10, 20) == "selected under 10 of 20 plausible models: borderline"
    cands = random_candidates(10, seed=1)
    policy = Policy.from_toml(_POLICY.format(k=3))
    with pytest.raises(ValueError, match="`replicates` must be a 2-D array"):
        selection_chances(cands, policy, np.zeros((9, 2)))
    with pytest.raises(ValueError, match="`replicates` must hold probabilities"):
        selection_chances(cands, policy, np.full((10, 2), 1.5))


_CAPPED = (
    "name='c'\ncapacity={k}\n[share.gender]\nwoman={{min=0.3}}\n"
    "[share.violations]\ndetention={{max=0.5}}\n[limit]\nmax_per_country=2\n"
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(20, 70), k=st.integers(3, 9), b=st.integers(1, 4))
def test_leaving_out_unreachable_cases_changes_no_selection(
    seed: int, n: int, k: int, b: int
) -> None:
    """Chances on the reduced program equal a full ``allocate`` per replicate, ties included."""
    cands = random_candidates(n, seed=seed, n_countries=6)
    # Two decimals: many exact ties, which the lottery must settle as on the full program.
    reps = np.round(np.random.default_rng(seed).random((n, b)), 2)
    policy = Policy.from_toml(_CAPPED.format(k=k))
    try:
        chances = selection_chances(cands, policy, reps, seed=seed % 3).by_case
    except PolicyError:  # a policy the candidates cannot meet is refused alike below
        with pytest.raises(PolicyError):
            allocate(cands.assign(score=reps[:, 0]), policy, seed=seed % 3)
        return
    counts = dict.fromkeys(cands["case_id"], 0)
    for j in range(b):
        full = allocate(cands.assign(score=reps[:, j]), policy, seed=seed % 3)
        if not full.feasible:
            assert chances["p_selected"].isna().all()
            return
        for c in full.selected:
            counts[c] += 1
    got = chances.set_index("case_id")["times_selected"].to_dict()
    assert got == counts


def test_the_reduction_leaves_cases_out_on_a_capped_queue() -> None:
    from triage.allocate._chances import reachable_columns
    from triage.allocate._problem import build_problem

    cands = random_candidates(400, seed=3, n_countries=5)
    policy = Policy.from_toml(_CAPPED.format(k=8))
    problem = build_problem(cands, policy)
    reps = np.random.default_rng(3).random((400, 3))
    kept = reachable_columns(problem, reps)
    assert 0 < len(kept) < problem.n // 2
    assert set(problem.forced.tolist()) <= set(kept.tolist())
