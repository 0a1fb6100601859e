"""Appending to and reading the hash-chained ledger in the registry database.

Records are appended here (``ledger_transaction``, ``append_record``); storage and reading are in
``_ledger_store`` and verification in ``_ledger_checks``, both re-exported from this module.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from triage._validation import Constraint, check_params, one_of
from triage.audit._actor import Actor
from triage.audit._chain import (
    GENESIS_HASH,
    canonical_json,
    is_plain_json,
    record_hash,
    record_hash_of_text,
)
from triage.audit._ledger_checks import verify_chain
from triage.audit._ledger_store import (
    HasEngine,
    LedgerRecord,
    LedgerTx,
    _ensure_tables,
    _stamp,
    get_blob,
    get_record,
    ledger_id,
    put_blob,
    read_records,
    registry_label,
    utc_now,
)
from triage.audit._privacy import ROLES
from triage.audit._signing import (
    Checkpoint,
    key_id,
    load_signing_key,
    make_checkpoint,
    record_message,
    sign,
    write_checkpoint,
)
from triage.audit._tables import AuditHead, AuditMeta, AuditRecord, AuditSignature
from triage.errors import TriageError

#: How an actor signed in, as stored in each record's ``signed_in``.
AUTH_METHODS = ("demo", "password", "token")
_CONSTRAINTS = {
    "role": one_of(ROLES),
    "user": Constraint(bool, "a non-empty user name"),
    "auth": one_of(AUTH_METHODS),
}

__all__ = [
    "AUTH_METHODS",
    "LedgerRecord",
    "LedgerTx",
    "append_numbered",
    "append_record",
    "get_blob",
    "get_record",
    "ledger_transaction",
    "put_blob",
    "read_records",
    "utc_now",
    "verify_chain",
]


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
    actor: Actor,
    record_id: str | Callable[[int], str],
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
    actor : Actor
        Who acts (``role`` one of staff, mandate_holder, auditor), how they signed in (``auth``,
        stored in the content as ``signed_in``) and when (``now``, aware; default: now, UTC).
    record_id : str or callable
        The record's id, or a function of the new record's ``seq`` that returns it.
    tx : LedgerTx, optional
        An open ``ledger_transaction``: the record commits with the caller's other writes.
        Without it the record is appended in a transaction of its own.
    """
    user, role, auth = actor.user, actor.role, actor.auth
    check_params(_CONSTRAINTS, role=role, user=user)
    if auth is not None:
        check_params(_CONSTRAINTS, auth=auth)
        content = {**content, "signed_in": auth}
    try:
        text = canonical_json(content)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`content` must be JSON-serialisable with finite numbers. Got an error: {exc}"
        ) from exc
    created = _stamp(actor.now or utc_now())
    plain = content if is_plain_json(content) else None
    if tx is None:
        with ledger_transaction(registry) as own:
            return _append_on(own, kind, text, user, role, record_id, created, plain)
    return _append_on(tx, kind, text, user, role, record_id, created, plain)


def append_numbered(
    tx: LedgerTx,
    registry: HasEngine,
    kind: str,
    content: dict[str, Any],
    prefix: str,
    *,
    actor: Actor,
) -> LedgerRecord:
    """Append a ``kind`` record with id ``{prefix}-000001``... (the chain's seq, six digits).

    ``append_record`` in the caller's open ``tx``: the record commits with the caller's other
    writes (a run and its lifecycle steps, an override, a follow-up event).

    Parameters
    ----------
    tx : LedgerTx
        An open ``ledger_transaction`` of ``registry``.
    registry : Registry
        Where the ledger lives.
    kind : str
        ``run``, ``override``, ``reply``, ``outcome``, ``notified``...
    content : dict
        JSON-serialisable content (finite floats only).
    prefix : str
        The record id's prefix: ``run``, ``ovr``, ``evt``.
    actor : Actor
        Who acts, in which role, how they signed in, and when (default: now, UTC).

    Returns
    -------
    LedgerRecord
        The record appended.
    """
    return append_record(
        registry,
        kind=kind,
        content=content,
        actor=actor,
        record_id=lambda seq: f"{prefix}-{seq:06d}",
        tx=tx,
    )


def _append_on(
    tx: LedgerTx,
    kind: str,
    text: str,
    user: str,
    role: str,
    record_id: str | Callable[[int], str],
    created: str,
    content: dict[str, Any] | None = None,
) -> LedgerRecord:
    """Append the record whose content is ``text``; ``content`` is that text's value when it
    is plain JSON (see ``is_plain_json``), None to read it back from ``text``."""
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
    }
    if content is not None:
        # Plain JSON reads back as itself: hash the text already made instead of parsing
        # and writing it again (a 100,000-case run: 0.2 s and two copies of its reasons).
        row["content"] = content
        digest = record_hash_of_text(row, text)
    else:
        row["content"] = json.loads(text)
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
