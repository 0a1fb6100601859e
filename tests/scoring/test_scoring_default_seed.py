"""The issue's headline: on the default-seed history the model beats both baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from triage.schema import read_history
from triage.scoring import train

pytestmark = pytest.mark.slow  # trains on the full default-seed history

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


def test_interval_coverage_is_measured_on_the_held_out_years(default_trained) -> None:  # type: ignore[no-untyped-def]
    """Coverage of the truth on the test years and on the queue, recomputed from the rows.

    The interval's context term (year and country effects the score misses) must buy coverage:
    the band from the bootstrap alone covers less of the truth.
    """
    from triage.scoring._model import interval_bounds

    held = default_trained.held_out
    split = default_trained.summary["split"]
    assert sorted(held["year"].unique().tolist()) == split["test"]["years"]
    assert len(held) == split["test"]["n"]
    inside = (held["truth"] >= held["lower"]) & (held["truth"] <= held["upper"])
    coverage = default_trained.summary["coverage"]
    assert coverage["covered"] == pytest.approx(float(inside.mean()), abs=1e-6)
    assert coverage["mean_width"] == pytest.approx(float((held["upper"] - held["lower"]).mean()))
    assert coverage["nominal"] == 0.9
    # The card promises about four cases in five (not the nominal 90%: what is particular to a
    # case cannot be estimated from one outcome each); on the default seed's test years the
    # coverage must reach that, less two binomial standard errors for the number of cases.
    n = len(held)
    assert coverage["covered"] >= 0.8 - 2 * np.sqrt(0.8 * 0.2 / n)
    assert ((held["lower"] <= held["score"]) & (held["score"] <= held["upper"])).all()
    # The bounds are the rows' score and sd read at the nominal level.
    lo, hi = interval_bounds(held["score"].to_numpy(), held["sd"].to_numpy(), level=0.9)
    np.testing.assert_allclose(lo, held["lower"].to_numpy())
    np.testing.assert_allclose(hi, held["upper"].to_numpy())
    context = coverage["context"]
    assert context["country"] > 0 and context["year"] >= 0
    # The queue: scored by the shipped model, its coverage recomputed from its rows.
    queue = default_trained.queue
    assert queue is not None and len(queue) == coverage["queue"]["n"]
    q_inside = (queue["truth"] >= queue["lower"]) & (queue["truth"] <= queue["upper"])
    assert coverage["queue"]["covered"] == pytest.approx(float(q_inside.mean()), abs=1e-6)
    assert coverage["queue"]["mean_width"] == pytest.approx(
        float((queue["upper"] - queue["lower"]).mean()), abs=1e-6
    )
    # Bootstrap spread alone (no context) covers less than the shipped band.
    model = default_trained.model
    boot_sd = np.sqrt(np.maximum(queue["sd"] ** 2 - model.context_sd_of(queue["n_known"]) ** 2, 0))
    b_lo, b_hi = interval_bounds(queue["score"].to_numpy(), boot_sd.to_numpy(), level=0.9)
    narrow = (queue["truth"] >= b_lo) & (queue["truth"] <= b_hi)
    assert q_inside.mean() > narrow.mean()
