"""State engagement per country: the paper's definitions on a hand-made history."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.followup import (
    ENGAGEMENT_THRESHOLD,
    engagement_class,
    engagement_overall,
    state_engagement,
)
from triage.schema import History


def make_history(spec: list[tuple[str, str, str | None, int | None, int, str]]) -> History:
    """spec rows: (country, sent, reply_class, reply_after_days, n_cases, addressee)."""
    comms, cases = [], []
    for i, (country, sent, cls, lag, n, addressee) in enumerate(spec):
        sent_ts = pd.Timestamp(sent)
        comms.append(
            {
                "communication_id": f"C{i}",
                "sent_date": sent_ts,
                "type": "UA",
                "addressee": addressee,
                "country": country,
                "reply_class": cls,
                "reply_date": sent_ts + pd.Timedelta(days=lag) if lag is not None else pd.NaT,
            }
        )
        for j in range(n):
            cases.append({"case_id": f"K{i}_{j}", "communication_id": f"C{i}", "country": country})
    return History(
        communications=pd.DataFrame(comms),
        cases=pd.DataFrame(cases),
        outcomes=pd.DataFrame(columns=["case_id", "outcome"]),
    )


SPEC = [
    # India: 10 cases. A two-case rejection, a rejection, a no-rejection, an immaterial reply,
    # a reply of unknown content, four without reply.
    ("IND", "2010-01-10", "rejection", 100, 2, "state"),
    ("IND", "2011-01-10", "no_rejection", 50, 1, "state"),
    ("IND", "2012-01-10", "immaterial", 10, 1, "state"),
    ("IND", "2013-01-10", "content_unknown", 200, 1, "state"),
    ("IND", "2014-01-10", "none", None, 4, "state"),
    ("IND", "2015-01-10", None, None, 1, "state"),
    # Argentina: every reply's content unknown -> classified by response rate alone.
    ("ARG", "2012-05-01", "content_unknown", 30, 4, "state"),
    # Kenya: never replies.
    ("KEN", "2012-05-01", "none", None, 3, "state"),
    # Brazil: half respond, half of the known replies reject -> index 0.
    ("BRA", "2012-05-01", "rejection", 20, 1, "state"),
    ("BRA", "2012-06-01", "no_rejection", 40, 1, "state"),
    ("BRA", "2012-07-01", "none", None, 2, "state"),
    # A communication to a non-state actor does not count for Mexico.
    ("MEX", "2012-05-01", "rejection", 10, 2, "non_state"),
]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return state_engagement(make_history(SPEC)).set_index("country")


def test_rates_follow_the_paper_definitions(table) -> None:
    ind = table.loc["IND"]
    assert ind["cases"] == 10 and ind["replies"] == 5
    assert ind["reply_rate"] == pytest.approx(0.5)
    assert ind["substantive_replies"] == 4 and ind["substantive_reply_rate"] == pytest.approx(0.4)
    assert ind["rejections"] == 2 and ind["known_content_replies"] == 3
    assert ind["rejection_rate"] == pytest.approx(2 / 3)
    assert ind["mean_response_days"] == pytest.approx((100 + 100 + 50 + 200) / 4)
    assert ind["engagement_index"] == pytest.approx(0.4 - 2 / 3)
    assert ind["engagement"] == "uncooperative" and ind["colour"] == "red"
    assert ind["country_name"] == "India" and ind["un_region"] == "asia_pacific"


def test_unknown_content_classified_by_response_alone(table) -> None:
    arg = table.loc["ARG"]
    assert math.isnan(arg["rejection_rate"]) and arg["substantive_reply_rate"] == 1.0
    assert arg["engagement_index"] == pytest.approx(1.0) and arg["engagement"] == "cooperative"


def test_rejection_similar_to_response_is_yellow(table) -> None:
    bra = table.loc["BRA"]
    assert bra["substantive_reply_rate"] == 0.5 and bra["rejection_rate"] == 0.5
    assert bra["engagement_index"] == 0 and bra["engagement"] == "responds_but_rejects"
    assert bra["colour"] == "yellow" and bra["mean_response_days"] == 30


def test_silent_state_is_uncooperative(table) -> None:
    ken = table.loc["KEN"]
    assert ken["reply_rate"] == 0 and math.isnan(ken["mean_response_days"])
    assert (
        ken["engagement_index"] == -1
        and ken["engagement"] == "uncooperative"
        and ken["colour"] == "red"
    )


def test_non_state_addressees_are_left_out(table) -> None:
    assert "MEX" not in table.index
    assert list(table.index) == ["IND", "ARG", "BRA", "KEN"]  # most cases first, then by code


def test_since_filters_by_sending_year() -> None:
    recent = state_engagement(make_history(SPEC), since=2013).set_index("country")
    assert recent.loc["IND", "cases"] == 6 and recent.loc["IND", "substantive_replies"] == 1
    assert "ARG" not in recent.index and "BRA" not in recent.index
    with pytest.raises(ValueError, match="`since` must be a year"):
        state_engagement(make_history(SPEC), since="2013")  # type: ignore[arg-type]


def test_overall_rates() -> None:
    overall = engagement_overall(make_history(SPEC))
    assert overall["cases"] == 21
    assert overall["reply_rate"] == pytest.approx(11 / 21)
    assert overall["substantive_reply_rate"] == pytest.approx(10 / 21)
    assert overall["rejection_rate"] == pytest.approx(3 / 5)


def test_empty_history_gives_an_empty_table() -> None:
    out = state_engagement(make_history(SPEC), since=2030)
    assert out.empty and "engagement" in out.columns


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (1.0, "cooperative"),
        (ENGAGEMENT_THRESHOLD, "cooperative"),
        (0.0, "responds_but_rejects"),
        (-ENGAGEMENT_THRESHOLD, "uncooperative"),
        (-1.0, "uncooperative"),
    ],
)
def test_engagement_class_thresholds(index: float, expected: str) -> None:
    assert engagement_class(index) == expected


def test_engagement_class_rejects_nan() -> None:
    with pytest.raises(ValueError):
        engagement_class(float("nan"))


classes = st.sampled_from(["none", "immaterial", "rejection", "no_rejection", "content_unknown"])


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["IND", "ARG", "KEN", "MEX"]),
            classes,
            st.integers(0, 300),
            st.integers(1, 4),
        ),
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_invariants_and_row_order(rows, rnd) -> None:
    spec = [
        (c, "2012-01-01", cls, None if cls == "none" else lag, n, "state")
        for c, cls, lag, n in rows
    ]
    history = make_history(spec)
    out = state_engagement(history)
    for col in ("reply_rate", "substantive_reply_rate"):
        assert out[col].between(0, 1).all()
    assert (out["substantive_reply_rate"] <= out["reply_rate"]).all()
    assert out["rejection_rate"].dropna().between(0, 1).all()
    assert out["engagement_index"].between(-1, 1).all()
    assert out["cases"].sum() == sum(n for *_, n in rows)
    shuffled = History(
        communications=history.communications.sample(frac=1, random_state=rnd.randint(0, 999)),
        cases=history.cases.sample(frac=1, random_state=rnd.randint(0, 999)),
        outcomes=history.outcomes,
    )
    pd.testing.assert_frame_equal(out, state_engagement(shuffled))
    assert np.isfinite(out["engagement_index"]).all()


def test_paper_statements_on_the_default_simulated_history(history_dir) -> None:
    """India and Argentina as the paper describes them (p. 11), and the overall figures."""
    from triage.schema import read_history

    history = read_history(history_dir)
    table = state_engagement(history).set_index("country")
    ind, arg = table.loc["IND"], table.loc["ARG"]
    # India: 70 of 247 cases (28%) answered, 82% of answers rejections: uncooperative.
    assert ind["cases"] == pytest.approx(247, rel=0.15)
    assert ind["substantive_reply_rate"] == pytest.approx(0.28, abs=0.05)
    assert ind["rejection_rate"] == pytest.approx(0.82, abs=0.10)
    assert ind["engagement"] == "uncooperative"
    # Argentina: 42% of 113 cases answered, 4% of answers rejections: cooperative.
    assert arg["cases"] == pytest.approx(113, rel=0.2)
    assert arg["substantive_reply_rate"] == pytest.approx(0.42, abs=0.07)
    assert arg["rejection_rate"] <= 0.10
    assert arg["engagement"] == "cooperative"
    # All cases: 44% any reply, 40% substantive, 104 days on average (footnote 14).
    overall = engagement_overall(history)
    assert overall["reply_rate"] == pytest.approx(0.44, abs=0.02)
    assert overall["substantive_reply_rate"] == pytest.approx(0.40, abs=0.02)
    assert overall["mean_response_days"] == pytest.approx(104, abs=10)
