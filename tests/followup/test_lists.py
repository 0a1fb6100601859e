"""The follow-up lists on the hand-checked fixture, and their invariants on random histories."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.config import project_root
from triage.followup import (
    due_lists,
    fixed_report_date,
    next_session_date,
    rolling_publication_date,
)
from triage.schema import History, read_history

FIXTURE = project_root() / "data" / "fixtures" / "followup"
ON = "2016-11-30"


@pytest.fixture(scope="module")
def lists():
    return due_lists(read_history(FIXTURE), on=ON)


def expected(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURE / f"expected_{name}.csv", dtype=str, keep_default_na=False)


def as_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.loc[:, columns].copy()
    for col in columns:
        if str(out[col].dtype).startswith("datetime64"):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
        out[col] = out[col].astype(str)
    return out.reset_index(drop=True)


@pytest.mark.parametrize("name", ["reminders", "followup", "publication"])
def test_lists_match_the_hand_checked_fixture(lists, name: str) -> None:
    want = expected(name)
    got = as_text(getattr(lists, name), list(want.columns))
    pd.testing.assert_frame_equal(got, want)


def test_schedule_summary(lists) -> None:
    table = lists.schedule.set_index("list")
    assert table["items"].to_dict() == {"reminders": 6, "followup": 5, "publication": 5}
    assert table.loc["publication", "max_delay_days"] == 193
    assert table.loc["reminders", "mean_delay_days"] == pytest.approx(
        (91 + 116 + 120 + 142 + 212 + 123) / 6
    )
    assert lists.followup_case_ids() == ["K05a", "K05b", "K06b", "K07", "K15"]
    assert lists.on == dt.date(2016, 11, 30)


def test_press_releases_are_left_out(lists) -> None:
    for frame in (lists.reminders, lists.publication):
        assert "C11" not in set(frame["communication_id"])


def test_lists_are_as_of_the_day() -> None:
    history = read_history(FIXTURE)
    # Before C10's rejection arrived it is a reminder; after, it is a follow-up candidate.
    before = due_lists(history, on="2016-12-04")
    after = due_lists(history, on="2016-12-05")
    assert "C10" in set(before.reminders["communication_id"])
    assert "C10" not in set(after.reminders["communication_id"])
    assert "K10" in set(after.followup["case_id"]) and "K10" not in set(before.followup["case_id"])
    # A day before anything was sent, every list is empty.
    empty = due_lists(history, on="2010-01-01")
    assert empty.reminders.empty and empty.followup.empty and empty.publication.empty


def test_dated_outcome_after_reply_ends_follow_up() -> None:
    history = read_history(FIXTURE)
    dated = pd.concat(
        [
            history.outcomes.assign(outcome_date=pd.NaT),
            pd.DataFrame(
                {
                    "case_id": ["K07"],
                    "outcome": ["same"],
                    "outcome_date": [pd.Timestamp("2016-11-30")],
                }
            ),
        ],
        ignore_index=True,
    )
    from dataclasses import replace

    lists = due_lists(replace(history, outcomes=dated), on=ON)
    assert "K07" not in set(lists.followup["case_id"])
    # An outcome dated before the rejection does not count as a later outcome.
    early = dated.assign(
        outcome_date=dated["outcome_date"].where(
            dated["case_id"] != "K07", pd.Timestamp("2016-06-01")
        )
    )
    assert "K07" in set(due_lists(replace(history, outcomes=early), on=ON).followup["case_id"])


def test_bad_day_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="`on` must be a date"):
        due_lists(read_history(FIXTURE), on="30/11/2016")


# -- the schedules --------------------------------------------------------------------------

days = st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2030, 12, 31))


@given(st.lists(days, min_size=1, max_size=30))
def test_fixed_schedule_delay_is_three_to_nine_months(sent: list[dt.date]) -> None:
    s = pd.Series(pd.to_datetime(sent))
    fixed = fixed_report_date(s)
    assert (fixed.dt.day == 1).all() and fixed.dt.month.isin([3, 6, 9]).all()
    months = (fixed.dt.year - s.dt.year) * 12 + fixed.dt.month - s.dt.month
    assert months.between(4, 9).all()
    assert (fixed >= s + pd.DateOffset(months=3)).all()
    # Sent later never publishes earlier.
    order = s.sort_values().index
    assert fixed[order].is_monotonic_increasing


@given(days, st.one_of(st.none(), st.integers(-30, 200)))
def test_rolling_date_is_three_months_or_the_reply(sent: dt.date, reply_after: int | None) -> None:
    s = pd.Series([pd.Timestamp(sent)])
    reply = pd.Series(
        [pd.NaT if reply_after is None else pd.Timestamp(sent) + pd.Timedelta(days=reply_after)]
    )
    rolling = rolling_publication_date(s, reply).iloc[0]
    three = pd.Timestamp(sent) + pd.DateOffset(months=3)
    if reply_after is None or reply_after < 0 or reply.iloc[0] >= three:
        assert rolling == three
    else:
        assert rolling == reply.iloc[0]
    assert rolling <= fixed_report_date(s).iloc[0]


def test_paper_examples_of_the_fixed_schedule() -> None:
    s = pd.Series(pd.to_datetime(["2016-05-31", "2016-06-01", "2016-02-29", "2016-12-01"]))
    assert fixed_report_date(s).dt.strftime("%Y-%m-%d").tolist() == [
        "2016-09-01",
        "2017-03-01",
        "2016-06-01",
        "2017-06-01",
    ]
    assert next_session_date(pd.Series(pd.to_datetime(["2016-03-01", "2016-09-02"]))).dt.strftime(
        "%Y-%m-%d"
    ).tolist() == ["2016-06-01", "2017-03-01"]


# -- invariants on random histories ---------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> History:
    n = draw(st.integers(1, 25))
    rows, cases = [], []
    for i in range(n):
        sent = draw(days)
        cls = draw(
            st.sampled_from(["none", "immaterial", "rejection", "no_rejection", "content_unknown"])
        )
        lag = draw(st.integers(0, 400))
        reply = (
            ""
            if cls == "none"
            else (pd.Timestamp(sent) + pd.Timedelta(days=lag)).strftime("%Y-%m-%d")
        )
        rows.append(
            {
                "communication_id": f"C{i}",
                "sent_date": sent.isoformat(),
                "type": draw(st.sampled_from(["UA", "AL", "PR"])),
                "country": "MEX",
                "reply_class": cls,
                "reply_date": reply,
            }
        )
        cases.append(
            {
                "case_id": f"K{i}",
                "communication_id": f"C{i}",
                "country": "MEX",
                "sent_date": sent.isoformat(),
            }
        )
    comms = pd.DataFrame(rows)
    comms["sent_date"] = pd.to_datetime(comms["sent_date"])
    comms["reply_date"] = pd.to_datetime(comms["reply_date"].replace("", None))
    cases = pd.DataFrame(cases)
    cases["sent_date"] = pd.to_datetime(cases["sent_date"])
    outcomes = pd.DataFrame(
        {
            "case_id": [
                c["case_id"]
                for c in draw(
                    st.lists(
                        st.sampled_from([c for c in cases.to_dict("records")]),
                        max_size=5,
                        unique_by=lambda c: c["case_id"],
                    )
                )
            ]
        }
    )
    outcomes["outcome"] = "same"
    return History(communications=comms, cases=cases, outcomes=outcomes)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(histories(), days, st.randoms(use_true_random=False))
def test_list_invariants(history: History, on: dt.date, rnd) -> None:
    lists = due_lists(history, on=on)
    stamp = pd.Timestamp(on)
    assert (lists.reminders["reminder_due"] <= stamp).all()
    assert (lists.reminders["days_overdue"] >= 0).all()
    assert (lists.publication["rolling_date"] <= stamp).all() and (
        lists.publication["fixed_report"] > stamp
    ).all()
    assert (lists.publication["delay_days"] > 0).all()
    assert (lists.followup["reply_date"] <= stamp).all()
    comms = history.communications.set_index("communication_id")
    for frame in (lists.reminders, lists.publication):
        assert not (comms.loc[frame["communication_id"], "type"] == "PR").any()
    # Row order of the inputs does not matter.
    shuffled = History(
        communications=history.communications.sample(frac=1, random_state=rnd.randint(0, 10**6)),
        cases=history.cases.sample(frac=1, random_state=rnd.randint(0, 10**6)),
        outcomes=history.outcomes,
    )
    again = due_lists(shuffled, on=on)
    for name in ("reminders", "followup", "publication"):
        pd.testing.assert_frame_equal(getattr(lists, name), getattr(again, name))
