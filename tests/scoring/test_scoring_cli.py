"""`triage train | score | explain` end to end on a toy history folder, and their input errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli as _run
from features.toy_history import toy_history, write_history

from triage.cli import main


def _inputs(cases: Path, history: Path, model: Path) -> list[str]:
    """``--cases CASES --data HISTORY --model MODEL``, as argv."""
    return ["--cases", str(cases), "--data", str(history), "--model", str(model)]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    write_history(toy_history(seed=4, n_comms=700, n_queue=50), root / "hist")
    return root / "hist", root / "model"


@pytest.fixture(scope="module")
def trained(folders: tuple[Path, Path]) -> tuple[Path, Path]:
    hist, model = folders
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", str(hist), "--out", str(model), "--n-bootstrap", "3"])
    assert info.value.code in (0, None)
    return hist, model


@pytest.mark.slow
def test_train_prints_metrics_table(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hist, _ = folders
    code, out, _ = _run(
        ["train", "--data", str(hist), "--out", str(tmp_path / "m"), "--n-bootstrap", "2"], capsys
    )
    assert code == 0
    for word in (
        "model",
        "logistic_regression",
        "base_rate",
        "truth",
        "AUC",
        "Brier",
        "ECE",
        "SIMULATED",
    ):
        assert word in out
    assert "interval coverage of the truth" in out
    assert (tmp_path / "m" / "MODEL_CARD.md").is_file()


def test_score_and_explain_agree(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hist, model = trained
    scores, expl, why = tmp_path / "s.csv", tmp_path / "e.csv", tmp_path / "r.csv"
    common = _inputs(hist / "queue.csv", hist, model)
    code, out, _ = _run(["score", *common, "--out", str(scores)], capsys)
    assert code == 0 and "scored 50 cases" in out
    code, out, _ = _run(["explain", *common, "--out", str(expl), "--reasons", str(why)], capsys)
    assert code == 0
    s = pd.read_csv(scores)
    assert list(s.columns) == ["case_id", "score", "lower", "upper"]
    e = pd.read_csv(expl)
    assert list(e.columns) == ["case_id", "feature", "value", "contribution"]
    sums = e.groupby("case_id")["contribution"].sum()
    np.testing.assert_allclose(sums.loc[s["case_id"]].to_numpy(), s["score"].to_numpy(), atol=1e-6)
    r = pd.read_csv(why)
    assert list(r.columns) == ["case_id", "rank", "text"] and len(r) == 150
    queue = pd.read_csv(hist / "queue.csv")
    for path in (scores, expl, why):
        text = path.read_text()
        assert not any(name in text for name in queue["defender_name"])
        assert not any(contact in text for contact in queue["source_contact"])


def test_score_cases_csv_shape(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hist, model = trained
    out = tmp_path / "c.csv"
    code, _, _ = _run(
        ["score", *_inputs(hist / "cases.csv", hist, model), "--out", str(out)], capsys
    )
    assert code == 0
    assert len(pd.read_csv(out)) == len(pd.read_csv(hist / "cases.csv"))


def test_same_inputs_byte_identical_outputs(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hist, model = trained
    outs = []
    for i in range(2):
        out = tmp_path / f"e{i}.csv"
        _run(
            ["explain", *_inputs(hist / "queue.csv", hist, model), "--out", str(out)],
            capsys,
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_bad_cases_file_gives_one_clear_line(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hist, model = trained
    queue = pd.read_csv(hist / "queue.csv", dtype=str, keep_default_na=False)
    queue.loc[6, "country"] = "Atlantis"
    bad = tmp_path / "bad.csv"
    queue.to_csv(bad, index=False)
    code, _, err = _run(
        ["score", *_inputs(bad, hist, model), "--out", str(tmp_path / "x.csv")],
        capsys,
    )
    assert code == 2
    flat = " ".join(err.split())
    assert (
        str(bad.name) in flat and "row 7" in flat and "`country`" in flat and "'Atlantis'" in flat
    )
    assert "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()

    missing = tmp_path / "missing.csv"
    queue.drop(columns=["country"]).to_csv(missing, index=False)
    code, _, err = _run(
        ["score", *_inputs(missing, hist, model), "--out", str(tmp_path / "y.csv")],
        capsys,
    )
    assert code == 2 and "missing required column `country`" in " ".join(err.split())

    code, _, err = _run(
        ["explain", *_inputs(tmp_path / "nope.csv", hist, model), "--out", str(tmp_path / "z.csv")],
        capsys,
    )
    assert code == 2 and "no such file" in err


def test_missing_model_and_history(
    folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hist, _ = folders
    code, _, err = _run(
        [
            "score",
            *_inputs(hist / "queue.csv", hist, tmp_path / "none"),
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capsys,
    )
    assert code == 2 and "no such model folder" in " ".join(err.split())
    code, _, err = _run(
        ["train", "--data", str(tmp_path / "void"), "--out", str(tmp_path / "m")], capsys
    )
    assert code == 2 and "no such history folder" in " ".join(err.split())


def test_cli_start_up_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, triage.cli; "
        "heavy = [m for m in ('lightgbm', 'shap', 'streamlit', 'sklearn') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("command", ["train", "score", "explain"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([command, "--help"], capsys)
    assert code == 0 and "--out" in out


@pytest.mark.slow
def test_compare_with_adds_the_other_models_metrics(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import json

    hist, model = trained
    train = ["train", "--data", str(hist)]
    out = tmp_path / "cmp"
    code, _, _ = _run(
        [*train, "--out", str(out), "--n-bootstrap", "2", "--compare-with", str(model)], capsys
    )
    assert code == 0
    summary = json.loads((out / "metrics.json").read_text())
    other = json.loads((model / "metrics.json").read_text())
    assert summary["comparison"]["test"] == other["test"]
    assert "## Learning from more data" in (out / "MODEL_CARD.md").read_text()
    code, _, err = _run(
        [*train, "--out", str(tmp_path / "x"), "--compare-with", str(tmp_path / "none")], capsys
    )
    assert code == 2 and "no metrics to compare with" in " ".join(err.split())


def test_score_with_policy_gives_each_case_its_chance_of_selection(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from triage.allocate import Policy, selection_chances
    from triage.features import build_features
    from triage.schema import read_history
    from triage.scoring import load_model

    hist, model = trained
    policy = tmp_path / "p.toml"
    policy.write_text("name = 'p'\ncapacity = 15\n[share.gender]\nwoman = { min = 0.3 }\n")
    out, reps, why = tmp_path / "s.csv", tmp_path / "r.csv", tmp_path / "why.csv"
    common = _inputs(hist / "queue.csv", hist, model)
    code, _, _ = _run(["score", *common, "--out", str(out), "--policy", str(policy)], capsys)
    assert code == 0
    s = pd.read_csv(out)
    assert list(s.columns) == ["case_id", "score", "lower", "upper", "p_selected", "chance"]
    # Direct computation: the model's replicates re-solved under the policy.
    history = read_history(hist)
    queue = history.queue
    fitted = load_model(model)
    members = fitted.member_scores(build_features(queue, history))
    assert members.shape == (len(queue), 3)
    direct = selection_chances(
        queue.assign(score=0.5), Policy.from_toml(policy.read_text()), members
    ).by_case.set_index("case_id")
    np.testing.assert_allclose(
        s.set_index("case_id").loc[direct.index, "p_selected"], direct["p_selected"], atol=1e-6
    )
    # Three replicates: every chance is a whole number of thirds.
    np.testing.assert_allclose(s["p_selected"] * 3, np.round(s["p_selected"] * 3), atol=1e-5)
    # The replicate columns carry the same chance into `select --candidates --reasons`.
    code, _, _ = _run(["score", *common, "--out", str(reps), "--replicates"], capsys)
    assert code == 0
    r = pd.read_csv(reps)
    assert [c for c in r.columns if c.startswith("replicate_")] == [
        f"replicate_{i}" for i in (1, 2, 3)
    ]
    cands = queue.loc[:, ["case_id", "country", "un_region", "gender", "violations"]].merge(r)
    cands.to_csv(tmp_path / "cands.csv", index=False)
    code, _, err = _run(
        [
            "select",
            "--candidates",
            str(tmp_path / "cands.csv"),
            "--policy",
            str(policy),
            "--reasons",
            str(why),
        ],
        capsys,
    )
    assert code == 0, err
    w = pd.read_csv(why, keep_default_na=False).set_index("case_id")
    np.testing.assert_allclose(
        w.loc[direct.index, "p_selected"].astype(float), direct["p_selected"], atol=1e-6
    )
    assert (w.loc[direct.index, "chance"] == direct["chance"]).all()
