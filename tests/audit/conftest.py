"""Audit fixtures: a small registry with a queue of named (fake) defenders and fake model parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import (
    FakeScorer,
    fake_allocate,
    fake_explain,
    fake_policy,
    make_queue,
)
from registry_helpers import loaded_registry


@pytest.fixture
def history_with_queue(followup_history: Path) -> Path:
    make_queue(60).to_csv(followup_history / "queue.csv", index=False)
    return followup_history


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text("capacity = 20\nmin_women = 8\n", encoding="utf-8")
    return path


@pytest.fixture
def registry(tmp_path: Path, history_with_queue: Path) -> Any:
    with loaded_registry(tmp_path / "audit.db", history_with_queue) as reg:
        yield reg


@pytest.fixture
def fakes() -> dict[str, Any]:
    return {
        "scorer": FakeScorer(),
        "allocator": fake_allocate,
        "explainer": fake_explain,
        "policy_parser": fake_policy,
    }
