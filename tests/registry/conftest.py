"""Registry fixtures: every registry test runs on SQLite and, when TRIAGE_TEST_PG_URL is set,
on PostgreSQL too (tests/conftest.py's ``registry_url``). In CI (CI=true) a missing
PostgreSQL URL is a failure, not a skip. ``mini_history`` is in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def db_url(registry_url: str) -> str:
    """A clean, empty registry database URL (tests/conftest.py's ``registry_url``)."""
    return registry_url
