"""The parts of a history load that grow with the folder: submissions, the queue (read in
chunks), individuals and status steps, written chunk by chunk inside the load's transaction.

Memory is bounded by the chunk, not the queue: every new-key check asks the database for the
chunk's keys only (rows added by earlier chunks are visible inside the same transaction), and
rows are dropped once inserted. Ids are assigned in the order the whole-file load used
(historical submissions, then queued ones in file order; individuals by first appearance in
cases, submissions, queue), so the tables are the same row for row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text, update

from triage.registry._models import Individual, StatusEvent, Submission
from triage.registry._rows import bulk_insert, records, step

__all__ = [
    "HISTORICAL_NOTE",
    "QUEUE_CHUNK_ROWS",
    "Individuals",
    "insert_submissions",
    "present",
    "queued_events",
    "queued_rows",
    "watermark",
]

#: Queue rows read, checked and written at a time: about 60 MB of Python rows at most.
QUEUE_CHUNK_ROWS = 50_000
#: Keys per ``IN (...)`` look-up: under SQLite's oldest limit of 999 bound parameters.
_IN_BATCH = 900
HISTORICAL_NOTE = "historical record (loaded from a history folder)"

EventsOf = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def present(conn: Any, column: Any, keys: Iterable[Any], *extra: Any) -> dict[Any, Any]:
    """The rows (``column``, ``*extra``) whose ``column`` is one of ``keys``, by key.

    Only these keys are asked for, in batches, so the answer is as large as ``keys`` and
    never the whole table.
    """
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    found: dict[Any, Any] = {}
    for i in range(0, len(wanted), _IN_BATCH):
        batch = wanted[i : i + _IN_BATCH]
        for row in conn.execute(select(column, *extra).where(column.in_(batch))):
            found[row[0]] = row
    return found


def watermark(conn: Any, table: Any) -> int:
    """The largest ``id`` in ``table`` (0 if empty): rows above it were added by this load."""
    return int(conn.execute(select(func.max(table.id))).scalar() or 0)


def analyze(conn: Any, table: Any) -> None:
    """Refresh PostgreSQL's statistics of ``table`` after a chunk's rows went in.

    The planner otherwise keeps the empty table's estimate for the whole load and answers the
    key look-ups of later chunks (a prepared statement, so a generic plan) with a sequential
    scan each, quadratic in the queue: 100,000 queued took 160 s instead of 20. SQLite always
    uses the unique index.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {table.__tablename__}"))


def insert_submissions(
    conn: Any, rows: list[dict[str, Any]], events_of: EventsOf
) -> tuple[int, int]:
    """Insert the submissions among ``rows`` not yet in the registry, each with its status
    steps (``events_of(new_rows)``) and its current status set to the last step.

    Returns
    -------
    tuple of int
        Rows added, and status steps added.
    """
    known = present(conn, Submission.submission_id, (r["submission_id"] for r in rows))
    new: list[dict[str, Any]] = []
    for r in rows:
        if r["submission_id"] in known:
            continue  # in the registry already, or earlier in these rows
        known[r["submission_id"]] = None
        new.append(r)
    events = events_of(new)
    last: dict[str, dict[str, Any]] = {e["submission_id"]: e for e in events}
    for s in new:
        final = last.get(s["submission_id"])
        if final is None:
            s["status"], s["status_at"] = "received", s["received_date"]
        else:
            s["status"], s["status_at"] = final["status"], final["at"]
    bulk_insert(conn, Submission, new)
    bulk_insert(conn, StatusEvent, events)
    analyze(conn, Submission)
    return len(new), len(events)


def queued_rows(chunk: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """A queue chunk as submission rows: eligible, awaiting a decision."""
    return [
        {**r, "submission_id": r["case_id"], "eligible": True, "origin": "queue"}
        for r in records(chunk, columns)
    ]


def queued_events(now: dt.datetime) -> EventsOf:
    """The lifecycle of queued submissions: received, then eligible (in the queue)."""

    def events(subs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for s in subs:
            sid, received = s["submission_id"], s["received_date"]
            out.append(step(sid, "received", received, now, note=HISTORICAL_NOTE))
            out.append(step(sid, "eligible", received, now, note="in the incoming queue"))
        return out

    return events


class Individuals:
    """Individuals met in a load, inserted by first appearance, chunk by chunk.

    A person's ``gender`` and ``defender_name`` are the first known value over the load (a
    later row fills a blank, never overwrites); a person already in the registry before the
    load is left as it is and counted once as already present.
    """

    _FIELDS = ("gender", "defender_name")

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._before = watermark(conn, Individual)
        # Hashes of people already present before the load and counted as skipped: 8 bytes
        # each, so a second load of a large queue does not hold their ids.
        self._counted = np.empty(0, dtype=np.uint64)
        self.added = 0
        self.skipped = 0

    def add(self, rows: Iterable[Mapping[str, Any]], fields: Sequence[str] = _FIELDS) -> None:
        """Add the people of ``rows``: ``individual_id`` and the ``fields`` (of gender,
        defender_name) the rows are trusted for."""
        people: dict[str, dict[str, Any]] = {}
        for r in rows:
            pid = r.get("individual_id")
            if pid is None:
                continue
            known = people.setdefault(pid, {"individual_id": pid})
            for c in fields:
                if known.get(c) is None and r.get(c) is not None:
                    known[c] = r[c]
        if not people:
            return
        found = present(
            self._conn,
            Individual.individual_id,
            people,
            Individual.id,
            *(getattr(Individual, c) for c in self._FIELDS),
        )
        new = [{"gender": None, "defender_name": None, **p} for pid, p in people.items()]
        new = [p for p in new if p["individual_id"] not in found]
        bulk_insert(self._conn, Individual, new)
        analyze(self._conn, Individual)
        self.added += len(new)
        earlier: list[str] = []
        for pid, row in found.items():
            if row.id > self._before:  # added by this load: fill its blanks
                fill = {
                    c: people[pid][c]
                    for c in self._FIELDS
                    if getattr(row, c) is None and people[pid].get(c) is not None
                }
                if fill:
                    self._conn.execute(
                        update(Individual).where(Individual.individual_id == pid).values(**fill)
                    )
            else:
                earlier.append(pid)
        if earlier:
            hashes = pd.util.hash_pandas_object(pd.Series(earlier), index=False).to_numpy()
            counted = self._counted
            at = np.minimum(np.searchsorted(counted, hashes), max(len(counted) - 1, 0))
            fresh = ~((counted[at] == hashes) if len(counted) else np.zeros(len(hashes), bool))
            self.skipped += int(fresh.sum())
            self._counted = np.sort(np.concatenate([counted, hashes[fresh]]))
