"""The Registry facade: one object that opens the database, loads a history and answers queries.

SQLite by default (``var/triage.db``), any SQLAlchemy URL through ``TRIAGE_DB_URL`` (PostgreSQL:
``postgresql+psycopg://user@host:port/db``). Bulk loads use Core ``insert`` with executemany,
never ORM objects, so the full simulated history loads in seconds.

Each job lives in its own module; :class:`Registry` puts them behind one object:

- ``_engine``: opening the database and translating driver errors;
- ``_load``: loading a history folder;
- ``_intake_writes``: registering what ``triage ingest`` accepted;
- ``_lifecycle_writes``: the lifecycle state machine's steps (rules in ``_lifecycle``);
- ``_followup_writes``: replies and outcomes recorded after the communication, with the reads
  their checks need;
- ``_queries``: read queries.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from triage.config import db_url
from triage.registry._engine import make_engine, reachable
from triage.registry._followup_writes import FollowupRecords
from triage.registry._intake_writes import IntakeWrites
from triage.registry._lifecycle_writes import LifecycleWrites, StatusChange
from triage.registry._load import Loading, LoadSummary
from triage.registry._models import Base
from triage.registry._queries import INCOMING_ORIGINS, Queries
from triage.registry._rows import typed_frame

__all__ = ["INCOMING_ORIGINS", "LoadSummary", "Registry", "StatusChange", "typed_frame"]


class Registry(Loading, IntakeWrites, LifecycleWrites, FollowupRecords, Queries):
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
        self.engine: Engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        """Open an ORM session (use as a context manager; commit explicitly)."""
        return self._sessions()

    @reachable
    def init(self) -> Registry:
        """Create every table of every imported module (registry, audit, ...) if missing."""
        try:
            importlib.import_module("triage.audit")
        except ModuleNotFoundError as exc:  # audit not built yet: its tables come later
            if exc.name not in ("triage.audit",):
                raise
        Base.metadata.create_all(self.engine)
        return self

    def dispose(self) -> None:
        """Close every pooled connection (tests and short-lived commands)."""
        self.engine.dispose()
