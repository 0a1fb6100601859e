"""Selection reasons: the score to enter is exact against an independent MILP, does not depend on
row order, and equal scores read as single exchanges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allocate_helpers import instances, reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.allocate import Policy, allocate, explain_selection
from triage.allocate._problem import lottery_rank
from triage.allocate._synthetic import random_candidates


@pytest.mark.parametrize("seed", [1, 2])
def test_score_to_enter_is_exact(seed: int) -> None:
    cands = random_candidates(500, seed=seed)
    policy = Policy.from_toml(
        "name='p'\ncapacity=150\n[share.gender]\nwoman={min=0.35}\n"
        "[share.un_region]\nweog={max=0.08}\nafrican={min=0.25}\n[limit]\nmax_per_country=12\n"
    )
    result = allocate(cands, policy)
    reasons = explain_selection(cands, policy, result)
    assert list(reasons.columns) == [
        "case_id",
        "selected",
        "reason",
        "score_to_enter",
        "displaced_by",
    ]
    assert reasons["selected"].sum() == 150
    assert reasons.loc[reasons["selected"], "score_to_enter"].isna().all()
    out = reasons[~reasons["selected"] & reasons["score_to_enter"].notna()]
    rng = np.random.default_rng(seed)
    for i in rng.choice(len(out), 6, replace=False):
        case = out.iloc[i]
        for delta, expected in ((1e-6, True), (-1e-6, False)):
            changed = cands.copy()
            changed.loc[changed["case_id"] == case["case_id"], "score"] = (
                case["score_to_enter"] + delta
            )
            after = allocate(changed, policy)
            assert (case["case_id"] in after.selected) is expected
            if expected:
                # displaced_by names exactly the cases that leave when it enters.
                left = set(result.selected) - set(after.selected)
                assert left == set(case["displaced_by"].split(";")) - {""}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.integers(0, 1000))
def test_score_to_enter_matches_independent_milp(
    instance: tuple[pd.DataFrame, Policy], pick: int
) -> None:
    cands, policy = instance
    result = allocate(cands, policy)
    if not result.feasible:
        return
    reasons = explain_selection(cands, policy, result).set_index("case_id")
    out = reasons[~reasons["selected"]]
    if not len(out):
        return
    case = out.index[pick % len(out)]
    # V_j: the best total of the others when the case is forced in, solved independently.
    forced = policy.with_changes(must_include=(*policy.must_include, case))
    if len(forced.must_include) > forced.capacity:
        return
    best_with = reference(cands, forced)
    if best_with is None:
        assert np.isnan(out.loc[case, "score_to_enter"])
        return
    score = float(cands.set_index("case_id").loc[case, "score"])
    expected = result.objective - (best_with - score)
    assert out.loc[case, "score_to_enter"] == pytest.approx(expected, abs=1e-7)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.randoms(use_true_random=False))
def test_reasons_do_not_depend_on_row_order(seed: int, rnd) -> None:  # type: ignore[no-untyped-def]
    cands = random_candidates(120, seed=seed, n_countries=10)
    policy = Policy.from_toml(
        "name='o'\ncapacity=40\n[share.gender]\nwoman={min=0.35}\n[limit]\nmax_per_country=6\n"
    )
    first = explain_selection(cands, policy, allocate(cands, policy))
    order = list(range(len(cands)))
    rnd.shuffle(order)
    shuffled = cands.iloc[order].reset_index(drop=True)
    second = explain_selection(shuffled, policy, allocate(shuffled, policy))
    pd.testing.assert_frame_equal(first, second)


def test_reasons_for_forced_and_impossible_cases() -> None:
    cands = random_candidates(200, seed=14, n_countries=10)
    blocked = cands["country"].value_counts().index[0]
    free = cands[cands["country"] != blocked]
    low = free.sort_values("score")["case_id"].iloc[0]
    policy = Policy.from_toml(
        f"name='f'\ncapacity=50\n[limit.per_country]\n{blocked}=0\n"
        f"[must_include]\ncase_ids=['{low}']\n[exploration]\nshare=0.04\nseed=1\n"
    )
    result = allocate(cands, policy)
    assert result.status == "optimal", result.message
    reasons = explain_selection(cands, policy, result).set_index("case_id")
    assert reasons.loc[low, "selected"]
    assert "must-include" in reasons.loc[low, "reason"]
    for cid in result.exploration:
        assert "at random for exploration" in reasons.loc[cid, "reason"]
    blocked_ids = cands.loc[cands["country"] == blocked, "case_id"]
    assert not reasons.loc[blocked_ids, "selected"].any()
    assert reasons.loc[blocked_ids, "score_to_enter"].isna().all()
    assert reasons.loc[blocked_ids, "reason"].str.contains("no score could bring it in").all()
    # Names of people never appear: the reasons only carry codes, scores and case ids.
    assert set(reasons.columns) == {"selected", "reason", "score_to_enter", "displaced_by"}


def test_equal_scores_explain_as_single_exchanges() -> None:
    # A model that cannot tell cases apart gives them all one score: every case left out could
    # enter at that same score by taking exactly one place.
    cands = random_candidates(300, seed=9, n_countries=8)
    cands["score"] = 0.25
    policy = Policy.from_toml(
        "name='e'\ncapacity=60\n[share.gender]\nwoman={min=0.3}\n[limit]\nmax_per_country=12\n"
    )
    result = allocate(cands, policy)
    reasons = explain_selection(cands, policy, result)
    out = reasons[~reasons["selected"] & reasons["score_to_enter"].notna()]
    assert len(out) > 0
    assert np.allclose(out["score_to_enter"], 0.25)
    assert (out["displaced_by"].str.count(";") == 0).all()
    assert set(out["displaced_by"]) <= set(result.selected)
    # Ties go by the lottery: the case drawn first is always kept.
    every = np.array(cands["case_id"], dtype=object)
    assert every[np.argmin(lottery_rank(every, seed=0))] in result.selected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_score_to_enter_on_a_capped_queue_matches_independent_milp(seed: int) -> None:
    """Per-pattern solves on the reduced program give every left-out case's exact bar."""
    cands = random_candidates(40, seed=seed, n_countries=5)
    cands["score"] = np.round(cands["score"], 2)  # exact ties across and within patterns
    policy = Policy.from_toml(
        "name='c'\ncapacity=8\n[share.gender]\nwoman={min=0.25}\n[limit]\nmax_per_country=2\n"
    )
    result = allocate(cands, policy)
    if not result.feasible:
        return
    reasons = explain_selection(cands, policy, result).set_index("case_id")
    scores = cands.set_index("case_id")["score"]
    for case in reasons.index[~reasons["selected"]]:
        best_with = reference(cands, policy.with_changes(must_include=(case,)))
        got = reasons.loc[case, "score_to_enter"]
        if best_with is None:
            assert np.isnan(got)
        else:
            expected = result.objective - (best_with - float(scores[case]))
            assert got == pytest.approx(expected, abs=1e-7)
