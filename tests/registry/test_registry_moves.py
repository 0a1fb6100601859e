"""``advance_many``: a run's decisions written set-based give the same rows as one step per
case, name the first offending case, and leave nothing behind (rows, page cache) on error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from triage.registry import LifecycleError, Registry
from triage.registry import _lifecycle_writes as moves_module
from triage.registry._models import Submission

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2017, 6, 1, 12, 0, tzinfo=dt.UTC)
IDS = [f"M{i}" for i in range(6)]
#: The same cases again, moved one ``advance`` at a time to compare with.
TWINS = [f"W{i}" for i in range(6)]


def _registry(db_url: str) -> Registry:
    registry = Registry(db_url, clock=lambda: NOW).init()
    registry.add_submissions(
        [{"submission_id": sid, "received_date": dt.date(2017, 5, 2)} for sid in IDS + TWINS]
    )
    for sid in IDS + TWINS:
        registry.advance(sid, "eligible", at=dt.date(2017, 5, 3))
    return registry


def _rows(registry: Registry, prefix: str = "") -> tuple[list[Any], list[Any]]:
    """Status steps and current statuses of the submissions whose id starts with ``prefix``."""
    steps = registry.status_history()
    steps = steps[steps["submission_id"].str.startswith(prefix)]
    with registry.engine.connect() as conn:
        current = conn.execute(
            select(Submission.submission_id, Submission.status, Submission.status_at)
            .where(Submission.submission_id.startswith(prefix))
            .order_by(Submission.id)
        ).all()
    return steps.astype(str).values.tolist(), [tuple(r) for r in current]


def _as_twins(rows: tuple[list[Any], list[Any]]) -> tuple[list[Any], list[Any]]:
    steps, current = rows
    return (
        [[str(v).replace("M", "W", 1) if i == 0 else v for i, v in enumerate(r)] for r in steps],
        [(sid.replace("M", "W", 1), *rest) for sid, *rest in current],
    )


DECISIONS: dict[str, Any] = {
    "M3": "selected",
    "M0": "not_selected",
    "NOT-A-CASE": "selected",
    "M5": "selected",
    "M1": "not_selected",
}


@pytest.mark.parametrize("update_from", [True, False])
def test_advance_many_matches_one_advance_per_case(
    db_url: str, monkeypatch: pytest.MonkeyPatch, update_from: bool
) -> None:
    """Both ways of moving the submissions (UPDATE ... FROM where the database takes it, a
    sub-select per row on an older SQLite) write what one ``advance`` per case writes."""
    registry = _registry(db_url)
    if not update_from:
        monkeypatch.setattr(moves_module, "_update_from_works", lambda conn: False)
    moved = registry.advance_many(DECISIONS, run_id="run-000001", at=NOW)
    many = _rows(registry, "M")
    for sid, status in DECISIONS.items():
        if sid in IDS:
            registry.advance(sid.replace("M", "W", 1), status, at=NOW.date(), run_id="run-000001")
    one = _rows(registry, "W")
    registry.dispose()
    assert moved == 4
    assert _as_twins(many) == one
    # The decisions' order, not the ids' order, numbers the steps.
    assert [s[0] for s in many[0][-4:]] == ["M3", "M0", "M5", "M1"]


def test_advance_many_names_the_first_late_case_and_writes_nothing(db_url: str) -> None:
    registry = _registry(db_url)
    registry.advance("M4", "selected", at=dt.date(2017, 5, 20), run_id="run-a")
    registry.advance("M2", "selected", at=dt.date(2017, 5, 25), run_id="run-a")
    before = _rows(registry)
    late: dict[str, Any] = {"M1": "selected", "M4": "not_selected", "M2": "not_selected"}
    with pytest.raises(LifecycleError, match=r"submission M4: 'not_selected' on 2017-05-10 is"):
        registry.advance_many(late, run_id="run-b", at=dt.datetime(2017, 5, 10, tzinfo=dt.UTC))
    assert _rows(registry) == before
    registry.dispose()


def test_advance_many_judges_each_pair_at_its_first_case(db_url: str) -> None:
    registry = _registry(db_url)
    registry.advance("M2", "ineligible", at=dt.date(2017, 5, 4))
    registry.advance("M5", "ineligible", at=dt.date(2017, 5, 4))
    before = _rows(registry)
    with pytest.raises(LifecycleError, match="submission M5: cannot move to 'selected'"):
        registry.advance_many(
            {"M0": "selected", "M5": "selected", "M2": "selected"}, run_id="run-b", at=NOW
        )
    assert _rows(registry) == before
    registry.dispose()


def test_advance_many_gives_back_the_page_cache(db_url: str) -> None:
    """SQLite: the larger page cache of a run's moves is the connection's only while it moves,
    also when the moves fail."""
    registry = _registry(db_url)
    if registry.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite page cache setting")
    with registry.engine.begin() as conn:
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
        registry.advance_many({"M0": "selected"}, run_id="run-a", at=NOW, conn=conn)
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == before
        with pytest.raises(LifecycleError):
            registry.advance_many({"M1": "communication_sent"}, run_id="run-a", conn=conn)
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == before
    registry.dispose()
