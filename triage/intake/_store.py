"""Storing accepted rows: holding back ids the registry has with other content, and writing
the rows with their intake-log entry in one transaction (retried on a concurrent writer)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from triage.errors import TriageError
from triage.intake._faults import _Fault, _fault_line
from triage.intake._read import RawRow, RawTable
from triage.intake._spec import (
    Shape,
)

if TYPE_CHECKING:
    from triage.intake._ingest import IngestResult
    from triage.registry import Registry


def _content_hash(shape: Shape, values: Mapping[str, Any]) -> str:
    """sha256 of the normalised row: the same submission, however spelled, hashes the same."""
    payload = "\x1f".join(
        [shape, *(f"{k}={v}" for k, v in sorted(values.items()) if v is not None)]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _comparable(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    return str(value)


def _hold_changed(
    table: RawTable,
    columns: dict[int, tuple[str, str]],
    rows: list[tuple[int, dict[str, Any]]],
    faults: list[dict[str, Any]],
    registry: Registry,
) -> list[tuple[int, dict[str, Any]]]:
    """Quarantine rows whose id the registry already holds with other content.

    Whatever put the id there (the history, an earlier file, the queue), a row is either
    already present exactly as given, or held back naming the columns that differ (never their
    values): the registry keeps what it had and nothing changes silently.
    """
    from triage.registry._models import Submission

    stored_columns = {c.name for c in Submission.__table__.columns}
    given = [canon for canon, _ in columns.values() if canon in stored_columns]
    headers = {canon: header for canon, header in columns.values()}
    if "submission_id" not in headers:
        headers["submission_id"] = headers.get("case_id", "case_id")
    known = registry.submission_records([values["submission_id"] for _, values in rows])
    kept: list[tuple[int, dict[str, Any]]] = []
    file = str(table.path)
    for number, values in rows:
        stored = known.get(values["submission_id"])
        differs = [
            headers.get(c, c)
            for c in given
            if stored is not None
            and c != "submission_id"
            and _comparable(values.get(c)) != _comparable(stored.get(c))
        ]
        if not differs:
            kept.append((number, values))
            continue
        origin = stored.get("origin") if stored else None
        where = {"history": "from the history", "queue": "from the queue"}.get(
            str(origin), "by an earlier file"
        )
        faults.append(
            _fault_line(
                file,
                table,
                RawRow(number, []),
                _Fault(
                    headers["submission_id"],
                    "",
                    f"submission {values['submission_id']} is already registered {where} with "
                    f"different content (column(s) {', '.join(differs)} differ); the registry "
                    "keeps what it had. Record corrections through the lifecycle commands.",
                ),
            )
        )
    return kept


#: Attempts at storing a file when a concurrent writer wins a race for the same ids.
_STORE_ATTEMPTS = 3


def _store(
    result: IngestResult, numbered: list[tuple[int, dict[str, Any]]], registry: Registry
) -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

    from triage.registry._engine import one_line as _one_line

    name = result.path.name
    rows = [values for _, values in numbered]
    for attempt in range(1, _STORE_ATTEMPTS + 1):
        try:
            _store_once(result, rows, registry, name)
            return
        except (IntegrityError, OperationalError) as exc:
            # Another ingest committed some of the same ids first (PostgreSQL's unique
            # constraint), or the database was busy: try again; rows now present are skipped.
            if attempt == _STORE_ATTEMPTS:
                raise TriageError(
                    f"{name}: nothing stored: the registry stayed busy with concurrent writers "
                    f"after {attempt} attempts ({exc.__class__.__name__}: "
                    f"{_one_line(str(getattr(exc, 'orig', exc)))}). Ingest the file again."
                ) from exc
            import time

            time.sleep(0.2 * attempt)
        except SQLAlchemyError as exc:
            raise TriageError(
                f"{name}: the registry refused the rows ({exc.__class__.__name__}: "
                f"{_one_line(str(getattr(exc, 'orig', exc)))})."
            ) from exc


def _store_once(
    result: IngestResult, rows: list[dict[str, Any]], registry: Registry, name: str
) -> None:
    # The intake log entry is written in the rows' own transaction (all or nothing).
    log = {
        "file_name": name,
        "sha256": result.sha256,
        "read": result.read,
        "accepted": result.n_accepted,
        "quarantined": result.n_quarantined,
    }
    if result.shape == "submissions":
        prepared = [{**r, "content_hash": _content_hash("submissions", r)} for r in rows]
        added = registry.add_submissions(
            prepared, origin="intake", source_file=name, note=f"ingested from {name}", intake=log
        )
    elif result.shape == "cases":
        added = registry.add_cases(rows, source="intake", intake=log)
    else:
        source = "ohchr" if result.shape == "ohchr" else "intake"
        added = registry.add_communications(rows, source=source, intake=log)
    result.added = len(added)
    result.already_present = len(rows) - len(added)
