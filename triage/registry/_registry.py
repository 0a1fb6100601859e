"""The Registry facade: one object that opens the database, loads a history and answers queries.

SQLite by default (``var/triage.db``), any SQLAlchemy URL through ``TRIAGE_DB_URL`` (PostgreSQL:
``postgresql+psycopg://user@host:port/db``). Bulk loads use Core ``insert`` with executemany,
never ORM objects, so the full simulated history loads in seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from triage.config import db_url, mask_secrets, mask_url
from triage.errors import InputFileError, TriageError
from triage.registry._lifecycle import STATUSES, LifecycleError, Status, check_transition
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
from triage.schema import (
    CASES_COLUMNS,
    COMMUNICATIONS_COLUMNS,
    OUTCOMES_COLUMNS,
    QUEUE_COLUMNS,
    SUBMISSIONS_COLUMNS,
    TRUTH_COLUMNS,
    History,
    read_history,
)

__all__ = ["LoadSummary", "Registry", "StatusChange", "typed_frame"]

ProgressCallback = Callable[[int, int, str], None]

#: Origins of incoming submissions (the queue file and ``triage ingest``), as opposed to the
#: historical submissions loaded from ``submissions.csv``.
INCOMING_ORIGINS: tuple[str, ...] = ("queue", "intake")

_DATE_COLUMNS = frozenset(
    {"sent_date", "last_incident_date", "reply_date", "received_date", "outcome_date", "at"}
)
_BOOL_COLUMNS = frozenset({"protester", "eligible"})
_INT_COLUMNS = frozenset({"n_mandates", "n_individuals"})
_FLOAT_COLUMNS = frozenset({"p_improve"})

#: An outcome is observed one year after the communication (the history contract).
_OUTCOME_DELAY = dt.timedelta(days=365)
_HISTORICAL_NOTE = "historical record (loaded from a history folder)"
#: Historical decisions have no selection run: the note says so rather than a made-up run id.
_HISTORICAL_DECISION = "historical decision, made before the registry (no selection run)"
#: ``source`` of a communication known only from a case; a later full record replaces it.
_STUB = "stub"


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


def typed_frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Build a frame typed like ``read_history``: dates ``datetime64``, booleans ``boolean``,
    counts ``Int64``, ``p_improve`` float, everything else text (blank → NaN).
    """
    rows = list(rows)
    data: dict[str, Any] = {}
    for col in columns:
        values = [row.get(col) for row in rows]
        if col in _DATE_COLUMNS:
            text = pd.Series([None if v is None else str(v)[:10] for v in values], dtype="str")
            data[col] = pd.to_datetime(text, format="%Y-%m-%d", errors="raise")
        elif col in _BOOL_COLUMNS:
            data[col] = pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
        elif col in _INT_COLUMNS:
            data[col] = pd.array([None if v is None else int(v) for v in values], dtype="Int64")
        elif col in _FLOAT_COLUMNS:
            data[col] = pd.array(
                [float("nan") if v is None else float(v) for v in values], dtype=float
            )
        else:
            data[col] = pd.Series([None if v is None else str(v) for v in values], dtype="str")
    return pd.DataFrame(data, columns=list(columns))


_PLAIN = (str, int, bool, float, dt.date)


def _db_value(value: Any) -> Any:
    """Turn one pandas cell into what the database driver expects (NaN/NA → None)."""
    if value is None:
        return None
    if type(value) in _PLAIN:
        return None if value != value else value  # NaN is the only value unequal to itself
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The frame's rows as dicts of plain Python values (dates as ``date``, NA as None)."""
    cols = [c for c in columns if c in frame.columns]
    lists: list[list[Any]] = []
    for c in cols:
        series = frame[c]
        if pd.api.types.is_datetime64_any_dtype(series):
            values = [None if v is pd.NaT else v.date() for v in series.tolist()]
        else:
            values = series.astype(object).where(series.notna(), None).tolist()
        lists.append(values)
    return [dict(zip(cols, row, strict=True)) for row in zip(*lists, strict=True)]


def _as_date(value: Any) -> dt.date | None:
    value = _db_value(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


_F = TypeVar("_F", bound=Callable[..., Any])


def _reachable(method: _F) -> _F:
    """Turn a database that cannot be reached, or tables that do not exist yet, into one clear
    TriageError instead of a driver traceback."""

    @functools.wraps(method)
    def wrapper(self: Registry, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            detail = mask_secrets(
                _one_line(str(getattr(exc, "orig", exc))), self.engine.url.password or ""
            )
            hint = (
                " Run `triage db init` first."
                if "no such table" in detail or "does not exist" in detail
                else " Check TRIAGE_DB_URL and that the database server is running."
            )
            raise TriageError(f"the registry {self!r} cannot be used: {detail}.{hint}") from exc

    return wrapper  # type: ignore[return-value]


class Registry:
    """The case registry: submissions, individuals, communications, cases, replies, outcomes
    and the status history of every submission.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL. Default ``triage.config.db_url()`` (``TRIAGE_DB_URL`` or the SQLite
        file ``var/triage.db``).
    clock : callable, optional
        Returns the current UTC time; injectable for tests. Default ``datetime.now(UTC)``.

    Attributes
    ----------
    url : str
        The database URL in use.
    engine : sqlalchemy.Engine
        The engine; ``session()`` opens ORM sessions on it.
    """

    def __init__(
        self, url: str | None = None, *, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        if url is not None and not isinstance(url, str):
            raise ValueError(f"`url` must be a SQLAlchemy URL string. Got {url!r} instead.")
        self.url = url or db_url()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.engine: Engine = _make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Registry({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- set-up ---------------------------------------------------------------------------

    def session(self) -> Session:
        """Open an ORM session (use as a context manager; commit explicitly)."""
        return self._sessions()

    @_reachable
    def init(self) -> Registry:
        """Create every table of every imported module (registry, audit, ...) if missing."""
        try:
            importlib.import_module("triage.audit")
        except ModuleNotFoundError as exc:  # audit not built yet: its tables come later
            if exc.name not in ("triage.audit",):
                raise
        Base.metadata.create_all(self.engine)
        return self

    @_reachable
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

    @_reachable
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

    @_reachable
    def status_counts(self) -> dict[str, int]:
        """Submissions per current lifecycle status, in lifecycle order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Submission.status, func.count()).group_by(Submission.status)
            ).all()
        found = {status: n for status, n in rows}
        return {s: found[s] for s in STATUSES if s in found}

    # -- loading --------------------------------------------------------------------------

    def load_history(
        self, directory: str | Path, *, on_progress: ProgressCallback | None = None
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

        Returns
        -------
        LoadSummary
            Rows added and skipped per table.
        """
        start = time.perf_counter()
        steps = 9
        report = on_progress or (lambda done, total, what: None)
        report(0, steps, "reading files")
        try:
            history = read_history(directory)
        except TriageError:
            raise
        except Exception as exc:  # a bad date or number in a history file: one clear line
            raise InputFileError(
                f"{directory}: a history file cannot be read ({type(exc).__name__}: {exc}). "
                "Check it with `triage ingest FILE --dry-run`, which names the row."
            ) from exc
        _check_links(Path(directory), history)
        added: dict[str, int] = {}
        skipped: dict[str, int] = {}
        now = self._clock()
        try:
            with self.engine.begin() as conn:
                report(1, steps, "communications")
                comm_rows = _records(history.communications, COMMUNICATIONS_COLUMNS)
                new_comms = _store_communications(conn, comm_rows, source="history")
                added["communications"] = len(new_comms)
                skipped["communications"] = len(comm_rows) - len(new_comms)
                added["replies"] = sum(
                    1
                    for r in new_comms
                    if r.get("reply_date") is not None or r.get("reply_class") not in (None, "none")
                )
                report(3, steps, "cases")
                self._insert_new(
                    conn,
                    Case,
                    "case_id",
                    _records(history.cases, CASES_COLUMNS),
                    added,
                    skipped,
                )
                report(4, steps, "outcomes")
                sent = {
                    r["case_id"]: r["sent_date"]
                    for r in _records(history.cases, ("case_id", "sent_date"))
                }
                outcome_rows = _records(history.outcomes, OUTCOMES_COLUMNS)
                for r in outcome_rows:
                    when = sent.get(r["case_id"])
                    r["outcome_date"] = when + _OUTCOME_DELAY if when else None
                self._insert_new(conn, Outcome, "case_id", outcome_rows, added, skipped)
                report(5, steps, "simulation truth")
                if history.truth is not None:
                    self._insert_new(
                        conn,
                        Truth,
                        "case_id",
                        _records(history.truth, TRUTH_COLUMNS),
                        added,
                        skipped,
                    )
                    self._set_meta(conn, "simulated", "true")
                report(6, steps, "submissions")
                sub_rows: list[dict[str, Any]] = []
                if history.submissions is not None:
                    sub_rows += [
                        {**r, "origin": "history"}
                        for r in _records(history.submissions, SUBMISSIONS_COLUMNS)
                    ]
                if history.queue is not None:
                    sub_rows += [
                        {**r, "submission_id": r["case_id"], "eligible": True, "origin": "queue"}
                        for r in _records(history.queue, QUEUE_COLUMNS)
                    ]
                new_subs = self._new_rows(conn, Submission, "submission_id", sub_rows)
                events = _historical_events(new_subs, history, now)
                for r in new_subs:
                    r["status"], r["status_at"] = "received", r["received_date"]
                _apply_last_status(new_subs, events)
                for origin, label in (("history", "submissions"), ("queue", "queue")):
                    mine = [r for r in new_subs if r["origin"] == origin]
                    given = sum(1 for r in sub_rows if r["origin"] == origin)
                    added[label], skipped[label] = len(mine), given - len(mine)
                if new_subs:
                    _bulk_insert(conn, Submission, new_subs)
                if history.submissions is not None:
                    self._set_meta(conn, "has_submissions", "true")
                if history.queue is not None:
                    self._set_meta(conn, "has_queue", "true")
                report(7, steps, "individuals")
                self._insert_individuals(conn, history, added, skipped)
                report(8, steps, "status history")
                if events:
                    _bulk_insert(conn, StatusEvent, events)
                added["status_history"] = len(events)
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

    @staticmethod
    def _insert_new(
        conn: Any,
        table: type[Base],
        key: str,
        rows: list[dict[str, Any]],
        added: dict[str, int],
        skipped: dict[str, int],
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        name = table.__tablename__  # type: ignore[attr-defined]
        new = [{**r, **(extra or {})} for r in Registry._new_rows(conn, table, key, rows)]
        if new:
            _bulk_insert(conn, table, new)
        added[name] = added.get(name, 0) + len(new)
        skipped[name] = skipped.get(name, 0) + len(rows) - len(new)
        return new

    @staticmethod
    def _new_rows(
        conn: Any, table: type[Base], key: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The rows whose key is not in the table yet (a key repeated in ``rows`` counts once)."""
        existing = set(conn.execute(select(getattr(table, key))).scalars())
        new: list[dict[str, Any]] = []
        for r in rows:
            if r[key] in existing:
                continue
            existing.add(r[key])
            new.append(r)
        return new

    @staticmethod
    def _set_meta(conn: Any, key: str, value: str) -> None:
        if conn.execute(select(Meta.value).where(Meta.key == key)).first() is None:
            conn.execute(insert(Meta), [{"key": key, "value": value}])
        else:
            conn.execute(update(Meta).where(Meta.key == key).values(value=value))

    @staticmethod
    def _insert_individuals(
        conn: Any, history: History, added: dict[str, int], skipped: dict[str, int]
    ) -> None:
        people: dict[str, dict[str, Any]] = {}
        sources: list[tuple[pd.DataFrame | None, tuple[str, ...]]] = [
            (history.cases, ("individual_id", "gender")),
            (history.submissions, ("individual_id", "gender")),
            (history.queue, ("individual_id", "gender", "defender_name")),
        ]
        for frame, cols in sources:
            if frame is None:
                continue
            for r in _records(frame, cols):
                pid = r["individual_id"]
                if pid is None:
                    continue
                known = people.setdefault(pid, {"individual_id": pid})
                for c in cols[1:]:
                    if known.get(c) is None and r.get(c) is not None:
                        known[c] = r[c]
        rows = [{"gender": None, "defender_name": None, **p} for p in people.values()]
        Registry._insert_new(conn, Individual, "individual_id", rows, added, skipped)

    @_reachable
    def add_submissions(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        origin: str = "intake",
        source_file: str | None = None,
        note: str | None = None,
        intake: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Register new submissions and their first lifecycle steps; return the ids added.

        Each gets ``received``; then ``eligible``/``ineligible`` when ``eligible`` is given; a
        row that also carries ``sent_date`` (and ``reply_date``) was decided before it reached
        the registry, so it gets ``selected``,
        ``communication_sent`` and ``reply_received`` (no run: the note says it was decided
        before the registry); a row whose ``case_id`` differs from its ``submission_id`` already
        became a case, so it is ``selected`` too. Rows whose ``submission_id`` (or
        ``content_hash``) is already present are skipped, so adding twice adds nothing.
        """
        now = self._clock()
        columns = {c.name for c in Submission.__table__.columns} - {"id"}
        decided = f"decided before the registry; imported from {source_file or origin}"
        with self.engine.begin() as conn:
            ids = set(conn.execute(select(Submission.submission_id)).scalars())
            hashes = set(conn.execute(select(Submission.content_hash)).scalars()) - {None}
            new: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for raw in rows:
                r = {k: _db_value(v) for k, v in raw.items() if k in columns}
                sid, digest = r.get("submission_id"), r.get("content_hash")
                if not sid:
                    raise ValueError("`rows` must each have a submission_id. Got a blank one.")
                if sid in ids or (digest and digest in hashes):
                    continue
                ids.add(sid)
                if digest:
                    hashes.add(digest)
                received = _as_date(r.get("received_date")) or now.date()
                steps = [_event(sid, "received", received, now, note=note)]
                if r.get("eligible") is not None:
                    status = "eligible" if r["eligible"] else "ineligible"
                    steps.append(_event(sid, status, received, now, note=note))
                sent, reply = _as_date(raw.get("sent_date")), _as_date(raw.get("reply_date"))
                became_case = r.get("case_id") not in (None, sid)
                if r.get("eligible") and sent is None and became_case:
                    steps.append(
                        _event(
                            sid,
                            "selected",
                            received,
                            now,
                            note=f"{decided}; became case {r['case_id']}",
                        )
                    )
                if r.get("eligible") and sent is not None:
                    steps.append(_event(sid, "selected", max(sent, received), now, note=decided))
                    sent = max(sent, received)
                    steps.append(_event(sid, "communication_sent", sent, now, note=note))
                    if reply is not None:
                        steps.append(
                            _event(sid, "reply_received", max(reply, sent), now, note=note)
                        )
                events.extend(steps)
                r.update(
                    origin=origin,
                    source_file=source_file,
                    status=steps[-1]["status"],
                    status_at=steps[-1]["at"],
                )
                new.append(r)
            if new:
                _bulk_insert(conn, Submission, new)
                _bulk_insert(conn, StatusEvent, events)
                people = {
                    r["individual_id"]: {
                        "individual_id": r["individual_id"],
                        "gender": r.get("gender"),
                        "defender_name": r.get("defender_name"),
                    }
                    for r in new
                    if r.get("individual_id")
                }
                self._insert_new(conn, Individual, "individual_id", list(people.values()), {}, {})
            _log_intake(conn, intake, len(new), self._clock())
        return [r["submission_id"] for r in new]

    @_reachable
    def submission_hashes(self, submission_ids: Sequence[str]) -> dict[str, str | None]:
        """The stored content hash of each registered submission among ``submission_ids``."""
        wanted = set(submission_ids)
        with self.engine.connect() as conn:
            found = conn.execute(select(Submission.submission_id, Submission.content_hash)).all()
        return {sid: digest for sid, digest in found if sid in wanted}

    @_reachable
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

    @_reachable
    def add_communications(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        source: str = "intake",
        intake: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Register communications (e.g. from an OHCHR export) not yet present; return their ids.

        A non-blank ``reply_date`` or a ``reply_class`` other than ``none`` also adds a
        :class:`Reply`; a row may list several reply dates in ``reply_dates`` (one reply each).
        """
        with self.engine.begin() as conn:
            new = _store_communications(conn, rows, source=source)
            _log_intake(conn, intake, len(new), self._clock())
        return [r["communication_id"] for r in new]

    @_reachable
    def add_cases(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        source: str = "intake",
        intake: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Register cases not yet present (by ``case_id``); return their ids.

        A case whose communication is not in the registry gets a minimal communication row
        (id, sent date, country) so that the case keeps its link.
        """
        columns = {c.name for c in Case.__table__.columns} - {"id"}
        with self.engine.begin() as conn:
            clean = [{k: _db_value(v) for k, v in r.items() if k in columns} for r in rows]
            new = self._new_rows(conn, Case, "case_id", clean)
            known = set(conn.execute(select(Communication.communication_id)).scalars())
            stubs: dict[str, dict[str, Any]] = {}
            for r in new:
                cid = r.get("communication_id")
                if cid and cid not in known and cid not in stubs:
                    stubs[cid] = {
                        "communication_id": cid,
                        "sent_date": r.get("sent_date"),
                        "country": r.get("country"),
                        "source": _STUB,
                    }
            _bulk_insert(conn, Communication, list(stubs.values()))
            _bulk_insert(conn, Case, new)
            people = {
                r["individual_id"]: {"individual_id": r["individual_id"], "gender": r.get("gender")}
                for r in new
                if r.get("individual_id")
            }
            self._insert_new(conn, Individual, "individual_id", list(people.values()), {}, {})
            _log_intake(conn, intake, len(new), self._clock())
        return [r["case_id"] for r in new]

    @_reachable
    def record_intake(
        self,
        *,
        file_name: str,
        sha256: str,
        read: int,
        accepted: int,
        quarantined: int,
        added: int,
    ) -> None:
        """Remember one ingested file: its name, hash and reconciled counts (no content)."""
        with self.engine.begin() as conn:
            _bulk_insert(
                conn,
                IntakeFile,
                [
                    {
                        "file_name": file_name,
                        "sha256": sha256,
                        "ingested_at": self._clock(),
                        "n_read": read,
                        "n_accepted": accepted,
                        "n_quarantined": quarantined,
                        "n_added": added,
                    }
                ],
            )

    @_reachable
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

    # -- lifecycle ------------------------------------------------------------------------

    @_reachable
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
        with _within(self.engine, conn) as conn:
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
                insert(StatusEvent), [_event(submission_id, status, when, now, run_id, note)]
            )
            conn.execute(
                update(Submission)
                .where(Submission.submission_id == submission_id)
                .values(status=status, status_at=when)
            )
        return StatusChange(submission_id, previous, status, when, run_id, note, now)

    @_reachable
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
        with _within(self.engine, conn) as conn:
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
                    events.append(_event(sid, new, when, now, run_id))
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

    @_reachable
    def status_of(self, submission_id: str) -> str | None:
        """Return the current status of a submission, or None if it is not registered."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(Submission.status).where(Submission.submission_id == submission_id)
            ).scalar_one_or_none()

    @_reachable
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

    # -- reading --------------------------------------------------------------------------

    @_reachable
    def history(self) -> History:
        """Return the history tables built from the database, typed like ``read_history``.

        ``submissions`` holds the historical submissions (None if none were loaded);
        ``queue`` holds every incoming submission (from queue.csv and from intake), whatever
        its status; ``truth`` is present only for simulated data.
        """
        with self.engine.connect() as conn:

            def rows(
                table: type[Base], columns: Sequence[str], *where: Any
            ) -> list[dict[str, Any]]:
                cols = [getattr(table, c) for c in columns]
                query = select(*cols).where(*where).order_by(table.id)  # type: ignore[attr-defined]
                return [dict(r._mapping) for r in conn.execute(query)]

            meta = {k: v for k, v in conn.execute(select(Meta.key, Meta.value))}
            communications = typed_frame(
                rows(Communication, COMMUNICATIONS_COLUMNS), COMMUNICATIONS_COLUMNS
            )
            cases = typed_frame(rows(Case, CASES_COLUMNS), CASES_COLUMNS)
            outcomes = typed_frame(rows(Outcome, OUTCOMES_COLUMNS), OUTCOMES_COLUMNS)
            truth = (
                typed_frame(rows(Truth, TRUTH_COLUMNS), TRUTH_COLUMNS)
                if meta.get("simulated") == "true"
                else None
            )
            submissions = None
            if meta.get("has_submissions") == "true":
                submissions = typed_frame(
                    rows(Submission, SUBMISSIONS_COLUMNS, Submission.origin == "history"),
                    SUBMISSIONS_COLUMNS,
                )
            queue_rows = rows(
                Submission,
                (*QUEUE_COLUMNS, "submission_id"),
                Submission.origin.in_(INCOMING_ORIGINS),
            )
        for r in queue_rows:
            r["case_id"] = r["case_id"] or r["submission_id"]
        queue = (
            typed_frame(queue_rows, QUEUE_COLUMNS)
            if queue_rows or meta.get("has_queue") == "true"
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

    @_reachable
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
            select(*[getattr(Submission, c) for c in (*QUEUE_COLUMNS, "submission_id", "status")])
            .where(Submission.status.in_(wanted))
            .where(Submission.origin.in_(list(origins)))
            .order_by(Submission.id)
        )
        with self.engine.connect() as conn:
            found = [dict(r._mapping) for r in conn.execute(query)]
        for r in found:
            r["case_id"] = r["case_id"] or r["submission_id"]
        frame = typed_frame(found, QUEUE_COLUMNS)
        if with_status:
            frame["status"] = pd.Series([r["status"] for r in found], dtype="str")
        return frame

    def dispose(self) -> None:
        """Close every pooled connection (tests and short-lived commands)."""
        self.engine.dispose()


def _log_intake(conn: Any, intake: Mapping[str, Any] | None, added: int, at: Any) -> None:
    """Record an ingested file in the same transaction as its rows: a process killed after
    the commit leaves both, one killed before leaves neither, so the log always tells what
    was added and by which file."""
    if intake is None:
        return
    _bulk_insert(
        conn,
        IntakeFile,
        [
            {
                "file_name": intake["file_name"],
                "sha256": intake["sha256"],
                "ingested_at": at,
                "n_read": intake["read"],
                "n_accepted": intake["accepted"],
                "n_quarantined": intake["quarantined"],
                "n_added": added,
            }
        ],
    )


def _store_communications(
    conn: Any, rows: Sequence[Mapping[str, Any]], *, source: str
) -> list[dict[str, Any]]:
    """Insert communications not yet present, complete minimal ones (known only from a case),
    and record their replies; return the rows inserted or completed."""
    columns = {c.name for c in Communication.__table__.columns} - {"id"}
    clean = [
        {**{k: _db_value(v) for k, v in r.items() if k in columns}, "source": source} for r in rows
    ]
    stubs = set(
        conn.execute(
            select(Communication.communication_id).where(Communication.source == _STUB)
        ).scalars()
    )
    upgrades: list[dict[str, Any]] = []
    for r in clean:
        if r.get("communication_id") in stubs:
            conn.execute(
                update(Communication)
                .where(Communication.communication_id == r["communication_id"])
                .values(**{k: v for k, v in r.items() if k != "communication_id"})
            )
            stubs.discard(r["communication_id"])
            upgrades.append(r)
    new = upgrades + Registry._insert_new(conn, Communication, "communication_id", clean, {}, {})
    dated = {str(r["communication_id"]): r.get("reply_dates") for r in rows}
    replies: list[dict[str, Any]] = []
    for r in new:
        cid, reply_class = r["communication_id"], r.get("reply_class")
        listed = dated.get(cid) or []
        if listed:
            # Every dated reply is a row; the class is the communication's.
            replies += [
                {"communication_id": cid, "reply_date": d, "reply_class": reply_class}
                for d in listed
            ]
        elif r.get("reply_date") is not None or reply_class not in (None, "none"):
            replies.append(
                {
                    "communication_id": cid,
                    "reply_date": r.get("reply_date"),
                    "reply_class": reply_class,
                }
            )
    _bulk_insert(conn, Reply, replies)
    return new


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


def _bulk_insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one executemany. Every row gets every key, because an executemany
    takes its columns from the first row and would silently drop the others' extra keys."""
    if not rows:
        return
    keys: dict[str, None] = dict.fromkeys(rows[0])
    if any(len(r) != len(keys) or r.keys() != keys.keys() for r in rows):
        for r in rows:
            keys.update(dict.fromkeys(r))
        rows = [{k: r.get(k) for k in keys} for r in rows]
    conn.execute(insert(table), rows)


def _owner_only(database: str | None) -> None:
    """The registry file holds names: readable by its owner only (and ``var/`` 0700)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    with contextlib.suppress(OSError):
        if path.exists() and (path.stat().st_mode & 0o077):
            path.chmod(0o600)
        from triage.config import var_dir

        if path.parent.resolve() == var_dir().resolve() and (path.parent.stat().st_mode & 0o077):
            path.parent.chmod(0o700)


@contextlib.contextmanager
def _within(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """Yield ``conn`` (the caller's open transaction) or a new transaction of ``engine``."""
    if conn is not None:
        yield conn
        return
    with engine.begin() as own:
        yield own


def _one_line(text: str) -> str:
    """The first non-blank line of a driver's message (they run to several lines of SQL)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "").rstrip(".")


def _password_of(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password or ""
    except Exception:
        return ""


def _make_engine(url: str) -> Engine:
    if url.startswith(("postgresql://", "postgres://")):
        # psycopg (3) is the driver triage installs; SQLAlchemy's default would be psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
        # SQLite: wait for a concurrent writer (the app and a CLI command) instead of failing.
        options: dict[str, Any] = (
            {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
        )
        # Parameters hold names and contacts: never let an error message print them.
        engine = create_engine(url, hide_parameters=True, **options)
    except (SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        # Never print the URL's password, not even inside the driver's message.
        password = _password_of(url)
        detail = mask_secrets(_one_line(str(exc)), password)
        raise TriageError(
            f"cannot open the registry at {mask_url(url)!r}: {detail}. Check TRIAGE_DB_URL."
        ) from exc
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            _owner_only(engine.url.database)

    return engine


def _event(
    submission_id: str,
    status: str,
    at: dt.date | None,
    now: dt.datetime,
    run_id: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    return {
        "submission_id": submission_id,
        "status": status,
        "at": at,
        "run_id": run_id,
        "note": note,
        "recorded_at": now,
    }


def _historical_events(
    subs: list[dict[str, Any]], history: History, now: dt.datetime
) -> list[dict[str, Any]]:
    """The lifecycle of historical submissions, reconstructed from their case's records."""
    case_comm = {
        r["case_id"]: r["communication_id"]
        for r in _records(history.cases, ("case_id", "communication_id"))
    }
    comms = {
        r["communication_id"]: r
        for r in _records(history.communications, ("communication_id", "sent_date", "reply_date"))
    }
    with_outcome = set(history.outcomes["case_id"].dropna())
    events: list[dict[str, Any]] = []
    for s in subs:
        sid, received = s["submission_id"], s["received_date"]
        events.append(_event(sid, "received", received, now, note=_HISTORICAL_NOTE))
        if s.get("origin") == "queue":
            events.append(_event(sid, "eligible", received, now, note="in the incoming queue"))
            continue
        if s.get("eligible") is None:
            continue
        if not s["eligible"]:
            events.append(_event(sid, "ineligible", received, now, note=_HISTORICAL_NOTE))
            continue
        events.append(_event(sid, "eligible", received, now, note=_HISTORICAL_NOTE))
        case_id = s.get("case_id")
        comm = comms.get(case_comm.get(case_id)) if case_id else None
        if comm is None:
            events.append(
                _event(
                    sid, "not_selected", received, now, note=_HISTORICAL_DECISION + "; not taken up"
                )
            )
            continue
        # Steps never go back in time, even where a record's dates disagree.
        known = [d for d in (comm["sent_date"], received) if d is not None]
        sent = max(known) if known else None
        events.append(_event(sid, "selected", sent, now, note=_HISTORICAL_DECISION))
        events.append(_event(sid, "communication_sent", sent, now, note=_HISTORICAL_NOTE))
        reply = comm["reply_date"]
        if reply is not None:
            reply = max(reply, sent) if sent is not None else reply
            events.append(_event(sid, "reply_received", reply, now, note=_HISTORICAL_NOTE))
        if case_id in with_outcome and sent is not None:
            last = reply or sent
            events.append(
                _event(
                    sid,
                    "outcome_recorded",
                    max(sent + _OUTCOME_DELAY, last),
                    now,
                    note=_HISTORICAL_NOTE,
                )
            )
    return events


def _apply_last_status(subs: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """Set each submission row's current status to its last lifecycle event."""
    last: dict[str, dict[str, Any]] = {}
    for e in events:
        last[e["submission_id"]] = e
    for s in subs:
        final = last.get(s["submission_id"])
        if final is not None:
            s["status"], s["status_at"] = final["status"], final["at"]
