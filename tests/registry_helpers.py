"""Helpers for tests that need a registry loaded from a history folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["loaded_registry"]


@contextmanager
def loaded_registry(db_file: Path, history: Path) -> Iterator[Any]:
    """Yield a SQLite registry at ``db_file`` loaded from the history folder ``history``;
    dispose of its engine afterwards."""
    from triage.registry import Registry

    registry = Registry(f"sqlite:///{db_file}").init()
    registry.load_history(history)
    try:
        yield registry
    finally:
        registry.dispose()
