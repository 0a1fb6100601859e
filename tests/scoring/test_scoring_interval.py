"""The interval: its per-case country term, its shape, and how the known outcomes are counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from features.toy_history import toy_history
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.schema import History
from triage.scoring import TriageModel
from triage.scoring._calibration import logit
from triage.scoring._model import (
    interval,
    interval_bounds,
    interval_sd,
    known_country_outcomes,
)

HYP = settings(max_examples=40, deadline=None)


def _bare(year_sd: float, country_sd: float, k: float) -> TriageModel:
    return TriageModel(
        booster=None,  # type: ignore[arg-type]
        members=[],
        calibrator=None,  # type: ignore[arg-type]
        features=(),
        year_sd=year_sd,
        country_sd=country_sd,
        country_k=k,
    )


@HYP
@given(
    year_sd=st.floats(0.0, 1.5),
    country_sd=st.floats(0.0, 2.0),
    k=st.floats(1.0, 100.0),
    n=st.lists(st.integers(0, 5000), min_size=2, max_size=30),
)
def test_country_term_falls_as_the_country_outcomes_known_grow(
    year_sd: float, country_sd: float, k: float, n: list[int]
) -> None:
    model = _bare(year_sd, country_sd, k)
    counts = np.sort(np.asarray(n, dtype=float))
    sd = model.context_sd_of(counts)
    assert (np.diff(sd) <= 1e-12).all()
    # No outcome known: the whole country effect; many: only the year's climate is left.
    assert model.context_sd_of(np.array([0.0]))[0] == pytest.approx(np.hypot(year_sd, country_sd))
    assert model.context_sd_of(np.array([1e12]))[0] == pytest.approx(year_sd, abs=1e-4)
    # Halfway: k outcomes known leave half the country variance.
    half = model.context_sd_of(np.array([k]))[0]
    assert half**2 == pytest.approx(year_sd**2 + country_sd**2 / 2)


@HYP
@given(
    score=st.lists(st.floats(0.001, 0.999), min_size=1, max_size=30),
    sd=st.floats(0.0, 3.0),
    level=st.floats(0.5, 0.95),
)
def test_interval_holds_the_score_within_zero_one(
    score: list[float], sd: float, level: float
) -> None:
    s = np.asarray(score)
    lo, hi = interval_bounds(s, np.full(len(s), sd), level=level)
    assert ((lo >= 0.0) & (lo <= s) & (s <= hi) & (hi <= 1.0)).all()
    if sd > 0.01:
        assert (lo < hi).all()
    else:
        assert (hi - lo < 0.02).all()
    # A lower level gives a band inside this one.
    lo2, hi2 = interval_bounds(s, np.full(len(s), sd), level=level / 1.5)
    assert ((lo2 >= lo - 1e-12) & (hi2 <= hi + 1e-12)).all()


@HYP
@given(score=st.lists(st.floats(0.01, 0.99), min_size=1, max_size=30), sd=st.floats(0.0, 0.9))
def test_interval_widens_with_the_sd(score: list[float], sd: float) -> None:
    """Up to an sd of 1 (log-odds) the band widens with it everywhere; beyond, a logit-normal
    piles up near 0 or 1 and extreme scores can narrow by 1e-4 (not asserted)."""
    s = np.asarray(score)
    lo, hi = interval_bounds(s, np.full(len(s), sd), level=0.9)
    lo2, hi2 = interval_bounds(s, np.full(len(s), sd + 0.1), level=0.9)
    assert ((hi2 - lo2) >= (hi - lo) - 1e-12).all()


@pytest.mark.parametrize("sd", [0.5, 1.0, 1.5])
def test_interval_is_the_range_of_a_chance_whose_mean_is_the_score(sd: float) -> None:
    """The band is the central range of ``sigmoid(b + sd·Z)`` whose mean is the score."""
    s = np.linspace(0.02, 0.98, 49)
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    b = logit(s) * np.sqrt(1 + np.pi * sd**2 / 8)
    mean = (1 / (1 + np.exp(-(b[:, None] + sd * nodes[None, :])))) @ (weights / weights.sum())
    assert np.abs(mean - s).max() < 0.01
    lo, hi = interval_bounds(s, np.full(len(s), sd), level=0.9)
    # Below 50 % the band leans toward zero: its log-odds middle is below the score's.
    low = s < 0.5
    assert ((logit(lo) + logit(hi))[low] / 2 < logit(s)[low]).all()


def test_interval_adds_bootstrap_and_context_in_variance() -> None:
    s = np.array([0.1, 0.3, 0.6])
    draws = np.clip(s[:, None] + np.linspace(-0.05, 0.05, 11)[None, :], 0.001, 0.999)
    boot = interval_sd(draws, n=3, level=0.9, context_sd=0.0)
    both = interval_sd(draws, n=3, level=0.9, context_sd=np.array([0.5, 0.0, 1.0]))
    np.testing.assert_allclose(both**2, boot**2 + np.array([0.25, 0.0, 1.0]))
    lo, hi = interval(s, draws, level=0.9, context_sd=np.array([0.5, 0.0, 1.0]))
    lo2, hi2 = interval_bounds(s, both, level=0.9)
    np.testing.assert_array_equal(lo, lo2)
    np.testing.assert_array_equal(hi, hi2)


@pytest.fixture(scope="module")
def toy() -> History:
    return toy_history(seed=5, n_comms=600, n_queue=40)


def test_known_country_outcomes_counts_earlier_outcomes_only(toy: History) -> None:
    from triage.features._build import OUTCOME_LAG_DAYS

    assert toy.queue is not None
    rows = pd.concat([toy.cases.sample(60, random_state=1), toy.queue.head(20)], ignore_index=True)
    counted = known_country_outcomes(rows, toy)
    labelled = toy.outcomes.dropna(subset=["outcome"]).merge(
        toy.cases[["case_id", "country", "sent_date"]], on="case_id"
    )
    known_on = pd.to_datetime(labelled["sent_date"]) + pd.Timedelta(days=OUTCOME_LAG_DAYS)
    date = pd.to_datetime(rows["sent_date"]).fillna(pd.to_datetime(rows["received_date"]))
    expected = [
        int(((labelled["country"] == c) & (known_on < d)).sum())
        for c, d in zip(rows["country"], date, strict=True)
    ]
    np.testing.assert_array_equal(counted, expected)
    assert counted[-20:].min() > 0  # the queue comes after every outcome is known
    # Row order does not matter.
    perm = np.random.default_rng(0).permutation(len(rows))
    np.testing.assert_array_equal(known_country_outcomes(rows.iloc[perm], toy), counted[perm])


def test_pair_shape_is_a_weighted_mean_of_the_later_case() -> None:
    from triage.scoring._uncertainty import _pair_shape

    rng = np.random.default_rng(2)
    group = rng.integers(0, 10, 200)
    other = rng.integers(0, 4, 200)
    p = rng.uniform(0.1, 0.5, 200)
    assert _pair_shape(group, other, p, np.full(200, 0.3)) == pytest.approx(0.3)
    f = rng.uniform(0.0, 1.0, 200)
    shape = _pair_shape(group, other, p, f)
    assert f.min() <= shape <= f.max()
    order = rng.permutation(200)
    assert _pair_shape(group[order], other[order], p[order], f[order]) == pytest.approx(shape)
    # No pair (every case alone in its group): nothing to average, the shape is 1.
    assert _pair_shape(np.arange(200), other, p, f) == 1.0


def test_context_bound_holds_the_estimates_and_is_deterministic() -> None:
    """A known country effect is found; the bound used by the interval is never below it."""
    from triage.scoring._uncertainty import _context_sd

    rng = np.random.default_rng(4)
    n = 3000
    country = rng.integers(0, 60, n)
    year = rng.integers(2004, 2016, n)
    base = rng.normal(-1.2, 0.6, n)
    u = rng.normal(0.0, 0.8, 60)[country]
    y = (rng.random(n) < 1 / (1 + np.exp(-(base + u)))).astype(int)
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    p = (1 / (1 + np.exp(-(base[:, None] + 0.8 * nodes[None, :])))) @ (weights / weights.sum())
    cases = pd.DataFrame(
        {"sent_date": pd.to_datetime([f"{v}-06-01" for v in year]), "country": country.astype(str)}
    )
    n_known = np.zeros(n)  # the score never learns the country: its whole effect is missed
    ctx = _context_sd(cases, y, p, n_known)
    assert ctx["country_estimate"] ** 2 == pytest.approx(0.64, abs=0.25)
    assert ctx["country"] >= ctx["country_estimate"] and ctx["year"] >= ctx["year_estimate"]
    assert ctx["country_shape"] == pytest.approx(1.0)
    order = rng.permutation(n)
    again = _context_sd(cases.iloc[order].reset_index(drop=True), y[order], p[order], n_known)
    for key in ("year", "country", "se"):
        assert again[key] == pytest.approx(ctx[key], rel=1e-9, abs=1e-12)


def test_card_includes_the_seeds_table_with_its_command() -> None:
    import json
    from pathlib import Path

    from triage.scoring._card import seeds_markdown

    path = Path(__file__).resolve().parents[2] / "models" / "seeds.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    text = seeds_markdown(table)
    assert table["command"] in text
    assert len(table["seeds"]) >= 10
    for row in table["seeds"]:
        assert f"| {row['seed']} | {row['queue_coverage']:.3f} | {row['queue_width']:.3f} " in text
    # The mean row is the mean of the seeds' rows (the table is not edited by hand).
    for key in ("queue_coverage", "queue_width", "coverage", "width"):
        mean = float(np.mean([r[key] for r in table["seeds"]]))
        assert table["mean"][key] == pytest.approx(mean, abs=1e-3)
    assert "ships the 90% level" in text
    assert seeds_markdown(None) == ""
