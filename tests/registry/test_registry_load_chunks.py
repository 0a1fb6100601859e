"""Loading a history with its submissions and queue in chunks: the same rows as one chunk, one
chunk held at a time, faults refused with the whole file's message and nothing written, large
files read whole refused before reading."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import triage.registry._load as load_module
import triage.registry._load_rows as load_rows
from triage.errors import InputFileError
from triage.registry import Registry
from triage.registry._models import Base, Individual
from triage.schema import Queue, read_chunks, read_history

pytestmark = pytest.mark.postgres

#: When the load ran, not what it loaded.
_LOAD_TIMES = {"recorded_at"}
#: Two more queued rows: P0102 again (its blank name filled from this later row) and a new
#: person with no gender, so people span chunks.
_MORE_QUEUE = (
    "Q00004,2017-04-01,P0102,Simulated Person Gamma,,KEN,african,man,,,,UA,1,\n"
    "Q00005,2017-05-02,P0103,,,BRA,latin_american_caribbean,,,,,AL,2,\n"
)


@pytest.fixture
def history(mini_history: Path, tmp_path: Path) -> Path:
    """The mini history with two more queued rows (five in all)."""
    folder = tmp_path / "history"
    shutil.copytree(mini_history, folder)
    with (folder / "queue.csv").open("a", encoding="utf-8") as fh:
        fh.write(_MORE_QUEUE)
    return folder


def _tables(registry: Registry) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows ordered by primary key, without the load's own timestamps."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with registry.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if c.name not in _LOAD_TIMES]
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(*cols).order_by(*order))]
    return out


def _load(url: str, folder: Path, chunk_rows: int) -> tuple[Registry, Any]:
    registry = Registry(url).init()
    return registry, registry.load_history(folder, chunk_rows=chunk_rows)


@pytest.mark.parametrize("chunk_rows", [1, 2])
def test_chunks_give_the_rows_of_one_chunk(
    db_url: str, history: Path, tmp_path: Path, chunk_rows: int
) -> None:
    whole, whole_summary = _load(f"sqlite:///{tmp_path / 'whole.db'}", history, 10**6)
    chunked, summary = _load(db_url, history, chunk_rows)
    expected = _tables(whole)
    assert len(expected["submissions"]) == 8 + 5
    assert _tables(chunked) == expected
    assert summary.added == whole_summary.added
    assert summary.skipped == whole_summary.skipped
    # Loading again adds nothing and counts each person once, whatever the chunks.
    again, again_whole = (
        chunked.load_history(history, chunk_rows=chunk_rows),
        whole.load_history(history),
    )
    assert again.total_added == 0
    assert again.skipped == again_whole.skipped
    assert _tables(chunked) == expected
    whole.dispose()
    chunked.dispose()


def test_a_person_is_completed_by_later_rows_never_overwritten(db_url: str, history: Path) -> None:
    registry, _ = _load(db_url, history, 1)
    with registry.engine.connect() as conn:
        people = {
            r.individual_id: r
            for r in conn.execute(select(Individual)).all()
            if r.individual_id in ("P0001", "P0102", "P0103")
        }
    # P0001's gender is the case's (woman), its name comes from the queue.
    assert people["P0001"].gender == "woman"
    assert people["P0001"].defender_name is not None
    # P0102's name was blank in its first queued row and given in a later chunk.
    assert people["P0102"].defender_name == "Simulated Person Gamma"
    assert people["P0102"].gender == "unknown"
    assert people["P0103"].gender is None
    # First appearance decides the order: cases and submissions before the queue's new people.
    with registry.engine.connect() as conn:
        order = list(conn.execute(select(Individual.individual_id).order_by(Individual.id)))
    assert [r[0] for r in order][-2:] == ["P0102", "P0103"]
    registry.dispose()


def test_submissions_and_queue_are_written_one_chunk_at_a_time(
    db_url: str, history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[tuple[str, int]] = []
    asked: list[int] = []
    insert, present = load_rows.bulk_insert, load_rows.present

    def counting_insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
        sizes.append((table.__tablename__, len(rows)))
        insert(conn, table, rows)

    def counting_present(conn: Any, column: Any, keys: Any, *extra: Any) -> dict[Any, Any]:
        keys = list(keys)
        asked.append(len(keys))
        return present(conn, column, keys, *extra)

    monkeypatch.setattr(load_rows, "bulk_insert", counting_insert)
    monkeypatch.setattr(load_rows, "present", counting_present)
    registry, summary = _load(db_url, history, 2)
    assert (summary.added["submissions"], summary.added["queue"]) == (8, 5)
    # Eight historical submissions, then five queued: two rows at a time.
    assert [n for table, n in sizes if table == "submissions"] == [2, 2, 2, 2, 2, 2, 1]
    # Two steps per queued submission, written with it.
    assert [n for table, n in sizes if table == "status_history"][-3:] == [4, 4, 2]
    # After the people of cases.csv (read whole), no look-up is wider than a chunk.
    assert asked[0] > 2
    assert max(asked[1:]) <= 2
    registry.dispose()


def test_read_chunks_counts_rows_over_the_file(history: Path) -> None:
    chunks = list(read_chunks(history / "queue.csv", Queue, "case_id", 2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [list(c.index) for c in chunks] == [[0, 1], [2, 3], [4]]
    whole = read_history(history).queue
    assert whole is not None
    assert list(whole["case_id"]) == [v for c in chunks for v in c["case_id"]]


def test_keys_sharing_a_hash_are_told_apart_and_a_repeat_still_refused(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import triage.schema._history as history_module

    # Every key hashes alike: each chunk meets "its" hash again, and only the keys decide.
    real = history_module.pd.util.hash_pandas_object

    def colliding(values: Any, **kwargs: Any) -> Any:
        return real(values, **kwargs) * np.uint64(0)

    monkeypatch.setattr(history_module.pd.util, "hash_pandas_object", colliding)
    chunks = list(read_chunks(history / "queue.csv", Queue, "case_id", 2))
    assert sum(len(c) for c in chunks) == 5
    with (history / "queue.csv").open("a", encoding="utf-8") as fh:
        fh.write("Q00002,2017-06-01,P0104,,,KEN,african,man,,,,UA,1,\n")
    with pytest.raises(InputFileError, match="case_id"):
        list(read_chunks(history / "queue.csv", Queue, "case_id", 2))


@pytest.mark.parametrize(
    ("name", "fault", "needle"),
    [
        ("queue", "Q00006,2017-13-40,P0104,,,KEN,african,man,,,,UA,1,\n", "row 7, column received"),
        ("queue", "Q00001,2017-06-01,P0104,,,KEN,african,man,,,,UA,1,\n", "column case_id"),
        ("queue", "Q00006,2017-06-01,P0104,,,KEN,african,man,,,,UA,one,\n", "column n_mandates"),
        ("submissions", "S000002,2016-01-01,P0105,MEX,,,,,,true,\n", "column submission_id"),
        ("submissions", "S000009,2016-02-30,P0105,MEX,,,,,,true,\n", "row 10, column received"),
    ],
    ids=["bad-date", "repeated-key", "bad-number", "repeated-submission", "bad-submission-date"],
)
def test_a_fault_in_a_later_chunk_is_the_whole_file_message_and_adds_nothing(
    db_url: str, history: Path, name: str, fault: str, needle: str
) -> None:
    with (history / f"{name}.csv").open("a", encoding="utf-8") as fh:
        fh.write(fault)
    with pytest.raises(InputFileError) as whole:
        read_history(history)
    registry = Registry(db_url).init()
    with pytest.raises(InputFileError) as chunked:
        registry.load_history(history, chunk_rows=2)
    assert str(chunked.value) == str(whole.value)
    assert needle in str(chunked.value)
    assert "\n" not in str(chunked.value)
    assert registry.is_empty()  # the one transaction rolled back: chunks already written too
    registry.dispose()


def test_a_queue_without_a_column_is_refused_before_any_row(db_url: str, history: Path) -> None:
    queue = history / "queue.csv"
    lines = queue.read_text(encoding="utf-8").splitlines()
    queue.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n", "utf-8")
    registry = Registry(db_url).init()
    with pytest.raises(InputFileError, match="missing required column"):
        registry.load_history(history, chunk_rows=2)
    assert registry.is_empty()
    registry.dispose()


def test_a_history_file_too_large_to_read_whole_is_refused_before_reading(
    db_url: str, history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load_module, "MAX_WHOLE_FILE_BYTES", 10)
    registry = Registry(db_url).init()
    with pytest.raises(InputFileError) as refused:
        registry.load_history(history)
    message = str(refused.value)
    assert "\n" not in message
    size = (history / "cases.csv").stat().st_size
    assert f"cases.csv: {size:,} bytes" in message and "at most 10 bytes" in message
    assert registry.is_empty()
    registry.dispose()


def test_streamed_files_are_not_held_to_the_whole_file_limit(
    db_url: str, history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    streamed = ("submissions.csv", "queue.csv")
    largest = max(p.stat().st_size for p in history.glob("*.csv") if p.name not in streamed)
    with (history / "queue.csv").open("a", encoding="utf-8") as fh:
        for i in range(100):
            fh.write(f"Q1{i:04d},2017-06-01,P1{i:04d},,,KEN,african,man,,,,UA,1,\n")
    assert all((history / name).stat().st_size > largest for name in streamed)
    monkeypatch.setattr(load_module, "MAX_WHOLE_FILE_BYTES", largest)
    registry = Registry(db_url).init()
    assert registry.load_history(history, chunk_rows=16).added["queue"] == 105
    registry.dispose()
