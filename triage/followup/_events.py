"""Recording follow-up events in the registry: replies, outcomes, and notifying the source.

Each event is validated against what the registry knows (the communication or case exists,
the code is in the vocabulary, the date is not before the sending nor in the future), stored
in the registry's tables, written to the audit chain, and moves the lifecycle of the cases
concerned (``reply_received``, ``outcome_recorded``) where their status allows it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd

from triage.audit import Actor, LedgerRecord, read_records
from triage.audit._ledger import LedgerTx, append_numbered, ledger_transaction, utc_now
from triage.errors import TriageError
from triage.followup._lists import FollowupLists, due_lists
from triage.registry import Registry, Status
from triage.registry._followup_writes import CommunicationRef
from triage.schema import ASSESSMENTS, OUTCOMES, REPLY_CLASSES, History

__all__ = [
    "EventResult",
    "due",
    "notifications",
    "record_notified",
    "record_outcome",
    "record_reply",
    "registry_history",
]

_REPLYABLE = ("communication_sent", "reply_received")


@dataclass(frozen=True)
class EventResult:
    """What one recorded event did: its audit record id, and the lifecycle steps taken or skipped."""

    record_id: str
    kind: str
    target: str
    date: dt.date
    advanced: list[str]
    skipped: list[str]

    def summary(self) -> str:
        """Return one line for a terminal."""
        moved = f"; {len(self.advanced)} case(s) moved on" if self.advanced else ""
        kept = f"; {len(self.skipped)} case(s) left in their status" if self.skipped else ""
        return (
            f"recorded {self.kind} for {self.target} on {self.date} ({self.record_id}){moved}{kept}"
        )


def _as_date(value: dt.date | str, what: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise TriageError(f"`{what}` must be a date YYYY-MM-DD. Got {value!r} instead.") from exc


def _check_role(role: str) -> None:
    if role not in ("staff", "mandate_holder", "auditor"):
        raise ValueError(
            f"`role` must be one of staff, mandate_holder, auditor. Got {role!r} instead."
        )
    from triage.audit._roles import require

    require(role, "record_event")


def _check_date(
    when: dt.date, sent: dt.date | None, today: dt.date, what: str, target: str
) -> None:
    if when > today:
        raise TriageError(
            f"{what} for {target} is dated {when}, which is in the future (today is {today})."
        )
    if sent is not None and when < sent:
        raise TriageError(
            f"{what} for {target} is dated {when}, before the communication was sent on {sent}."
        )


def _communication(registry: Registry, comm_id: str) -> CommunicationRef:
    found = registry.communication(comm_id)
    if found is None:
        raise TriageError(f"communication {comm_id!r} is not in the registry.")
    return found


def _advance_cases(
    registry: Registry,
    case_ids: list[str],
    status: Status,
    when: dt.date,
    note: str,
    tx: LedgerTx,
) -> tuple[list[str], list[str]]:
    advanced: list[str] = []
    skipped: list[str] = []
    for sid, current in registry.submissions_of_cases(case_ids, conn=tx.conn):
        if current in _REPLYABLE:
            registry.advance(sid, status, at=when, note=note, conn=tx.conn)
            advanced.append(sid)
        else:
            skipped.append(sid)
    return advanced, skipped


def _append_event(
    tx: LedgerTx,
    registry: Registry,
    kind: str,
    content: dict[str, str],
    actor: Actor,
    stamp: dt.datetime,
) -> LedgerRecord:
    """Append the ``kind`` event's audit record (id ``evt-...``) by ``actor`` at ``stamp``."""
    return append_numbered(
        tx,
        registry,
        kind,
        content,
        "evt",
        actor=replace(actor, now=stamp),
    )


def record_reply(
    registry: Registry,
    communication_id: str,
    *,
    reply_class: str,
    date: dt.date | str,
    actor: Actor,
) -> EventResult:
    """Record a state's reply to a communication and move its cases to ``reply_received``.

    Parameters
    ----------
    communication_id : str
        A communication in the registry (not a press release).
    reply_class : {"immaterial", "rejection", "no_rejection", "content_unknown"}
        The classified reply (``triage.schema.REPLY_CLASSES`` without ``none``).
    date : date or str
        When the reply arrived: not before the sending, not in the future.
    actor : Actor
        Who records the reply, with what role and sign-in, and when (default: now, UTC).

    Raises
    ------
    TriageError
        Unknown communication or class, a press release, a date out of order, a duplicate.
    """
    _check_role(actor.role)
    classes = [c for c in REPLY_CLASSES if c != "none"]
    if reply_class not in classes:
        raise TriageError(
            f"reply class must be one of {', '.join(classes)}. Got {reply_class!r} instead."
        )
    when = _as_date(date)
    stamp = actor.now or utc_now()
    comm = _communication(registry, communication_id)
    if comm.type == "PR":
        raise TriageError(f"{communication_id} is a press release; states do not reply to those.")
    _check_date(when, comm.sent_date, stamp.date(), "the reply", communication_id)
    case_ids = registry.case_ids_of(communication_id)
    # The reply, its record and the lifecycle steps commit together, or none of them.
    with ledger_transaction(registry) as tx:
        registry.add_reply(communication_id, reply_class=reply_class, at=when, conn=tx.conn)
        content = {
            "communication_id": communication_id,
            "reply_class": reply_class,
            "date": when.isoformat(),
        }
        record = _append_event(tx, registry, "reply", content, actor, stamp)
        advanced, skipped = _advance_cases(
            registry, case_ids, "reply_received", when, f"reply {record.record_id}", tx
        )
    return EventResult(record.record_id, "reply", communication_id, when, advanced, skipped)


def record_outcome(
    registry: Registry,
    case_id: str,
    *,
    outcome: str,
    date: dt.date | str,
    actor: Actor,
    assessment: str = "systematic",
) -> EventResult:
    """Record the observed outcome of a case and move it to ``outcome_recorded``.

    Raises
    ------
    TriageError
        Unknown case or code, a date before the sending or in the future, an outcome already recorded.
    """
    _check_role(actor.role)
    if outcome not in OUTCOMES:
        raise TriageError(f"outcome must be one of {', '.join(OUTCOMES)}. Got {outcome!r} instead.")
    if assessment not in ASSESSMENTS:
        raise TriageError(
            f"assessment must be one of {', '.join(ASSESSMENTS)}. Got {assessment!r} instead."
        )
    when = _as_date(date)
    stamp = actor.now or utc_now()
    registered, sent = registry.case_sent_date(case_id)
    if not registered:
        raise TriageError(f"case {case_id!r} is not in the registry.")
    _check_date(when, sent, stamp.date(), "the outcome", case_id)
    existing = registry.outcome_of(case_id)
    if existing is not None:
        raise TriageError(
            f"case {case_id} already has an outcome ({existing.outcome}, {existing.outcome_date or 'undated'})."
        )
    with ledger_transaction(registry) as tx:
        registry.add_outcome(case_id, outcome=outcome, assessment=assessment, at=when, conn=tx.conn)
        content = {
            "case_id": case_id,
            "outcome": outcome,
            "assessment": assessment,
            "date": when.isoformat(),
        }
        record = _append_event(tx, registry, "outcome", content, actor, stamp)
        advanced, skipped = _advance_cases(
            registry, [case_id], "outcome_recorded", when, f"outcome {record.record_id}", tx
        )
    return EventResult(record.record_id, "outcome", case_id, when, advanced, skipped)


def record_notified(
    registry: Registry,
    communication_id: str,
    *,
    date: dt.date | str,
    actor: Actor,
) -> EventResult:
    """Record that the source was told the communication went out (at most once per communication)."""
    _check_role(actor.role)
    when = _as_date(date)
    stamp = actor.now or utc_now()
    comm = _communication(registry, communication_id)
    _check_date(when, comm.sent_date, stamp.date(), "the notification", communication_id)
    with ledger_transaction(registry) as tx:
        for r in read_records(registry, kind="notified", tx=tx):
            if r.content["communication_id"] == communication_id:
                raise TriageError(
                    f"the source of {communication_id} was already notified on {r.content['date']}."
                )
        content = {"communication_id": communication_id, "date": when.isoformat()}
        record = _append_event(tx, registry, "notified", content, actor, stamp)
    return EventResult(record.record_id, "notified", communication_id, when, [], [])


def notifications(registry: Registry) -> pd.DataFrame:
    """Return every recorded notification: communication_id, notified_on (date), record_id, user."""
    rows = [
        {
            "communication_id": r.content["communication_id"],
            "notified_on": r.content["date"],
            "record_id": r.record_id,
            "user": r.user,
        }
        for r in read_records(registry, kind="notified")
    ]
    frame = pd.DataFrame(rows, columns=["communication_id", "notified_on", "record_id", "user"])
    frame["notified_on"] = pd.to_datetime(frame["notified_on"])
    return frame


def registry_history(registry: Registry) -> History:
    """Return ``registry.history()`` with an ``outcome_date`` column on the outcomes (NaT when unknown)."""
    history = registry.history()
    outcomes = history.outcomes.merge(registry.outcome_dates(), on="case_id", how="left")
    return replace(history, outcomes=outcomes)


def due(registry: Registry, on: dt.date | str | None = None) -> FollowupLists:
    """Return the follow-up lists of day ``on`` (default today) from the registry."""
    return due_lists(registry_history(registry), on=on or dt.date.today())
