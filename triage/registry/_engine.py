"""The registry's engine: opening the database (SQLite pragmas, owner-only file, PostgreSQL
driver), translating driver errors into one readable line, and the base every part of the
:class:`~triage.registry.Registry` facade builds on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from triage.config import mask_secrets, mask_url
from triage.errors import TriageError

__all__ = ["ProgressCallback", "RegistryCore", "make_engine", "one_line", "reachable", "within"]

ProgressCallback = Callable[[int, int, str], None]


class RegistryCore:
    """What every part of the Registry facade relies on: the URL, the engine and the clock."""

    url: str
    engine: Engine
    _clock: Callable[[], dt.datetime]

    def __repr__(self) -> str:
        return f"Registry({self.engine.url.render_as_string(hide_password=True)!r})"


_F = TypeVar("_F", bound=Callable[..., Any])


def reachable(method: _F) -> _F:
    """Turn a database that cannot be reached, or tables that do not exist yet, into one clear
    TriageError instead of a driver traceback."""

    @functools.wraps(method)
    def wrapper(self: RegistryCore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            detail = mask_secrets(
                one_line(str(getattr(exc, "orig", exc))), self.engine.url.password or ""
            )
            hint = (
                " Run `triage db init` first."
                if "no such table" in detail or "does not exist" in detail
                else " Check TRIAGE_DB_URL and that the database server is running."
            )
            raise TriageError(f"the registry {self!r} cannot be used: {detail}.{hint}") from exc

    return wrapper  # type: ignore[return-value]


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
def within(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """Yield ``conn`` (the caller's open transaction) or a new transaction of ``engine``."""
    if conn is not None:
        yield conn
        return
    with engine.begin() as own:
        yield own


def one_line(text: str) -> str:
    """The first non-blank line of a driver's message (they run to several lines of SQL)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "").rstrip(".")


def _password_of(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password or ""
    except Exception:
        return ""


def make_engine(url: str) -> Engine:
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
        detail = mask_secrets(one_line(str(exc)), password)
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
