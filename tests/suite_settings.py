"""The suite's settings, imported by tests/conftest.py: hypothesis profiles, xdist workers' databases.

Kept out of conftest.py so that tests can import them (``from suite_settings import ...``).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

__all__ = [
    "CI_SCALE",
    "hypothesis_profile",
    "property_settings",
    "scale_examples",
    "worker_database_url",
]

#: How many times more examples the ``ci`` profile runs than a test's own ``@settings`` says.
CI_SCALE = 3

settings.register_profile("fast", deadline=None, max_examples=50)
settings.register_profile("ci", deadline=None, max_examples=300, print_blob=True)


def hypothesis_profile() -> str:
    """Return the profile to load: ``HYPOTHESIS_PROFILE``, else ``ci`` under ``CI=true``."""
    chosen = os.environ.get("HYPOTHESIS_PROFILE")
    if chosen:
        return chosen
    return "ci" if os.environ.get("CI", "").lower() == "true" else "fast"


settings.load_profile(hypothesis_profile())


def property_settings(max_examples: int) -> settings:
    """Return ``@settings`` for a property test with fixtures: ``max_examples`` examples (scaled
    under ``ci``), no deadline, and no health check against function-scoped fixtures."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


def slow_property_settings(max_examples: int) -> settings:
    """Return ``@settings`` for a property test whose examples are slow to draw or run (an
    integer program each): ``max_examples`` examples, no deadline, no ``too_slow`` health check."""
    return settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def scale_examples(items: list[pytest.Item]) -> None:
    """Under the ``ci`` profile, multiply each property test's own ``max_examples``."""
    seen: set[int] = set()
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if test is None or own is None or id(test) in seen:
            continue
        seen.add(id(test))
        # A test without its own count already runs the profile's (own is the profile itself).
        if own.max_examples >= settings.default.max_examples:
            continue
        scaled = own.max_examples * CI_SCALE
        test._hypothesis_internal_use_settings = settings(own, max_examples=scaled)  # type: ignore[attr-defined]


def worker_database_url(url: str, worker: str) -> str:
    """Return ``url`` with its database renamed ``<database>_<worker>``, creating it if missing.

    Parameters
    ----------
    url : str
        A PostgreSQL SQLAlchemy URL (``postgresql+psycopg://user@host:port/name``).
    worker : str
        The pytest-xdist worker id (``gw0``...).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def postgres_url_or_skip(what: str) -> str:
    """``TRIAGE_TEST_PG_URL`` (this worker's database), or skip ``what`` without it.

    In CI (``CI=true``) a missing URL is a failure: the PostgreSQL runs are required there.
    """
    url = os.environ.get("TRIAGE_TEST_PG_URL")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "CI=true but TRIAGE_TEST_PG_URL is not set: the PostgreSQL run is required."
            )
        pytest.skip(f"TRIAGE_TEST_PG_URL is not set ({what} skipped)")
    return url
