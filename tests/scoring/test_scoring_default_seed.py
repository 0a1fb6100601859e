"""The issue's headline: on the default-seed history the model beats both baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.schema import read_history
from triage.scoring import train

_SHIPPED = Path(__file__).resolve().parents[2] / "models" / "default" / "metrics.json"


@pytest.fixture(scope="module")
def default_trained(history_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return train(read_history(history_dir), out_dir=tmp_path_factory.mktemp("m"), n_bootstrap=2)


def test_default_seed_beats_logistic_regression_and_base_rate(default_trained) -> None:  # type: ignore[no-untyped-def]
    test = default_trained.summary["test"]
    model = test["model"]
    for other in ("logistic_regression", "base_rate"):
        assert model["auc"] > test[other]["auc"], other
        assert model["brier"] < test[other]["brier"], other
    # Held-out years come last and are never used to fit or select.
    split = default_trained.summary["split"]
    assert max(split["validation"]["years"]) < min(split["test"]["years"])


def test_shipped_model_was_trained_on_the_current_default_history(default_trained) -> None:  # type: ignore[no-untyped-def]
    shipped = json.loads(_SHIPPED.read_text(encoding="utf-8"))
    assert shipped["training_data_sha256"] == default_trained.summary["training_data_sha256"]
    assert shipped["verdict"].startswith("On these test years the model beats the logistic")
