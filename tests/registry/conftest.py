"""Registry fixtures: every registry test runs on SQLite and, when TRIAGE_TEST_PG_URL is set,
on PostgreSQL too. In CI (CI=true) a missing PostgreSQL URL is a failure, not a skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from triage.config import project_root

MINI_HISTORY = project_root() / "data" / "fixtures" / "history_mini"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A clean, empty registry database URL (tables dropped before and after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    url = os.environ.get("TRIAGE_TEST_PG_URL")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "CI=true but TRIAGE_TEST_PG_URL is not set: the PostgreSQL run is required."
            )
        pytest.skip("TRIAGE_TEST_PG_URL is not set (PostgreSQL registry tests skipped)")
    from triage.registry import Base, Registry

    registry = Registry(url)
    registry.init()  # imports every module's tables so drop_all sees them all
    Base.metadata.drop_all(registry.engine)
    registry.dispose()
    yield url
    registry = Registry(url)
    Base.metadata.drop_all(registry.engine)
    registry.dispose()


@pytest.fixture
def mini_history() -> Path:
    """The tiny hand-made history in the exact contract format."""
    return MINI_HISTORY
