"""Lifecycle writes: moving submissions along the state machine of
:mod:`triage.registry._lifecycle`, one step or a whole run's decisions at once, optionally in
the caller's transaction (a decision and its audit record commit together).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from triage.registry._engine import RegistryCore, reachable, within
from triage.registry._lifecycle import LifecycleError, Status, check_transition
from triage.registry._models import StatusEvent, Submission
from triage.registry._rows import step

__all__ = ["LifecycleWrites", "StatusChange"]


@dataclass(frozen=True)
class StatusChange:
    """One recorded lifecycle step of a submission."""

    submission_id: str
    previous: str | None
    status: str
    at: dt.date
    run_id: str | None = None
    note: str | None = None
    recorded_at: dt.datetime | None = field(default=None, compare=False)


class LifecycleWrites(RegistryCore):
    """The Registry's lifecycle steps."""

    @reachable
    def advance(
        self,
        submission_id: str,
        status: Status,
        *,
        at: dt.date | None = None,
        run_id: str | None = None,
        note: str | None = None,
        conn: Connection | None = None,
    ) -> StatusChange:
        """Move a submission to its next lifecycle status and record the step.

        Parameters
        ----------
        submission_id : str
            The submission (for queue cases, its ``case_id``).
        status : {"received", "eligible", "ineligible", "selected", "not_selected",
                  "communication_sent", "reply_received", "outcome_recorded"}
            The new status; it must be an allowed next step (see ``TRANSITIONS``).
        at : date, optional
            When it happened (default today). Not before the previous step, not in the future.
        run_id : str, optional
            The selection run; required for ``selected`` and ``not_selected``.
        note : str, optional
            Free text kept with the step (never put names here).
        conn : Connection, optional
            An open transaction to write in (the audit record's), committed by the caller.

        Raises
        ------
        LifecycleError
            Unknown submission, a step out of order, a decision without run, a date out of order.
        """
        now = self._clock()
        when = at or now.date()
        if isinstance(when, dt.datetime):
            when = when.date()
        if not isinstance(when, dt.date):
            raise ValueError(f"`at` must be a date. Got {at!r} instead.")
        if when > now.date():
            raise LifecycleError(
                f"submission {submission_id}: {status!r} is dated {when}, which is in the future."
            )
        with within(self.engine, conn) as conn:
            query = select(Submission.status, Submission.status_at).where(
                Submission.submission_id == submission_id
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            found = conn.execute(query).first()
            if found is None:
                raise LifecycleError(f"submission {submission_id}: not in the registry.")
            previous, previous_at = found
            check_transition(submission_id, previous, status, run_id=run_id)
            if previous_at is not None and when < previous_at:
                raise LifecycleError(
                    f"submission {submission_id}: {status!r} is dated {when}, before its "
                    f"previous step {previous!r} on {previous_at}."
                )
            conn.execute(
                insert(StatusEvent), [step(submission_id, status, when, now, run_id, note)]
            )
            conn.execute(
                update(Submission)
                .where(Submission.submission_id == submission_id)
                .values(status=status, status_at=when)
            )
        return StatusChange(submission_id, previous, status, when, run_id, note, now)

    @reachable
    def advance_many(
        self,
        decisions: Mapping[str, Status],
        *,
        run_id: str | None = None,
        at: dt.datetime | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Move many submissions to their next status in one transaction; return how many moved.

        The per-submission :meth:`advance` commits once per call, which takes minutes for a full
        queue on SQLite; this applies the same lifecycle rules to every step and writes them all
        at once. Submission ids not in the registry (a run on an external table) are skipped.

        Parameters
        ----------
        decisions : mapping of str to status
            New status per submission id (for a selection run: ``selected`` / ``not_selected``).
        run_id : str, optional
            The selection run; required for ``selected`` and ``not_selected``.
        at : datetime, optional
            When the steps happened (default now); the date is stored on each step.
        conn : Connection, optional
            An open transaction to write in (the run record's), committed by the caller.

        Raises
        ------
        LifecycleError
            A step out of order, a decision without run, or a date before the previous step.
        """
        now = at or self._clock()
        when = now.date()
        ids = list(decisions)
        events: list[dict[str, Any]] = []
        by_status: dict[str, list[str]] = {}
        with within(self.engine, conn) as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = select(
                    Submission.submission_id, Submission.status, Submission.status_at
                ).where(Submission.submission_id.in_(chunk))
                for sid, current, current_at in conn.execute(query):
                    new = decisions[sid]
                    check_transition(sid, current, new, run_id=run_id)
                    if current_at is not None and when < current_at:
                        raise LifecycleError(
                            f"submission {sid}: {new!r} on {when} is before its previous step "
                            f"on {current_at}."
                        )
                    events.append(step(sid, new, when, now, run_id))
                    by_status.setdefault(new, []).append(sid)
            if events:
                conn.execute(insert(StatusEvent), events)
            for status, sids in by_status.items():
                for start in range(0, len(sids), 500):
                    conn.execute(
                        update(Submission)
                        .where(Submission.submission_id.in_(sids[start : start + 500]))
                        .values(status=status, status_at=when)
                    )
        return len(events)
