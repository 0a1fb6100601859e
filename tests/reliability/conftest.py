"""Fixtures of the reliability suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.config import project_root


@pytest.fixture
def mini_history() -> Path:
    """The small history folder of the registry tests (read only)."""
    return project_root() / "data" / "fixtures" / "history_mini"
