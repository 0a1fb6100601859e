"""Intake into the registry: every accepted row is remembered once; lifecycles start right."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from triage.config import project_root
from triage.intake import ingest_file
from triage.registry import Registry

pytestmark = pytest.mark.postgres

FIXTURES = project_root() / "data" / "fixtures" / "intake"
TODAY = dt.date(2024, 6, 1)


def test_reingesting_the_same_file_adds_nothing(db_url: str) -> None:
    registry = Registry(db_url).init()
    first = ingest_file(FIXTURES / "intake_40.csv", registry=registry, today=TODAY)
    assert (first.added, first.already_present) == (34, 0)
    counts = registry.counts()
    again = ingest_file(FIXTURES / "intake_40.csv", registry=registry, today=TODAY)
    assert (again.added, again.already_present) == (0, 34)
    assert registry.counts() == counts
    # The same rows in another format are recognised too.
    log = registry.intake_log()
    assert log["n_read"].tolist() == [40, 40]
    assert log["n_added"].tolist() == [34, 0]
    assert "file_name" in log and "Simulated" not in log.to_string()
    registry.dispose()


def test_ingested_submissions_start_their_lifecycle(db_url: str) -> None:
    registry = Registry(db_url, clock=lambda: dt.datetime(2024, 6, 1, tzinfo=dt.UTC)).init()
    ingest_file(FIXTURES / "intake_40.csv", registry=registry, today=TODAY)
    # S0001: eligible, never sent: waits in the queue.
    assert registry.status_of("S0001") == "eligible"
    # S0003: sent, no reply; S0006: sent and replied (decided before intake).
    assert registry.status_history("S0003")["status"].tolist() == [
        "received",
        "eligible",
        "selected",
        "communication_sent",
    ]
    steps = registry.status_history("S0006")
    assert steps["status"].tolist()[-1] == "reply_received"
    assert steps["run_id"].isna().all()  # decided before the registry: no made-up run
    assert "imported from intake_40.csv" in steps["note"].iloc[2]
    queue = registry.queue()
    assert "S0001" in set(queue["case_id"]) and "S0003" not in set(queue["case_id"])
    # Quarantined rows are not registered.
    assert registry.status_of("S0005") is None
    registry.dispose()


def test_queue_file_goes_into_the_selection_queue_with_names_stored(db_url: str) -> None:
    registry = Registry(db_url).init()
    ingest_file(FIXTURES / "good_queue.csv", registry=registry, today=TODAY)
    queue = registry.queue()
    assert len(queue) == 12
    assert queue.set_index("case_id").loc["G001", "defender_name"] == "Simulated Person One"
    history = registry.history()
    assert history.queue is not None and len(history.queue) == 12
    registry.dispose()


def test_received_only_keeps_submissions_out_of_the_queue(db_url: str) -> None:
    registry = Registry(db_url).init()
    ingest_file(FIXTURES / "good_queue.csv", registry=registry, today=TODAY, assume_eligible=False)
    assert registry.queue().empty
    assert registry.status_counts() == {"received": 12}
    registry.dispose()


def test_ohchr_export_and_cases_register_communications(db_url: str, mini_history: Path) -> None:
    registry = Registry(db_url).init()
    result = ingest_file(FIXTURES / "ohchr_export.xlsx", registry=registry, today=TODAY)
    assert result.added == 10
    comms = registry.history().communications.set_index("communication_id")
    assert comms.loc["UA BHR 3/2016", "n_individuals"] == 3
    assert comms.loc["UA BHR 3/2016", "reply_class"] == "content_unknown"
    assert registry.counts()["replies"] == 6
    # A cases file whose communications are unknown: minimal communications keep the link,
    # and the full record replaces them when it arrives.
    cases = ingest_file(mini_history / "cases.csv", registry=registry, today=TODAY)
    assert cases.added == 5
    assert ingest_file(mini_history / "cases.csv", registry=registry, today=TODAY).added == 0
    assert registry.counts()["cases"] == 5
    before = registry.history().communications.set_index("communication_id")
    assert before.loc["C0001", "type"] != before.loc["C0001", "type"]  # NaN: a minimal row
    ingest_file(mini_history / "communications.csv", registry=registry, today=TODAY)
    after = registry.history().communications.set_index("communication_id")
    assert after.loc["C0001", "type"] == "UA"
    assert len(after) == 14
    registry.dispose()


def test_changed_content_under_a_known_id_is_quarantined(db_url: str, tmp_path: Path) -> None:
    registry = Registry(db_url).init()
    first = tmp_path / "first.csv"
    first.write_text(
        "case_id,received_date,country\nA1,2016-01-01,FRA\nA2,2016-01-02,KEN\n", "utf-8"
    )
    ingest_file(first, registry=registry, today=TODAY)
    second = tmp_path / "second.csv"
    second.write_text(
        "case_id,received_date,country\nA1,2016-01-01,FRA\nA2,2016-01-03,KEN\n", "utf-8"
    )
    result = ingest_file(second, registry=registry, today=TODAY)
    assert (result.read, result.n_accepted, result.n_quarantined) == (2, 1, 1)
    assert (result.added, result.already_present) == (0, 1)
    (reason,) = result.quarantine["reason"]
    assert reason.startswith("row 3, column case_id: submission A2 is already registered by an")
    assert "column(s) received_date differ" in reason and "2016-01-03" not in reason
    assert registry.queue().set_index("case_id").loc["A2", "received_date"] == pd.Timestamp(
        "2016-01-02"
    )
    registry.dispose()


def test_new_content_under_a_history_id_is_quarantined(
    db_url: str, mini_history: Path, tmp_path: Path
) -> None:
    registry = Registry(db_url).init()
    registry.load_history(mini_history)
    subs = pd.read_csv(mini_history / "submissions.csv", dtype=str, keep_default_na=False)
    changed = subs.head(2).copy()
    changed["country"] = ["NOR" if c != "NOR" else "FRA" for c in changed["country"]]
    changed["un_region"] = ""
    path = tmp_path / "changed.csv"
    changed.to_csv(path, index=False)
    result = ingest_file(path, registry=registry, today=TODAY)
    assert (result.n_accepted, result.n_quarantined, result.added) == (0, 2, 0)
    assert result.quarantine["reason"].str.contains("already registered from the history").all()
    same = tmp_path / "same.csv"
    subs.head(2).to_csv(same, index=False)
    again = ingest_file(same, registry=registry, today=TODAY)
    assert (again.n_quarantined, again.added, again.already_present) == (0, 0, 2)
    registry.dispose()


def test_submissions_that_became_cases_are_not_queued(db_url: str, mini_history: Path) -> None:
    registry = Registry(db_url).init()
    result = ingest_file(mini_history / "submissions.csv", registry=registry, today=TODAY)
    assert result.added == 8
    assert registry.status_of("S000001") == "selected"  # became case K00001
    assert registry.status_of("S000005") == "ineligible"
    assert registry.status_of("S000008") == "received"  # eligibility blank: not assessed yet
    assert set(registry.queue()["case_id"]) == {"S000004"}  # eligible, no case: awaiting
    registry.dispose()
