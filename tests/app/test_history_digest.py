"""A history the app read earlier is reused for a recorded run only while it is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from triage.audit._session_run import _LoadedHistory
from triage.monitor import history_counts, history_digest
from triage.registry import Registry

#: One in-place edit per history table: (table, column, new value, key column, key).
EDITS = [
    ("communications", "reply_date", "2010-05-02", "communication_id", "C0001"),
    ("outcomes", "outcome", "much_better", "case_id", "K00001"),
    ("cases", "gender", "man", "case_id", "K00001"),
]


@pytest.fixture
def loaded(registry_url: str, mini_history: Path) -> Any:
    registry = Registry(registry_url).init()
    registry.load_history(mini_history)
    yield registry
    registry.dispose()


def _edit(registry: Any, table: str, column: str, value: str, key: str, at: str) -> None:
    with registry.engine.begin() as conn:
        changed = conn.execute(
            text(f"UPDATE {table} SET {column} = :v WHERE {key} = :k"), {"v": value, "k": at}
        )
        assert changed.rowcount == 1


@pytest.mark.parametrize(("table", "column", "value", "key", "at"), EDITS)
def test_an_edit_that_keeps_the_counts_makes_the_held_history_stale(
    loaded: Any, table: str, column: str, value: str, key: str, at: str
) -> None:
    counts, digest = history_counts(loaded), history_digest(loaded)
    held = loaded.history()
    assert _LoadedHistory(loaded, held, counts, digest).history() is held  # nothing changed
    _edit(loaded, table, column, value, key, at)
    assert history_counts(loaded) == counts
    assert history_digest(loaded) != digest
    # Counts alone miss the edit; with the digest the registry is read again.
    assert _LoadedHistory(loaded, held, counts).history() is held
    fresh = _LoadedHistory(loaded, held, counts, digest).history()
    assert fresh is not held
    assert history_digest(loaded) == history_digest(loaded)  # the same content, the same digest


def test_a_status_change_keeps_the_held_history(loaded: Any) -> None:
    counts, digest = history_counts(loaded), history_digest(loaded)
    held = loaded.history()
    with loaded.engine.begin() as conn:
        conn.execute(text("UPDATE submissions SET status = 'not_selected'"))
    assert history_digest(loaded) == digest
    assert _LoadedHistory(loaded, held, counts, digest).history() is held
