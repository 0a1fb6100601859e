"""Appending to and reading the hash-chained ledger in the registry database."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from triage.audit._chain import (
    GENESIS_HASH,
    VerifyResult,
    canonical_json,
    record_hash,
    verify_records,
)
from triage.audit._privacy import ROLES
from triage.audit._tables import AuditBlob, AuditHead, AuditRecord
from triage.errors import TriageError

__all__ = [
    "LedgerRecord",
    "append_record",
    "get_blob",
    "get_record",
    "put_blob",
    "read_records",
    "utc_now",
    "verify_chain",
]


class HasEngine(Protocol):
    """Anything with a SQLAlchemy engine (a ``triage.registry.Registry``)."""

    engine: Engine


@dataclass(frozen=True)
class LedgerRecord:
    """One stored record: position, kind, id, time (UTC text), user, role, content and hashes."""

    seq: int
    kind: str
    record_id: str
    created_at: str
    user: str
    role: str
    prev_hash: str
    content: dict[str, Any]
    hash: str


def utc_now() -> dt.datetime:
    """Return the current time in UTC (the default clock of every audit write)."""
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"`now` must be timezone-aware. Got {moment!r} instead.")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ensure_tables(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    missing = [t for t in (AuditRecord, AuditHead, AuditBlob) if t.__tablename__ not in names]
    for table in missing:
        table.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]


def append_record(
    registry: HasEngine,
    *,
    kind: str,
    content: dict[str, Any],
    user: str,
    role: str,
    record_id: str | Callable[[int], str],
    now: dt.datetime | None = None,
) -> LedgerRecord:
    """Append one record to the chain and move the head, in one transaction.

    Parameters
    ----------
    registry : Registry
        Where the ledger lives.
    kind : str
        ``run``, ``override``, ``reply``, ``outcome``, ``notified``...
    content : dict
        JSON-serialisable content (finite floats only); stored as canonical JSON.
    user, role : str
        Who acts; ``role`` is one of staff, mandate_holder, auditor.
    record_id : str or callable
        The record's id, or a function of the new record's ``seq`` that returns it.
    now : datetime, optional
        Timezone-aware time of the record (default: now, UTC).
    """
    if role not in ROLES:
        raise ValueError(f"`role` must be one of {', '.join(ROLES)}. Got {role!r} instead.")
    if not user:
        raise ValueError(f"`user` must be a non-empty user name. Got {user!r} instead.")
    try:
        text = canonical_json(content)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`content` must be JSON-serialisable with finite numbers. Got an error: {exc}"
        ) from exc
    created = _stamp(now or utc_now())
    _ensure_tables(registry.engine)
    for _attempt in range(5):
        try:
            with registry.engine.begin() as conn:
                last = conn.execute(
                    select(AuditRecord.seq, AuditRecord.hash)
                    .order_by(AuditRecord.seq.desc())
                    .limit(1)
                ).first()
                seq = (last[0] + 1) if last else 1
                prev = last[1] if last else GENESIS_HASH
                rid = record_id(seq) if callable(record_id) else record_id
                row: dict[str, Any] = {
                    "seq": seq,
                    "kind": kind,
                    "record_id": rid,
                    "created_at": created,
                    "user": user,
                    "role": role,
                    "prev_hash": prev,
                    "content": json.loads(text),
                }
                digest = record_hash(row)
                conn.execute(insert(AuditRecord).values(**{**row, "content": text, "hash": digest}))
                head = conn.execute(select(AuditHead.id).where(AuditHead.id == 1)).first()
                if head is None:
                    conn.execute(insert(AuditHead).values(id=1, seq=seq, hash=digest))
                else:
                    conn.execute(
                        update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=digest)
                    )
            return LedgerRecord(**{**row, "hash": digest})
        except IntegrityError as exc:
            # Another writer took this seq (or the id exists): re-read the chain and retry.
            if not callable(record_id) and _record_exists(registry, record_id):
                raise TriageError(f"audit record {record_id} already exists.") from exc
            continue
    raise TriageError("could not append to the audit chain: too many concurrent writers.")


def _record_exists(registry: HasEngine, record_id: str) -> bool:
    with registry.engine.connect() as conn:
        return (
            conn.execute(select(AuditRecord.seq).where(AuditRecord.record_id == record_id)).first()
            is not None
        )


def _to_record(row: Any) -> LedgerRecord:
    return LedgerRecord(
        seq=row.seq,
        kind=row.kind,
        record_id=row.record_id,
        created_at=row.created_at,
        user=row.user,
        role=row.role,
        prev_hash=row.prev_hash,
        content=json.loads(row.content),
        hash=row.hash,
    )


def read_records(registry: HasEngine, *, kind: str | None = None) -> list[LedgerRecord]:
    """Return stored records in chain order, optionally only those of one ``kind``."""
    _ensure_tables(registry.engine)
    query = select(AuditRecord).order_by(AuditRecord.seq)
    if kind is not None:
        query = query.where(AuditRecord.kind == kind)
    with registry.engine.connect() as conn:
        return [_to_record(r) for r in conn.execute(query)]


def get_record(registry: HasEngine, record_id: str, *, kind: str | None = None) -> LedgerRecord:
    """Return one record by id; raise ``TriageError`` naming the id when it does not exist."""
    _ensure_tables(registry.engine)
    with registry.engine.connect() as conn:
        row = conn.execute(select(AuditRecord).where(AuditRecord.record_id == record_id)).first()
    if row is None or (kind is not None and row.kind != kind):
        what = f"{kind} record" if kind else "audit record"
        raise TriageError(
            f"no {what} {record_id!r} in the registry; `triage audit runs` lists them."
        )
    return _to_record(row)


def verify_chain(registry: HasEngine) -> VerifyResult:
    """Check the whole ledger: every record's hash, its link to the one before, and the head.

    Returns a ``VerifyResult`` that names the first record whose content or order was changed,
    or which was deleted or inserted. Blobs are checked against their SHA-256 as well.
    """
    _ensure_tables(registry.engine)
    with registry.engine.connect() as conn:
        rows = conn.execute(select(AuditRecord).order_by(AuditRecord.seq)).all()
        head_row = conn.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
        ).first()
        blob_rows = conn.execute(select(AuditBlob.sha256, AuditBlob.data)).all()
    records: list[dict[str, Any]] = []
    for row in rows:
        try:
            content = json.loads(row.content)
        except (json.JSONDecodeError, TypeError):
            content = {"__unreadable__": str(row.content)}
        records.append(
            {
                "seq": row.seq,
                "kind": row.kind,
                "record_id": row.record_id,
                "created_at": row.created_at,
                "user": row.user,
                "role": row.role,
                "prev_hash": row.prev_hash,
                "content": content,
                "hash": row.hash,
            }
        )
    head = (int(head_row[0]), str(head_row[1])) if head_row else None
    if head is None and records:
        head = (0, GENESIS_HASH)  # the head row itself was deleted
    result = verify_records(records, head=head)
    if not result.ok:
        return result
    present = {sha for sha, _ in blob_rows}
    for rec in records:
        if rec["kind"] != "run":
            continue
        sha = str(rec["content"].get("candidates", {}).get("sha256", ""))
        if sha not in present:
            return VerifyResult(
                False,
                result.n_records,
                rec["seq"],
                rec["record_id"],
                f"record #{rec['seq']} ({rec['record_id']}): its stored candidate table "
                f"{sha[:16]} was deleted, so the run cannot be replayed.",
                result.head_hash,
                None,
            )
    for sha, data in blob_rows:
        if _blob_digest(data) != sha:
            owners = [r["record_id"] for r in records if sha in canonical_json(r["content"])]
            owner = owners[0] if owners else None
            return VerifyResult(
                False,
                result.n_records,
                None,
                owner,
                f"stored input {sha[:16]} (used by {owner or 'no record'}) was changed.",
                result.head_hash,
                None,
            )
    return result


def _blob_digest(data: bytes) -> str:
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError):
        return ""
    return hashlib.sha256(raw).hexdigest()


def put_blob(registry: HasEngine, data: bytes, *, media_type: str = "text/csv") -> str:
    """Store bytes by their SHA-256 (gzip-compressed, no timestamp) and return the hex digest."""
    _ensure_tables(registry.engine)
    sha = hashlib.sha256(data).hexdigest()
    with registry.engine.begin() as conn:
        found = conn.execute(
            select(func.count()).select_from(AuditBlob).where(AuditBlob.sha256 == sha)
        ).scalar_one()
        if not found:
            conn.execute(
                insert(AuditBlob).values(
                    sha256=sha, media_type=media_type, data=gzip.compress(data, mtime=0)
                )
            )
    return sha


def get_blob(registry: HasEngine, sha256: str) -> bytes:
    """Return the bytes stored under ``sha256``; raise ``TriageError`` if missing or altered."""
    _ensure_tables(registry.engine)
    with registry.engine.connect() as conn:
        data = conn.execute(
            select(AuditBlob.data).where(AuditBlob.sha256 == sha256)
        ).scalar_one_or_none()
    if data is None:
        raise TriageError(f"stored input {sha256[:16]} is missing from the registry.")
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise TriageError(f"stored input {sha256[:16]} is damaged ({exc}).") from exc
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise TriageError(
            f"stored input {sha256[:16]} was changed: its content no longer matches its SHA-256."
        )
    return raw
