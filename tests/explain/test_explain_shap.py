"""SHAP in probability points: exact additivity with either calibrator, signs, reasons, privacy."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from features.toy_history import toy_fixtures
from hypothesis import given
from hypothesis import strategies as st
from suite_settings import property_settings

from triage.explain import BASE, contributions, explain, global_importance, reasons
from triage.features import FEATURE_COLUMNS, build_features
from triage.schema import History
from triage.scoring import TrainResult, TriageModel
from triage.scoring._calibration import Calibrator, fit_calibrator, sigmoid

HYP = property_settings(15)


toy, trained = toy_fixtures(seed=21, n_comms=800, n_queue=120, train_seed=1, n_bootstrap=3)


@pytest.fixture(scope="module")
def model(trained: TrainResult) -> TriageModel:
    return trained.model


def _with_calibrator(model: TriageModel, cal: Calibrator) -> TriageModel:
    return dataclasses.replace(model, calibrator=cal, _explainer=None)


def _isotonic(model: TriageModel, toy: History) -> Calibrator:
    X = build_features(toy.cases, toy)
    raw = sigmoid(model.raw_log_odds(X))
    y = (np.random.default_rng(0).random(len(raw)) < raw).astype(int)
    return fit_calibrator(raw, y, kind="isotonic")


@pytest.mark.parametrize("kind", ["fitted", "sigmoid", "isotonic"])
def test_base_plus_contributions_equals_score(model: TriageModel, toy: History, kind: str) -> None:
    if kind == "sigmoid":
        model = _with_calibrator(model, Calibrator("sigmoid", a=1.7, b=-0.4))
    elif kind == "isotonic":
        model = _with_calibrator(model, _isotonic(model, toy))
    rows = pd.concat([toy.queue, toy.cases.iloc[::3]], ignore_index=True)
    table = explain(model, rows, toy)
    scores = model.predict(rows, toy).set_index("case_id")["score"]
    sums = table.groupby("case_id", sort=False)["contribution"].sum()
    assert np.abs(sums.loc[scores.index].to_numpy() - scores.to_numpy()).max() < 1e-6
    # One _base row per case, then every model feature.
    assert (table["feature"] == BASE).sum() == len(rows)
    assert len(table) == len(rows) * (len(FEATURE_COLUMNS) + 1)
    assert list(table.columns) == ["case_id", "feature", "value", "contribution"]


@HYP
@given(a=st.floats(0.3, 3.0), b=st.floats(-2.0, 2.0), start=st.integers(0, 400))
def test_additivity_and_signs_for_any_sigmoid(
    model: TriageModel, toy: History, a: float, b: float, start: int
) -> None:
    m = _with_calibrator(model, Calibrator("sigmoid", a=a, b=b))
    X = build_features(toy.cases.iloc[start : start + 40], toy)
    score, base, contrib = contributions(m, X)
    np.testing.assert_allclose(base + contrib.sum(axis=1), score, atol=1e-9)
    import shap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phi = np.asarray(shap.TreeExplainer(m.booster).shap_values(X.loc[:, list(m.features)]))
    if m.linear is not None:
        # The trees' log-odds push plus the linear start's exact terms.
        phi = phi + m.linear.contributions(X, tuple(m.features))
    # Calibration is folded in proportionally: each feature keeps the sign of its log-odds push.
    big = np.abs(phi) > 1e-6
    assert (np.sign(contrib[big]) == np.sign(phi[big])).all()


def test_values_and_country_codes(model: TriageModel, toy: History) -> None:
    table = explain(model, toy.queue.head(3), toy)
    country = table[table["feature"] == "country"]["value"].tolist()
    assert country == toy.queue["country"].head(3).tolist()
    base = table[table["feature"] == BASE]
    assert base["value"].isna().all()
    mand = table[table["feature"] == "n_mandates"]["value"].astype(float).tolist()
    assert mand == toy.queue["n_mandates"].head(3).astype(float).tolist()


def test_reasons_top_three_in_words_without_names(model: TriageModel, toy: History) -> None:
    table = explain(model, toy.queue, toy)
    words = reasons(table, top=3)
    assert list(words.columns[:3]) == ["case_id", "rank", "text"]
    assert (
        words.groupby("case_id")["rank"].apply(list)
        == pd.Series([[1, 2, 3]] * len(toy.queue), index=sorted(toy.queue["case_id"]))
    ).all()
    per_case = words.groupby("case_id")["contribution"].apply(lambda s: list(np.abs(s)))
    assert all(v == sorted(v, reverse=True) for v in per_case)
    assert words["text"].str.contains(r": [+−]\d+(?:\.\d)? points?$").all()
    everything = " ".join(words["text"]) + " " + table.to_csv()
    for column in ("defender_name", "source_contact"):
        for name in toy.queue[column]:
            assert name not in everything
    with pytest.raises(ValueError, match="`top` must be at least 1"):
        reasons(table, top=0)


def test_reason_phrases_read_naturally(model: TriageModel, toy: History) -> None:
    case = toy.queue.iloc[[0]].copy()
    case["violations"] = "detention"
    case["n_mandates"] = pd.array([1], dtype="Int64")
    table = explain(model, case, toy)
    words = reasons(table, top=len(FEATURE_COLUMNS))
    text = " | ".join(words["text"])
    assert "detention: +" in text or "detention: −" in text
    assert "HRD mandate alone" in text
    assert "country:" in text and "_" not in text.replace("_base", "")


def test_global_importance(model: TriageModel, toy: History) -> None:
    table = explain(model, toy.queue, toy)
    imp = global_importance(table)
    assert list(imp.columns) == ["feature", "label", "mean_abs_points", "mean_points"]
    assert set(imp["feature"]) == set(FEATURE_COLUMNS)
    assert imp["mean_abs_points"].is_monotonic_decreasing
    # On the toy, detention drives improvement.
    assert imp["feature"].iloc[0] == "v_detention"
    d = table[table["feature"] == "v_detention"]["contribution"]
    assert imp.set_index("feature").loc["v_detention", "mean_abs_points"] == pytest.approx(
        float(np.abs(d).mean() * 100)
    )


@pytest.mark.parametrize("start", ["none", "linear"])
def test_additivity_with_and_without_linear_start(
    model: TriageModel, toy: History, start: str
) -> None:
    from triage.scoring._linear import fit_linear

    X = build_features(toy.cases, toy)
    if start == "none":
        m = dataclasses.replace(model, linear=None, _explainer=None)
    else:
        cols = [c for c in FEATURE_COLUMNS if c != "country"]
        y = np.asarray(toy.cases["violations"].str.contains("detention"), dtype=int)
        m = dataclasses.replace(
            model, linear=fit_linear(X, y, columns=cols, C=0.1, seed=0), _explainer=None
        )
    table = explain(m, toy.queue, toy)
    sums = table.groupby("case_id", sort=False)["contribution"].sum().to_numpy()
    np.testing.assert_allclose(sums, m.predict(toy.queue, toy)["score"].to_numpy(), atol=1e-9)
    if start == "linear":
        # A strong linear detention effect shows up as the largest contribution.
        assert global_importance(table)["feature"].iloc[0] == "v_detention"
