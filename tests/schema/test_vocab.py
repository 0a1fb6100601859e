"""The vocabulary: codes are snake_case, labelled once, and match the paper's categories."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from triage import schema
from triage.schema import (
    COMM_TYPES,
    GENDERS,
    ISSUE_AREAS,
    OUTCOMES,
    REPLY_CLASSES,
    UN_REGIONS,
    VIOLATIONS,
    codes_to_frame,
    label,
    split_codes,
)

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def test_paper_vocabulary_sizes() -> None:
    assert len(VIOLATIONS) == 17  # Figure 1
    assert len(ISSUE_AREAS) == 8
    assert set(GENDERS) == {"woman", "man", "unknown"}
    assert len(UN_REGIONS) == 5
    assert set(COMM_TYPES) == {"UA", "AL", "OL", "PR"}
    assert set(REPLY_CLASSES) == {
        "none",
        "immaterial",
        "rejection",
        "no_rejection",
        "content_unknown",
    }
    assert len(OUTCOMES) == 6


@pytest.mark.parametrize(
    "vocabulary", [VIOLATIONS, ISSUE_AREAS, GENDERS, UN_REGIONS, REPLY_CLASSES, OUTCOMES]
)
def test_codes_are_snake_case_with_unique_labels(vocabulary: dict[str, str]) -> None:
    for code in vocabulary:
        assert SNAKE.match(code), code
    labels = list(vocabulary.values())
    assert len(set(labels)) == len(labels)
    assert all(lab and lab[0].isupper() for lab in labels)


def test_label_falls_back_to_code() -> None:
    assert label("detention") == "Detention"
    assert label("not_a_code") == "not_a_code"


def test_split_codes_handles_blanks_and_spaces() -> None:
    assert split_codes("detention; trial;;") == ("detention", "trial")
    assert split_codes("") == ()
    assert split_codes(None) == ()
    assert split_codes(float("nan")) == ()


def test_codes_to_frame_is_exact_per_code() -> None:
    values = pd.Series(["detention;trial", "", None, "trial_x;conviction"], index=[3, 1, 2, 0])
    frame = codes_to_frame(values, VIOLATIONS)
    assert list(frame.columns) == list(VIOLATIONS)
    assert list(frame.index) == [3, 1, 2, 0]
    assert frame.loc[3, "detention"] and frame.loc[3, "trial"]
    assert not frame.loc[0, "trial"]  # "trial_x" is not "trial"
    assert frame.loc[0, "conviction"]
    assert frame.loc[[1, 2]].to_numpy().sum() == 0


def test_public_names_are_exported() -> None:
    for name in schema.__all__:
        assert hasattr(schema, name), name


def test_read_history_names_the_first_bad_cell(tmp_path) -> None:
    from triage.errors import InputFileError
    from triage.schema import CASES_COLUMNS, COMMUNICATIONS_COLUMNS, OUTCOMES_COLUMNS, read_history

    (tmp_path / "communications.csv").write_text(
        ",".join(COMMUNICATIONS_COLUMNS)
        + "\nC1,2010-01-05,UA,state,IND,2,2010-01-01,none,,1"
        + "\nC2,2010-02-30,UA,state,IND,2,2010-01-01,none,,1\n"
    )
    (tmp_path / "cases.csv").write_text(",".join(CASES_COLUMNS) + "\n")
    (tmp_path / "outcomes.csv").write_text(",".join(OUTCOMES_COLUMNS) + "\n")
    with pytest.raises(InputFileError, match=r"row 3, column sent_date: expected a date"):
        read_history(tmp_path)
    (tmp_path / "communications.csv").write_text(
        ",".join(COMMUNICATIONS_COLUMNS) + "\nC1,2010-01-05,UA,state,IND,2.5,2010-01-01,none,,1\n"
    )
    with pytest.raises(InputFileError, match=r"column n_mandates.*whole number"):
        read_history(tmp_path)
