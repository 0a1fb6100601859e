"""A candidate table is judged by its one contract (``triage.schema.Candidates``), and every
refusal names the file, the line, the case, the column and why, as a spreadsheet user reads it."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.allocate import prepare_candidates
from triage.allocate._synthetic import random_candidates
from triage.errors import InputFileError
from triage.schema import Candidates, coerce

#: Cells each column's contract refuses, and a word of the reason given for them.
BAD = {
    "score": [("high", "finite"), ("nan", "finite"), ("1.5", "probability"), ("-0.1", "prob")],
    "country": [("XYZ", "ISO 3166"), ("12", "ISO 3166")],
    "un_region": [("europe", "UN regional group")],
    "gender": [("w", "one of")],
    "violations": [("detention;jail", "unknown code 'jail'")],
}


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 30),
    seed=st.integers(0, 10_000),
    column=st.sampled_from(sorted(BAD)),
    pick=st.integers(0, 3),
    where=st.floats(0, 1, exclude_max=True),
)
def test_one_bad_cell_is_named_by_line_case_and_column(
    n: int, seed: int, column: str, pick: int, where: float
) -> None:
    frame = random_candidates(n, seed=seed).astype(str)  # as read from a CSV
    row = int(where * n)
    value, word = BAD[column][pick % len(BAD[column])]
    frame.loc[row, column] = value
    if column == "un_region":
        frame.loc[row, "country"] = ""  # no country to contradict it: the region alone is wrong
    with pytest.raises(InputFileError) as info:
        prepare_candidates(frame, source="c.csv")
    message = info.value.message
    assert message.startswith("c.csv: ")
    assert f"line {row + 2} (case_id {frame.loc[row, 'case_id']}), column {column}" in message
    assert word in message


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 10_000))
def test_what_prepare_candidates_accepts_the_contract_accepts(n: int, seed: int) -> None:
    frame = random_candidates(n, seed=seed).astype(str)
    frame["gender"] = frame["gender"].str.upper()  # spelling is forgiven, then judged
    out = prepare_candidates(frame)
    assert out["case_id"].tolist() == sorted(frame["case_id"])
    checked = coerce(out.loc[:, list(frame.columns)].astype({"violations": str}), Candidates)
    assert checked["score"].between(0, 1).all()


def test_a_repeated_case_is_named_at_its_second_line_only() -> None:
    frame = random_candidates(6, seed=2).astype(str)
    frame.loc[4, "case_id"] = frame.loc[1, "case_id"]
    with pytest.raises(InputFileError) as info:
        prepare_candidates(frame, source="c.csv")
    assert "line 6" in info.value.message and "line 3" not in info.value.message
    assert "appears more than once" in info.value.message


def test_several_bad_rows_are_counted_beyond_the_three_shown() -> None:
    frame = random_candidates(10, seed=4).astype(str)
    frame["score"] = "2"
    with pytest.raises(InputFileError, match=r"\(7 more rows like this\)"):
        prepare_candidates(pd.DataFrame(frame), source="c.csv")
