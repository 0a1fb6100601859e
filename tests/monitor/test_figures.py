"""The Monitoring figures (``triage.monitor``): hand-checked values and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage import monitor
from triage.schema import GENDERS, UN_REGIONS, VIOLATIONS

V = list(VIOLATIONS)


def _cases(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Cases from (sent_date, un_region, gender, violations) tuples."""
    return pd.DataFrame(
        {
            "case_id": [f"K{i}" for i in range(len(rows))],
            "sent_date": pd.to_datetime([r[0] for r in rows]),
            "country": "KEN",
            "un_region": [r[1] for r in rows],
            "gender": [r[2] for r in rows],
            "violations": [r[3] for r in rows],
            "issue_areas": [""] * len(rows),
        }
    )


def test_violation_shares_count_a_case_under_each_of_its_violations() -> None:
    cases = _cases(
        [
            ("2010-01-01", "african", "man", "detention;trial"),
            ("2010-02-01", "african", "woman", "detention"),
            ("2011-01-01", "weog", "man", "threats"),
            ("2011-01-01", "weog", "man", ""),
        ]
    )
    table = monitor.violation_shares(cases).set_index("code")
    assert table.loc["detention", "cases"] == 2
    assert table.loc["detention", "share"] == pytest.approx(0.5)
    assert table.loc["trial", "share"] == pytest.approx(0.25)
    assert table.loc["killing", "cases"] == 0
    areas = monitor.issue_area_shares(cases).set_index("code")
    assert areas.loc["unattributed", "share"] == pytest.approx(1.0)


def test_ua_delay_by_mandates_recovers_a_known_slope() -> None:
    sent = pd.to_datetime(["2012-03-01"] * 6)
    mandates = [1, 1, 2, 3, 3, 4]
    comms = pd.DataFrame(
        {
            "communication_id": [f"C{i}" for i in range(6)],
            "sent_date": sent,
            "type": ["UA"] * 5 + ["AL"],
            "n_mandates": pd.array(mandates, dtype="Int64"),
            # 10 days plus 7 per mandate: the slope is exactly 7 days per mandate.
            "last_incident_date": [
                d - pd.Timedelta(days=10 + 7 * m) for d, m in zip(sent, mandates, strict=True)
            ],
        }
    )
    table, slope = monitor.ua_delay_by_mandates(comms)
    assert slope == pytest.approx(7.0)
    assert table["appeals"].sum() == 5  # the allegation letter is not an urgent appeal
    assert table.set_index("n_mandates").loc[3, "mean_delay_days"] == pytest.approx(31.0)


def test_outcomes_and_improvement_use_only_the_impact_sample() -> None:
    cases = _cases([("2012-01-01", "african", "man", "detention")] * 4)
    cases["country"] = ["KEN", "KEN", "PER", "PER"]
    outcomes = pd.DataFrame(
        {
            "case_id": ["K0", "K1", "K2", "K3"],
            "outcome": ["much_better", "same", "somewhat_better", "much_worse"],
            "assessment": ["survey", "online", "systematic", "survey"],
        }
    )
    by_country = monitor.improvement_by_country(cases, outcomes).set_index("country")
    assert by_country.loc["KEN", "cases"] == 2 and by_country.loc["KEN", "improved"] == 1
    assert by_country.loc["PER", "cases"] == 1  # the systematic outcome is not in the sample
    by_year = monitor.outcomes_by_year(cases, outcomes)
    assert by_year["cases"].sum() == 3
    assert by_year["share"].sum() == pytest.approx(1.0)


rows = st.lists(
    st.tuples(
        st.dates(
            min_value=pd.Timestamp("2001-01-01").date(), max_value=pd.Timestamp("2016-12-31").date()
        ).map(str),
        st.sampled_from(list(UN_REGIONS)),
        st.sampled_from(list(GENDERS)),
        st.lists(st.sampled_from(V), max_size=4, unique=True).map(";".join),
    ),
    min_size=1,
    max_size=60,
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(rows, st.randoms(use_true_random=False))
def test_shares_are_proportions_and_ignore_row_order(data: list, rnd: object) -> None:
    cases = _cases(data)
    shuffled = cases.sample(frac=1.0, random_state=rnd.randint(0, 2**31))  # type: ignore[attr-defined]
    for column, codes in (("un_region", UN_REGIONS), ("gender", GENDERS)):
        a = monitor.shares_by_year(cases, column, codes)
        b = monitor.shares_by_year(shuffled, column, codes)
        pd.testing.assert_frame_equal(a, b)
        # One region and one gender per case: each year's shares sum to one.
        assert np.allclose(a.groupby("year")["share"].sum(), 1.0)
        assert a["cases"].sum() == len(cases)
    viol = monitor.violation_shares(cases)
    assert ((viol["share"] >= 0) & (viol["share"] <= 1)).all()
    flags = sum(len([c for c in r[3].split(";") if c]) for r in data)
    assert viol["cases"].sum() == flags
    pd.testing.assert_frame_equal(viol, monitor.violation_shares(shuffled))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 9), st.integers(0, 120), st.sampled_from(["UA", "AL", "PR"])),
        min_size=2,
        max_size=40,
    )
)
def test_delay_table_counts_every_dated_urgent_appeal_once(data: list) -> None:
    sent = pd.Timestamp("2014-06-30")
    comms = pd.DataFrame(
        {
            "communication_id": [f"C{i}" for i in range(len(data))],
            "sent_date": [sent] * len(data),
            "type": [t for _, _, t in data],
            "n_mandates": pd.array([m for m, _, _ in data], dtype="Int64"),
            "last_incident_date": [sent - pd.Timedelta(days=d) for _, d, _ in data],
        }
    )
    table, _ = monitor.ua_delay_by_mandates(comms)
    appeals = [(m, d) for m, d, t in data if t == "UA"]
    assert table["appeals"].sum() == len(appeals)
    assert (table["ci_low"] <= table["mean_delay_days"] + 1e-9).all()
    assert (table["mean_delay_days"] <= table["ci_high"] + 1e-9).all()
    if appeals:
        overall = np.average(table["mean_delay_days"], weights=table["appeals"])
        assert overall == pytest.approx(np.mean([d for _, d in appeals]))


def test_issue_areas_in_the_papers_six_categories() -> None:
    cases = pd.DataFrame(
        {
            "issue_areas": [
                "womens_rights;lgbti_rights",  # one case, one category
                "indigenous_rights",
                "land_environmental_rights;democratic_rights_institutions",
                "",
            ]
        }
    )
    grouped = monitor.issue_area_shares(cases).set_index("code")
    assert len(grouped) == 7  # six categories and the unattributable
    assert grouped.loc["womens_lgbti_rights", "cases"] == 1
    assert grouped.loc["indigenous_land_environmental_rights", "cases"] == 2
    assert grouped.loc["democratic_rights_institutions", "share"] == pytest.approx(0.25)
    assert grouped.loc["unattributed", "cases"] == 1
    assert grouped.loc["womens_lgbti_rights", "label"] == "Women's, LGBTI rights"
    detailed = monitor.issue_area_shares(cases, grouped=False).set_index("code")
    assert len(detailed) == 9  # the eight recorded areas and the unattributable
    assert (
        detailed.loc["womens_rights", "cases"] == 1 and detailed.loc["lgbti_rights", "cases"] == 1
    )
