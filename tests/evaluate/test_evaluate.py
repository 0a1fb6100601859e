"""The counterfactual evaluation: invariants of the four arms, leakage, determinism, the result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from suite_settings import slow_property_settings

import triage.evaluate._year as year_module
from triage.allocate import Policy, load_policy
from triage.allocate._synthetic import random_candidates
from triage.config import policies_dir
from triage.errors import TriageError
from triage.evaluate import Evaluation, Prepared, evaluate, known_at, simulated_histories
from triage.evaluate._data import OUTCOME_LAG
from triage.evaluate._evaluate import _by_seed
from triage.evaluate._year import _chosen, _select, _year_policy, evaluate_year

pytestmark = pytest.mark.slow  # replays years of refits on a simulated history

ARMS = ("mandate", "triage", "random", "oracle")


@pytest.fixture(scope="module")
def small() -> list[Prepared]:
    # Every case has an outcome: enough to refit on at a tenth of the paper's scale.
    return simulated_histories([7], scale=0.1, outcomes="all")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(policies_dir() / "default.toml")


@pytest.fixture(scope="module")
def result(small: list[Prepared], policy: Policy) -> Evaluation:
    return evaluate(small, policy, from_year=2014)


def test_each_year_selects_as_many_as_the_mandate_took(
    small: list[Prepared], result: Evaluation
) -> None:
    pool = small[0].pool
    assert result.years["year"].tolist() == [2014, 2015, 2016]
    for row in result.years.itertuples(index=False):
        part = pool[pool["year"] == row.year]
        assert row.capacity == int(part["taken"].sum()) > 0
        assert row.candidates == len(part)
        assert row.mandate == pytest.approx(part.loc[part["taken"], "truth"].sum())


def test_the_oracle_bounds_triage_and_random_every_year(result: Evaluation) -> None:
    years = result.years
    assert (years["oracle"] >= years["triage"] - 1e-9).all()
    assert (years["triage_equal"] > 0).all()
    assert (years["oracle"] >= years["random"] - 1e-9).all()
    assert (years[list(ARMS)] > 0).all().all()


def test_totals_gain_and_share_follow_from_the_years(result: Evaluation) -> None:
    total = result.total
    for arm in ARMS:
        assert total[arm] == pytest.approx(result.years[arm].sum())
    assert result.gain_pct == pytest.approx(
        100 * (total["triage"] - total["mandate"]) / total["mandate"]
    )
    assert result.oracle_share == pytest.approx(
        (total["triage"] - total["random"]) / (total["oracle"] - total["random"])
    )


def test_json_has_the_documented_shape(result: Evaluation) -> None:
    out = result.to_dict()
    assert {"years", "total"} <= set(out)
    for row in out["years"]:
        assert set(row) == {"year", "capacity", *ARMS}
        assert isinstance(row["year"], int) and isinstance(row["capacity"], int)
    assert set(out["total"]) == set(ARMS)
    assert out["total"]["triage"] == pytest.approx(sum(r["triage"] for r in out["years"]))
    assert out["interval"]["gain_pct"] == [None, None]  # one seed: no interval


def test_same_history_same_result(small: list[Prepared], policy: Policy) -> None:
    a = evaluate(small, policy, from_year=2016)
    b = evaluate(small, policy, from_year=2016, n_jobs=2)
    pd.testing.assert_frame_equal(a.years, b.years)


def test_training_never_sees_an_outcome_observed_from_the_year_on(
    small: list[Prepared], policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[pd.Timestamp, pd.Series, object]] = []
    real = year_module.fit_model

    def spy(history, *, seed=0):  # type: ignore[no-untyped-def]
        sent = history.cases.set_index("case_id")["sent_date"]
        observed = pd.to_datetime(history.outcomes["case_id"].map(sent)) + OUTCOME_LAG
        seen.append((observed.max(), observed, history.truth))
        return real(history, seed=seed)

    monkeypatch.setattr(year_module, "fit_model", spy)
    row = evaluate_year(small[0], 2015, policy, n_random=1)
    assert len(seen) == 1
    latest, observed, truth = seen[0]
    assert latest < pd.Timestamp("2015-01-01")
    assert row["n_train"] == len(observed)
    full = small[0].history
    all_observed = (
        pd.to_datetime(full.outcomes["case_id"].map(full.cases.set_index("case_id")["sent_date"]))
        + OUTCOME_LAG
    )
    assert len(observed) == int((all_observed < pd.Timestamp("2015-01-01")).sum())
    assert truth is None  # the generator's truth is not in what the model is given


def test_triage_scores_do_not_depend_on_the_truth(
    small: list[Prepared], policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[np.ndarray] = []
    real = year_module._select

    def spy(pool: pd.DataFrame, scores: np.ndarray, pol: Policy):  # type: ignore[no-untyped-def]
        calls.append(np.asarray(scores, dtype=float).copy())
        return real(pool, scores, pol)

    monkeypatch.setattr(year_module, "_select", spy)
    evaluate_year(small[0], 2016, policy, n_random=1)
    first = calls[1]  # calls: feasibility probe, triage, oracle, random
    scrambled = small[0].pool.copy()
    rng = np.random.default_rng(0)
    scrambled["truth"] = rng.permutation(scrambled["truth"].to_numpy())
    calls.clear()
    evaluate_year(Prepared(small[0].history, scrambled, 7), 2016, policy, n_random=1)
    np.testing.assert_array_equal(first, calls[1])


def test_known_at_keeps_only_outcomes_observed_before(small: list[Prepared]) -> None:
    start = pd.Timestamp("2012-01-01")
    known = known_at(small[0].history, start)
    sent = known.cases.set_index("case_id")["sent_date"]
    observed = pd.to_datetime(known.outcomes["case_id"].map(sent)) + OUTCOME_LAG
    assert (observed < start).all()
    assert len(known.cases) == len(small[0].history.cases)


def test_an_infeasible_policy_is_relaxed_alike_for_every_arm(small: list[Prepared]) -> None:
    strict = Policy.from_toml(
        "name = 'strict'\ncapacity = 10\n[share.un_region]\nweog = { min = 0.9 }\n"
    )
    row = evaluate_year(small[0], 2016, strict, n_random=2)
    assert "share_min[un_region=weog]" in row["relaxed"]
    assert row["oracle"] >= row["triage"] - 1e-9
    assert row["oracle"] >= row["random"] - 1e-9


def test_too_few_outcomes_is_a_clear_error(small: list[Prepared], policy: Policy) -> None:
    with pytest.raises(TriageError, match="outcomes were observed before 2002"):
        evaluate(small, policy, from_year=2002)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_random": 0}, "`n_random` must be a positive integer"),
        ({"min_outcomes": 5}, "`min_outcomes` must be an integer of at least 40"),
        ({"n_jobs": 0}, "`n_jobs` must be a non-zero integer"),
        ({"backend": "spark"}, "`backend` must be one of"),
    ],
)
def test_bad_arguments(
    small: list[Prepared], policy: Policy, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate(small, policy, from_year=2016, **kwargs)  # type: ignore[arg-type]


def test_a_cluster_backend_that_is_not_installed_says_so(
    small: list[Prepared], policy: Policy
) -> None:
    pytest.importorskip("joblib")
    try:
        import ray  # noqa: F401
    except ImportError:
        with pytest.raises(TriageError, match="needs Ray"):
            evaluate(small, policy, from_year=2016, backend="ray")


# ---------------------------------------------------------------- properties without training


@st.composite
def pools(draw: st.DrawFn) -> tuple[pd.DataFrame, Policy]:
    n = draw(st.integers(8, 60))
    seed = draw(st.integers(0, 10_000))
    cands = random_candidates(n, seed=seed, n_countries=10).drop(columns=["score"])
    rng = np.random.default_rng(seed + 1)
    cands["truth"] = rng.random(n)
    cands["year"] = 2010
    k = draw(st.integers(1, n))
    woman = draw(st.sampled_from([0.0, 0.2, 0.5]))
    threats = draw(st.sampled_from([0.0, 0.1, 0.4]))
    lines = [
        "name = 'p'",
        f"capacity = {k}",
        "[share.gender]",
        f"woman = {{ min = {woman} }}",
        "[share.violations]",
        f"threats = {{ min = {threats} }}",
    ]
    return cands, Policy.from_toml("\n".join(lines))


@slow_property_settings(40)
@given(pools(), st.integers(0, 10_000))
def test_property_the_truth_ranked_selection_is_optimal_for_the_truth(
    instance: tuple[pd.DataFrame, Policy], seed: int
) -> None:
    pool, policy = instance
    k = policy.capacity
    pol, _ = _year_policy(pool, policy, k)
    truth = pool["truth"].to_numpy()
    oracle = _chosen(pool, _select(pool, truth, pol))
    other = _chosen(pool, _select(pool, np.random.default_rng(seed).random(len(pool)), pol))
    assert oracle.sum() == other.sum() == k
    assert truth[oracle].sum() >= truth[other].sum() - 1e-9


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(1, 100), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
        min_size=1,
        max_size=12,
    )
)
def test_property_share_lies_in_0_1_when_triage_is_between_random_and_oracle(
    rows: list[tuple[float, float, float, float]],
) -> None:
    recs = []
    for i, (mandate, a, b, c) in enumerate(rows):
        random, triage, oracle = sorted((a * 100, b * 100, c * 100))
        recs.append(
            {
                "seed": i % 3,
                "year": 2000 + i,
                "mandate": mandate,
                "triage": triage,
                "random": random,
                "oracle": oracle,
            }
        )
    by_seed = _by_seed(pd.DataFrame(recs))
    share = by_seed["oracle_share"].dropna()
    assert ((share >= -1e-12) & (share <= 1 + 1e-12)).all()
    expect = 100 * (by_seed["triage"] - by_seed["mandate"]) / by_seed["mandate"]
    np.testing.assert_allclose(by_seed["gain_pct"], expect)


def test_summary_gives_a_t_interval_over_seeds() -> None:
    years = pd.DataFrame(
        {
            "seed": [1, 2, 3, 4],
            "year": [2010] * 4,
            "capacity": [50] * 4,
            "mandate": [100.0] * 4,
            "triage": [120.0, 130.0, 125.0, 135.0],
            "random": [90.0] * 4,
            "oracle": [190.0] * 4,
            "triage_equal": [110.0] * 4,
            "relaxed": [""] * 4,
        }
    )
    ev = Evaluation(years=years, by_seed=_by_seed(years), policy="p", n_random=1)
    s = ev.summary(0.9).set_index("figure")
    g = s.loc["gain_pct"]
    assert g["mean"] == pytest.approx(27.5)
    assert g["lower"] < 27.5 < g["upper"]
    assert g["min"] == 20 and g["max"] == 35
    # t quantile with 3 degrees of freedom: 2.3534; sd of (20, 30, 25, 35) is 6.455
    assert g["upper"] - g["mean"] == pytest.approx(2.3534 * 6.4550 / 2, rel=1e-3)
    assert s.loc["gain_equal_pct", "mean"] == pytest.approx(10.0)
    out = ev.to_dict()
    assert out["gain_equal_balance_pct"] == pytest.approx(10.0)
    assert [s["seed"] for s in out["seeds"]] == [1, 2, 3, 4]
    assert out["years"][0]["triage"] == pytest.approx(127.5)


def test_a_refit_that_cannot_learn_names_the_seed_and_year(
    small: list[Prepared], policy: Policy
) -> None:
    from dataclasses import replace

    history = small[0].history
    flat = replace(history, outcomes=history.outcomes.assign(outcome="same"))
    with pytest.raises(TriageError, match=r"seed 7, 2016: the refit on \d+ outcomes failed"):
        evaluate_year(Prepared(flat, small[0].pool, 7), 2016, policy, n_random=1)
