""" "Proven optimal" holds whatever the scores' scale: tiny, tightly clustered, or refused."""

from __future__ import annotations

import pandas as pd
import pytest

from triage.allocate import allocate, load_policy
from triage.allocate._synthetic import random_candidates
from triage.config import policies_dir
from triage.errors import InputFileError


@pytest.fixture(scope="module")
def base() -> tuple[pd.DataFrame, object]:
    policy = load_policy(policies_dir() / "default.toml")
    candidates = random_candidates(6000, seed=3)
    return candidates, policy


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda s: s * 1e-6, id="scaled-1e-6"),
        pytest.param(lambda s: s * 1e-9, id="scaled-1e-9"),
        pytest.param(lambda s: 0.5 + s * 1e-8, id="clustered-1e-8"),
        pytest.param(lambda s: 0.9 + s * 1e-11, id="clustered-1e-11"),
    ],
)
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_monotone_rescaling_selects_the_same_cases(base, transform, solver) -> None:  # type: ignore[no-untyped-def]
    candidates, policy = base
    reference = allocate(candidates, policy, solver=solver)
    scaled = candidates.assign(score=transform(candidates["score"]))
    result = allocate(scaled, policy, solver=solver)
    assert (result.status, result.gap) == ("optimal", 0.0)
    assert result.selected == reference.selected  # the same optimum, not one within tolerance


@pytest.mark.parametrize("bad", ["100", "-0.5", "1e308", "inf", "nan", "1.0000001"])
def test_scores_must_be_probabilities(base, bad: str) -> None:  # type: ignore[no-untyped-def]
    candidates, policy = base
    frame = candidates.astype({"score": object})
    frame.loc[5, "score"] = bad
    with pytest.raises(InputFileError, match=r"line 7 \(case_id [^)]*\), column score"):
        allocate(frame, policy)


def test_select_refuses_out_of_range_scores_in_one_line(
    base,  # type: ignore[no-untyped-def]
    tmp_path,  # type: ignore[no-untyped-def]
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    from triage.cli import main

    candidates, _ = base
    path = tmp_path / "c.csv"
    candidates.assign(score=candidates["score"] * 100).to_csv(path, index=False)
    with pytest.raises(SystemExit) as info:
        main(["select", "--candidates", str(path)])
    _, err = capsys.readouterr()
    assert info.value.code == 2 and err.count("\n") == 1
    assert "is not a probability from 0 to 1" in err and "OverflowError" not in err
