"""Loading a history folder (``triage generate`` output) into the registry, with the
lifecycle of every historical submission reconstructed from its case's records.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from sqlalchemy.exc import SQLAlchemyError

from triage.errors import InputFileError, TriageError
from triage.registry._engine import ProgressCallback, RegistryCore
from triage.registry._load_rows import (
    HISTORICAL_NOTE,
    QUEUE_CHUNK_ROWS,
    EventsOf,
    Individuals,
    insert_submissions,
    queued_events,
    queued_rows,
)
from triage.registry._models import Case, Outcome, Truth
from triage.registry._rows import insert_new, records, set_meta, step, store_communications
from triage.schema import (
    CASES_COLUMNS,
    COMMUNICATIONS_COLUMNS,
    HISTORY_FILES,
    OUTCOMES_COLUMNS,
    QUEUE_COLUMNS,
    SUBMISSIONS_COLUMNS,
    TRUTH_COLUMNS,
    History,
    Queue,
    Submissions,
    read_chunks,
    read_history,
)

__all__ = ["MAX_WHOLE_FILE_BYTES", "LoadSummary", "Loading"]

#: Files streamed in chunks (``read_chunks``): they grow with the intake, without bound.
_STREAMED = frozenset({"submissions", "queue"})
#: What each streamed file says about a person (as when the files were read whole).
_PEOPLE_FIELDS = {"submissions": ("gender",), "queue": ("gender", "defender_name")}
#: Largest history file read whole (cases, communications, outcomes, truth): 16 MB is about
#: 130,000 cases, ten times the mandate's whole history (a 14.5 MB cases.csv of 120,860
#: cases loads at a 0.43 GiB peak); beyond it the load is refused before reading, as memory
#: would grow with the file.
MAX_WHOLE_FILE_BYTES = 16 * 2**20

#: An outcome is observed one year after the communication (the history contract).
_OUTCOME_DELAY = dt.timedelta(days=365)
#: Historical decisions have no selection run: the note says so rather than a made-up run id.
_HISTORICAL_DECISION = "historical decision, made before the registry (no selection run)"


@dataclass(frozen=True)
class LoadSummary:
    """What one ``load_history`` call added, per table, and what was already there."""

    added: Mapping[str, int]
    skipped: Mapping[str, int]
    seconds: float
    simulated: bool

    @property
    def total_added(self) -> int:
        """Rows added over all tables."""
        return sum(self.added.values())

    def __str__(self) -> str:
        parts = [f"{n} {table}" for table, n in self.added.items()]
        skipped = sum(self.skipped.values())
        label = " (SIMULATED data)" if self.simulated else ""
        return (
            f"added {', '.join(parts)}; {skipped} rows already present; {self.seconds:.1f} s{label}"
        )


class Loading(RegistryCore):
    """The Registry's history loader."""

    def load_history(
        self,
        directory: str | Path,
        *,
        on_progress: ProgressCallback | None = None,
        chunk_rows: int = QUEUE_CHUNK_ROWS,
    ) -> LoadSummary:
        """Load a history folder (``triage generate`` output) into the registry.

        Rows whose natural key (communication_id, case_id, submission_id) is already present
        are skipped, so loading the same folder twice adds nothing. Every submission gets its
        status history: received, eligible or ineligible, selected or not selected, and for
        cases the communication, the reply and the outcome.

        Parameters
        ----------
        directory : str or Path
            The history folder (see ``triage.schema.read_history``).
        on_progress : callable, optional
            ``on_progress(done, total, what)`` after each table.
        chunk_rows : int, default QUEUE_CHUNK_ROWS
            Queue rows read and written at a time. ``queue.csv`` is streamed, so memory does
            not grow with the queue; the other files are read whole and refused up front
            when larger than ``MAX_WHOLE_FILE_BYTES``. Everything is one transaction: a load
            that fails or is killed part-way adds nothing.

        Returns
        -------
        LoadSummary
            Rows added and skipped per table.
        """
        start = time.perf_counter()
        steps = 9
        report = on_progress or (lambda done, total, what: None)
        report(0, steps, "reading files")
        _check_sizes(Path(directory))
        try:
            history = read_history(directory, skip=_STREAMED)
        except TriageError:
            raise
        except Exception as exc:  # a bad date or number in a history file: one clear line
            raise _unreadable(directory, exc) from exc
        _check_links(Path(directory), history)
        added: dict[str, int] = {}
        skipped: dict[str, int] = {}
        now = self._clock()
        try:
            with self.engine.begin() as conn:
                report(1, steps, "communications")
                comm_rows = records(history.communications, COMMUNICATIONS_COLUMNS)
                new_comms = store_communications(conn, comm_rows, source="history")
                added["communications"] = len(new_comms)
                skipped["communications"] = len(comm_rows) - len(new_comms)
                added["replies"] = sum(
                    1
                    for r in new_comms
                    if r.get("reply_date") is not None or r.get("reply_class") not in (None, "none")
                )
                report(3, steps, "cases")
                insert_new(
                    conn,
                    Case,
                    "case_id",
                    records(history.cases, CASES_COLUMNS),
                    added,
                    skipped,
                )
                report(4, steps, "outcomes")
                sent = {
                    r["case_id"]: r["sent_date"]
                    for r in records(history.cases, ("case_id", "sent_date"))
                }
                outcome_rows = records(history.outcomes, OUTCOMES_COLUMNS)
                for r in outcome_rows:
                    when = sent.get(r["case_id"])
                    r["outcome_date"] = when + _OUTCOME_DELAY if when else None
                insert_new(conn, Outcome, "case_id", outcome_rows, added, skipped)
                report(5, steps, "simulation truth")
                if history.truth is not None:
                    insert_new(
                        conn,
                        Truth,
                        "case_id",
                        records(history.truth, TRUTH_COLUMNS),
                        added,
                        skipped,
                    )
                    set_meta(conn, "simulated", "true")
                report(6, steps, "submissions")
                for label in ("submissions", "queue", "individuals"):
                    added[label] = skipped[label] = 0  # the summary lists tables in this order
                people = Individuals(conn)
                # First appearance orders the people: cases, then submissions, then the queue.
                people.add(records(history.cases, ("individual_id", "gender")))
                status_steps = 0
                streams = (
                    ("submissions", Submissions, "submission_id", 6, "submissions"),
                    ("queue", Queue, "case_id", 8, "queue"),
                )
                events_of = {
                    "submissions": _historical_events(history, now),
                    "queue": queued_events(now),
                }
                for name, model, key, done, label in streams:
                    path = Path(directory) / f"{name}.csv"
                    if not path.exists():
                        continue
                    report(done, steps, label)
                    set_meta(conn, f"has_{name}", "true")
                    for chunk in _chunks_of(path, model, key, chunk_rows):
                        rows = _rows_of(name, chunk)
                        n, n_steps = insert_submissions(conn, rows, events_of[name])
                        added[label] += n
                        skipped[label] += len(rows) - n
                        status_steps += n_steps
                        # The history's submissions give a person's gender, not a name.
                        people.add(rows, _PEOPLE_FIELDS[name])
                        del rows, chunk  # the next chunk replaces them, not adds to them
                added["individuals"], skipped["individuals"] = people.added, people.skipped
                added["status_history"] = status_steps
        except SQLAlchemyError as exc:
            raise TriageError(
                f"cannot load {directory} into the registry {self!r}: {exc}. "
                "Run `triage db init` first if the tables do not exist."
            ) from exc
        report(steps, steps, "done")
        return LoadSummary(
            added=added,
            skipped=skipped,
            seconds=time.perf_counter() - start,
            simulated=history.truth is not None,
        )


def _check_sizes(directory: Path) -> None:
    """Refuse, before reading anything, a history file too large to be read whole."""
    if not directory.is_dir():
        return  # read_history says so
    for path in sorted(directory.glob("*.csv")):
        if path.stem in _STREAMED or path.stem not in HISTORY_FILES:
            continue
        size = path.stat().st_size
        if size > MAX_WHOLE_FILE_BYTES:
            raise InputFileError(
                f"{path}: {size:,} bytes; a history file other than submissions.csv and "
                f"queue.csv is read whole and may have at most {MAX_WHOLE_FILE_BYTES:,} bytes. "
                "Split the history into folders and load each."
            )


def _rows_of(name: str, chunk: pd.DataFrame) -> list[dict[str, Any]]:
    """A chunk of ``submissions.csv`` or ``queue.csv`` as submission rows."""
    if name == "queue":
        return queued_rows(chunk, QUEUE_COLUMNS)
    return [{**r, "origin": "history"} for r in records(chunk, SUBMISSIONS_COLUMNS)]


def _chunks_of(
    path: Path, model: type[pa.DataFrameModel], key: str, rows: int
) -> Iterator[pd.DataFrame]:
    """A streamed history file in typed chunks; a fault is one clear line, as when it was
    read whole."""
    chunks = read_chunks(path, model, key, rows)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except TriageError:
            raise
        except Exception as exc:  # a bad date or number: one clear line
            raise _unreadable(path.parent, exc) from exc
        yield chunk


def _unreadable(directory: str | Path, exc: Exception) -> InputFileError:
    """The one line for a history file that pandas or the contract could not read."""
    return InputFileError(
        f"{directory}: a history file cannot be read ({type(exc).__name__}: {exc}). "
        "Check it with `triage ingest FILE --dry-run`, which names the row."
    )


def _check_links(directory: Path, history: History) -> None:
    """Refuse a history whose cases point at communications it does not have."""
    known = set(history.communications["communication_id"].dropna())
    linked = history.cases["communication_id"].dropna()
    orphans = sorted(set(linked) - known)
    if orphans:
        shown = ", ".join(orphans[:5]) + (" ..." if len(orphans) > 5 else "")
        raise InputFileError(
            f"{directory / 'cases.csv'}: {len(orphans)} communication id(s) are not in "
            f"communications.csv: {shown}."
        )


def _historical_events(history: History, now: dt.datetime) -> EventsOf:
    """The lifecycle of historical submissions, reconstructed from their case's records."""
    case_comm = {
        r["case_id"]: r["communication_id"]
        for r in records(history.cases, ("case_id", "communication_id"))
    }
    comms = {
        r["communication_id"]: r
        for r in records(history.communications, ("communication_id", "sent_date", "reply_date"))
    }
    with_outcome = set(history.outcomes["case_id"].dropna())
    return lambda subs: _lifecycles(subs, case_comm, comms, with_outcome, now)


def _lifecycles(
    subs: list[dict[str, Any]],
    case_comm: Mapping[Any, Any],
    comms: Mapping[Any, dict[str, Any]],
    with_outcome: set[Any],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for s in subs:
        sid, received = s["submission_id"], s["received_date"]
        events.append(step(sid, "received", received, now, note=HISTORICAL_NOTE))
        if s.get("origin") == "queue":
            events.append(step(sid, "eligible", received, now, note="in the incoming queue"))
            continue
        if s.get("eligible") is None:
            continue
        if not s["eligible"]:
            events.append(step(sid, "ineligible", received, now, note=HISTORICAL_NOTE))
            continue
        events.append(step(sid, "eligible", received, now, note=HISTORICAL_NOTE))
        case_id = s.get("case_id")
        comm = comms.get(case_comm.get(case_id)) if case_id else None
        if comm is None:
            events.append(
                step(
                    sid, "not_selected", received, now, note=_HISTORICAL_DECISION + "; not taken up"
                )
            )
            continue
        # Steps never go back in time, even where a record's dates disagree.
        known = [d for d in (comm["sent_date"], received) if d is not None]
        sent = max(known) if known else None
        events.append(step(sid, "selected", sent, now, note=_HISTORICAL_DECISION))
        events.append(step(sid, "communication_sent", sent, now, note=HISTORICAL_NOTE))
        reply = comm["reply_date"]
        if reply is not None:
            reply = max(reply, sent) if sent is not None else reply
            events.append(step(sid, "reply_received", reply, now, note=HISTORICAL_NOTE))
        if case_id in with_outcome and sent is not None:
            last = reply or sent
            events.append(
                step(
                    sid,
                    "outcome_recorded",
                    max(sent + _OUTCOME_DELAY, last),
                    now,
                    note=HISTORICAL_NOTE,
                )
            )
    return events
