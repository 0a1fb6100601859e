"""Appending to and reading the hash-chained ledger in the registry database."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from triage.audit._chain import (
    GENESIS_HASH,
    VerifyResult,
    canonical_json,
    record_hash,
    verify_records,
)
from triage.audit._privacy import ROLES
from triage.audit._signing import (
    Checkpoint,
    checkpoint_log,
    key_id,
    load_public_key,
    load_signing_key,
    make_checkpoint,
    read_checkpoints,
    record_message,
    sign,
    signature_ok,
    write_checkpoint,
)
from triage.audit._tables import AuditBlob, AuditHead, AuditMeta, AuditRecord, AuditSignature
from triage.errors import TriageError

#: How an actor signed in, as stored in each record's ``signed_in``.
AUTH_METHODS = ("demo", "password", "token")

__all__ = [
    "AUTH_METHODS",
    "LedgerRecord",
    "LedgerTx",
    "append_record",
    "get_blob",
    "get_record",
    "ledger_transaction",
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
    tables = (AuditRecord, AuditHead, AuditBlob, AuditSignature, AuditMeta)
    missing = [t for t in tables if t.__tablename__ not in names]
    for table in missing:
        table.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]


def registry_label(engine: Engine) -> str:
    """The registry's URL without its password (for checkpoints and messages)."""
    return engine.url.render_as_string(hide_password=True)


def ledger_id(registry: HasEngine, conn: Connection | None = None) -> str:
    """Return the random id of this registry's chain ("" before the first record)."""
    _ensure_tables(registry.engine)
    query = select(AuditMeta.value).where(AuditMeta.key == "ledger_id")
    if conn is not None:
        return str(conn.execute(query).scalar_one_or_none() or "")
    with registry.engine.connect() as own:
        return str(own.execute(query).scalar_one_or_none() or "")


@dataclass
class LedgerTx:
    """An open ledger transaction: the connection holding the chain's write lock, and the
    records appended in it (checkpointed once the transaction commits)."""

    conn: Connection
    engine: Engine
    appended: list[LedgerRecord] = field(default_factory=list)
    ledger: str = ""
    first: str = ""


def _prepare_head(engine: Engine) -> None:
    """Create the head row (and the ledger id) of a new chain, so that it can be locked."""
    try:
        with engine.begin() as conn:
            if conn.execute(select(AuditHead.id).where(AuditHead.id == 1)).first() is not None:
                return
            if conn.execute(select(AuditRecord.seq).limit(1)).first() is not None:
                raise TriageError(
                    "the audit chain head is missing while records exist; "
                    "run `triage audit verify` before recording anything."
                )
            conn.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS_HASH))
            found = conn.execute(
                select(AuditMeta.value).where(AuditMeta.key == "ledger_id")
            ).first()
            if found is None:
                conn.execute(insert(AuditMeta).values(key="ledger_id", value=uuid.uuid4().hex))
    except IntegrityError:
        pass  # another writer created the head first


@contextmanager
def ledger_transaction(registry: HasEngine) -> Iterator[LedgerTx]:
    """Open one transaction that holds the chain's write lock until it commits.

    Everything a decision writes (its record, its blob, the registry's status changes) goes
    through ``tx.conn`` and commits together, or not at all. The lock serialises writers, so
    the chain's order is the order in which decisions take effect. After the commit a signed
    checkpoint of the new head is appended to ``var/audit/checkpoints.jsonl``.
    """
    engine = registry.engine
    _ensure_tables(engine)
    load_signing_key()  # fail before anything is written when the key is unusable
    _prepare_head(engine)
    tx: LedgerTx | None = None
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 60000")
                conn.commit()
            with conn.begin():
                # The first statement takes the write lock (SQLite: the database's reserved
                # lock; PostgreSQL: the head row), held until commit.
                conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
                first = conn.execute(
                    select(AuditRecord.hash).where(AuditRecord.seq == 1)
                ).scalar_one_or_none()
                tx = LedgerTx(
                    conn=conn, engine=engine, ledger=ledger_id(registry, conn), first=first or ""
                )
                yield tx
    except OperationalError as exc:
        raise TriageError(
            "the registry is busy or locked; nothing was recorded. Try again in a moment."
        ) from exc
    if tx is not None and tx.appended:
        last = tx.appended[-1]
        # The decision stands even if the file cannot be written; the next append covers it.
        with contextlib.suppress(OSError):
            write_checkpoint(
                make_checkpoint(
                    last.seq,
                    last.hash,
                    ledger=tx.ledger,
                    registry=registry_label(engine),
                    first=tx.first or next((r.hash for r in tx.appended if r.seq == 1), ""),
                )
            )


def append_record(
    registry: HasEngine,
    *,
    kind: str,
    content: dict[str, Any],
    user: str,
    role: str,
    record_id: str | Callable[[int], str],
    now: dt.datetime | None = None,
    auth: str | None = None,
    tx: LedgerTx | None = None,
) -> LedgerRecord:
    """Append one signed record to the chain and move the head.

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
    auth : {"demo", "password", "token"}, optional
        How the actor signed in; stored in the content as ``signed_in``.
    tx : LedgerTx, optional
        An open ``ledger_transaction``: the record commits with the caller's other writes.
        Without it the record is appended in a transaction of its own.
    """
    if role not in ROLES:
        raise ValueError(f"`role` must be one of {', '.join(ROLES)}. Got {role!r} instead.")
    if not user:
        raise ValueError(f"`user` must be a non-empty user name. Got {user!r} instead.")
    if auth is not None:
        if auth not in AUTH_METHODS:
            raise ValueError(
                f"`auth` must be one of {', '.join(AUTH_METHODS)}. Got {auth!r} instead."
            )
        content = {**content, "signed_in": auth}
    try:
        text = canonical_json(content)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`content` must be JSON-serialisable with finite numbers. Got an error: {exc}"
        ) from exc
    created = _stamp(now or utc_now())
    if tx is None:
        with ledger_transaction(registry) as own:
            return _append_on(own, kind, text, user, role, record_id, created)
    return _append_on(tx, kind, text, user, role, record_id, created)


def _append_on(
    tx: LedgerTx,
    kind: str,
    text: str,
    user: str,
    role: str,
    record_id: str | Callable[[int], str],
    created: str,
) -> LedgerRecord:
    conn = tx.conn
    head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    last = conn.execute(
        select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    if head is None or (last is None and head[0] != 0) or (last and tuple(last) != tuple(head)):
        raise TriageError(
            "the audit chain does not match its head; nothing was recorded. "
            "Run `triage audit verify`."
        )
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS_HASH
    rid = record_id(seq) if callable(record_id) else record_id
    if conn.execute(select(AuditRecord.seq).where(AuditRecord.record_id == rid)).first():
        raise TriageError(f"audit record {rid} already exists.")
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
    key = load_signing_key()
    conn.execute(insert(AuditRecord).values(**{**row, "content": text, "hash": digest}))
    conn.execute(
        insert(AuditSignature).values(
            seq=seq,
            key_id=key_id(key.public_key()),
            signature=sign(key, record_message(seq, digest)),
        )
    )
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=digest))
    record = LedgerRecord(**{**row, "hash": digest})
    tx.appended.append(record)
    return record


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


def read_records(
    registry: HasEngine, *, kind: str | None = None, tx: LedgerTx | None = None
) -> list[LedgerRecord]:
    """Return stored records in chain order, optionally only those of one ``kind``."""
    _ensure_tables(registry.engine)
    query = select(AuditRecord).order_by(AuditRecord.seq)
    if kind is not None:
        query = query.where(AuditRecord.kind == kind)
    if tx is not None:
        return [_to_record(r) for r in tx.conn.execute(query)]
    with registry.engine.connect() as conn:
        return [_to_record(r) for r in conn.execute(query)]


def get_record(
    registry: HasEngine, record_id: str, *, kind: str | None = None, tx: LedgerTx | None = None
) -> LedgerRecord:
    """Return one record by id; raise ``TriageError`` naming the id when it does not exist."""
    _ensure_tables(registry.engine)
    query = select(AuditRecord).where(AuditRecord.record_id == record_id)
    if tx is not None:
        row = tx.conn.execute(query).first()
    else:
        with registry.engine.connect() as conn:
            row = conn.execute(query).first()
    if row is None or (kind is not None and row.kind != kind):
        what = f"{kind} record" if kind else "audit record"
        raise TriageError(
            f"no {what} {record_id!r} in the registry; `triage audit runs` lists them."
        )
    return _to_record(row)


def verify_chain(
    registry: HasEngine,
    *,
    checkpoints: Sequence[str | Path] = (),
    public_key: str | Path | None = None,
) -> VerifyResult:
    """Check the whole ledger: every record's hash, its link to the one before, and the head;
    every record's Ed25519 signature; that the chain extends every signed checkpoint known
    (``var/audit/checkpoints.jsonl`` for this ledger, plus ``checkpoints`` files kept by an
    auditor); and that the registry's decisions agree with the chain.

    Returns a ``VerifyResult`` that names the first record whose content or order was changed,
    or which was deleted or inserted. Blobs are checked against their SHA-256 as well.
    """
    _ensure_tables(registry.engine)
    with registry.engine.connect() as conn:
        rows = conn.execute(select(AuditRecord).order_by(AuditRecord.seq)).all()
        signatures = {
            int(r.seq): (str(r.key_id), str(r.signature))
            for r in conn.execute(select(AuditSignature))
        }
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
    extra = _verify_trust(registry, records, signatures, checkpoints, public_key)
    if extra is not None:
        return VerifyResult(False, result.n_records, extra[0], extra[1], extra[2], result.head_hash)
    return result


def _blob_digest(data: bytes) -> str:
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError):
        return ""
    return hashlib.sha256(raw).hexdigest()


def put_blob(
    registry: HasEngine,
    data: bytes,
    *,
    media_type: str = "text/csv",
    tx: LedgerTx | None = None,
) -> str:
    """Store bytes by their SHA-256 (gzip-compressed, no timestamp) and return the hex digest.

    With ``tx`` the blob commits with the decision that uses it.
    """
    _ensure_tables(registry.engine)
    sha = hashlib.sha256(data).hexdigest()

    def _put(conn: Connection) -> None:
        found = conn.execute(
            select(func.count()).select_from(AuditBlob).where(AuditBlob.sha256 == sha)
        ).scalar_one()
        if not found:
            conn.execute(
                insert(AuditBlob).values(
                    sha256=sha, media_type=media_type, data=gzip.compress(data, mtime=0)
                )
            )

    if tx is not None:
        _put(tx.conn)
    else:
        with registry.engine.begin() as conn:
            _put(conn)
    return sha


def get_blob(registry: HasEngine, sha256: str, *, tx: LedgerTx | None = None) -> bytes:
    """Return the bytes stored under ``sha256``; raise ``TriageError`` if missing or altered."""
    _ensure_tables(registry.engine)
    query = select(AuditBlob.data).where(AuditBlob.sha256 == sha256)
    if tx is not None:
        data = tx.conn.execute(query).scalar_one_or_none()
    else:
        with registry.engine.connect() as conn:
            data = conn.execute(query).scalar_one_or_none()
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


def _verify_trust(
    registry: HasEngine,
    records: list[dict[str, Any]],
    signatures: dict[int, tuple[str, str]],
    checkpoint_files: Sequence[str | Path],
    public_key: str | Path | None,
) -> tuple[int | None, str | None, str] | None:
    """Signatures, checkpoints and the registry's decisions; the first problem, or None."""
    public = load_public_key(public_key)
    if records and public is None:
        return (
            None,
            None,
            "no public key to check the records' signatures: pass --public-key FILE "
            "(the key holder exports it with `triage audit public-key`).",
        )
    kid = key_id(public) if public is not None else ""
    for rec in records:
        seq, rid = rec["seq"], rec["record_id"]
        found = signatures.get(int(seq))
        if found is None:
            return (
                seq,
                rid,
                f"record #{seq} ({rid}) carries no signature: it was not written by triage with the audit key.",
            )
        if found[0] != kid or not signature_ok(
            public, record_message(seq, str(rec["hash"])), found[1]
        ):
            return (
                seq,
                rid,
                f"record #{seq} ({rid}): its signature does not verify against the audit key "
                f"{kid}; the record or the chain before it was rewritten.",
            )
    ledger = ledger_id(registry)
    label = registry_label(registry.engine)
    first = str(records[0]["hash"]) if records else ""
    known: list[Checkpoint] = [
        c
        for c in read_checkpoints(checkpoint_log())
        if (ledger and c.ledger == ledger) or c.registry == label or (first and c.first == first)
    ]
    for path in checkpoint_files:
        if not Path(path).exists():
            return None, None, f"checkpoint file {path} does not exist."
        given = read_checkpoints(path)
        if not given:
            return None, None, f"checkpoint file {path} holds no checkpoint."
        known.extend(given)
    for cp in sorted(known, key=lambda c: c.seq):
        where = cp.source or "a checkpoint"
        if public is None or not signature_ok(public, cp.message(), cp.signature):
            return (
                None,
                None,
                f"checkpoint {where} is not signed by the audit key {kid or '(none)'}.",
            )
    if known:
        latest = max(known, key=lambda c: c.seq)
        n = len(records)
        if n < latest.seq:
            return (
                n + 1,
                None,
                f"the chain has {n} record(s) but checkpoint {latest.source} of {latest.time} saw "
                f"{latest.seq}: records were deleted, the ledger emptied or the database rolled back.",
            )
        for cp in known:
            if cp.seq >= 1 and records[cp.seq - 1]["hash"] != cp.head:
                rec = records[cp.seq - 1]
                return (
                    cp.seq,
                    rec["record_id"],
                    f"record #{cp.seq} ({rec['record_id']}) is not the one checkpoint {cp.source} "
                    f"of {cp.time} saw: the chain was rewritten or rolled back.",
                )
    return _verify_decisions(registry, records)


def _verify_decisions(
    registry: HasEngine, records: list[dict[str, Any]]
) -> tuple[int | None, str | None, str] | None:
    """The registry's decided statuses must agree with the runs and overrides in the chain."""
    try:
        from triage.registry import Submission
        from triage.registry._models import StatusEvent
    except ImportError:  # pragma: no cover
        return None
    names = set(inspect(registry.engine).get_table_names())
    if Submission.__tablename__ not in names or StatusEvent.__tablename__ not in names:
        return None
    runs = {r["record_id"] for r in records if r["kind"] == "run"}
    with registry.engine.connect() as conn:
        decided_by = {
            str(r[0])
            for r in conn.execute(
                select(StatusEvent.run_id).where(StatusEvent.run_id.is_not(None)).distinct()
            )
        }
        statuses = {
            str(sid): str(status)
            for sid, status in conn.execute(select(Submission.submission_id, Submission.status))
        }
    unknown = sorted(decided_by - runs)
    if unknown:
        what = "the ledger is empty" if not records else "the chain has no record of them"
        return (
            None,
            unknown[0],
            f"the registry holds decisions of {len(unknown)} run(s) ({', '.join(unknown[:3])}) "
            f"but {what}: the ledger was emptied, truncated or rolled back.",
        )
    expected: dict[str, str] = {}
    for rec in records:
        content = rec["content"]
        if not isinstance(content, dict) or content.get("applied", True) is False:
            continue
        if rec["kind"] == "run":
            for entry in content.get("reasons", []):
                expected[str(entry["case_id"])] = (
                    "selected" if entry.get("selected") else "not_selected"
                )
        elif rec["kind"] == "override" and content.get("case_id") is not None:
            expected[str(content["case_id"])] = (
                "selected" if content.get("action") == "select" else "not_selected"
            )
    later = {"communication_sent", "reply_received", "outcome_recorded"}
    wrong: list[str] = []
    for sid, want in expected.items():
        have = statuses.get(sid)
        if have is None:
            continue  # a run on cases outside the registry
        if have in later and want == "selected":
            continue
        if have != want:
            wrong.append(sid)
    if wrong:
        wrong.sort()
        return (
            None,
            None,
            f"the registry's statuses disagree with the chain for {len(wrong)} case(s) "
            f"(e.g. {', '.join(wrong[:3])}): a decision was changed outside the record or "
            f"did not take effect.",
        )
    return None


def write_auditor_checkpoint(registry: HasEngine, out: str | Path) -> Checkpoint:
    """Append a signed checkpoint of the chain as it stands (verified first) to ``out``."""
    result = verify_chain(registry)
    if not result.ok:
        raise TriageError(f"no checkpoint written: {result.summary()}")
    first = read_records(registry)[:1]
    cp = make_checkpoint(
        result.n_records,
        result.head_hash,
        ledger=ledger_id(registry),
        registry=registry_label(registry.engine),
        first=first[0].hash if first else "",
    )
    write_checkpoint(cp, out)
    return cp
