"""The table contracts: one pandera model per table, read by every reader and writer."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.config import project_root
from triage.schema import (
    BOOL_COLUMNS,
    CASES_COLUMNS,
    CONTRACTS,
    DATE_COLUMNS,
    GENDERS,
    INT_COLUMNS,
    VIOLATIONS,
    Cases,
    ContractError,
    Queue,
    coerce,
    column_kinds,
    columns_of,
    read_history,
)

MINI = project_root() / "data" / "fixtures" / "history_mini"


def test_column_sets_come_from_the_models() -> None:
    assert {"sent_date", "last_incident_date", "reply_date", "received_date"} <= DATE_COLUMNS
    assert {"protester", "eligible"} <= BOOL_COLUMNS
    assert {"n_mandates", "n_individuals"} == INT_COLUMNS
    assert columns_of(Cases) == CASES_COLUMNS
    for name, model in CONTRACTS.items():
        kinds = column_kinds(model)
        assert tuple(kinds) == columns_of(model), name
        assert {c for c, k in kinds.items() if k == "date"} <= DATE_COLUMNS


def test_the_mini_history_keeps_its_contract() -> None:
    history = read_history(MINI)
    for name, model in CONTRACTS.items():
        frame = getattr(history, name)
        if frame is not None:
            again = coerce(frame, model)
            pd.testing.assert_frame_equal(again, frame)


def _cases(n: int) -> pd.DataFrame:
    frame = pd.read_csv(MINI / "cases.csv", dtype=str, keep_default_na=False, na_values=[""])
    return (
        pd.concat([frame] * (n // len(frame) + 1), ignore_index=True)
        .head(n)
        .assign(case_id=[f"K{i}" for i in range(n)])
    )


class _Bad(NamedTuple):
    """A cell value a column's contract refuses, and the check its failure names."""

    value: str
    check: str


_BAD = {
    "gender": _Bad("robot", "a gender code"),
    "violations": _Bad("detention;teleportation", "violations codes separated by ;"),
    "country": _Bad("ATL", "an ISO3 country code"),
    "sent_date": _Bad("2016-02-30", "a date (YYYY-MM-DD)"),
    "protester": _Bad("maybe", "true or false"),
    "un_region": _Bad("mars", "a un_region code"),
}


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(min_value=4, max_value=30),
    faults=st.lists(
        st.tuples(st.integers(min_value=0, max_value=29), st.sampled_from(sorted(_BAD))),
        max_size=8,
    ),
)
def test_one_pass_reports_every_bad_cell(n: int, faults: list[tuple[int, str]]) -> None:
    frame = _cases(n)
    wanted = {(row % n, column) for row, column in faults}
    for row, column in wanted:
        frame.loc[row, column] = _BAD[column].value
    if not wanted:
        typed = coerce(frame, Cases)
        assert list(typed.columns) == list(CASES_COLUMNS)
        assert set(typed["gender"].dropna()) <= set(GENDERS)
        return
    with pytest.raises(ContractError) as caught:
        coerce(frame, Cases, source="cases.csv")
    failures = caught.value.failures
    assert set(zip(failures["row"], failures["column"], strict=True)) == wanted
    for row in failures.itertuples():
        assert row.check == _BAD[row.column].check
    first = failures.iloc[0]
    message = str(caught.value)
    assert message.startswith(f"cases.csv: row {first['row'] + 2}, column {first['column']}")
    assert _BAD[first["column"]].value not in message  # values are never echoed


def test_blank_ids_duplicates_and_missing_columns_are_refused() -> None:
    frame = _cases(5)
    frame.loc[1, "case_id"] = None
    frame.loc[3, "case_id"] = "K2"
    with pytest.raises(ContractError) as caught:
        coerce(frame, Cases)
    checks = dict(zip(caught.value.failures["row"], caught.value.failures["check"], strict=True))
    assert checks[1] == "a value (it must not be blank)"
    assert checks[3] == "a value that appears only once"
    with pytest.raises(ContractError, match=r"missing required column.*defender_name"):
        coerce(_cases(3), Queue)


def test_codes_of_the_vocabulary_pass() -> None:
    frame = _cases(len(VIOLATIONS))
    frame["violations"] = [";".join(list(VIOLATIONS)[: i + 1]) for i in range(len(frame))]
    assert coerce(frame, Cases)["violations"].tolist() == frame["violations"].tolist()


@pytest.mark.parametrize("seed", [3, 4])
def test_the_allocator_reads_and_writes_its_contracts(seed: int) -> None:
    """Candidates going in and reasons coming out keep the Candidates and Reasons contracts."""
    from triage.allocate import Policy, allocate, explain_selection
    from triage.allocate._problem import prepare_candidates
    from triage.allocate._synthetic import random_candidates
    from triage.schema import Candidates, Reasons

    cands = random_candidates(300, seed=seed)
    coerce(prepare_candidates(cands), Candidates)
    policy = Policy.from_toml("name='p'\ncapacity=90\n[share.gender]\nwoman={min=0.35}\n")
    reasons = coerce(explain_selection(cands, policy, allocate(cands, policy)), Reasons)
    assert int(reasons["selected"].sum()) == 90
    assert reasons.loc[reasons["selected"], "score_to_enter"].isna().all()
