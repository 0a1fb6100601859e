"""The generator's own output: the registry round trip and intake both take it without a loss."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from triage.intake import ingest_file
from triage.registry import Registry
from triage.schema import read_history

pytestmark = pytest.mark.postgres

FRAMES = ("communications", "cases", "outcomes", "queue", "truth", "submissions")


def test_generated_history_round_trip(db_url: str, small_history_dir: Path) -> None:
    registry = Registry(db_url).init()
    summary = registry.load_history(small_history_dir)
    files = read_history(small_history_dir)
    assert summary.added["cases"] == len(files.cases)
    assert summary.added["submissions"] == len(files.submissions)  # type: ignore[arg-type]
    back = registry.history()
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(files, name))
    assert registry.load_history(small_history_dir).total_added == 0
    # Every submission is remembered, taken up or not, with a lifecycle that ends where the
    # files say: eligible-not-taken-up submissions stay registered as not selected.
    counts = registry.status_counts()
    subs = files.submissions
    assert subs is not None
    assert sum(counts.values()) == len(subs) + len(files.queue)  # type: ignore[arg-type]
    not_taken = int((subs["eligible"].fillna(False) & subs["case_id"].isna()).sum())
    assert counts.get("not_selected", 0) == not_taken
    assert counts.get("ineligible", 0) == int((subs["eligible"] == False).sum())  # noqa: E712
    assert counts.get("eligible", 0) == len(files.queue)  # type: ignore[arg-type]
    # Within each submission, the steps' dates never go backwards.
    steps = registry.status_history()
    same = steps["submission_id"].eq(steps["submission_id"].shift())
    assert not (same & (steps["at"].diff() < pd.Timedelta(0))).any()
    registry.dispose()


@pytest.mark.parametrize("name", ["queue", "submissions", "cases", "communications"])
def test_generated_files_are_accepted_whole(small_history_dir: Path, name: str) -> None:
    result = ingest_file(small_history_dir / f"{name}.csv", today=dt.date(2024, 1, 1))
    assert result.n_quarantined == 0, result.quarantine["reason"].head().tolist()
    assert result.read == result.n_accepted > 0
