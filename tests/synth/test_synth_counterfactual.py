"""The counterfactual files: every eligible submission's planned letter and its truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synth_helpers import assert_same_files

from triage.errors import InputFileError
from triage.features import build_features
from triage.schema import COMM_TYPES, HISTORY_FILES, History, read_history
from triage.synth import (
    COUNTERFACTUAL_FILES,
    SUPPLEMENT_FILES,
    generate,
    read_counterfactual,
    simulate,
)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return simulate(seed=11, scale=0.1, counterfactual=True)


def test_the_other_tables_are_unchanged_by_the_counterfactual_files() -> None:
    plain = simulate(seed=5, scale=0.05, supplements=True)
    full = simulate(seed=5, scale=0.05, supplements=True, counterfactual=True)
    assert set(full) == set(plain) | set(COUNTERFACTUAL_FILES)
    for name in (*HISTORY_FILES, *SUPPLEMENT_FILES):
        pd.testing.assert_frame_equal(plain[name], full[name], obj=name)


def test_every_eligible_submission_has_one_truth_in_0_1(frames: dict[str, pd.DataFrame]) -> None:
    subs = frames["submissions"]
    eligible = set(subs.loc[subs["eligible"].astype(bool), "submission_id"])
    for name in COUNTERFACTUAL_FILES:
        ids = frames[name]["submission_id"]
        assert ids.is_unique, name
        assert set(ids) == eligible, name
    p = frames["submission_truth"]["p_improve"].to_numpy()
    assert ((p >= 0) & (p <= 1)).all()


def test_a_submission_taken_up_has_its_case_truth_and_letter(
    frames: dict[str, pd.DataFrame],
) -> None:
    subs = frames["submissions"].dropna(subset=["case_id"])
    truth = frames["truth"]
    merged = subs.merge(frames["submission_truth"], on="submission_id").merge(
        truth, on="case_id", suffixes=("_sub", "_case")
    )
    assert len(merged) == len(frames["cases"])
    np.testing.assert_array_equal(merged["p_improve_sub"], merged["p_improve_case"])
    letters = (
        frames["cases"][["case_id", "communication_id"]]
        .merge(frames["communications"], on="communication_id")
        .merge(subs[["case_id", "submission_id"]], on="case_id")
        .merge(frames["submission_plans"], on="submission_id", suffixes=("", "_plan"))
    )
    assert (letters["type"] == letters["type_plan"]).all()
    assert (letters["n_mandates"] == letters["n_mandates_plan"]).all()
    assert (letters["last_incident_date"] == letters["last_incident_date_plan"]).all()


def test_plans_are_letters_to_name_individuals_before_receipt(
    frames: dict[str, pd.DataFrame],
) -> None:
    plans = frames["submission_plans"].merge(frames["submissions"], on="submission_id")
    assert plans["type"].isin([c for c in COMM_TYPES if c != "PR"]).all()
    assert (plans["n_mandates"] >= 1).all()
    untaken = plans[plans["case_id"].isna()]
    assert len(untaken) > 0
    assert (untaken["last_incident_date"] <= untaken["received_date"]).all()


def test_written_files_are_deterministic_and_read_back(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=9, scale=0.05)
    b = generate(tmp_path / "b", seed=9, scale=0.05)
    assert_same_files(a, b, COUNTERFACTUAL_FILES)
    back = read_counterfactual(a)
    mem = simulate(seed=9, scale=0.05, counterfactual=True)
    for name in COUNTERFACTUAL_FILES:
        pd.testing.assert_frame_equal(back[name], mem[name], obj=name)


def test_the_history_reader_never_sees_the_counterfactual_truth(tmp_path: Path) -> None:
    folder = generate(tmp_path / "h", seed=3, scale=0.05)
    history = read_history(folder)
    tables = [getattr(history, f) for f in History.__dataclass_fields__]
    for table in tables:
        if isinstance(table, pd.DataFrame):
            assert "submission_id" not in table.columns or "p_improve" not in table.columns
    # Features do not change when the counterfactual truth is scrambled on disk.
    cases = history.cases.head(50)
    before = build_features(cases, history)
    truth = pd.read_csv(folder / "submission_truth.csv")
    truth["p_improve"] = truth["p_improve"].sample(frac=1, random_state=0).to_numpy()
    truth.to_csv(folder / "submission_truth.csv", index=False)
    pd.testing.assert_frame_equal(before, build_features(cases, read_history(folder)))


def test_missing_or_broken_counterfactual_files_are_refused(tmp_path: Path) -> None:
    folder = generate(tmp_path / "h", seed=3, scale=0.05)
    (folder / "submission_plans.csv").unlink()
    with pytest.raises(InputFileError, match=r"submission_plans\.csv: no such file"):
        read_counterfactual(folder)
    generate(folder, seed=3, scale=0.05)
    text = (folder / "submission_truth.csv").read_text().splitlines()
    text[1] = text[1].split(",")[0] + ",1.5"
    (folder / "submission_truth.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(InputFileError, match="row 2, column p_improve"):
        read_counterfactual(folder)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_property_counterfactual_truth_matches_case_truth(seed: int) -> None:
    frames = simulate(seed=seed, scale=0.02, counterfactual=True)
    subs = frames["submissions"]
    taken = subs.dropna(subset=["case_id"])
    merged = taken.merge(frames["submission_truth"], on="submission_id").merge(
        frames["truth"], on="case_id", suffixes=("_sub", "_case")
    )
    assert len(merged) == len(taken)
    np.testing.assert_array_equal(merged["p_improve_sub"], merged["p_improve_case"])
    p = frames["submission_truth"]["p_improve"]
    assert p.between(0, 1).all()
    assert len(p) == int(subs["eligible"].astype(bool).sum())
