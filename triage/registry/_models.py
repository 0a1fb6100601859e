"""The registry tables: submissions, individuals, communications, cases, replies, outcomes and
the status history of every submission.

Every table has an autoincrement ``id`` (insertion order, so a loaded history reads back in the
order of its files) and a unique natural key (so loading the same rows twice adds nothing).
Other modules (audit) declare their own tables on :class:`Base` so that ``Registry.init()``
creates them in the same database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "Case",
    "Communication",
    "Individual",
    "IntakeFile",
    "Meta",
    "Outcome",
    "Reply",
    "StatusEvent",
    "Submission",
    "Truth",
]


class Base(DeclarativeBase):
    """The declarative base of every triage table (registry, audit, ...)."""


class _Profile:
    """The columns that describe a submission and the case it becomes: the person's country
    (ISO3) and UN regional group, gender, violations and issue areas (``;``-separated codes)
    and whether they were protesting. Each table lists them after its own columns."""

    country: Mapped[str | None] = mapped_column(String(3))
    un_region: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(16))
    violations: Mapped[str | None] = mapped_column(Text)
    issue_areas: Mapped[str | None] = mapped_column(Text)
    protester: Mapped[bool | None] = mapped_column(Boolean)


class Meta(Base):
    """Key/value facts about the registry itself (e.g. whether its data are simulated)."""

    __tablename__ = "registry_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Individual(Base):
    """A person named in a submission or case. ``defender_name`` is sensitive."""

    __tablename__ = "individuals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    individual_id: Mapped[str] = mapped_column(String(64), unique=True)
    gender: Mapped[str | None] = mapped_column(String(16))
    defender_name: Mapped[str | None] = mapped_column(Text)


class Communication(Base):
    """A communication sent by the mandate (UA, AL, OL) or a press release (PR).

    ``reply_class`` and ``reply_date`` summarise the replies (the latest one); every reply is
    also a row of :class:`Reply`.
    """

    __tablename__ = "communications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    communication_id: Mapped[str] = mapped_column(String(64), unique=True)
    sent_date: Mapped[dt.date | None] = mapped_column(Date)
    type: Mapped[str | None] = mapped_column(String(8))
    addressee: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(3))
    n_mandates: Mapped[int | None] = mapped_column(Integer)
    last_incident_date: Mapped[dt.date | None] = mapped_column(Date)
    reply_class: Mapped[str | None] = mapped_column(String(32))
    reply_date: Mapped[dt.date | None] = mapped_column(Date)
    n_individuals: Mapped[int | None] = mapped_column(Integer)
    #: Free text from an OHCHR export; may name people, so it is sensitive.
    summary: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32), default="history")


class Case(_Profile, Base):
    """One individual named in one communication (the paper's unit of analysis)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    communication_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("communications.communication_id")
    )
    individual_id: Mapped[str | None] = mapped_column(String(64))
    sent_date: Mapped[dt.date | None] = mapped_column(Date)


class Reply(Base):
    """One reply by a state to a communication."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    communication_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("communications.communication_id"), index=True
    )
    reply_date: Mapped[dt.date | None] = mapped_column(Date)
    reply_class: Mapped[str | None] = mapped_column(String(32))


class Outcome(Base):
    """The observed situation of a case about a year after the communication."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    outcome: Mapped[str | None] = mapped_column(String(32))
    assessment: Mapped[str | None] = mapped_column(String(32))
    survey_impact: Mapped[str | None] = mapped_column(String(32))
    outcome_date: Mapped[dt.date | None] = mapped_column(Date)


class Truth(Base):
    """The generator's true improvement probability (SIMULATED data only; never a feature)."""

    __tablename__ = "simulation_truth"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    p_improve: Mapped[float | None] = mapped_column(Float)


class Submission(_Profile, Base):
    """Every submission received, whether or not it became a case.

    ``origin`` says where the row came from: ``history`` (submissions.csv), ``queue``
    (queue.csv) or ``intake`` (``triage ingest``). ``status``/``status_at`` mirror the latest
    :class:`StatusEvent`. ``defender_name`` and ``source_contact`` are sensitive.
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(String(64), unique=True)
    origin: Mapped[str] = mapped_column(String(16))
    received_date: Mapped[dt.date | None] = mapped_column(Date)
    individual_id: Mapped[str | None] = mapped_column(String(64))
    defender_name: Mapped[str | None] = mapped_column(Text)
    source_contact: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(String(8))
    n_mandates: Mapped[int | None] = mapped_column(Integer)
    last_incident_date: Mapped[dt.date | None] = mapped_column(Date)
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    status_at: Mapped[dt.date | None] = mapped_column(Date)
    #: sha256 of the normalised row at intake, so re-ingesting a file adds nothing.
    content_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    source_file: Mapped[str | None] = mapped_column(Text)


class StatusEvent(Base):
    """One step of a submission's lifecycle, with the selection run that decided it."""

    __tablename__ = "status_history"
    __table_args__ = (Index("ix_status_history_submission", "submission_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(String(64), ForeignKey("submissions.submission_id"))
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.date | None] = mapped_column(Date)
    run_id: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class IntakeFile(Base):
    """One ingested file: its hash and the reconciled counts (never its sensitive content)."""

    __tablename__ = "intake_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    ingested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    n_read: Mapped[int] = mapped_column(Integer)
    n_accepted: Mapped[int] = mapped_column(Integer)
    n_quarantined: Mapped[int] = mapped_column(Integer)
    n_added: Mapped[int] = mapped_column(Integer)
