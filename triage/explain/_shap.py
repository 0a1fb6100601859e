"""SHAP contributions in probability points, plain-language reasons and global importance.

**How calibration is folded in.** SHAP's TreeExplainer gives exact contributions ``φ_i`` of each
feature to the trees' raw log-odds; when the trees start from a linear log-odds (see
``triage.scoring._linear``) its exact linear SHAP values ``coef_j · z_j`` are added, so that
``φ_0 + Σ φ_i = raw``. The calibrated score is
``s = g(σ(raw))`` where ``g`` is the monotone calibrator. The base is ``g(σ(φ_0))``, the calibrated
score of the average case. The difference ``s − base`` is then shared among the features in
proportion to their log-odds contributions: ``c_i = φ_i · (s − base) / Σ φ_j``. Because ``g∘σ`` is
monotone, ``(s − base)`` has the sign of ``Σ φ_j``, so each ``c_i`` keeps the sign of ``φ_i``, and
``base + Σ c_i = s`` exactly (to floating-point rounding) for every case. When ``Σ φ_j`` is
numerically zero the score equals the base and every contribution is 0.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from triage._validation import at_least, check_params
from triage.features import FEATURE_LABELS, build_features
from triage.schema import History, countries, country_name
from triage.scoring._calibration import sigmoid

_CONSTRAINTS = {"top": at_least(1)}

if TYPE_CHECKING:
    from triage.scoring import TriageModel

__all__ = [
    "BASE",
    "contributions",
    "explain",
    "feature_words",
    "global_importance",
    "reasons",
]

#: The ``feature`` value of the one row per case that holds the base score.
BASE = "_base"
_ZERO = 1e-12


def _explainer(model: TriageModel) -> Any:
    if model._explainer is None:
        import shap

        model._explainer = shap.TreeExplainer(model.booster)
    return model._explainer


def contributions(model: TriageModel, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(score, base, contrib)``: calibrated scores, base per row, contributions in probability.

    ``contrib`` has one column per model feature; ``base + contrib.sum(axis=1) == score``.
    """
    A = np.ascontiguousarray(X.loc[:, list(model.features)].to_numpy(dtype=np.float64))
    explainer = _explainer(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        # Additivity in log-odds is exact in TreeSHAP; it is checked below in probability space.
        phi = np.asarray(explainer.shap_values(A, check_additivity=False), dtype=float)
    if phi.ndim == 3:  # older shap: one array per class
        phi = phi[-1]
    phi0 = float(np.ravel(explainer.expected_value)[-1])
    if model.linear is not None:
        # The linear start's SHAP values are exact: coef_j · z_j around the training mean.
        phi = phi + model.linear.contributions(X, tuple(model.features))
        phi0 += model.linear.intercept
    raw = model.raw_log_odds(X)
    score = model.calibrator(sigmoid(raw))
    base = float(model.calibrator(sigmoid(np.array([phi0])))[0])
    total = phi.sum(axis=1)
    safe = np.where(np.abs(total) > _ZERO, total, 1.0)
    scale = np.where(np.abs(total) > _ZERO, (score - base) / safe, 0.0)
    contrib = phi * scale[:, None]
    # Fold the tiny remainder (raw vs φ0 + Σφ rounding, or a zero total) into exactness.
    residual = score - base - contrib.sum(axis=1)
    if np.any(np.abs(residual) > 0):
        largest = np.argmax(np.abs(contrib), axis=1)
        contrib[np.arange(len(contrib)), largest] += residual
    return score, np.full(len(score), base), contrib


def explain(
    model: TriageModel,
    cases: pd.DataFrame,
    history: History,
    *,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Explain scores as a tidy table: case_id, feature, value, contribution (probability points / 100).

    One row per case and model feature, plus one row per case whose feature is ``"_base"`` (value
    blank, contribution = base score). Per case, the contributions including the base sum to the
    calibrated score to within 1e-6. ``value`` is the feature value (the ISO3 code for
    ``country``). Names of people are never read. Pass ``features`` (from ``build_features``)
    to reuse the table already built for scoring.
    """
    X = build_features(cases, history) if features is None else features
    return explain_features(model, X, cases["case_id"].astype(str).to_numpy())


def explain_features(model: TriageModel, X: pd.DataFrame, case_ids: np.ndarray) -> pd.DataFrame:
    """Like ``explain`` for an already built feature frame and matching case ids."""
    _, base, contrib = contributions(model, X)
    features = list(model.features)
    n, k = contrib.shape
    values = X.loc[:, features].to_numpy(dtype=float)
    display = values.astype(object)
    if "country" in features:
        j = features.index("country")
        iso3 = np.array(sorted(countries()), dtype=object)
        col = values[:, j]
        known = ~np.isnan(col)
        shown = np.full(n, None, dtype=object)
        shown[known] = iso3[col[known].astype(int)]
        display[:, j] = shown
    ids = np.repeat(np.asarray(case_ids, dtype=object), k + 1)
    feat = np.tile(np.array([BASE, *features], dtype=object), n)
    vals = np.column_stack([np.full(n, np.nan, dtype=object), display]).ravel()
    amounts = np.column_stack([base, contrib]).ravel()
    return pd.DataFrame({"case_id": ids, "feature": feat, "value": vals, "contribution": amounts})


def _points(contribution: float) -> str:
    pts = contribution * 100
    sign = "+" if pts >= 0 else "−"
    mag = abs(pts)
    text = f"{mag:.0f}" if mag >= 0.95 else f"{mag:.1f}"
    return f"{sign}{text} point{'s' if text != '1' else ''}"


def _phrase(feature: str, value: object) -> str:
    """Say what a feature value means, in words staff use (no names, only codes and numbers)."""
    name = FEATURE_LABELS.get(feature, feature)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{name} unknown"
    if feature == "country":
        return f"country: {country_name(str(value))}"
    v = float(value)  # type: ignore[arg-type]
    if feature.startswith(("v_", "type_")):
        return name if v >= 0.5 else f"no {name}"
    if feature.startswith("ia_"):
        return name if v >= 0.5 else "does not work" + name.removeprefix("works")
    if feature.startswith("gender_") or feature == "protester":
        return name if v >= 0.5 else f"not a {name}"
    if feature.startswith("region_"):
        return name if v >= 0.5 else f"outside the {name}"
    if feature == "n_mandates":
        return "HRD mandate alone" if v <= 1 else f"{v:.0f} co-signing mandates"
    if feature == "days_since_incident":
        return f"{v:.0f} days since the last incident"
    if feature == "raised_before":
        return "raised before" if v >= 0.5 else "first time raised"
    if feature == "country_reply_rate":
        word = "rarely replies" if v < 0.3 else "often replies" if v > 0.5 else "sometimes replies"
        return f"country {word} ({v:.0%} substantive replies)"
    if feature == "country_rejection_rate":
        word = "mostly rejects" if v > 0.6 else "seldom rejects" if v < 0.3 else "often rejects"
        return f"country {word} allegations ({v:.0%} of replies)"
    if feature == "country_response_days":
        return f"country replies in {v:.0f} days on average"
    if feature == "country_improve_rate":
        return f"{v:.0%} of earlier cases in the country improved"
    return f"{name}: {v:g}"


def feature_words(feature: str, value: object) -> str:
    """Say a model feature and its value in words (``v_killing = 1`` → "killing"), never the
    internal name: the Case page's waterfall labels."""
    if feature == BASE:
        return "Average case (base rate)"
    return _phrase(feature, value)


def reasons(explanation: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The ``top`` largest contributions per case in words: case_id, rank, text, feature, contribution.

    ``text`` reads like ``"detention: +6 points"``; ranks start at 1 (largest ``|contribution|``).
    """
    check_params(_CONSTRAINTS, top=top)
    rows = explanation[explanation["feature"] != BASE].copy()
    rows["_abs"] = rows["contribution"].abs()
    rows = rows.sort_values(
        ["case_id", "_abs", "feature"], ascending=[True, False, True], kind="stable"
    )
    rows["rank"] = rows.groupby("case_id", sort=False).cumcount() + 1
    rows = rows[rows["rank"] <= top]
    texts = [
        f"{_phrase(f, v)}: {_points(c)}"
        for f, v, c in zip(rows["feature"], rows["value"], rows["contribution"], strict=True)
    ]
    out = pd.DataFrame(
        {
            "case_id": rows["case_id"].to_numpy(),
            "rank": rows["rank"].to_numpy(dtype=int),
            "text": texts,
            "feature": rows["feature"].to_numpy(),
            "contribution": rows["contribution"].to_numpy(dtype=float),
        }
    )
    # Keep the cases in the order of the explanation.
    first = {cid: i for i, cid in enumerate(pd.unique(explanation["case_id"]))}
    out["_o"] = out["case_id"].map(first)
    return out.sort_values(["_o", "rank"], kind="stable").drop(columns="_o").reset_index(drop=True)


def global_importance(explanation: pd.DataFrame) -> pd.DataFrame:
    """Importance across a queue: feature, label, mean_abs_points, mean_points (probability points)."""
    rows = explanation[explanation["feature"] != BASE]
    grouped = rows.groupby("feature", sort=True)["contribution"]
    out = pd.DataFrame(
        {
            "mean_abs_points": grouped.apply(lambda s: float(np.abs(s).mean()) * 100),
            "mean_points": grouped.mean() * 100,
        }
    ).reset_index()
    out.insert(1, "label", out["feature"].map(lambda f: FEATURE_LABELS.get(f, f)))
    return out.sort_values(["mean_abs_points", "feature"], ascending=[False, True]).reset_index(
        drop=True
    )
