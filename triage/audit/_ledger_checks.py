"""Verifying the ledger: hashes and links, stored inputs, signatures, checkpoints, decisions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select

from triage.audit._chain import GENESIS_HASH, VerifyResult, canonical_json, verify_records
from triage.audit._ledger_store import (
    HasEngine,
    _blob_digest,
    _ensure_tables,
    ledger_id,
    registry_label,
)
from triage.audit._signing import (
    Checkpoint,
    checkpoint_log,
    key_id,
    load_public_key,
    read_checkpoints,
    record_message,
    signature_ok,
)
from triage.audit._tables import AuditBlob, AuditHead, AuditRecord, AuditSignature


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
