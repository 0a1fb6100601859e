"""Read queries of the registry: counts, the history tables typed like ``read_history``, the
incoming queue, stored submissions, the intake log and status histories.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import pandas as pd
from pandera.pandas import DataFrameModel
from sqlalchemy import func, inspect, select, type_coerce
from sqlalchemy.types import NullType

from triage._gc import gc_paused
from triage.errors import TriageError
from triage.registry._engine import RegistryCore, reachable
from triage.registry._lifecycle import STATUSES, Status
from triage.registry._models import (
    Base,
    Case,
    Communication,
    Individual,
    IntakeFile,
    Meta,
    Outcome,
    Reply,
    StatusEvent,
    Submission,
    Truth,
)
from triage.registry._rows import typed_columns, typed_frame
from triage.schema import (
    QUEUE_COLUMNS,
    Cases,
    Communications,
    ContractError,
    History,
    Outcomes,
    Submissions,
    coerce,
    columns_of,
)
from triage.schema import Queue as QueueContract
from triage.schema import Truth as TruthContract

__all__ = ["INCOMING_ORIGINS", "Queries"]

#: Origins of incoming submissions (the queue file and ``triage ingest``), as opposed to the
#: historical submissions loaded from ``submissions.csv``.
INCOMING_ORIGINS: tuple[str, ...] = ("queue", "intake")


class Queries(RegistryCore):
    """The Registry's read side."""

    @reachable
    def is_empty(self) -> bool:
        """Return True when the registry holds no submissions, communications or cases."""
        names = set(inspect(self.engine).get_table_names())
        with self.engine.connect() as conn:
            for table in (Submission, Communication, Case):
                if table.__tablename__ not in names:
                    continue
                if conn.execute(select(func.count()).select_from(table)).scalar_one():
                    return False
        return True

    @reachable
    def counts(self) -> dict[str, int]:
        """Rows per registry table (for ``triage db status``)."""
        with self.engine.connect() as conn:
            return {
                t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (
                    Submission,
                    Individual,
                    Communication,
                    Case,
                    Reply,
                    Outcome,
                    StatusEvent,
                    Truth,
                )
            }

    @reachable
    def content_digest(self, tables: Sequence[str], *, leave_out: Collection[str] = ()) -> str:
        """SHA-256 (hex) of every row of ``tables``, in primary-key order, without ``leave_out``.

        The driver's own values are hashed (no type conversion), so the same database gives the
        same text, and an edit in place changes the digest even when no count does.
        """
        digest = hashlib.sha256()
        with self.engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for name in tables:
                table = Base.metadata.tables[name]
                columns = [c.name for c in table.columns if c.name not in leave_out]
                order = ", ".join(quote(c.name) for c in table.primary_key.columns)
                listed = ", ".join(quote(c) for c in columns)
                rows = conn.exec_driver_sql(
                    f"SELECT {listed} FROM {quote(name)} ORDER BY {order}"  # the schema's own names
                ).fetchall()
                digest.update(f"{name}:{columns}:{len(rows)}\n".encode())
                digest.update(repr([tuple(r) for r in rows]).encode("utf-8"))
        return digest.hexdigest()

    @reachable
    def status_counts(self) -> dict[str, int]:
        """Submissions per current lifecycle status, in lifecycle order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Submission.status, func.count()).group_by(Submission.status)
            ).all()
        found = {status: n for status, n in rows}
        return {s: found[s] for s in STATUSES if s in found}

    @reachable
    def submission_hashes(self, submission_ids: Sequence[str]) -> dict[str, str | None]:
        """The stored content hash of each registered submission among ``submission_ids``."""
        wanted = set(submission_ids)
        with self.engine.connect() as conn:
            found = conn.execute(select(Submission.submission_id, Submission.content_hash)).all()
        return {sid: digest for sid, digest in found if sid in wanted}

    @reachable
    def submission_records(self, submission_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored columns of each registered submission among ``submission_ids``
        (looked up in batches, so a large file costs no more than its own ids)."""
        columns = [c for c in Submission.__table__.columns if c.name != "id"]
        found: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(submission_ids))
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                for row in conn.execute(
                    select(*columns).where(Submission.submission_id.in_(chunk))
                ).mappings():
                    found[row["submission_id"]] = dict(row)
        return found

    @reachable
    def intake_log(self) -> pd.DataFrame:
        """Every ingested file: file_name, sha256, ingested_at, n_read, n_accepted,
        n_quarantined, n_added, oldest first."""
        cols = (
            "file_name",
            "sha256",
            "ingested_at",
            "n_read",
            "n_accepted",
            "n_quarantined",
            "n_added",
        )
        with self.engine.connect() as conn:
            found = conn.execute(
                select(*[getattr(IntakeFile, c) for c in cols]).order_by(IntakeFile.id)
            ).all()
        return pd.DataFrame([tuple(r) for r in found], columns=list(cols))

    @reachable
    def status_of(self, submission_id: str) -> str | None:
        """Return the current status of a submission, or None if it is not registered."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(Submission.status).where(Submission.submission_id == submission_id)
            ).scalar_one_or_none()

    @reachable
    def status_history(self, submission_id: str | None = None) -> pd.DataFrame:
        """Return lifecycle steps: submission_id, status, at (date), run_id, note, in order."""
        query = select(
            StatusEvent.submission_id,
            StatusEvent.status,
            StatusEvent.at,
            StatusEvent.run_id,
            StatusEvent.note,
        ).order_by(StatusEvent.id)
        if submission_id is not None:
            query = query.where(StatusEvent.submission_id == submission_id)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        return typed_frame(rows, ("submission_id", "status", "at", "run_id", "note"))

    @reachable
    def history(self, *, with_queue: bool = True) -> History:
        """Return the history tables built from the database, typed like ``read_history``.

        ``submissions`` holds the historical submissions (None if none were loaded);
        ``queue`` holds every incoming submission (from queue.csv and from intake), whatever
        its status; ``truth`` is present only for simulated data.

        Parameters
        ----------
        with_queue : bool, default True
            Read the incoming submissions into ``queue``; False leaves it None (a selection
            run reads its candidates with :meth:`queue` and scores them against the past only).
        """
        with gc_paused(), self.engine.connect() as conn:  # see triage._gc

            def rows(table: Any, columns: Sequence[str], *where: Any) -> dict[str, Sequence[Any]]:
                query = select(*_raw(table, columns)).where(*where).order_by(table.id)
                return _columns(conn.execute(query))

            def read(table: Any, model: type[DataFrameModel], *where: Any) -> pd.DataFrame:
                columns = columns_of(model)
                return _contract(typed_columns(rows(table, columns, *where), columns), model)

            meta = {k: v for k, v in conn.execute(select(Meta.key, Meta.value))}
            communications = read(Communication, Communications)
            cases = read(Case, Cases)
            outcomes = read(Outcome, Outcomes)
            simulated = meta.get("simulated") == "true"
            truth = read(Truth, TruthContract) if simulated else None
            submissions = None
            if meta.get("has_submissions") == "true":
                submissions = read(Submission, Submissions, Submission.origin == "history")
            queue_rows = (
                rows(
                    Submission,
                    (*QUEUE_COLUMNS, "submission_id"),
                    Submission.origin.in_(INCOMING_ORIGINS),
                )
                if with_queue
                else {}
            )
        if queue_rows:
            queue_rows["case_id"] = _own_case_ids(queue_rows)
        queue = (
            _contract(typed_columns(queue_rows, QUEUE_COLUMNS), QueueContract)
            if with_queue and (queue_rows.get("case_id") or meta.get("has_queue") == "true")
            else None
        )
        return History(
            communications=communications,
            cases=cases,
            outcomes=outcomes,
            queue=queue,
            truth=truth,
            submissions=submissions,
            simulated=truth is not None,
        )

    @reachable
    def queue(
        self,
        *,
        statuses: Iterable[Status] = ("eligible",),
        with_status: bool = False,
        origins: Iterable[str] = INCOMING_ORIGINS,
    ) -> pd.DataFrame:
        """Return incoming submissions in QUEUE_COLUMNS (+ ``status``), oldest first.

        By default only eligible submissions awaiting a decision. A selection run passes
        ``OPEN_DECISIONS`` (eligible, selected, not selected): a decision may be revised by a
        later run until the communication is sent. Names are included; callers redact.
        ``case_id`` is the submission's id when it has no case id.

        Parameters
        ----------
        statuses : iterable of status, default ("eligible",)
            Lifecycle statuses to include.
        with_status : bool, default False
            Add a ``status`` column (the current lifecycle status).
        origins : iterable of str, default ("queue", "intake")
            Where the submissions came from. Historical submissions (``history``) were decided
            before the registry existed and are never candidates of a new run.
        """
        wanted = list(dict.fromkeys(statuses))
        unknown = [s for s in wanted if s not in STATUSES]
        if unknown:
            raise ValueError(
                f"`statuses` must be lifecycle statuses ({', '.join(STATUSES)}). "
                f"Got {unknown!r} instead."
            )
        query = (
            select(*_raw(Submission, (*QUEUE_COLUMNS, "submission_id", "status")))
            .where(Submission.status.in_(wanted))
            .where(Submission.origin.in_(list(origins)))
            .order_by(Submission.id)
        )
        with gc_paused():  # millions of cells, no cycles: see triage._gc
            with self.engine.connect() as conn:
                found = _columns(conn.execute(query))
            found["case_id"] = _own_case_ids(found)
            frame = _contract(typed_columns(found, QUEUE_COLUMNS), QueueContract)
            if with_status:
                frame["status"] = pd.Series(list(found["status"]), dtype="str")
        return frame


def _raw(table: Any, columns: Sequence[str]) -> list[Any]:
    """``table``'s ``columns`` as the driver returns them (SQLite: dates as text, booleans as
    0/1): :func:`typed_columns` reads either, and SQLAlchemy's conversion of every cell of a
    100,000-case queue would only be undone there."""
    return [type_coerce(getattr(table, c), NullType()).label(c) for c in columns]


def _columns(result: Any) -> dict[str, Sequence[Any]]:
    """A query's rows as columns, ``{name: cells}`` (fetched at once and transposed: a
    fraction of the time and memory of a dict per row on a 100,000-case queue)."""
    keys = list(result.keys())
    rows = result.fetchall()
    if not rows:
        return {k: () for k in keys}
    return dict(zip(keys, zip(*rows, strict=True), strict=True))


def _own_case_ids(found: dict[str, Sequence[Any]]) -> list[Any]:
    """``case_id``, or the submission's id where a submission has no case id."""
    return [c or s for c, s in zip(found["case_id"], found["submission_id"], strict=True)]


def _contract(frame: pd.DataFrame, model: type[DataFrameModel]) -> pd.DataFrame:
    """Check a table read from the database against its contract (``triage.schema``)."""
    try:
        return coerce(frame, model, source=f"the registry's {model.__name__.lower()} table")
    except ContractError as exc:
        raise TriageError(
            f"{exc} The registry holds rows its contract refuses: were they written by "
            "another program? `triage db status` shows the tables."
        ) from exc
