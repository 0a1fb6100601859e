"""The default-seed history matches every figure of the paper; other seeds land near them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from triage.schema import History, read_history
from triage.synth import SUPPLEMENT_FILES, calibration_report, read_supplements, simulate
from triage.synth._calibration import measure, targets


def _explain(report_table: pd.DataFrame) -> str:
    bad = report_table.loc[~report_table["passed"], ["key", "paper", "generated", "rule"]]
    return "figures out of tolerance:\n" + bad.to_string(index=False)


def test_default_seed_passes_every_figure(history_dir: Path) -> None:
    report = calibration_report(
        read_history(history_dir), supplements=read_supplements(history_dir)
    )
    assert report.passed, _explain(report.table)
    assert len(report.table) == len(targets())
    assert list(report.table.columns[:6]) == [
        "group",
        "figure",
        "paper",
        "generated",
        "tolerance",
        "rule",
    ]


@pytest.mark.parametrize("seed", [11, 123_457])
def test_other_seeds_land_near_the_same_figures(seed: int) -> None:
    frames = simulate(seed=seed, supplements=True)
    report = calibration_report(
        History.from_frames(frames), supplements={k: frames[k] for k in SUPPLEMENT_FILES}
    )
    assert report.passed, _explain(report.table)


def test_supplementary_figures_fail_without_their_files(history_dir: Path) -> None:
    """A history without the supplementary files cannot pass the figures only they carry."""
    report = calibration_report(read_history(history_dir))
    failed = set(report.failures["key"])
    assert failed == {
        "sample_frame_drawn",
        "sample_frame_found",
        "lgbti_unnamed_comms",
        "lgbti_press_releases",
        "rejections_reporting_improvement",
        "protesters_not_activists",
    }
    assert report.failures["generated"].isna().all()


@pytest.mark.parametrize(
    ("missing", "figures"),
    [
        ("sample_frame", {"sample_frame_drawn", "sample_frame_found"}),
        ("communication_topics", {"lgbti_unnamed_comms", "lgbti_press_releases"}),
        ("reply_content", {"rejections_reporting_improvement"}),
        ("protester_descriptions", {"protesters_not_activists"}),
    ],
)
def test_each_supplementary_file_carries_its_own_figures(
    history_dir: Path, missing: str, figures: set[str]
) -> None:
    """Without one supplementary file exactly its figures fail (measured as blank)."""
    supplements = read_supplements(history_dir)
    del supplements[missing]
    report = calibration_report(read_history(history_dir), supplements=supplements)
    assert set(report.failures["key"]) == figures
    assert report.failures["generated"].isna().all()


def test_every_target_is_sourced_and_justified() -> None:
    spec = targets()
    assert spec["key"].is_unique
    assert (spec["tolerance"] >= 0).all()
    assert spec["source"].str.match(r"p\. \d").all(), "every figure cites a page of the paper"
    assert (spec["justification"].str.len() > 10).all()
    assert set(spec["rule"]) <= {"near", "at_least", "at_most"}


def test_a_drifted_figure_fails(history_dir: Path) -> None:
    """The check is real: corrupting the history makes the corresponding figures fail."""
    history = read_history(history_dir)
    cases = history.cases.copy()
    cases["gender"] = "woman"
    broken = History(
        communications=history.communications,
        cases=cases,
        outcomes=history.outcomes,
        queue=history.queue,
        truth=history.truth,
        submissions=history.submissions,
    )
    report = calibration_report(broken, supplements=read_supplements(history_dir))
    assert not report.passed
    failed = set(report.failures["key"])
    assert {"women_all", "women_detention"} <= failed
    assert "n_cases" not in failed


def test_measure_ignores_row_order(history_dir: Path) -> None:
    history = read_history(history_dir)
    shuffled = History(
        communications=history.communications.sample(frac=1.0, random_state=1),
        cases=history.cases.sample(frac=1.0, random_state=2),
        outcomes=history.outcomes.sample(frac=1.0, random_state=3),
    )
    before, after = measure(history), measure(shuffled)
    assert before.keys() == after.keys()
    for key in before:
        assert before[key] == pytest.approx(after[key], nan_ok=True), key


def test_supplementary_measures_ignore_row_order(history_dir: Path) -> None:
    history = read_history(history_dir)
    sup = read_supplements(history_dir)
    shuffled = {k: f.sample(frac=1.0, random_state=i) for i, (k, f) in enumerate(sup.items())}
    before, after = measure(history, sup), measure(history, shuffled)
    for key in ("sample_frame_found", "lgbti_unnamed_comms", "protesters_not_activists"):
        assert before[key] == pytest.approx(after[key]), key
    assert set(SUPPLEMENT_FILES) == set(sup)
