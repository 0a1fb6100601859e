"""Invariants of loading: row order in the files does not matter; loading is idempotent."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.config import project_root
from triage.registry import Registry

MINI = project_root() / "data" / "fixtures" / "history_mini"
KEYS = {
    "communications": "communication_id",
    "cases": "case_id",
    "outcomes": "case_id",
    "truth": "case_id",
    "queue": "case_id",
    "submissions": "submission_id",
}


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key).reset_index(drop=True)


def _load(folder: Path) -> Registry:
    registry = Registry("sqlite://").init()
    registry.load_history(folder)
    return registry


BASE = _load(MINI)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), twice=st.booleans())
def test_row_order_of_the_files_does_not_matter(seed: int, twice: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in KEYS:
            frame = pd.read_csv(MINI / f"{name}.csv", dtype=str, keep_default_na=False)
            frame.sample(frac=1.0, random_state=seed % 2**32).to_csv(
                folder / f"{name}.csv", index=False
            )
        registry = _load(folder)
        if twice:
            assert registry.load_history(folder).total_added == 0
        shuffled, base = registry.history(), BASE.history()
        for name, key in KEYS.items():
            pd.testing.assert_frame_equal(
                _sorted(getattr(shuffled, name), key), _sorted(getattr(base, name), key)
            )
        assert registry.status_counts() == BASE.status_counts()
        steps = registry.status_history().sort_values(["submission_id", "at", "status"])
        expected = BASE.status_history().sort_values(["submission_id", "at", "status"])
        pd.testing.assert_frame_equal(steps.reset_index(drop=True), expected.reset_index(drop=True))
