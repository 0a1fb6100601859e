"""Interactive re-solves, price of balance, trade-off curves, rolling selection and backtest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.allocate import (
    InteractiveAllocator,
    Policy,
    allocate,
    load_policy,
    price_of_balance,
    tradeoff_curve,
)
from triage.allocate._rolling import backtest, rolling_selection
from triage.allocate._synthetic import random_candidates
from triage.config import policies_dir

POLICY = Policy.from_toml(
    "name='p'\ncapacity=200\n[share.gender]\nwoman={min=0.3}\n[share.un_region]\n"
    "weog={max=0.08}\nafrican={min=0.2}\n[share.violations]\ndefamation={min=0.05}\n"
    "[limit]\nmax_per_country=25\n"
)


@pytest.fixture(scope="module")
def cands() -> pd.DataFrame:
    return random_candidates(1500, seed=31)


@pytest.fixture(scope="module")
def inter(cands: pd.DataFrame) -> InteractiveAllocator:
    return InteractiveAllocator(cands, POLICY)


@settings(max_examples=15, deadline=None)
@given(
    st.sampled_from([None, 0.1, 0.3, 0.45, 0.6, 0.9]),
    st.sampled_from([None, 0.02, 0.1, 0.3]),
)
def test_interactive_matches_a_fresh_solve(
    inter: InteractiveAllocator, cands: pd.DataFrame, woman: float | None, weog: float | None
) -> None:
    changed = POLICY.with_bound("gender", "woman", min=woman).with_bound(
        "un_region", "weog", max=weog
    )
    fast = inter.resolve(changed)
    fresh = allocate(cands, changed)
    assert fast.status == fresh.status
    if fresh.feasible:
        assert fast.objective == pytest.approx(fresh.objective, abs=1e-9)
        assert fast.selected == fresh.selected
        assert list(fast.constraints["name"]) == list(fresh.constraints["name"])
    else:
        assert fast.relaxation is not None


def test_interactive_refuses_structural_changes(inter: InteractiveAllocator) -> None:
    with pytest.raises(ValueError, match=r"`policy\.capacity` must stay"):
        inter.resolve(POLICY.with_changes(capacity=100))


def test_price_of_balance(cands: pd.DataFrame) -> None:
    frame = price_of_balance(cands, POLICY)
    base = allocate(cands, POLICY).objective
    assert (frame["cost"] >= 0).all()
    woman = frame.set_index("name").loc["share_min[gender=woman]"]
    without = allocate(cands, POLICY.with_bound("gender", "woman")).objective
    assert woman["cost"] == pytest.approx(without - base, abs=1e-9)
    total = frame.set_index("name").loc["all targets"]
    assert total["cost"] >= frame["cost"].iloc[:-1].max() - 1e-9
    # Non-binding targets cost nothing.
    assert (frame.loc[~frame["binding"] & (frame["name"] != "all targets"), "cost"] == 0).all()


def test_tradeoff_curve_is_monotone(cands: pd.DataFrame) -> None:
    curve = tradeoff_curve(
        cands, POLICY, dimension="violations", code="expulsion", shares=[0.0, 0.01, 0.03, 0.05, 0.5]
    )
    feasible = curve[curve["status"] == "optimal"]
    assert len(feasible) >= 4
    assert np.all(np.diff(feasible["objective"].to_numpy()) <= 1e-9)
    assert curve["status"].iloc[-1] == "infeasible"


def _year(n: int, seed: int) -> pd.DataFrame:
    frame = random_candidates(n, seed=seed)
    days = np.random.default_rng(seed).integers(0, 365, n)
    frame["received_date"] = pd.Timestamp("2017-01-01") + pd.to_timedelta(days, unit="D")
    return frame


@pytest.mark.parametrize("seed", [1, 2])
def test_rolling_paces_and_keeps_bands(seed: int) -> None:
    year = _year(1200, seed)
    policy = POLICY.with_changes(capacity=300)
    result = rolling_selection(year, policy)
    o = result.overall
    assert o["selected"] == 300
    assert 0.8 < o["ratio"] <= 1 + 1e-12
    assert o["bands_missed"] == 0
    hindsight = allocate(year, policy)
    assert o["hindsight_objective"] == pytest.approx(hindsight.objective)
    # Pacing: the cumulative count follows the uniform weekly schedule.
    due = result.by_period["due"].to_numpy()
    assert np.all(result.by_period["cumulative"].to_numpy() <= due)
    assert result.by_period["cumulative"].iloc[-1] == 300
    # No case waits longer than max_wait periods.
    sel = result.selections.merge(
        prepare(year)[["case_id", "received_date"]], on="case_id", how="left"
    )
    week = (sel["received_date"] - year["received_date"].min().normalize()).dt.days // 7
    assert ((sel["period"] - week.clip(upper=51)) <= policy.pacing.max_wait).all()


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    from triage.allocate import prepare_candidates

    return prepare_candidates(frame)


def test_backtest_like_for_like() -> None:
    subs = pd.concat(
        [
            _year(400, 5),
            _year(400, 6).assign(
                received_date=lambda f: f["received_date"] + pd.Timedelta(days=365),
                case_id=lambda f: "B" + f["case_id"],
            ),
        ],
        ignore_index=True,
    )
    rng = np.random.default_rng(3)
    subs["taken"] = rng.random(len(subs)) < 0.3
    policy = POLICY.with_changes(max_per_country=None)
    result = backtest(subs, policy)
    assert list(result.by_year["year"]) == [2017, 2018]
    # Same number of cases, chosen to maximise the score: never worse than the mandate's.
    assert (result.by_year["policy_objective"] >= result.by_year["mandate_objective"] - 1e-9).all()
    assert result.overall["gain"] >= 0
    woman = result.by_group[(result.by_group["group"] == "woman")]
    assert (woman["policy_share"] >= 0.3 - 1e-9).all()


def test_shipped_policies_feasible_on_the_simulated_queue(history_dir: Path) -> None:
    queue = pd.read_csv(history_dir / "queue.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(history_dir / "truth.csv", dtype=str)
    queue = queue.merge(truth, on="case_id").rename(columns={"p_improve": "score"})
    cases = pd.read_csv(history_dir / "cases.csv", dtype=str, keep_default_na=False)
    cases = cases.merge(truth, on="case_id").rename(columns={"p_improve": "score"})
    for path in sorted(policies_dir().glob("*.toml")):
        policy = load_policy(path)
        for frame in (queue, cases):
            result = allocate(frame, policy)
            assert result.status == "optimal", (path.name, result.message)
            assert len(result.selected) == 550


def test_interactive_accepts_slider_changes(
    inter: InteractiveAllocator, cands: pd.DataFrame
) -> None:
    moved = inter.resolve({"gender.woman.min": 0.4, "un_region.weog.max": None})
    expected = POLICY.with_bound("gender", "woman", min=0.4).with_bound("un_region", "weog")
    assert moved.selected == allocate(cands, expected).selected
    assert "share_max[un_region=weog]" not in set(moved.constraints["name"])
    with pytest.raises(ValueError, match=r"gender\.woman\.min"):
        inter.resolve({"woman": 0.3})


@pytest.mark.parametrize(
    ("period", "weights"),
    [("month", [3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]), ("quarter", None)],
)
def test_rolling_other_periods_follow_their_schedule(
    period: str, weights: list[int] | None
) -> None:
    year = _year(900, 4)
    extra = f"\nweights={weights}" if weights else ""
    policy = Policy.from_toml(
        f"name='m'\ncapacity=240\n[share.gender]\nwoman={{min=0.25}}\n"
        f"[pacing]\nperiod='{period}'\nmax_wait=1{extra}\n"
    )
    result = rolling_selection(year, policy)
    periods = policy.pacing.n_periods
    assert len(result.by_period) == periods
    due = result.by_period["due"].to_numpy()
    assert np.all(np.diff(due) >= 0) and due[-1] == 240
    if weights:
        assert due[0] == round(240 * 3 / 16)
    assert result.overall["selected"] == 240
    assert result.overall["bands_missed"] == 0
