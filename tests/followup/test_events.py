"""Recording replies, outcomes and notifications in the registry, and the CLI around them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_cli as cli
from registry_helpers import loaded_registry
from sqlalchemy import select

from triage.audit import Actor, Session, read_records, verify_chain
from triage.config import project_root
from triage.errors import TriageError
from triage.followup import (
    due,
    notifications,
    record_notified,
    record_outcome,
    record_reply,
    state_engagement,
)
from triage.registry import Communication, Outcome, Reply

FIXTURE = project_root() / "data" / "fixtures" / "followup"
NOW = dt.datetime(2016, 12, 10, 12, 0, tzinfo=dt.UTC)
ANA = Actor("ana", "staff", now=NOW)
AUDITOR = Actor("au", "auditor", now=NOW)


@pytest.fixture
def registry(tmp_path: Path, followup_history: Path) -> Any:
    with loaded_registry(tmp_path / "f.db", followup_history) as reg:
        yield reg


def test_registry_lists_equal_the_folder_lists(registry) -> None:
    from triage.followup import due_lists
    from triage.schema import read_history

    from_db = due(registry, on="2016-11-30")
    from_files = due_lists(read_history(FIXTURE), on="2016-11-30")
    for name in ("reminders", "followup", "publication"):
        got = getattr(from_db, name)
        want = getattr(from_files, name)
        assert got["communication_id"].tolist() == want["communication_id"].tolist(), name


def test_record_reply_updates_registry_chain_and_lists(registry) -> None:
    result = _reply(registry, "C01", "rejection", "2016-12-01")
    assert result.kind == "reply" and result.record_id.startswith("evt-")
    with registry.engine.connect() as conn:
        comm = conn.execute(
            select(Communication.reply_class, Communication.reply_date).where(
                Communication.communication_id == "C01"
            )
        ).one()
        replies = conn.execute(
            select(Reply.reply_class).where(Reply.communication_id == "C01")
        ).all()
    assert tuple(comm) == ("rejection", dt.date(2016, 12, 1)) and len(replies) == 1
    lists = due(registry, on="2016-12-10")
    assert "C01" not in set(lists.reminders["communication_id"])
    assert "K01" in set(lists.followup["case_id"])
    [rec] = read_records(registry, kind="reply")
    assert rec.content == {
        "communication_id": "C01",
        "reply_class": "rejection",
        "date": "2016-12-01",
    }
    assert verify_chain(registry).ok
    # The state statistics see the new reply.
    ind = state_engagement(registry.history()).set_index("country").loc["IND"]
    assert ind["rejections"] == 1


@pytest.mark.parametrize(
    ("communication_id", "reply_class", "date", "message"),
    [
        ("C01", "rejection", "2016-08-31", "before the communication was sent"),
        ("C01", "rejection", "2016-12-11", "in the future"),
        ("C01", "none", "2016-12-01", "reply class must be one of"),
        ("C01", "rejection", "01/12/2016", "YYYY-MM-DD"),
        ("C99", "rejection", "2016-12-01", "not in the registry"),
        ("C11", "rejection", "2016-12-01", "press release"),
    ],
)
def test_record_reply_refusals(registry, communication_id, reply_class, date, message) -> None:
    with pytest.raises(TriageError, match=message):
        _reply(registry, communication_id, reply_class, date)
    assert read_records(registry, kind="reply") == []


def _reply(registry: Any, communication_id: str, reply_class: str, date: str) -> Any:
    """Record a reply as staff user ana, on NOW."""
    return record_reply(
        registry,
        communication_id,
        reply_class=reply_class,
        date=date,
        actor=ANA,
    )


def test_the_actor_signs_the_event_record(registry) -> None:
    """The record carries the actor's user, role and time; ``Actor.of`` takes a session's."""
    session = Session("bo", "staff", auth="token")
    actor = Actor.of(session, now=NOW)
    assert (actor.user, actor.role, actor.auth, actor.now) == ("bo", "staff", "token", NOW)
    record_notified(registry, "C09", date="2016-10-22", actor=actor)
    [rec] = read_records(registry, kind="notified")
    assert (rec.user, rec.role) == ("bo", "staff")
    assert rec.created_at.startswith("2016-12-10T12:00")


def test_auditors_cannot_record_events(registry) -> None:
    with pytest.raises(TriageError, match="auditors"):
        record_reply(
            registry,
            "C01",
            reply_class="rejection",
            date="2016-12-01",
            actor=AUDITOR,
        )
    with pytest.raises(TriageError, match="auditors"):
        record_outcome(registry, "K01", outcome="same", date="2016-12-01", actor=AUDITOR)
    with pytest.raises(TriageError, match="auditors"):
        record_notified(registry, "C01", date="2016-12-01", actor=AUDITOR)


def test_duplicate_reply_is_refused(registry) -> None:
    _reply(registry, "C02", "immaterial", "2016-11-01")
    with pytest.raises(TriageError, match="already has"):
        _reply(registry, "C02", "immaterial", "2016-11-01")
    # An earlier second reply is kept but the communication still shows the latest one.
    _reply(registry, "C02", "no_rejection", "2016-10-20")
    with registry.engine.connect() as conn:
        comm = conn.execute(
            select(Communication.reply_class).where(Communication.communication_id == "C02")
        ).scalar_one()
    assert comm == "immaterial"


def test_record_outcome(registry) -> None:
    result = record_outcome(
        registry,
        "K07",
        outcome="somewhat_better",
        date="2016-12-02",
        actor=ANA,
    )
    assert result.kind == "outcome"
    with registry.engine.connect() as conn:
        row = conn.execute(
            select(Outcome.outcome, Outcome.outcome_date, Outcome.assessment).where(
                Outcome.case_id == "K07"
            )
        ).one()
    assert tuple(row) == ("somewhat_better", dt.date(2016, 12, 2), "systematic")
    assert "K07" not in set(due(registry, on="2016-12-05").followup["case_id"])
    assert "K07" in set(
        due(registry, on="2016-12-01").followup["case_id"]
    )  # as of before the outcome
    for case, outcome, date, message in [
        ("K07", "same", "2016-12-03", "already has an outcome"),
        ("K01", "same", "2016-08-01", "before the communication was sent"),
        ("K01", "better", "2016-10-01", "outcome must be one of"),
        ("K99", "same", "2016-10-01", "not in the registry"),
    ]:
        with pytest.raises(TriageError, match=message):
            record_outcome(registry, case, outcome=outcome, date=date, actor=ANA)


def test_record_notified(registry) -> None:
    record_notified(registry, "C09", date="2016-10-22", actor=ANA)
    frame = notifications(registry)
    assert (
        frame["communication_id"].tolist() == ["C09"]
        and str(frame.loc[0, "notified_on"].date()) == "2016-10-22"
    )
    with pytest.raises(TriageError, match="already notified"):
        record_notified(registry, "C09", date="2016-10-23", actor=ANA)
    with pytest.raises(TriageError, match="before the communication was sent"):
        record_notified(registry, "C01", date="2016-08-01", actor=ANA)


def test_lifecycle_moves_for_queue_cases(registry) -> None:
    """A submission whose communication went out moves to reply_received, then outcome_recorded."""
    registry.add_submissions(
        [
            {
                "submission_id": "S1",
                "received_date": dt.date(2016, 9, 1),
                "case_id": "K01",
                "eligible": True,
                "country": "IND",
            }
        ],
        origin="intake",
    ) if hasattr(registry, "add_submissions") else pytest.skip("registry has no add_submissions")
    registry.advance("S1", "selected", at=dt.date(2016, 9, 1), run_id="run-000001")
    registry.advance("S1", "communication_sent", at=dt.date(2016, 9, 1))
    result = record_reply(
        registry, "C01", reply_class="no_rejection", date="2016-11-15", actor=Actor("ana", "staff")
    )
    assert result.advanced == ["S1"] and registry.status_of("S1") == "reply_received"
    result = record_outcome(
        registry, "K01", outcome="same", date="2016-11-20", actor=Actor("ana", "staff")
    )
    assert result.advanced == ["S1"] and registry.status_of("S1") == "outcome_recorded"


def test_cli_followup_and_record(registry, capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_DB_URL", str(registry.engine.url))
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = cli(
        ["followup", "due", "--on", "2016-11-30", "--out", str(tmp_path / "lists")], capsys
    )
    assert code == 0 and "Reminders due" in out and "C03" in out
    assert (tmp_path / "lists" / "publication.csv").read_text().count("\n") == 6
    code, out, _ = cli(
        ["record", "reply", "C03", "--class", "rejection", "--date", "2016-10-15"], capsys
    )
    assert code == 0 and "recorded reply for C03" in out
    code, _, err = cli(
        ["record", "reply", "C03", "--class", "rejection", "--date", "2016-09-01"], capsys
    )
    assert code == 2 and "before the communication was sent" in err and "Traceback" not in err
    code, out, _ = cli(
        ["record", "outcome", "K03", "--outcome", "same", "--date", "2016-11-01"], capsys
    )
    assert code == 0 and "recorded outcome for K03" in out
    code, out, _ = cli(["record", "notified", "C03", "--date", "2016-10-01"], capsys)
    assert code == 0 and "recorded notified" in out
    code, out, _ = cli(["states", "--country", "ARG"], capsys)
    assert code == 0 and "Argentina" in out
    code, _, err = cli(["followup", "due", "--on", "30.11.2016"], capsys)
    assert code == 2 and "--on must be a date" in err
    code, out, _ = cli(["audit", "verify"], capsys)
    assert code == 0 and "3 records" in out
