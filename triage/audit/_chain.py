"""The hash chain over audit records: canonical JSON, record hashes and chain verification.

Every record carries the hash of the record before it, so editing, deleting, inserting or
reordering any record breaks the chain at that record. These functions work on plain
mappings; the ledger stores the same mappings in the registry database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "GENESIS_HASH",
    "HASHED_FIELDS",
    "VerifyResult",
    "canonical_json",
    "record_hash",
    "verify_records",
]

#: The ``prev_hash`` of the first record of a chain.
GENESIS_HASH = "0" * 64

#: The fields of a record that its hash covers (``hash`` itself is the result).
HASHED_FIELDS = ("seq", "kind", "record_id", "created_at", "user", "role", "prev_hash", "content")


def canonical_json(value: Any) -> str:
    """Serialise ``value`` as JSON with sorted keys and no spaces, so equal data hash equally.

    Floats must be finite: ``NaN`` has no JSON form and would make two equal records differ.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def record_hash(record: Mapping[str, Any]) -> str:
    """Return the SHA-256 (hex) of a record's hashed fields in canonical JSON."""
    missing = [f for f in HASHED_FIELDS if f not in record]
    if missing:
        raise ValueError(
            f"`record` must have the fields {', '.join(HASHED_FIELDS)}. Got no {', '.join(missing)} instead."
        )
    payload = {f: record[f] for f in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def record_hash_of_text(record: Mapping[str, Any], content_text: str) -> str:
    """:func:`record_hash` of ``record`` whose ``content`` is given as its canonical JSON.

    The same digest without serialising the content again: a run's content (a reason per
    case) is the bulk of the record, and canonical JSON nests, so the payload's text is the
    other fields' text with ``content_text`` spliced in first ("content" sorts first).
    """
    rest = {f: record[f] for f in HASHED_FIELDS if f != "content"}
    tail = canonical_json(rest)
    digest = hashlib.sha256(b'{"content":')
    digest.update(content_text.encode("utf-8"))
    digest.update(("," + tail[1:]).encode("utf-8"))
    return digest.hexdigest()


def is_plain_json(value: Any) -> bool:
    """Whether ``value`` is made only of dicts with str keys, lists, str, int, float, bool and
    None, so that its canonical JSON read back and written again is the same text."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind not in _PLAIN_SCALARS:
            return False
    return True


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})
assert min(HASHED_FIELDS) == "content"  # record_hash_of_text puts the content first


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking a chain.

    Attributes
    ----------
    ok : bool
        True when every record is intact and in its place.
    n_records : int
        How many records were checked.
    first_bad_seq : int or None
        The position (1-based ``seq``) of the first record that fails, if any.
    first_bad_id : str or None
        The ``record_id`` of that record (``None`` when the chain is intact or the record is gone).
    problem : str
        One sentence that names the record and says what is wrong; ``""`` when ``ok``.
    head_hash : str
        The hash of the last good record (``GENESIS_HASH`` for an empty chain).
    first_bad_position : int or None
        The 1-based position in storage order where the chain first fails (``n_records + 1``
        when records after the last stored one are missing).
    """

    ok: bool
    n_records: int
    first_bad_seq: int | None
    first_bad_id: str | None
    problem: str
    head_hash: str
    first_bad_position: int | None = None

    def summary(self) -> str:
        """Return one line for a terminal: ``chain intact: 12 records, head 3fa9…``."""
        if self.ok:
            records = "record" if self.n_records == 1 else "records"
            return f"chain intact: {self.n_records} {records}, head {self.head_hash[:16]}"
        return f"chain broken: {self.problem}"


def _fail(
    n: int, seq: int | None, record_id: str | None, problem: str, head: str, position: int
) -> VerifyResult:
    return VerifyResult(False, n, seq, record_id, problem, head, position)


def verify_records(
    records: Sequence[Mapping[str, Any]],
    *,
    head: tuple[int, str] | None = None,
) -> VerifyResult:
    """Check a chain of records given in storage order and name the first one that fails.

    Parameters
    ----------
    records : sequence of mappings
        Records with the fields of ``HASHED_FIELDS`` plus ``hash``, in the order they are
        stored (ascending ``seq``).
    head : (int, str), optional
        The separately kept count and hash of the last record. Without it, deleting the
        newest records cannot be told from never having written them.

    Returns
    -------
    VerifyResult
        ``ok`` is False at the first record whose content was changed (its hash no longer
        matches), whose predecessor was deleted, inserted or moved (its ``prev_hash`` or
        ``seq`` no longer fits), or when records after the last one are missing.
    """
    prev = GENESIS_HASH
    n = len(records)
    for i, rec in enumerate(records):
        expected_seq = i + 1
        seq = rec.get("seq")
        rid = rec.get("record_id")
        label = f"record #{seq} ({rid})"
        pos = i + 1
        try:
            own = record_hash(rec)
        except (ValueError, TypeError) as exc:
            return _fail(n, seq, rid, f"{label} cannot be read: {exc}", prev, pos)
        if own != rec.get("hash"):
            return _fail(
                n,
                seq,
                rid,
                f"{label}: its content was changed (stored hash {str(rec.get('hash'))[:16]}, "
                f"content hashes to {own[:16]}).",
                prev,
                pos,
            )
        if seq != expected_seq:
            later = {r.get("seq") for r in records[pos:]}
            if isinstance(seq, int) and seq > expected_seq and expected_seq not in later:
                what = f"record(s) #{expected_seq}..#{seq - 1} before it were deleted"
            else:
                what = f"it is out of order (stored at position {pos})"
            return _fail(n, seq, rid, f"{label}: {what}.", prev, pos)
        if rec.get("prev_hash") != prev:
            return _fail(
                n,
                seq,
                rid,
                f"{label}: the record before it was changed, deleted, inserted or moved "
                f"(it points to {str(rec.get('prev_hash'))[:16]}, the chain has {prev[:16]}).",
                prev,
                pos,
            )
        prev = own
    if head is not None:
        head_seq, head_hash = head
        if head_seq != n or head_hash != prev:
            if head_seq > n:
                problem = (
                    f"record(s) #{n + 1}..#{head_seq} at the end of the chain were deleted "
                    f"(the head says {head_seq} records, {n} are stored)."
                )
                return _fail(n, n + 1, None, problem, prev, n + 1)
            problem = (
                f"the chain head (#{head_seq}, {head_hash[:16]}) does not match the last stored "
                f"record (#{n}, {prev[:16]}); records were appended or the head was edited."
            )
            return _fail(n, min(head_seq + 1, n) if n else None, None, problem, prev, n)
    return VerifyResult(True, n, None, None, "", prev, None)
