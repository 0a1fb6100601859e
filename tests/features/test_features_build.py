"""build_features: columns, hand-computed country records, no leakage, row-order independence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from features.toy_history import toy_history
from hypothesis import given
from hypothesis import strategies as st
from suite_settings import property_settings

from triage.errors import InputFileError
from triage.features import FEATURE_COLUMNS, build_features, drafting_delay
from triage.schema import History

HYP = property_settings(25)


@pytest.fixture(scope="module")
def toy() -> History:
    return toy_history(seed=3, n_comms=500)


def _d(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def _tiny() -> History:
    """Two countries whose record at 2010-07-01 can be computed by hand."""
    comms = pd.DataFrame(
        {
            "communication_id": ["A1", "A2", "A3", "B1", "B2", "A4"],
            "sent_date": [
                _d(x)
                for x in (
                    "2010-01-01",
                    "2010-03-01",
                    "2010-06-01",
                    "2009-01-01",
                    "2009-02-01",
                    "2010-07-01",
                )
            ],
            "type": ["UA", "AL", "UA", "AL", "AL", "UA"],
            "addressee": "state",
            "country": ["ARG", "ARG", "ARG", "BRA", "BRA", "ARG"],
            "n_mandates": pd.array([1, 2, 3, 2, 2, 4], dtype="Int64"),
            "last_incident_date": [
                _d(x)
                for x in (
                    "2009-12-01",
                    "2010-02-01",
                    "2010-05-01",
                    "2008-12-01",
                    "2009-01-01",
                    "2010-06-01",
                )
            ],
            "reply_class": ["no_rejection", "rejection", "none", "none", "none", "rejection"],
            "reply_date": [
                _d("2010-02-01"),
                _d("2010-09-01"),
                pd.NaT,
                pd.NaT,
                pd.NaT,
                _d("2010-08-01"),
            ],
            "n_individuals": pd.array([1, 1, 1, 1, 1, 1], dtype="Int64"),
        }
    )
    cases = pd.DataFrame(
        {
            "case_id": ["a1", "a2", "a3", "b1", "b2", "a4"],
            "communication_id": ["A1", "A2", "A3", "B1", "B2", "A4"],
            "individual_id": ["p1", "p2", "p3", "p4", "p5", "p1"],
            "sent_date": comms["sent_date"],
            "country": comms["country"],
            "un_region": ["latin_american_caribbean"] * 3
            + ["latin_american_caribbean"] * 2
            + ["latin_american_caribbean"],
            "gender": ["woman", "man", "man", "unknown", "man", "woman"],
            "violations": [
                "detention;trial",
                "threats",
                "detention",
                "killing",
                "threats",
                "detention",
            ],
            "issue_areas": ["womens_rights", None, None, None, None, None],
            "protester": pd.array([True, False, None, False, False, True], dtype="boolean"),
        }
    )
    # b1 observed 2010-01-01 (improved), b2 observed 2010-02-01 (same), a1 observed 2011-01-01.
    outcomes = pd.DataFrame(
        {
            "case_id": ["b1", "b2", "a1"],
            "outcome": ["much_better", "same", "somewhat_better"],
            "assessment": "survey",
            "survey_impact": None,
        }
    )
    return History(communications=comms, cases=cases, outcomes=outcomes)


def test_columns_index_and_types(toy: History) -> None:
    cases = toy.cases.iloc[::7].copy()
    cases.index = cases.index * 10 + 3  # an arbitrary index must be kept
    X = build_features(cases, toy)
    assert list(X.columns) == list(FEATURE_COLUMNS)
    assert X.index.equals(cases.index)
    assert all(X[c].dtype == float for c in X.columns)
    rates = X[["country_reply_rate", "country_rejection_rate", "country_improve_rate"]]
    assert ((rates >= 0) & (rates <= 1) | rates.isna()).all().all()
    assert "p_improve" not in X.columns


def test_country_record_by_hand() -> None:
    h = _tiny()
    X = build_features(h.cases.iloc[[5]], h)  # case a4, ARG, 2010-07-01
    row = X.iloc[0]
    # Due (sent + 90 d before 2010-07-01): A1, A2 in ARG; B1, B2 in BRA. Substantive and
    # arrived: A1 only. Global 1/4; ARG (1 + 10 * 0.25) / (2 + 10).
    assert row["country_reply_rate"] == pytest.approx(3.5 / 12)
    # Replies with known content before the date: A1 (no rejection) only: 0 / 1, global 0.
    assert row["country_rejection_rate"] == pytest.approx(0.0)
    assert row["country_response_days"] == pytest.approx(31.0)
    # Outcomes observed before 2010-07-01: b1 (improved), b2 (not) in BRA; none in ARG.
    assert row["country_improve_rate"] == pytest.approx(0.5)
    assert row["raised_before"] == 1.0  # p1 was case a1 in January
    assert row["days_since_incident"] == 30.0
    assert row["n_mandates"] == 4.0 and row["type_UA"] == 1.0 and row["type_AL"] == 0.0
    assert row["v_detention"] == 1.0 and row["v_threats"] == 0.0
    assert row["gender_woman"] == 1.0 and row["protester"] == 1.0
    first = build_features(h.cases.iloc[[0]], h).iloc[0]
    assert first["raised_before"] == 0.0
    assert first["ia_womens_rights"] == 1.0 and first["v_trial"] == 1.0
    # Unknown protester stays unknown.
    assert np.isnan(build_features(h.cases.iloc[[2]], h).iloc[0]["protester"])


def _cut(h: History, t: pd.Timestamp, own_comm: str) -> History:
    """Delete everything dated on or after ``t`` (the case's own communication row is kept)."""
    c = h.communications
    keep = (c["sent_date"] < t) | (c["communication_id"] == own_comm)
    comms = c[keep].copy()
    late = comms["reply_date"] >= t
    comms.loc[late, "reply_class"] = "none"
    comms.loc[late, "reply_date"] = pd.NaT
    cases = h.cases[h.cases["sent_date"] < t]
    sent = h.cases.set_index("case_id")["sent_date"]
    observed = h.outcomes["case_id"].map(sent) + pd.Timedelta(days=365)
    outcomes = h.outcomes[observed < t]
    subs = None
    if h.submissions is not None:
        subs = h.submissions[h.submissions["received_date"] < t].copy()
        linked = subs["case_id"].map(sent)
        subs.loc[~(linked < t), "case_id"] = np.nan
    return History(communications=comms, cases=cases, outcomes=outcomes, submissions=subs)


def _shuffle_future(h: History, t: pd.Timestamp, seed: int) -> History:
    """Permute every value dated on or after ``t`` among the future rows."""
    rng = np.random.default_rng(seed)
    comms = h.communications.copy()
    fut = (comms["reply_date"] >= t).to_numpy()
    for col in ("reply_class", "reply_date"):
        vals = comms.loc[fut, col].to_numpy()
        comms.loc[fut, col] = vals[rng.permutation(len(vals))]
    fut_sent = (comms["sent_date"] >= t).to_numpy()
    for col in ("country", "n_mandates", "type", "reply_class"):
        vals = comms.loc[fut_sent, col].to_numpy()
        comms.loc[fut_sent, col] = vals[rng.permutation(len(vals))]
    cases = h.cases.copy()
    fut_case = (cases["sent_date"] >= t).to_numpy()
    for col in ("country", "individual_id"):
        vals = cases.loc[fut_case, col].to_numpy()
        cases.loc[fut_case, col] = vals[rng.permutation(len(vals))]
    sent = h.cases.set_index("case_id")["sent_date"]
    outcomes = h.outcomes.copy()
    fut_out = ((outcomes["case_id"].map(sent) + pd.Timedelta(days=365)) >= t).to_numpy()
    vals = outcomes.loc[fut_out, "outcome"].to_numpy()
    outcomes.loc[fut_out, "outcome"] = vals[rng.permutation(len(vals))]
    return dataclasses.replace(h, communications=comms, cases=cases, outcomes=outcomes, truth=None)


@HYP
@given(pick=st.integers(min_value=0, max_value=10_000), seed=st.integers(0, 1000))
def test_no_leakage_delete_or_shuffle_the_future(toy: History, pick: int, seed: int) -> None:
    case = toy.cases.iloc[[pick % len(toy.cases)]]
    t = case["sent_date"].iloc[0]
    own = case["communication_id"].iloc[0]
    # Everything about the case itself (its own communication) stays; the future goes.
    case_only = case.copy()
    full = build_features(case_only, toy)
    cut = build_features(case_only, _cut(toy, t, own))
    pd.testing.assert_frame_equal(full, cut)
    shuffled = _shuffle_future(toy, t, seed)
    own_row = toy.communications["communication_id"] == own
    shuffled.communications.loc[own_row.to_numpy()] = toy.communications.loc[own_row.to_numpy()]
    pd.testing.assert_frame_equal(full, build_features(case_only, shuffled))


@pytest.mark.slow
@HYP
@given(day=st.integers(min_value=400, max_value=4500), n=st.integers(1, 6))
def test_no_leakage_for_queue_cases_mid_history(toy: History, day: int, n: int) -> None:
    received = pd.Timestamp("2004-01-01") + pd.Timedelta(days=day)
    queue = toy.queue.iloc[[0]].copy()
    queue["received_date"] = received
    queue["last_incident_date"] = received - pd.Timedelta(days=5)
    queue["n_mandates"] = pd.array([n], dtype="Int64")
    full = build_features(queue, toy)
    cut = build_features(queue, _cut(toy, received, own_comm="-"))
    pd.testing.assert_frame_equal(full, cut)


def test_queue_days_include_expected_drafting_delay() -> None:
    h = toy_history(seed=5, n_comms=400)
    # The toy drafting delay is 8 · n_mandates + U{0..9} days: slope ~8, intercept ~4.5.
    dates = pd.Series([pd.Timestamp("2017-01-01")] * 5)
    delay, from_submissions = drafting_delay(h, dates, np.arange(1, 6))
    assert from_submissions
    slope = np.diff(delay)
    assert np.allclose(slope, slope[0]) and 7.0 < slope[0] < 9.0
    assert 0 < delay[0] - slope[0] < 10
    queue = pd.concat([h.queue.iloc[[0]]] * 3, ignore_index=True)
    queue["case_id"] = ["x1", "x2", "x3"]
    queue["n_mandates"] = pd.array([1, 3, 5], dtype="Int64")
    X = build_features(queue, h)
    elapsed = (queue["received_date"] - queue["last_incident_date"]).dt.days.to_numpy()
    d, _ = drafting_delay(h, queue["received_date"], queue["n_mandates"].to_numpy(dtype=float))
    np.testing.assert_allclose(X["days_since_incident"].to_numpy(), elapsed + d)
    assert X["days_since_incident"].is_monotonic_increasing


def test_without_submissions_uses_total_delay_and_never_less_than_elapsed() -> None:
    h = dataclasses.replace(toy_history(seed=5, n_comms=400), submissions=None)
    queue = h.queue.iloc[[0, 1]].copy()
    queue["n_mandates"] = pd.array([1, 6], dtype="Int64")
    X = build_features(queue, h)
    elapsed = (queue["received_date"] - queue["last_incident_date"]).dt.days.to_numpy()
    assert (X["days_since_incident"].to_numpy() >= elapsed).all()


def test_cases_shape_gets_communication_fields(toy: History) -> None:
    bare = toy.cases.head(20)
    X = build_features(bare, toy)
    comms = toy.communications.set_index("communication_id")
    expect = bare["communication_id"].map(comms["n_mandates"]).to_numpy(dtype=float)
    np.testing.assert_array_equal(X["n_mandates"].to_numpy(), expect)
    delay = (bare["sent_date"] - bare["communication_id"].map(comms["last_incident_date"])).dt.days
    np.testing.assert_array_equal(X["days_since_incident"].to_numpy(), delay.to_numpy(dtype=float))


@HYP
@given(seed=st.integers(0, 10_000))
def test_row_order_independent(toy: History, seed: int) -> None:
    rows = pd.concat([toy.cases.iloc[::25], toy.queue.iloc[:10]], ignore_index=True)
    X = build_features(rows, toy)
    perm = np.random.default_rng(seed).permutation(len(rows))
    Xp = build_features(rows.iloc[perm], toy)
    pd.testing.assert_frame_equal(X.iloc[perm], Xp)


def test_csv_text_input_matches_typed_input(toy: History) -> None:
    typed = toy.queue.head(15)
    text = typed.astype(object).copy()
    text["received_date"] = typed["received_date"].dt.strftime("%Y-%m-%d")
    text["last_incident_date"] = typed["last_incident_date"].dt.strftime("%Y-%m-%d")
    text["protester"] = typed["protester"].map({True: "true", False: "false"})
    text["n_mandates"] = typed["n_mandates"].astype(str)
    pd.testing.assert_frame_equal(build_features(typed, toy), build_features(text, toy))


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("country", "XYZ", "'XYZ' is not an ISO3 country code"),
        ("violations", "detention;detentoin", "'detentoin' is not a violations code"),
        ("gender", "female", "'female' is not a gender code"),
        ("n_mandates", "0", "'0' is not a positive whole number"),
        ("protester", "maybe", "'maybe' is not true or false"),
        ("received_date", "12/01/2017", "'12/01/2017' is not a date"),
        ("last_incident_date", "yesterday", "'yesterday' is not a date"),
    ],
)
def test_bad_values_name_row_column_value(
    toy: History, column: str, value: str, needle: str
) -> None:
    queue = toy.queue.head(5).astype(object).copy()
    queue.loc[queue.index[3], column] = value
    with pytest.raises(InputFileError) as info:
        build_features(queue, toy)
    message = info.value.message
    assert "row 4" in message and f"`{column}`" in message and needle in message


def test_missing_date_and_duplicate_ids(toy: History) -> None:
    queue = toy.queue.head(3).copy()
    queue["received_date"] = queue["received_date"].astype(object)
    queue.loc[queue.index[1], "received_date"] = None
    with pytest.raises(InputFileError, match="row 2"):
        build_features(queue, toy)
    dup = toy.queue.head(3).copy()
    dup["case_id"] = ["a", "b", "a"]
    with pytest.raises(InputFileError, match="more than once"):
        build_features(dup, toy)
