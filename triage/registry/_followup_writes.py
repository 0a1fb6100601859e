"""Follow-up records: a state's reply to a communication and the observed outcome of a case,
written in the caller's transaction so that the event, its audit record and the lifecycle steps
it causes commit together. The reads the follow-up checks need come with them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, insert, select, update

from triage.errors import TriageError
from triage.registry._engine import RegistryCore, reachable, within
from triage.registry._models import Case, Communication, Outcome, Reply, Submission
from triage.schema import Communications, Outcomes, coerce

__all__ = ["CommunicationRef", "FollowupRecords", "OutcomeRef"]


def _in_contract(model: type, what: str, **row: object) -> None:
    """Refuse a row that breaks its table's contract (``triage.schema.coerce`` on its columns)."""
    coerce(pd.DataFrame({k: [v] for k, v in row.items()}), model, source=what, partial=True)


@dataclass(frozen=True)
class CommunicationRef:
    """What a follow-up check needs of a communication: id, sent date, type, latest reply date."""

    communication_id: str
    sent_date: dt.date | None
    type: str | None
    reply_date: dt.date | None


@dataclass(frozen=True)
class OutcomeRef:
    """A case's recorded outcome code and its date (None when undated)."""

    outcome: str | None
    outcome_date: dt.date | None


class FollowupRecords(RegistryCore):
    """The Registry's follow-up reads and writes (replies, outcomes)."""

    @reachable
    def communication(
        self, communication_id: str, *, conn: Connection | None = None
    ) -> CommunicationRef | None:
        """Return the communication's id, sent date, type and latest reply date, or None."""
        query = select(
            Communication.communication_id,
            Communication.sent_date,
            Communication.type,
            Communication.reply_date,
        ).where(Communication.communication_id == communication_id)
        with within(self.engine, conn) as c:
            row = c.execute(query).first()
        return None if row is None else CommunicationRef(*row)

    @reachable
    def case_ids_of(self, communication_id: str) -> list[str]:
        """Return the ids of the cases a communication took up, in registry order."""
        query = (
            select(Case.case_id).where(Case.communication_id == communication_id).order_by(Case.id)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    @reachable
    def case_sent_date(self, case_id: str) -> tuple[bool, dt.date | None]:
        """Return whether the case is registered and the date its communication was sent."""
        query = select(Case.sent_date).where(Case.case_id == case_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return (False, None) if row is None else (True, row.sent_date)

    @reachable
    def outcome_of(self, case_id: str, *, conn: Connection | None = None) -> OutcomeRef | None:
        """Return the case's recorded outcome, or None when none is recorded."""
        query = select(Outcome.outcome, Outcome.outcome_date).where(Outcome.case_id == case_id)
        with within(self.engine, conn) as c:
            row = c.execute(query).first()
        return None if row is None else OutcomeRef(*row)

    @reachable
    def outcome_dates(self) -> pd.DataFrame:
        """Return case_id and outcome_date (datetime64, NaT when unknown) of every outcome."""
        with self.engine.connect() as conn:
            found = conn.execute(select(Outcome.case_id, Outcome.outcome_date)).all()
        dated = pd.DataFrame([tuple(r) for r in found], columns=["case_id", "outcome_date"])
        dated["outcome_date"] = pd.to_datetime(dated["outcome_date"])
        return dated

    @reachable
    def submissions_of_cases(
        self, case_ids: Sequence[str], *, conn: Connection | None = None
    ) -> list[tuple[str, str]]:
        """Return (submission_id, current status) of the submissions that became these cases."""
        query = select(Submission.submission_id, Submission.status).where(
            Submission.case_id.in_(list(case_ids))
        )
        with within(self.engine, conn) as c:
            return [(sid, status) for sid, status in c.execute(query)]

    @reachable
    def add_reply(
        self,
        communication_id: str,
        *,
        reply_class: str,
        at: dt.date,
        conn: Connection | None = None,
    ) -> None:
        """Store a state's reply; the communication's summary columns keep its latest reply.

        Raises
        ------
        ContractError
            The class breaks the communications table's contract.
        TriageError
            The communication is unknown or already has this reply (same class and date).
        """
        _in_contract(
            Communications,
            "the reply",
            communication_id=communication_id,
            reply_class=reply_class,
            reply_date=at.isoformat(),
        )
        with within(self.engine, conn) as c:
            comm = self.communication(communication_id, conn=c)
            if comm is None:
                raise TriageError(f"communication {communication_id!r} is not in the registry.")
            if c.execute(
                select(Reply.id).where(
                    Reply.communication_id == communication_id,
                    Reply.reply_date == at,
                    Reply.reply_class == reply_class,
                )
            ).first():
                raise TriageError(
                    f"{communication_id} already has a {reply_class} reply dated {at}."
                )
            c.execute(
                insert(Reply).values(
                    communication_id=communication_id, reply_date=at, reply_class=reply_class
                )
            )
            if comm.reply_date is None or at >= comm.reply_date:
                c.execute(
                    update(Communication)
                    .where(Communication.communication_id == communication_id)
                    .values(reply_class=reply_class, reply_date=at)
                )

    @reachable
    def add_outcome(
        self,
        case_id: str,
        *,
        outcome: str,
        assessment: str,
        at: dt.date,
        conn: Connection | None = None,
    ) -> None:
        """Store the observed outcome of a case (one per case).

        Parameters
        ----------
        case_id : str
            A registered case.
        outcome, assessment : str
            Codes of ``triage.schema.OUTCOMES`` and ``ASSESSMENTS`` (the caller checks them).
        at : date
            When the outcome was observed.
        conn : Connection, optional
            The caller's transaction (the audit record's); default a transaction of its own.

        Raises
        ------
        ContractError
            A code breaks the outcomes table's contract.
        TriageError
            The case already has an outcome.
        """
        _in_contract(
            Outcomes, "the outcome", case_id=case_id, outcome=outcome, assessment=assessment
        )
        with within(self.engine, conn) as c:
            if self.outcome_of(case_id, conn=c) is not None:
                raise TriageError(f"case {case_id} already has an outcome.")
            c.execute(
                insert(Outcome).values(
                    case_id=case_id, outcome=outcome, assessment=assessment, outcome_date=at
                )
            )
