"""The audit tables on the registry's ``Base``: the hash-chained ledger, its head and blobs.

``audit_records`` is append-only: one row per selection run, override or follow-up event, each
carrying the hash of the row before it. ``audit_head`` keeps the count and hash of the newest
record so that deleting the newest rows is caught too. ``audit_blobs`` holds large inputs
(the candidate table of a run) by their SHA-256; the chain stores only the hash.
"""

from __future__ import annotations

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from triage.registry import Base

__all__ = ["AuditBlob", "AuditHead", "AuditMeta", "AuditRecord", "AuditSignature"]


class AuditRecord(Base):
    """One hash-chained record: ``content`` is canonical JSON, ``hash`` covers every other field."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    record_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` text, so the hash does not depend on a driver.
    created_at: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    prev_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The newest record's position and hash (a single row with ``id = 1``)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditBlob(Base):
    """Content-addressed bytes (e.g. a run's candidate table as CSV), keyed by their SHA-256."""

    __tablename__ = "audit_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AuditSignature(Base):
    """The Ed25519 signature of one record (over its ``seq`` and ``hash``), by key id."""

    __tablename__ = "audit_signatures"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))


class AuditMeta(Base):
    """Key-value facts about the ledger (``ledger_id``: a random id that names this chain)."""

    __tablename__ = "audit_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
