"""`triage evaluate` from the command line: JSON shape, table, errors as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.cli._app import main
from triage.cli._evaluate import parse_seeds
from triage.errors import TriageError
from triage.synth import generate


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("eval"), seed=7, scale=0.1, outcomes="all")


@pytest.mark.slow
def test_json_on_a_folder(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["evaluate", "--data", str(folder), "--from-year", "2015", "--json", "--jobs", "1"],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert [y["year"] for y in doc["years"]] == [2015, 2016]
    for y in doc["years"]:
        assert set(y) == {"year", "capacity", "mandate", "triage", "random", "oracle"}
        assert y["oracle"] >= y["triage"] - 1e-6 and y["oracle"] >= y["random"] - 1e-6
    assert set(doc["total"]) == {"mandate", "triage", "random", "oracle"}
    assert "Traceback" not in err


@pytest.mark.slow
def test_the_table_says_what_it_compares(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["evaluate", "--data", str(folder), "--from-year", "2016"], capsys)
    assert code == 0
    assert "gain" in out and "at equal balance" in out
    assert "share of the oracle's gain over random" in out
    assert "SIMULATED" in out


@pytest.mark.slow
def test_seeds_in_memory_give_an_interval(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        [
            "evaluate",
            "--seeds",
            "3,4",
            "--scale",
            "0.1",
            "--outcomes",
            "all",
            "--from-year",
            "2016",
            "--json",
            "--draws",
            "2",
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert [s["seed"] for s in doc["seeds"]] == [3, 4]
    lo, hi = doc["interval"]["gain_pct"]
    assert lo <= doc["gain_pct"] <= hi


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "0..x"], "--seeds must be"),
        (["--seeds", "1,1"], "must not repeat"),
        (["--backend", "spark"], "--backend must be one of"),
        (["--jobs", "0"], "--jobs must be"),
        (["--outcomes", "some"], "--outcomes must be"),
        (["--min-outcomes", "3"], "--min-outcomes must be at least 40"),
    ],
)
def test_bad_options_are_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["evaluate", *args], capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_folder_without_counterfactual_files_is_refused(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in folder.iterdir():
        if not f.name.startswith("submission_"):
            (bare / f.name).write_bytes(f.read_bytes())
    code, _, err = run(["evaluate", "--data", str(bare)], capsys)
    assert code == 2 and "submission_plans.csv" in err and "Traceback" not in err
    code, _, err = run(["evaluate", "--data", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "no simulated history" in err


def test_data_and_seeds_exclude_each_other(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["evaluate", "--data", str(folder), "--seeds", "1"], capsys)
    assert code == 2 and "exclude each other" in err


def test_parse_seeds() -> None:
    assert parse_seeds("0..3") == [0, 1, 2, 3]
    assert parse_seeds("5, 1..2,9") == [5, 1, 2, 9]
    with pytest.raises(TriageError, match="count upwards"):
        parse_seeds("4..1")
