"""Loading a history into the registry: round trip, idempotence, lifecycle reconstruction."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from triage.errors import TriageError
from triage.registry import Registry
from triage.schema import read_history

pytestmark = pytest.mark.postgres

FRAMES = ("communications", "cases", "outcomes", "queue", "truth", "submissions")


def _loaded(db_url: str, directory: Path) -> Registry:
    registry = Registry(db_url).init()
    registry.load_history(directory)
    return registry


def test_new_registry_is_empty_and_loading_fills_it(db_url: str, mini_history: Path) -> None:
    registry = Registry(db_url)
    assert registry.is_empty()  # before init: no tables at all
    registry.init()
    assert registry.is_empty()
    summary = registry.load_history(mini_history)
    assert not registry.is_empty()
    assert summary.added["communications"] == 4
    assert summary.added["cases"] == 5
    assert summary.added["submissions"] == 8
    assert summary.added["queue"] == 3
    assert summary.simulated
    assert "SIMULATED" in str(summary)
    registry.dispose()


def test_history_round_trip_is_identical_to_read_history(db_url: str, mini_history: Path) -> None:
    registry = _loaded(db_url, mini_history)
    from_db = registry.history()
    from_files = read_history(mini_history)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(from_db, name), getattr(from_files, name))
    assert from_db.simulated is from_files.simulated is True
    registry.dispose()


def test_loading_twice_adds_nothing(db_url: str, mini_history: Path) -> None:
    registry = _loaded(db_url, mini_history)
    before = registry.counts()
    again = registry.load_history(mini_history)
    assert again.total_added == 0
    assert sum(again.skipped.values()) > 0
    assert registry.counts() == before
    registry.dispose()


def test_real_history_without_truth_or_optional_files(
    db_url: str, mini_history: Path, tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    for name in ("communications", "cases", "outcomes"):
        (real / f"{name}.csv").write_bytes((mini_history / f"{name}.csv").read_bytes())
    registry = _loaded(db_url, real)
    history = registry.history()
    assert history.truth is None and history.queue is None and history.submissions is None
    assert history.simulated is False
    pd.testing.assert_frame_equal(history.cases, read_history(real).cases)
    registry.dispose()


def test_lifecycle_is_reconstructed_for_every_historical_submission(
    db_url: str, mini_history: Path
) -> None:
    registry = _loaded(db_url, mini_history)
    # Case with a reply and an outcome: the full lifecycle, in order.
    steps = registry.status_history("S000001")
    assert steps["status"].tolist() == [
        "received",
        "eligible",
        "selected",
        "communication_sent",
        "reply_received",
        "outcome_recorded",
    ]
    assert steps["at"].is_monotonic_increasing
    # Eligible but not taken up: stays registered as not selected.
    assert registry.status_of("S000004") == "not_selected"
    assert registry.status_of("S000005") == "ineligible"
    assert registry.status_of("S000008") == "received"  # eligibility unknown
    # A reply but no outcome observed.
    assert registry.status_of("S000002") == "reply_received"
    # No reply, yet an outcome: the reply step is skipped.
    assert "reply_received" not in registry.status_history("S000003")["status"].tolist()
    assert registry.status_of("S000003") == "outcome_recorded"
    counts = registry.status_counts()
    assert sum(counts.values()) == 11
    assert list(counts) == [s for s in counts]  # lifecycle order, not alphabetical
    registry.dispose()


def test_queue_holds_eligible_submissions_awaiting_a_decision(
    db_url: str, mini_history: Path
) -> None:
    registry = _loaded(db_url, mini_history)
    queue = registry.queue()
    expected = read_history(mini_history).queue
    pd.testing.assert_frame_equal(queue, expected)
    registry.advance("Q00002", "selected", run_id="run-1")
    assert registry.queue()["case_id"].tolist() == ["Q00001", "Q00003"]
    registry.dispose()


def test_load_missing_folder_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    registry = Registry(db_url).init()
    with pytest.raises(TriageError, match="no such history folder"):
        registry.load_history(tmp_path / "nowhere")
    registry.dispose()


def test_load_before_init_is_a_clear_error(tmp_path: Path, mini_history: Path) -> None:
    registry = Registry(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(TriageError, match="triage db init"):
        registry.load_history(mini_history)


def test_default_url_is_the_sqlite_file_in_var(tmp_path: Path) -> None:
    registry = Registry()
    assert registry.engine.dialect.name == "sqlite"
    assert registry.url.endswith("triage.db")
    registry.init()
    assert Path(registry.url.removeprefix("sqlite:///")).exists()


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(TriageError, match="cannot open the registry"):
        Registry("nosuchdialect://x")
    with pytest.raises(ValueError, match="`url` must be"):
        Registry(42)  # type: ignore[arg-type]


def test_unreachable_or_uninitialised_registry_is_one_clear_error(tmp_path: Path) -> None:
    fresh = Registry(f"sqlite:///{tmp_path / 'fresh.db'}")
    with pytest.raises(TriageError, match="triage db init"):
        fresh.history()
    with pytest.raises(TriageError, match="triage db init"):
        fresh.queue()
    down = Registry("postgresql://postgres@127.0.0.1:1/nothing")  # nothing listens on port 1
    assert down.engine.dialect.driver == "psycopg"
    with pytest.raises(TriageError, match="database server is running"):
        down.init()


def test_database_errors_never_show_row_values(tmp_path: Path) -> None:
    import datetime as dt

    from sqlalchemy import insert

    from triage.registry import Submission

    registry = Registry(f"sqlite:///{tmp_path / 'r.db'}").init()
    row = {
        "submission_id": "X1",
        "origin": "intake",
        "status": "received",
        "received_date": dt.date(2016, 1, 1),
        "defender_name": "Secret Person",
    }
    with registry.engine.begin() as conn:
        conn.execute(insert(Submission), [row])
    try:
        with registry.engine.begin() as conn:
            conn.execute(insert(Submission), [row])  # unique id: IntegrityError
    except Exception as exc:
        assert "Secret Person" not in str(exc)
    else:
        raise AssertionError("a duplicate id must be refused by the database")
