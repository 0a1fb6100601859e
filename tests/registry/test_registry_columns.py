"""Column-wise reads: the driver's raw cells (SQLite's dates as text, booleans as 0/1) give the
same typed frames as SQLAlchemy's converted rows; the cycle collector comes back on."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from typing import Any

import pandas as pd
import pytest

from triage._gc import gc_paused
from triage.errors import TriageError
from triage.registry._rows import typed_columns, typed_frame

COLUMNS = ("case_id", "received_date", "protester", "n_mandates", "country")


def test_raw_cells_give_the_frame_of_converted_rows() -> None:
    converted: list[dict[str, Any]] = [
        {
            "case_id": "C1",
            "received_date": dt.date(2016, 1, 2),
            "protester": True,
            "n_mandates": 3,
            "country": "FRA",
        },
        {
            "case_id": "C2",
            "received_date": None,
            "protester": False,
            "n_mandates": None,
            "country": None,
        },
        {
            "case_id": 7,  # a number in a text column is read as its text
            "received_date": dt.date(2016, 12, 31),
            "protester": None,
            "n_mandates": 1,
            "country": "KEN",
        },
    ]
    raw = {
        "case_id": ("C1", "C2", 7),
        "received_date": ("2016-01-02", None, "2016-12-31 00:00:00"),
        "protester": (1, 0, None),
        "n_mandates": (3, None, 1),
        "country": ("FRA", None, "KEN"),
    }
    expected = typed_frame(converted, COLUMNS)
    got = typed_columns(raw, COLUMNS)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["case_id"].tolist() == ["C1", "C2", "7"]
    assert got["country"].isna().tolist() == [False, True, False]
    empty = typed_columns({c: () for c in COLUMNS}, COLUMNS)
    pd.testing.assert_frame_equal(empty, typed_frame([], COLUMNS), check_exact=True)


def test_gc_paused_restores_the_collector_across_threads() -> None:
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        with gc_paused():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=other)
    with gc_paused():
        worker.start()
        inside.wait(10)
        assert not gc.isenabled()
    # The other thread's block is still open: the collector stays off until it leaves.
    assert not gc.isenabled()
    release.set()
    worker.join(10)
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("column", "cell", "words"),
    [
        ("received_date", "garbage!", "not a date (YYYY-MM-DD)"),
        ("protester", "yes!", "not true or false"),
        ("protester", 2, "not true or false"),
        ("n_mandates", "three", "not a whole number"),
    ],
)
def test_a_cell_written_around_triage_is_one_line_naming_column_and_case(
    column: str, cell: Any, words: str
) -> None:
    # An attacker or a broken tool wrote the database: refused, never read as true or as text.
    values: dict[str, list[Any]] = {
        "case_id": ["C1", "C2", "C3"],
        "received_date": ["2016-01-02", "2016-01-03", "2016-01-04"],
        "protester": [1, 0, None],
        "n_mandates": [1, 2, 3],
        "country": ["FRA", "KEN", "MEX"],
    }
    values[column][1] = cell
    with pytest.raises(TriageError) as caught:
        typed_columns(values, COLUMNS)
    message = str(caught.value)
    assert f"column {column} holds a value that is {words}" in message
    assert "1 cell, the first at case_id C2" in message
    if isinstance(cell, str):
        assert cell not in message  # the value is never repeated
    assert "\n" not in message
