"""The allocator against an independent integer program (scipy.optimize.milp) and its promises."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from allocate_helpers import instances, reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from triage.allocate import Policy, PolicyError, allocate, explain_selection
from triage.allocate._problem import lottery_rank
from triage.allocate._synthetic import random_candidates


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_matches_independent_milp(instance: tuple[pd.DataFrame, Policy]) -> None:
    cands, policy = instance
    result = allocate(cands, policy)
    expected = reference(cands, policy)
    if expected is None:
        assert result.status == "infeasible"
        assert result.relaxation is not None
        repaired = allocate(cands, result.relaxation.apply(policy))
        assert repaired.status == "optimal"
        return
    assert result.status == "optimal"
    assert result.gap == 0
    assert result.objective == pytest.approx(expected, abs=1e-6)
    assert len(result.selected) == min(policy.capacity, len(cands))
    # Every reported constraint holds.
    for r in result.constraints.to_dict("records"):
        if r["kind"] == "min":
            assert r["achieved"] >= r["target"], r
        elif r["name"] != "capacity":
            assert r["achieved"] <= r["target"], r


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 300), st.randoms(use_true_random=False))
def test_row_order_and_determinism(seed: int, n: int, rnd) -> None:  # type: ignore[no-untyped-def]
    cands = random_candidates(n, seed=seed, n_countries=12)
    # Coarse scores create many ties; they must still be broken the same way.
    cands["score"] = (cands["score"] * 10).round() / 10
    policy = Policy.from_toml(
        f"name='p'\ncapacity={n // 3}\n[share.gender]\nwoman={{min=0.3}}\n"
        "[share.un_region]\nweog={max=0.1}\n"
    )
    first = allocate(cands, policy)
    order = list(range(n))
    rnd.shuffle(order)
    shuffled = allocate(cands.iloc[order].reset_index(drop=True), policy)
    assert shuffled.to_json() == first.to_json()
    assert allocate(cands, policy).to_json() == first.to_json()


def test_ties_broken_by_a_recorded_seeded_lottery() -> None:
    ids = [f"K{i:02d}" for i in range(10)]
    cands = pd.DataFrame(
        {
            "case_id": ids[::-1],
            "score": [0.5] * 10,
            "country": ["KEN"] * 10,
            "un_region": ["african"] * 10,
            "gender": ["man"] * 10,
            "violations": ["detention"] * 10,
        }
    )
    policy = Policy.from_toml("name='t'\ncapacity=3")
    selections = set()
    for seed in range(12):
        result = allocate(cands, policy, seed=seed)
        rank = lottery_rank(np.array(ids, dtype=object), seed=seed)
        drawn = [ids[i] for i in np.argsort(rank)]
        assert result.selected == tuple(sorted(drawn[:3]))
        assert allocate(cands.iloc[::-1], policy, seed=seed).selected == result.selected
        (tie,) = result.ties
        assert tie.places == 3 and tie.score == 0.5
        assert list(tie.draw_order) == drawn
        assert tie.selected == result.selected
        record = json.loads(result.to_json())["tie_lottery"]
        assert record["seed"] == seed and record["ties"][0]["draw_order"] == drawn
        selections.add(result.selected)
    # A lottery, not the case_id order: different seeds give different places.
    assert len(selections) > 3


def test_lottery_rank_is_a_keyed_permutation() -> None:
    ids = np.array([f"C{i}" for i in range(500)], dtype=object)
    rank = lottery_rank(ids, seed=7)
    assert sorted(rank.tolist()) == list(range(500))
    # A case's place relative to another does not depend on who else is in the queue.
    sub = lottery_rank(ids[::3], seed=7)
    assert (np.argsort(sub) == np.argsort(rank[::3])).all()
    assert not (lottery_rank(ids, seed=8) == rank).all()
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer"):
        lottery_rank(ids, seed=-1)


def test_no_split_tie_is_recorded_when_scores_differ() -> None:
    cands = random_candidates(200, seed=3)
    result = allocate(cands, Policy.from_toml("name='t'\ncapacity=50"))
    assert cands["score"].nunique() == len(cands)
    assert result.ties == ()


def test_highs_and_cbc_agree() -> None:
    cands = random_candidates(1650, seed=11)
    policy = Policy.from_toml(
        "name='p'\ncapacity=550\n[share.gender]\nwoman={min=0.3}\n"
        "[share.un_region]\nweog={max=0.1}\neastern_european={min=0.1}\n"
        "[share.violations]\nadministrative_harassment={min=0.05}\n[limit]\nmax_per_country=40\n"
    )
    a = allocate(cands, policy, solver="highs")
    b = allocate(cands, policy, solver="cbc")
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, abs=1e-9)
    assert a.selected == b.selected


def test_shadow_prices_match_lp_resolves() -> None:
    cands = random_candidates(400, seed=4)
    base = "name='p'\ncapacity=120\n[share.gender]\nwoman={min=%s}\n"
    a = allocate(cands, Policy.from_toml(base % 0.4))
    row = a.constraints.set_index("name").loc["share_min[gender=woman]"]
    assert row["binding"]
    assert row["shadow_price"] < 0
    # One more woman costs at least the LP price (integer programs cost more, never less).
    tighter = allocate(cands, Policy.from_toml(base % ((row["target"] + 1) / 120)))
    assert tighter.objective - a.objective <= row["shadow_price"] + 1e-9


def test_infeasible_policy_gets_a_working_relaxation() -> None:
    cands = random_candidates(200, seed=2)
    policy = Policy.from_toml(
        "name='hard'\ncapacity=100\n[share.gender]\nwoman={min=0.6}\n"
        "[share.violations]\nexpulsion={min=0.2}\n"
    )
    result = allocate(cands, policy)
    assert result.status == "infeasible"
    assert result.objective is None and result.selected == ()
    names = set(result.relaxation.changes["name"])
    assert names == {"share_min[gender=woman]", "share_min[violations=expulsion]"}
    repaired = allocate(cands, result.relaxation.apply(policy))
    assert repaired.status == "optimal"
    # Smallest: one case fewer than the relaxed target would not do.
    for change in result.relaxation.to_list():
        assert change["relaxed_to"] < change["target"]
    data = json.loads(result.to_json())
    assert data["relaxation"] and data["status"] == "infeasible"
    assert "share_min[gender=woman]" in result.message


def test_must_include_and_exploration() -> None:
    cands = random_candidates(300, seed=8)
    low = cands.sort_values("score")["case_id"].iloc[:2].tolist()
    policy = Policy.from_toml(
        f"name='m'\ncapacity=50\n[must_include]\ncase_ids={json.dumps([*low, 'NOT-THERE'])}\n"
        "[exploration]\nshare=0.1\nseed=3\n"
    )
    result = allocate(cands, policy)
    assert set(low) <= set(result.selected)
    assert result.missing_must_include == ("NOT-THERE",)
    assert len(result.exploration) == 5
    assert set(result.exploration) <= set(result.selected)
    again = allocate(cands.sample(frac=1, random_state=1), policy)
    assert again.exploration == result.exploration


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(10, 80), st.sampled_from([0.3, 0.5, 0.7, 0.9]))
def test_relaxation_is_smallest_and_works(seed: int, n: int, floor: float) -> None:
    from itertools import combinations

    cands = random_candidates(n, seed=seed, n_countries=8)
    policy = Policy.from_toml(
        f"name='r'\ncapacity={max(n // 2, 1)}\n[share.gender]\nwoman={{min={floor}}}\n"
        f"[share.violations]\nthreats={{min={floor / 2}}}\n[share.un_region]\n"
        f"african={{min={floor / 3}}}\nweog={{min=0.1}}\n[limit]\nmax_per_country=3\n"
    )
    try:
        result = allocate(cands, policy)
    except PolicyError:
        return
    if result.feasible:
        return
    assert result.relaxation is not None
    repaired = result.relaxation.apply(policy)
    assert allocate(cands, repaired).status == "optimal"
    # No smaller set of targets could be relaxed instead: drop every other set entirely.
    problem = result._problem
    assert problem is not None
    relaxable = [r for r, row in enumerate(problem.rows) if row.relaxable and r > 0]
    changed = len(result.relaxation.changes)
    lo, hi = problem.bounds()
    dense = problem.matrix.toarray()
    for size in range(changed):
        for subset in combinations(relaxable, size):
            keep = [r for r in range(len(problem.rows)) if r not in subset]
            res = milp(
                -problem.scores,
                constraints=LinearConstraint(dense[keep], lo[keep], hi[keep]),
                integrality=np.ones(problem.n),
                bounds=Bounds(0, 1),
            )
            assert res.status != 0, subset


def test_constraints_frame_honours_its_contract() -> None:
    from triage.allocate._contracts import ConstraintsFrame, check

    cands = random_candidates(300, seed=12)
    policy = Policy.from_toml(
        "name='c'\ncapacity=90\n[share.gender]\nwoman={min=0.3}\n[limit]\nmax_per_country=9\n"
    )
    check(allocate(cands, policy).constraints, ConstraintsFrame)
    hard = policy.with_bound("gender", "woman", min=0.99)
    infeasible = allocate(cands, hard)
    assert infeasible.status == "infeasible"
    frame = check(infeasible.constraints, ConstraintsFrame)
    assert frame["achieved"].isna().all() and frame["shadow_price"].isna().all()


def test_fractional_lp_goes_through_the_integer_program() -> None:
    from triage.allocate._engine import Engine
    from triage.allocate._problem import build_problem

    # Three overlapping floors: the LP takes half of A, B and C; the integer program needs two.
    cands = pd.DataFrame(
        {
            "case_id": ["A", "B", "C", "D", "E", "F"],
            "score": [0.30, 0.31, 0.32, 0.9, 0.8, 0.7],
            "country": ["KEN", "IND", "BRA", "FRA", "FRA", "FRA"],
            "un_region": ["african", "asia_pacific", "latin_american_caribbean"] + ["weog"] * 3,
            "gender": ["man"] * 6,
            "violations": ["threats;trial", "trial;defamation", "threats;defamation", "", "", ""],
        }
    )
    policy = Policy.from_toml(
        "name='f'\ncapacity=2\n[share.violations]\nthreats={min=0.5}\ntrial={min=0.5}\n"
        "defamation={min=0.5}\n"
    )
    lp = Engine(build_problem(cands, policy)).solve_lp()
    assert not lp.integral
    expected = reference(cands, policy)
    for solver in ("highs", "cbc", "highspy"):
        result = allocate(cands, policy, solver=solver)  # type: ignore[arg-type]
        assert result.status == "optimal" and result.gap == 0
        assert result.objective == pytest.approx(expected)
        assert result.selected == ("B", "C")
    reasons = explain_selection(cands, policy, allocate(cands, policy)).set_index("case_id")
    # Two of A, B, C are needed to cover three floors with two places: D can never enter,
    # and A enters only by displacing the weaker of B and C.
    assert np.isnan(reasons.loc["D", "score_to_enter"])
    assert "no score could bring it in" in reasons.loc["D", "reason"]
    assert reasons.loc["A", "score_to_enter"] == pytest.approx(0.31)
    assert reasons.loc["A", "displaced_by"] == "B"


def test_time_limit_reports_status_and_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.allocate._engine import Engine, MIPResult

    cands = random_candidates(40, seed=1)
    policy = Policy.from_toml(
        "name='t'\ncapacity=6\n[share.violations]\nthreats={min=0.5}\ntrial={min=0.5}\n"
        "[solver]\ntime_limit=0.5\n"
    )
    real = Engine._core_mip

    def stopped(self: Engine, core: np.ndarray, backend: str) -> MIPResult:
        # The solver stops early: a feasible selection, but its bound is not closed (the value
        # it reports sits 0.01 below the LP bound).
        res = real(self, core, backend)
        return MIPResult("time_limit", res.objective - 0.01, res.x, np.inf, np.inf)

    monkeypatch.setattr(Engine, "_core_mip", stopped)
    monkeypatch.setattr("triage.allocate._engine.LPResult.integral", property(lambda self: False))
    result = allocate(cands, policy)
    assert result.status == "time_limit"
    assert result.gap > 0
    data = json.loads(result.to_json())
    assert data["status"] == "time_limit" and data["gap"] > 0
    assert "gap" in result.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(4, 11), st.integers(1, 6), st.integers(1, 3))
def test_ties_prefer_earlier_lottery_draws_among_all_optima(
    seed: int, n: int, capacity: int, levels: int
) -> None:
    from itertools import combinations

    cands = random_candidates(n, seed=seed, n_countries=5)
    # Few distinct scores: many optimal selections.
    cands["score"] = np.random.default_rng(seed).integers(1, levels + 1, n) / 4
    policy = Policy.from_toml(
        f"name='t'\ncapacity={capacity}\n[share.gender]\nwoman={{min=0.3}}\n"
        "[share.violations]\nthreats={max=0.5}\n"
    )
    try:
        result = allocate(cands, policy)
    except PolicyError:
        return
    k = min(capacity, n)
    # Preference among optima follows the seeded lottery's draw order (seed 0).
    every = np.array(cands["case_id"], dtype=object)
    ids = [str(c) for c in every[np.argsort(lottery_rank(every, seed=0))]]
    frame = cands.set_index("case_id").loc[ids]
    woman = (frame["gender"] == "woman").to_numpy()
    threats = frame["violations"].str.contains("threats").to_numpy()
    score = frame["score"].to_numpy()
    best, best_key = None, None
    for subset in combinations(range(n), k):
        sel = list(subset)
        if woman[sel].sum() < math.ceil(0.3 * k - 1e-9):
            continue
        if threats[sel].sum() > math.floor(0.5 * k + 1e-9):
            continue
        value = round(score[sel].sum(), 9)
        # Higher value first; then the indicator vector in lottery order, 1 before 0.
        key = (value, [1 if i in subset else 0 for i in range(n)])
        if best_key is None or key > best_key:
            best, best_key = sel, key
    if best is None:
        assert result.status == "infeasible"
        return
    assert result.selected == tuple(sorted(ids[i] for i in best))
    assert allocate(cands, policy, solver="cbc").selected == result.selected
