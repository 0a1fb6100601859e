"""Lifecycle writes: moving submissions along the state machine of
:mod:`triage.registry._lifecycle`, one step or a whole run's decisions at once, optionally in
the caller's transaction (a decision and its audit record commit together).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateTable

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
        if not decisions:
            return 0
        with within(self.engine, conn) as conn, _roomy_cache(conn):
            # Set-based: the decisions go into a temporary table once, then one query checks
            # every (current, new) pair, one copies the steps and one moves the submissions.
            conn.execute(_CREATE_MOVES)
            conn.execute(delete(_MOVES))
            _insert_moves(conn, decisions)
            moved = _apply_moves(conn, when, now, run_id)
            conn.execute(delete(_MOVES))  # on an error the caller's rollback empties it
        return moved


#: The decisions of one ``advance_many``, in their order (``pos``); one per connection.
_MOVES = Table(
    "triage_moves",
    MetaData(),
    Column("submission_id", String(64), primary_key=True),
    Column("pos", Integer, unique=True),
    Column("status", String(32)),
    prefixes=["TEMPORARY"],
)
_CREATE_MOVES = CreateTable(_MOVES, if_not_exists=True)

#: SQLite page cache (KiB) of a connection while it moves a run's cases: 64 MiB, against the
#: default 2 MiB, halves the time of a 100,000-case run's status steps.
_MOVE_CACHE_KIB = 65536


@contextlib.contextmanager
def _roomy_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, let the connection cache more pages while it moves a run's cases.

    A run's status steps land beside each case's earlier steps all over the history's index,
    and SQLite's default 2 MiB page cache re-reads those pages again and again; the old size
    is put back afterwards, so a pooled connection does not keep the memory.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
    conn.exec_driver_sql(f"PRAGMA cache_size = -{_MOVE_CACHE_KIB}")
    try:
        yield
    finally:
        # Only a speed setting: a connection that cannot take it back still works.
        with contextlib.suppress(DBAPIError):
            conn.exec_driver_sql(f"PRAGMA cache_size = {before}")


def _insert_moves(conn: Connection, decisions: Mapping[str, Status]) -> None:
    """Put the decisions into ``_MOVES``, numbered in their order."""
    numbered = enumerate(decisions.items())
    if conn.dialect.name == "sqlite":
        # The driver's own executemany of plain tuples: a third of the time of SQLAlchemy's
        # 100,000 parameter dicts; strings and integers need no conversion on SQLite.
        conn.exec_driver_sql(
            "INSERT INTO triage_moves (submission_id, pos, status) VALUES (?, ?, ?)",
            [(sid, i, new) for i, (sid, new) in numbered],
        )
        return
    conn.execute(
        insert(_MOVES),
        [{"pos": i, "submission_id": sid, "status": new} for i, (sid, new) in numbered],
    )


def _update_from_works(conn: Connection) -> bool:
    """Whether the database takes ``UPDATE ... FROM`` (PostgreSQL; SQLite from 3.33)."""
    if conn.dialect.name != "sqlite":
        return conn.dialect.name == "postgresql"
    return tuple(conn.dialect.dbapi.sqlite_version_info) >= (3, 33)  # type: ignore[union-attr]


def _apply_moves(conn: Connection, when: dt.date, now: dt.datetime, run_id: str | None) -> int:
    """Check and apply the moves in ``_MOVES`` (ids not in the registry skipped); return how
    many moved."""
    moves = _MOVES.c
    joined = _MOVES.join(Submission, Submission.submission_id == moves.submission_id)
    day = literal(when, Date())
    # One pass over the moves finds each (new, current) pair's first case, the first case
    # whose previous step is dated after this one, and how many will move (PostgreSQL's
    # driver reports no row count for an INSERT ... SELECT).
    pairs = select(
        moves.status,
        Submission.status,
        func.min(moves.pos),
        func.min(case((Submission.status_at > day, moves.pos))),
        func.count(),
    ).select_from(joined)
    found = conn.execute(pairs.group_by(moves.status, Submission.status)).all()
    if not found:
        return 0
    first = {pos: (new, current) for new, current, pos, _, _ in found}
    ids: dict[int, str] = {
        pos: sid
        for pos, sid in conn.execute(
            select(moves.pos, moves.submission_id).where(moves.pos.in_(list(first)))
        )
    }
    for pos in sorted(first):  # each (current, new) pair judged at its first case
        new, current = first[pos]
        check_transition(ids[pos], current, new, run_id=run_id)
    late = [pos for *_, pos, _ in found if pos is not None]
    if late:
        sid, new, current_at = conn.execute(
            select(moves.submission_id, moves.status, Submission.status_at)
            .select_from(joined)
            .where(moves.pos == min(late))
        ).one()
        raise LifecycleError(
            f"submission {sid}: {new!r} on {when} is before its previous step on {current_at}."
        )
    steps = (
        select(
            moves.submission_id,
            moves.status,
            day,
            literal(run_id, String()),
            literal(None, Text()),
            literal(now, DateTime(timezone=True)),
        )
        .select_from(joined)
        .order_by(moves.pos)
    )
    conn.execute(
        insert(StatusEvent).from_select(
            ["submission_id", "status", "at", "run_id", "note", "recorded_at"], steps
        )
    )
    if _update_from_works(conn):
        # UPDATE ... FROM looks each move's submission up once; the correlated form below
        # runs a sub-select per row and takes three times as long on a 100,000-case run.
        moving = update(Submission).where(Submission.submission_id == moves.submission_id)
        conn.execute(moving.values(status=moves.status, status_at=when))
    else:
        conn.execute(
            update(Submission)
            .where(Submission.submission_id.in_(select(moves.submission_id)))
            .values(
                status=select(moves.status)
                .where(moves.submission_id == Submission.submission_id)
                .scalar_subquery(),
                status_at=when,
            )
        )
    return sum(int(n) for *_, n in found)
