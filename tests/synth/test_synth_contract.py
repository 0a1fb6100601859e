"""The generated files follow the history contract exactly and are internally consistent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triage.schema import (
    ADDRESSEES,
    ASSESSMENTS,
    COMM_TYPES,
    GENDERS,
    HISTORY_FILES,
    ISSUE_AREAS,
    OUTCOMES,
    REPLY_CLASSES,
    SURVEY_IMPACTS,
    UN_REGIONS,
    VIOLATIONS,
    countries,
    read_history,
    region_of,
    split_codes,
)


@pytest.fixture(scope="module")
def small(small_history_dir: Path):
    return read_history(small_history_dir)


def test_files_have_exactly_the_contract_columns(small_history_dir: Path) -> None:
    for name, columns in HISTORY_FILES.items():
        header = (small_history_dir / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert tuple(header.split(",")) == columns, name


def test_text_encodings(small_history_dir: Path) -> None:
    raw = pd.read_csv(small_history_dir / "cases.csv", dtype=str, keep_default_na=False)
    assert raw["sent_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(raw["protester"]) <= {"true", "false"}
    subs = pd.read_csv(small_history_dir / "submissions.csv", dtype=str, keep_default_na=False)
    assert set(subs["eligible"]) <= {"true", "false"}
    comms = pd.read_csv(small_history_dir / "communications.csv", dtype=str, keep_default_na=False)
    # blank, never "nan" or "None", for unknown values
    for frame in (raw, subs, comms):
        assert not frame.isin(["nan", "None", "NaN", "<NA>"]).any().any()


def test_codes_come_from_the_vocabulary(small) -> None:
    cases = small.cases
    for col, vocab in (("violations", VIOLATIONS), ("issue_areas", ISSUE_AREAS)):
        for frame in (cases, small.submissions, small.queue):
            used = {c for v in frame[col] for c in split_codes(v)}
            assert used <= set(vocab), col
    assert set(cases["gender"]) <= set(GENDERS)
    assert set(cases["un_region"]) <= set(UN_REGIONS)
    assert set(small.communications["type"]) <= set(COMM_TYPES)
    assert set(small.communications["addressee"]) <= set(ADDRESSEES)
    assert set(small.communications["reply_class"].dropna()) <= set(REPLY_CLASSES)
    assert set(small.outcomes["outcome"]) <= set(OUTCOMES)
    assert set(small.outcomes["assessment"]) <= set(ASSESSMENTS)
    assert set(small.outcomes["survey_impact"].dropna()) <= set(SURVEY_IMPACTS)
    for frame in (cases, small.queue, small.submissions, small.communications):
        assert set(frame["country"]) <= set(countries())
    assert (cases["un_region"] == cases["country"].map(region_of)).all()


def test_communications_and_cases_agree(small) -> None:
    comms = small.communications.set_index("communication_id")
    cases = small.cases
    assert comms.index.is_unique and cases["case_id"].is_unique
    counts = cases.groupby("communication_id").size()
    assert (comms["n_individuals"].reindex(counts.index) == counts).all()
    assert (comms.loc[~comms.index.isin(counts.index), "n_individuals"] == 0).all()
    assert (comms.loc[comms["type"] == "PR", "n_individuals"] == 0).all()
    joined = cases.merge(
        comms.reset_index(), on="communication_id", suffixes=("", "_comm"), validate="m:1"
    )
    assert (joined["sent_date"] == joined["sent_date_comm"]).all()
    assert (joined["country"] == joined["country_comm"]).all()
    named = comms[comms["n_individuals"] > 0]
    assert (named["last_incident_date"] < named["sent_date"]).all()
    replied = comms.dropna(subset=["reply_date"])
    assert (replied["reply_date"] > replied["sent_date"]).all()
    assert (replied["reply_date"] <= pd.Timestamp("2016-11-30")).all()
    assert set(replied["reply_class"]) <= set(REPLY_CLASSES) - {"none"}
    assert comms["sent_date"].between("2000-09-01", "2016-11-30").all()


def test_outcomes_truth_and_queue(small) -> None:
    cases, truth, queue = small.cases, small.truth, small.queue
    assert set(small.outcomes["case_id"]) <= set(cases["case_id"])
    assert set(truth["case_id"]) == set(cases["case_id"]) | set(queue["case_id"])
    assert truth["p_improve"].between(0, 1, inclusive="neither").all()
    survey = small.outcomes["assessment"] == "survey"
    assert small.outcomes.loc[survey, "survey_impact"].notna().all()
    assert small.outcomes.loc[~survey, "survey_impact"].isna().all()
    assert queue["case_id"].str.fullmatch(r"Q17-\d{5}").all()
    assert not set(queue["case_id"]) & set(cases["case_id"])
    assert queue["received_date"].between("2016-12-01", "2017-11-30").all()
    assert (queue["last_incident_date"] <= queue["received_date"]).all()
    assert queue["defender_name"].str.endswith("(simulated)").all()
    assert queue["source_contact"].str.fullmatch(r"source-\d{4}@example\.org").all()
    assert queue["individual_id"].isin(cases["individual_id"]).any(), "some raised before"
    assert (queue["n_mandates"] >= 1).all()
    assert set(queue["type"]) <= {"UA", "AL", "OL"}


def test_submissions_record_every_case_and_the_rest(small) -> None:
    subs, cases = small.submissions, small.cases
    taken = subs.dropna(subset=["case_id"])
    assert taken["case_id"].is_unique
    assert set(taken["case_id"]) == set(cases["case_id"])
    assert taken["eligible"].all()
    assert len(subs) > 2 * len(cases), "most submissions are not taken up"
    merged = taken.merge(cases, on="case_id", suffixes=("", "_case"))
    for col in ("individual_id", "country", "gender", "violations", "issue_areas", "protester"):
        left = merged[col].astype(object).fillna("").astype(str)
        right = merged[f"{col}_case"].astype(object).fillna("").astype(str)
        assert (left == right).all(), col
    assert (merged["received_date"] <= merged["sent_date"]).all()
    assert subs["submission_id"].is_unique


def test_full_scale_volumes(history_dir: Path) -> None:
    history = read_history(history_dir)
    assert len(history.queue) == 1_650
    assert history.queue["received_date"].min() >= pd.Timestamp("2016-12-01")
    sizes = history.communications["n_individuals"].to_numpy()
    assert np.isin(0, sizes) and sizes.max() > 10, "letters of many sizes, some unnamed"


@pytest.mark.parametrize(
    ("table", "column", "value", "check"),
    [
        ("cases", "gender", "robot", "a gender code"),
        ("communications", "sent_date", "2016-02-30", "a date (YYYY-MM-DD)"),
        ("queue", "country", "ATL", "an ISO3 country code"),
        ("truth", "p_improve", 1.5, "a number at most 1.0"),
    ],
)
def test_generate_refuses_a_table_that_breaks_its_contract(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    column: str,
    value: object,
    check: str,
) -> None:
    """The writer applies each table's contract before writing: one bad cell, no file written."""
    from triage.schema import ContractError
    from triage.synth import _assemble, generate

    to_text = _assemble.to_text

    def broken(*args: object, **kwargs: object) -> dict[str, pd.DataFrame]:
        tables = to_text(*args, **kwargs)  # type: ignore[arg-type]
        tables[table] = tables[table].copy()
        tables[table].loc[tables[table].index[3], column] = value
        return tables

    monkeypatch.setattr(_assemble, "to_text", broken)
    with pytest.raises(ContractError) as caught:
        generate(tmp_path / "out", seed=5, scale=0.05)
    failures = caught.value.failures
    assert failures[["row", "column", "check"]].values.tolist() == [[3, column, check]]
    assert f"simulated {table}.csv: row 5, column {column}" in str(caught.value)
    assert list((tmp_path / "out").glob("*.csv")) == []
