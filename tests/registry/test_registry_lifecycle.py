"""The submission lifecycle: allowed order, decisions name their run, dates stay in order."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.registry import STATUSES, TRANSITIONS, LifecycleError, Registry

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2017, 6, 1, 12, 0, tzinfo=dt.UTC)


def _registry(db_url: str) -> Registry:
    registry = Registry(db_url, clock=lambda: NOW).init()
    registry.add_submissions(
        [
            {
                "submission_id": "N1",
                "received_date": dt.date(2017, 5, 2),
                "individual_id": "P9",
                "defender_name": "Simulated Name",
                "country": "FRA",
                "un_region": "weog",
            }
        ]
    )
    return registry


def test_full_lifecycle_in_order(db_url: str) -> None:
    registry = _registry(db_url)
    assert registry.status_of("N1") == "received"
    registry.advance("N1", "eligible", at=dt.date(2017, 5, 3))
    registry.advance("N1", "not_selected", at=dt.date(2017, 5, 10), run_id="run-a")
    assert registry.queue().empty  # decided: no longer awaiting
    registry.advance("N1", "selected", at=dt.date(2017, 5, 20), run_id="run-b", note="override")
    registry.advance("N1", "communication_sent", at=dt.date(2017, 5, 21))
    registry.advance("N1", "reply_received", at=dt.date(2017, 5, 30))
    change = registry.advance("N1", "outcome_recorded", at=dt.date(2017, 6, 1))
    assert change.previous == "reply_received"
    steps = registry.status_history("N1")
    assert steps["status"].tolist() == [
        "received",
        "eligible",
        "not_selected",
        "selected",
        "communication_sent",
        "reply_received",
        "outcome_recorded",
    ]
    assert steps["run_id"].tolist()[2:4] == ["run-a", "run-b"]
    with pytest.raises(LifecycleError, match="lifecycle is complete"):
        registry.advance("N1", "reply_received", at=dt.date(2017, 6, 1))
    registry.dispose()


def test_eligible_not_taken_up_stays_registered(db_url: str) -> None:
    registry = _registry(db_url)
    registry.advance("N1", "eligible", at=dt.date(2017, 5, 3))
    assert registry.queue()["case_id"].tolist() == ["N1"]
    registry.advance("N1", "not_selected", at=dt.date(2017, 5, 4), run_id="run-a")
    assert registry.status_of("N1") == "not_selected"
    assert registry.status_counts() == {"not_selected": 1}
    registry.dispose()


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([("selected", "r")], "cannot move to 'selected' from status 'received'"),
        ([("eligible", None), ("selected", None)], "must name the selection run"),
        ([("eligible", None), ("communication_sent", None)], "cannot move"),
        ([("outcome_recorded", None)], "cannot move"),
    ],
)
def test_out_of_order_steps_are_refused(
    db_url: str, steps: list[tuple[str, str | None]], message: str
) -> None:
    registry = _registry(db_url)
    *ok, (bad, run) = steps
    for status, run_id in ok:
        registry.advance("N1", status, at=dt.date(2017, 5, 3), run_id=run_id)  # type: ignore[arg-type]
    before = registry.status_history("N1")
    with pytest.raises(LifecycleError, match=message):
        registry.advance("N1", bad, at=dt.date(2017, 5, 4), run_id=run)  # type: ignore[arg-type]
    assert registry.status_history("N1").equals(before)  # nothing half-written
    registry.dispose()


def test_dates_must_not_go_backwards_or_into_the_future(db_url: str) -> None:
    registry = _registry(db_url)
    with pytest.raises(LifecycleError, match="before its previous step"):
        registry.advance("N1", "eligible", at=dt.date(2017, 5, 1))
    with pytest.raises(LifecycleError, match="in the future"):
        registry.advance("N1", "eligible", at=dt.date(2017, 6, 2))
    assert registry.advance("N1", "eligible").at == NOW.date()  # default: today
    registry.dispose()


def test_unknown_submission_and_status(db_url: str) -> None:
    registry = _registry(db_url)
    with pytest.raises(LifecycleError, match="not in the registry"):
        registry.advance("nope", "eligible")
    with pytest.raises(ValueError, match="`status` must be one of"):
        registry.advance("N1", "approved")  # type: ignore[arg-type]
    registry.dispose()


def test_add_submissions_is_idempotent_by_id_and_content_hash(db_url: str) -> None:
    registry = _registry(db_url)
    row = {"submission_id": "N2", "received_date": dt.date(2017, 5, 5), "content_hash": "ab" * 32}
    assert registry.add_submissions([row]) == ["N2"]
    assert registry.add_submissions([row]) == []
    assert registry.add_submissions([{**row, "submission_id": "N3"}]) == []  # same content
    assert registry.add_submissions([{"submission_id": "N4", "eligible": False}]) == ["N4"]
    assert registry.status_of("N4") == "ineligible"
    assert registry.counts()["submissions"] == 3
    registry.dispose()


def test_transition_table_is_consistent() -> None:
    assert set(TRANSITIONS) - {None} == set(STATUSES)
    for targets in TRANSITIONS.values():
        assert targets <= set(STATUSES)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(walk=st.lists(st.sampled_from(sorted(STATUSES)), max_size=8))
def test_random_walks_only_record_allowed_steps(tmp_path: Path, walk: list[str]) -> None:
    """Whatever sequence is attempted, the recorded history only contains allowed steps."""
    registry = Registry("sqlite://", clock=lambda: NOW).init()
    registry.add_submissions([{"submission_id": "W", "received_date": dt.date(2017, 1, 1)}])
    for status in walk:
        with contextlib.suppress(LifecycleError):
            registry.advance("W", status, at=dt.date(2017, 2, 1), run_id="r")  # type: ignore[arg-type]
    recorded = registry.status_history("W")["status"].tolist()
    previous: str | None = None
    for status in recorded:
        assert status in TRANSITIONS[previous]
        previous = status
    assert registry.status_of("W") == recorded[-1]
