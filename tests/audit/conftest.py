"""Audit fixtures: a small registry with a queue of named (fake) defenders and fake model parts."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import (
    FOLLOWUP_FIXTURE,
    FakeScorer,
    fake_allocate,
    fake_explain,
    fake_policy,
    make_queue,
)


@pytest.fixture
def history_with_queue(tmp_path: Path) -> Path:
    folder = tmp_path / "history"
    folder.mkdir()
    for name in ("communications.csv", "cases.csv", "outcomes.csv"):
        shutil.copy(FOLLOWUP_FIXTURE / name, folder / name)
    make_queue(60).to_csv(folder / "queue.csv", index=False)
    return folder


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text("capacity = 20\nmin_women = 8\n", encoding="utf-8")
    return path


@pytest.fixture
def registry(tmp_path: Path, history_with_queue: Path) -> Any:
    from triage.registry import Registry

    reg = Registry(f"sqlite:///{tmp_path / 'audit.db'}").init()
    reg.load_history(history_with_queue)
    yield reg
    reg.dispose()


@pytest.fixture
def fakes() -> dict[str, Any]:
    return {
        "scorer": FakeScorer(),
        "allocator": fake_allocate,
        "explainer": fake_explain,
        "policy_parser": fake_policy,
    }
