"""Training with a time split, baselines, calibration choice and bootstrap intervals.

Protocol (all on the labelled cases, those with an outcome):

1. **Split by time.** The most recent calendar years holding at least 20 % of the labelled cases
   are the *test* years; the years before them holding the next 20 % are *validation*; the rest
   is *training*.
2. **Model selection.** Each configuration of a small grid (stumps to depth 3, strong L2,
   monotone constraints, with or without an additive start) is scored by validation log loss
   after every boosting round, averaged over two time-ordered origins (training → validation
   years; earlier training → the last training years); the configuration and round count with
   the lowest loss win. The additive start is an L2 logistic regression on
   ``triage.features.START_FEATURES`` (the features the paper ties to outcomes), its ``C``
   chosen on the same origins; the trees see every feature.
3. **Calibration.** Sigmoid, isotonic and identity (no change) are compared by 5-fold
   cross-validated Brier score on the validation predictions of the training-years model.
4. **Test metrics.** The shipping procedure (step 6) is run on the training + validation years
   and scored on the test years next to three baselines on the same cases: the base rate
   (training + validation), an L2 logistic regression (its ``C`` chosen on validation like the
   booster's configuration, refitted on training + validation) and, for simulated data, the
   generator's truth ``p_improve`` (the ceiling; never a feature).
5. **Intervals.** The range of the case's chance of improvement at the nominal level, read as
   ``sigmoid(b + s·Z)`` with ``b`` such that its mean is the score (``interval``); ``s²`` adds
   the bootstrap spread and the variance of the effects the score misses that cases share: the
   year's climate (one variance; a new year's climate is unknown) and the country's own effect
   as far as its improvement rate (a feature) did not yet carry it, ``σ² · k / (k + n)`` with
   ``n`` of the country's outcomes known at the case's date and ``k = SHRINK["improve"]``. The
   pipeline is bootstrapped ``n_bootstrap`` times (of training + validation for the test metrics,
   of all labelled cases for the shipped model): each member is a booster on a resample, its
   additive start refitted with a light penalty, with its own calibrator fitted on the
   out-of-bag rows. The shared effects are estimated from pairs of residuals in the same year
   (and different countries) or the same country (and different years), the residuals of the
   pipeline cross-fitted by year or by country respectively, scaled to the upper 80 %
   confidence bound of their summed variance (jackknife over countries). A case's own
   idiosyncratic chance cannot be estimated from one outcome per case, nor can how the score
   misweights a kind of case beyond the bootstrap spread, so the interval under-covers its
   nominal level. Coverage on
   test = share of test cases whose truth ``p_improve`` lies in ``[lower, upper]``; for a
   simulated history with a queue, the same on the queue scored by the shipped model.
6. **Shipped model.** Refitted on all labelled cases with the chosen configuration; its
   calibrator is fitted on cross-fitted predictions (5 time-ordered folds); its bootstrap members
   resample all labelled cases.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage.errors import TriageError
from triage.features import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    MONOTONE,
    START_FEATURES,
    build_features,
)
from triage.features._build import SHRINK
from triage.schema import IMPROVED_OUTCOMES, History
from triage.scoring._calibration import Calibrator, CalibratorKind, fit_calibrator, logit, sigmoid
from triage.scoring._linear import LinearOffset, fit_linear
from triage.scoring._metrics import reliability_table, score_metrics
from triage.scoring._model import (
    TriageModel,
    _write_json,
    interval_bounds,
    interval_sd,
    known_country_outcomes,
)

__all__ = ["TrainResult", "fit_model", "labelled_cases", "time_split", "train"]

ProgressCallback = Callable[[int, int, str], None]

_MIN_TRAIN = 40
_MAX_ROUNDS = 400
_EARLY_STOP = 60


@dataclass
class TrainResult:
    """What ``train`` produced.

    Attributes
    ----------
    metrics : DataFrame
        Test-year metrics per model: model, n, auc, brier, log_loss, ece.
    reliability : DataFrame
        Reliability bins of the calibrated model on the test years.
    coverage : dict
        Interval coverage of the truth on the test years (``nominal``, ``covered``, ``mean_width``).
    model : TriageModel
        The shipped model (refitted on all labelled cases).
    out_dir : Path
        Where the artifacts were written.
    summary : dict
        Everything written to ``metrics.json``.
    held_out : DataFrame
        The test-year cases as the evaluation model saw them: case_id, year, improved (0/1),
        score, lower, upper, sd (the interval's total log-odds sd) and, for simulated data,
        truth (the generator's p_improve).
    queue : DataFrame or None
        For a simulated history with a queue, the queue scored by the shipped model: case_id,
        score, lower, upper, sd, n_known (outcomes of its country known) and truth; else None.
    """

    metrics: pd.DataFrame
    reliability: pd.DataFrame
    coverage: dict[str, float]
    model: TriageModel
    out_dir: Path
    summary: dict[str, Any]
    held_out: pd.DataFrame
    queue: pd.DataFrame | None = None


def labelled_cases(history: History) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the cases with a recorded outcome (sorted by date, then case_id) and 0/1 improved."""
    outcomes = history.outcomes.dropna(subset=["outcome"]).drop_duplicates("case_id")
    cases = history.cases.merge(outcomes[["case_id", "outcome"]], on="case_id", how="inner")
    cases = cases.sort_values(["sent_date", "case_id"], kind="stable").reset_index(drop=True)
    y = cases["outcome"].isin(IMPROVED_OUTCOMES).to_numpy(dtype=int)
    return cases.drop(columns=["outcome"]), y


def time_split(
    dates: pd.Series, *, share: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split rows by calendar year into train, validation and test masks (most recent = test).

    Test takes the most recent whole years holding at least ``share`` of the rows, validation the
    years before them holding at least ``share`` more; training keeps the rest.
    """
    if not 0 < share < 0.5:
        raise ValueError(f"`share` must be in (0, 0.5). Got {share} instead.")
    years = pd.to_datetime(dates).dt.year.to_numpy()
    uniq, cnt = np.unique(years, return_counts=True)
    n = len(years)
    test_years: list[int] = []
    valid_years: list[int] = []
    acc = 0
    for year, count in zip(uniq[::-1].tolist(), cnt[::-1].tolist(), strict=True):
        if acc < share * n:
            test_years.append(int(year))
        elif acc < 2 * share * n:
            valid_years.append(int(year))
        else:
            break
        acc += int(count)
    test = np.isin(years, test_years)
    valid = np.isin(years, valid_years)
    return ~(test | valid), valid, test


def _grid(n_train: int, linear_c: float) -> list[dict[str, Any]]:
    """A small grid sized to the data; the trees always correct the additive (linear) start.

    Stumps may use small leaves, so rare flags (professional restriction, ~1 % of cases) can
    split; deeper trees, which can model interactions and hence noise, need more rows per leaf.
    The start is never left out: on its own, a few shallow trees are a step function that gives
    hundreds of queue cases one shared score (2 % of a queue on some seeds), which is no
    ranking; the start's continuous terms (days since the incident, the country's record) keep
    every case's score its own. Measured on seeds 1–10, dropping the choice without a start
    costs nothing (mean test AUC 0.616 against 0.611).
    """
    shapes = (
        (2, 1, (max(5, n_train // 200), max(10, n_train // 50))),
        (4, 2, (max(15, n_train // 100), max(30, n_train // 40))),
        (8, 3, (max(30, n_train // 50), max(60, n_train // 20))),
    )
    grid = []
    for start in (linear_c,):
        for leaves, depth, min_leaves in shapes:
            for min_leaf in min_leaves:
                grid.append(
                    {
                        "num_leaves": leaves,
                        "max_depth": depth,
                        "min_data_in_leaf": min_leaf,
                        "_linear_C": start,
                    }
                )
    return grid


def _params(config: dict[str, Any], seed: int) -> dict[str, Any]:
    monotone = [MONOTONE.get(f, 0) for f in FEATURE_COLUMNS]
    return {
        "objective": "binary",
        "learning_rate": 0.1,
        "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": 10.0,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "min_data_per_group": 50,
        "cat_smooth": 20.0,
        "cat_l2": 10.0,
        "max_cat_to_onehot": 4,
        "monotone_constraints": monotone,
        "verbose": -1,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        **config,
    }


Unit = tuple[LinearOffset | None, Any]


def _lgb_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if not k.startswith("_")}


def _offset(X: pd.DataFrame, y: np.ndarray, params: dict[str, Any]) -> LinearOffset | None:
    """The linear start of a fit, when the configuration asks for one (``_linear_C``)."""
    C = params.get("_linear_C")
    if C is None:
        return None
    return fit_linear(X, y, columns=list(START_FEATURES), C=float(C), seed=int(params["seed"]))


def _fit(X: pd.DataFrame, y: np.ndarray, params: dict[str, Any], rounds: int) -> Unit:
    """Fit the linear start (if any) and the booster on top of its log-odds."""
    import lightgbm as lgb

    lin = _offset(X, y, params)
    init = None if lin is None else lin.log_odds(X)
    data = lgb.Dataset(
        X, y, init_score=init, categorical_feature=list(CATEGORICAL_FEATURES), free_raw_data=True
    )
    lgb_params = _lgb_params(params)
    if rounds == 0:
        # "No tree helps": LightGBM needs one tree; shrink it to nothing so the start stands.
        lgb_params = {**lgb_params, "learning_rate": 1e-12}
    return lin, lgb.train(lgb_params, data, num_boost_round=max(rounds, 1))


def _selection_folds(
    dates: pd.Series, tr: np.ndarray, va: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two time-ordered origins: train → validation years, and earlier train → last train years.

    One small validation period is a noisy judge of a model fitted on a few hundred cases;
    a second, earlier origin halves that noise without ever validating on the past.
    """
    folds = [(tr, va)]
    idx = np.flatnonzero(tr)
    inner_tr, inner_va, inner_te = time_split(dates.iloc[idx].reset_index(drop=True), share=0.2)
    fit = np.zeros(len(tr), dtype=bool)
    val = np.zeros(len(tr), dtype=bool)
    fit[idx[inner_tr | inner_va]] = True
    val[idx[inner_te]] = True
    if fit.sum() >= _MIN_TRAIN // 2 and val.any():
        folds.append((fit, val))
    return folds


def _loss_curve(
    Xf: pd.DataFrame, yf: np.ndarray, Xv: pd.DataFrame, yv: np.ndarray, params: dict[str, Any]
) -> np.ndarray:
    """Validation log loss after each of ``_MAX_ROUNDS`` boosting rounds."""
    import lightgbm as lgb

    lin = _offset(Xf, yf, params)
    data = lgb.Dataset(
        Xf,
        yf,
        init_score=None if lin is None else lin.log_odds(Xf),
        categorical_feature=list(CATEGORICAL_FEATURES),
    )
    vdata = lgb.Dataset(
        Xv, yv, init_score=None if lin is None else lin.log_odds(Xv), reference=data
    )
    record: dict[str, Any] = {}
    lgb.train(
        {**_lgb_params(params), "metric": "binary_logloss"},
        data,
        num_boost_round=_MAX_ROUNDS,
        valid_sets=[vdata],
        valid_names=["valid"],
        callbacks=[
            lgb.record_evaluation(record),
            lgb.early_stopping(_EARLY_STOP, first_metric_only=True, verbose=False),
        ],
    )
    losses = np.asarray(record["valid"]["binary_logloss"], dtype=float)
    # After an early stop the loss had not improved for _EARLY_STOP rounds: hold its last value.
    if len(losses) < _MAX_ROUNDS:
        losses = np.concatenate([losses, np.full(_MAX_ROUNDS - len(losses), losses[-1])])
    # Round 0: the start alone (the linear log-odds, or the training base rate), so validation
    # can also say that no tree helps.
    start = lin.log_odds(Xv) if lin is not None else np.full(len(yv), _logit_mean(yf))
    return np.concatenate([[score_metrics(sigmoid(start), yv)["log_loss"]], losses])


def _logit_mean(y: np.ndarray) -> float:
    m = float(np.clip(np.mean(y), 1e-6, 1 - 1e-6))
    return float(np.log(m / (1 - m)))


def _raw_p(unit: Unit, X: pd.DataFrame) -> np.ndarray:
    lin, booster = unit
    raw = np.asarray(booster.predict(X, raw_score=True))
    return sigmoid(raw if lin is None else raw + lin.log_odds(X))


def _choose_calibrator(
    p_raw: np.ndarray, y: np.ndarray, seed: int
) -> tuple[CalibratorKind, dict[str, float]]:
    """Pick sigmoid, isotonic or identity by 5-fold cross-validated Brier score on validation."""
    from sklearn.model_selection import StratifiedKFold

    scores: dict[str, float] = {}
    n_splits = int(min(5, np.bincount(y, minlength=2).min()))
    if n_splits < 2:
        return "sigmoid", {
            "sigmoid": float("nan"),
            "isotonic": float("nan"),
            "identity": float("nan"),
        }
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    kinds: tuple[CalibratorKind, ...] = ("identity", "sigmoid", "isotonic")
    for kind in kinds:
        errs = []
        for fit_idx, eval_idx in folds.split(p_raw, y):
            cal = fit_calibrator(p_raw[fit_idx], y[fit_idx], kind=kind)
            errs.append(np.mean((cal(p_raw[eval_idx]) - y[eval_idx]) ** 2))
        scores[kind] = float(np.mean(errs))
    # Ties go to the simpler calibrator (identity, then sigmoid).
    best: CalibratorKind = min(kinds, key=lambda k: (round(scores[k], 12), kinds.index(k)))
    return best, scores


_LR_C = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


def _logistic(X: pd.DataFrame, y: np.ndarray, seed: int, *, C: float) -> Any:
    """Baseline: L2 logistic regression on the numeric features (median-imputed, standardised)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    numeric = [c for c in X.columns if c not in CATEGORICAL_FEATURES]
    model = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=C, max_iter=5000, random_state=seed),
    )
    return model.fit(X[numeric], y), numeric


def _choose_c(
    Xtr: pd.DataFrame, ytr: np.ndarray, Xva: pd.DataFrame, yva: np.ndarray, seed: int
) -> float:
    """Pick the baseline's regularisation on validation log loss, like the booster's."""
    losses = []
    for C in _LR_C:
        model, cols = _logistic(Xtr, ytr, seed, C=C)
        losses.append(score_metrics(model.predict_proba(Xva[cols])[:, 1], yva)["log_loss"])
    return _LR_C[int(np.argmin(losses))]


def _choose_start_c(
    X: pd.DataFrame, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], seed: int
) -> float:
    """Pick the additive start's ``C`` by log loss averaged over the selection origins."""
    losses = []
    for C in _LR_C:
        total, weight = 0.0, 0
        for fit_mask, val_mask in folds:
            start = fit_linear(
                X[fit_mask], y[fit_mask], columns=list(START_FEATURES), C=C, seed=seed
            )
            p = sigmoid(start.log_odds(X[val_mask]))
            total += score_metrics(p, y[val_mask])["log_loss"] * int(val_mask.sum())
            weight += int(val_mask.sum())
        losses.append(total / weight)
    return _LR_C[int(np.argmin(losses))]


#: Inverse penalty of the bootstrap members' additive start (see ``_bootstrap``).
_MEMBER_C = 1.0


def _bootstrap(
    X: pd.DataFrame,
    y: np.ndarray,
    params: dict[str, Any],
    rounds: int,
    n: int,
    seed: int,
    kind: CalibratorKind,
) -> tuple[list[Unit], list[Calibrator]]:
    """Resample the whole pipeline: each member is a booster on a bootstrap sample with its own
    calibrator fitted on that sample's out-of-bag rows, so the spread includes calibration error."""
    rng = np.random.default_rng(seed)
    members, calibrators = [], []
    if params.get("_linear_C") is not None:
        # The point model's start is shrunk hard, and a shrunk fit varies little across
        # resamples even where the data pin nothing down (rare violations, few countries).
        # Members refit it with a light penalty, so their spread shows what the data cannot say.
        params = {**params, "_linear_C": max(float(params["_linear_C"]), _MEMBER_C)}
    for i in range(n):
        idx = np.sort(rng.integers(0, len(y), len(y)))
        unit = _fit(X.iloc[idx], y[idx], {**params, "seed": seed + 1 + i}, rounds)
        oob = np.setdiff1d(np.arange(len(y)), idx)
        if len(oob) >= 20 and len(np.unique(y[oob])) == 2:
            cal = fit_calibrator(_raw_p(unit, X.iloc[oob]), y[oob], kind=kind)
        else:
            cal = fit_calibrator(_raw_p(unit, X), y, kind=kind)
        members.append(unit)
        calibrators.append(cal)
    return members, calibrators


def _draws(members: list[Unit], calibrators: list[Calibrator], X: pd.DataFrame) -> np.ndarray:
    return np.column_stack([c(_raw_p(m, X)) for m, c in zip(members, calibrators, strict=True)])


#: Probabilists' Gauss-Hermite nodes and weights for expectations over a normal shared effect.
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()


def _pair_sum(key: np.ndarray, values: np.ndarray, n_keys: int) -> np.ndarray:
    """``Σ v_i v_j`` over pairs of distinct rows with the same ``key``: one row per key value,
    one column per column of ``values``."""
    v = values.reshape(len(key), -1)
    total = np.stack(
        [np.bincount(key, weights=v[:, k], minlength=n_keys) for k in range(v.shape[1])], axis=1
    )
    squares = np.stack(
        [np.bincount(key, weights=v[:, k] ** 2, minlength=n_keys) for k in range(v.shape[1])],
        axis=1,
    )
    return total**2 - squares


def _shared_variance(
    group: np.ndarray,
    other: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    *,
    first_order: bool = False,
) -> float:
    """Variance (log-odds²) of an effect shared by the cases of one ``group`` that ``p`` misses.

    Two cases of one group with residuals ``r = y − p`` have ``E[r_i r_j] = Cov(q_i, q_j)``,
    where ``q = sigmoid(b + u)`` is the true chance, ``u ~ N(0, τ²)`` the shared effect and ``b``
    such that ``E[q] = p`` (the score is calibrated). ``τ`` is the value whose expected pair sum
    ``Σ Cov(q_i, q_j)`` (Gauss-Hermite) equals the observed ``Σ r_i r_j`` over pairs of distinct
    cases in the same group. Only pairs that differ in ``other`` count (for the year's climate,
    cases of different countries; for the country, cases of different years), so neither effect
    is counted in the other's estimate. A case alone in its group says nothing about shared
    effects, and nothing here can see a case's own idiosyncratic chance: one outcome per case
    cannot reveal it. When the observed sum is negative (no sign of a shared effect, by chance)
    the first-order value ``Σ r_i r_j / Σ w_i w_j`` (``w = p(1 − p)``) is returned, below zero,
    so that callers can bound the estimate rather than clip it; ``first_order=True`` always
    returns that value (fast, for jackknife replicates).
    """
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    r = np.asarray(y, dtype=float) - p
    g = np.unique(np.asarray(group).astype(str), return_inverse=True)[1].ravel()
    o = np.unique(np.asarray(other).astype(str), return_inverse=True)[1].ravel()
    n_g = int(g.max()) + 1 if len(g) else 0
    stride = int(o.max()) + 1 if len(o) else 1
    cells, both = np.unique(g * stride + o, return_inverse=True)
    both = both.ravel()
    cell_group = cells // stride

    def per_group(values: np.ndarray) -> np.ndarray:
        within_cell = _pair_sum(both, values, len(cells))
        out = _pair_sum(g, values, n_g)
        for k in range(out.shape[1]):
            out[:, k] -= np.bincount(cell_group, weights=within_cell[:, k], minlength=n_g)
        return out

    n_pairs = per_group(np.ones(len(g)))[:, 0]
    weight = np.where(n_pairs > 0, 1.0 / np.sqrt(np.maximum(n_pairs, 1.0)), 0.0)

    def pairs(values: np.ndarray) -> np.ndarray:
        return weight @ per_group(values)

    observed = float(pairs(r)[0])
    first_order_sum = float(pairs(p * (1 - p))[0])
    if first_order_sum <= 0:
        return 0.0
    if observed <= 0 or first_order:
        return observed / first_order_sum
    base = float(pairs(p)[0])
    logit_p = logit(p)

    def expected(tau: float) -> float:
        # Probit matching: E sigmoid(b + u) = p when b = logit(p) · sqrt(1 + π τ² / 8).
        b = logit_p * np.sqrt(1.0 + np.pi * tau**2 / 8.0)
        q = sigmoid(b[:, None] + tau * _GH_NODES[None, :])
        return float(pairs(q) @ _GH_WEIGHTS) - base

    lo, hi = 0.0, 4.0
    if expected(hi) < observed:
        return hi**2
    for _ in range(40):
        mid = (lo + hi) / 2
        if expected(mid) < observed:
            lo = mid
        else:
            hi = mid
    return ((lo + hi) / 2) ** 2


def _country_held_out_scores(
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    params: dict[str, Any],
    rounds: int,
    kind: CalibratorKind,
) -> np.ndarray:
    """The pipeline's scores for each group from a fit that never saw the group's cases.

    ``groups``: the cases' countries (or years). Cross-fitted by group (5 folds): a score fitted
    on other cases of the same country (the trees' country splits) absorbs part of the effect
    they share, and pairs of its residuals would understate it. What the score knows of a
    country at a case's date, its point-in-time record, stays in the features, as it does when a
    new case is scored. Likewise for a year: features that drift over time let a score fitted
    on the same year's other cases absorb part of its climate, which a new year's cases cannot.
    """
    country = groups
    from sklearn.model_selection import GroupKFold

    raw = np.full(len(y), float(np.mean(y)))
    n_groups = len(np.unique(country))
    if n_groups < 2:
        return raw
    for fit_idx, eval_idx in GroupKFold(n_splits=min(5, n_groups)).split(X, y, country):
        if len(np.unique(y[fit_idx])) < 2:
            continue
        unit = _fit(X.iloc[fit_idx], y[fit_idx], params, rounds)
        raw[eval_idx] = _raw_p(unit, X.iloc[eval_idx])
    if kind == "identity" or len(np.unique(y)) < 2:
        return raw
    return fit_calibrator(raw, y, kind=kind)(raw)


def _pair_shape(group: np.ndarray, other: np.ndarray, p: np.ndarray, f: np.ndarray) -> float:
    """Mean of ``min(f_i, f_j)`` over the pairs ``_shared_variance`` uses, with its weights.

    Pairs of distinct cases in one ``group`` that differ in ``other``, each weighted by
    ``w_i w_j`` (``w = p(1 − p)``) and ``1 / sqrt(pairs in the group)``: the first-order weights
    of the pair estimator. ``1.0`` when there is no pair.
    """
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    w = p * (1 - p)
    g = np.unique(np.asarray(group).astype(str), return_inverse=True)[1].ravel()
    o = np.unique(np.asarray(other).astype(str), return_inverse=True)[1].ravel()
    f = np.asarray(f, dtype=float)
    num = den = 0.0
    order = np.argsort(g, kind="stable")
    bounds = np.flatnonzero(np.diff(g[order])) + 1
    for rows in np.split(order, bounds):
        if len(rows) < 2:
            continue
        apart = o[rows][:, None] != o[rows][None, :]
        n_pairs = int(apart.sum())
        if n_pairs == 0:
            continue
        ww = np.outer(w[rows], w[rows]) * apart / np.sqrt(n_pairs)
        num += float((ww * np.minimum.outer(f[rows], f[rows])).sum())
        den += float(ww.sum())
    return num / den if den > 0 else 1.0


#: One-sided level of the upper confidence bound taken for the shared-effect variance: with a
#: few hundred outcomes its estimate is noisy (on some histories it comes out near zero by
#: chance), and an interval too narrow misleads more than one too wide. Over simulated seeds the
#: bound bought more coverage per unit of width than the moment estimate (``benchmarks.seeds``):
#: it widens where the estimate is unsure. With thousands of outcomes it closes on the estimate.
_CONTEXT_BOUND = 0.8


def _context_sd(
    cases: pd.DataFrame,
    y: np.ndarray,
    p_held: np.ndarray,
    n_known: np.ndarray,
    p_year: np.ndarray | None = None,
) -> dict[str, float]:
    """Sd (log-odds) of the year and country effects that scores miss, the country's per case.

    ``p_held`` are scores from fits that never saw the case's country, ``p_year`` (default
    ``p_held``) from fits that never saw the case's year (``_country_held_out_scores``);
    ``n_known`` the outcomes of the case's country known before its date
    (``known_country_outcomes``).

    Moment estimates (``_shared_variance``): the year's climate from pairs of one year and
    different countries (residuals of ``p_year``); the country's effect from pairs of one
    country and different years (residuals of ``p_held``).
    The country's effect is partly carried by its improvement rate, a feature shrunk toward the
    global rate with ``k = SHRINK["improve"]`` pseudo-counts, so the part a score misses is
    taken to fall as ``σ² · k / (k + n)`` with ``n`` outcomes known. Two cases of one country
    share the miss of the later one (it knew more), so the pairs estimate ``σ²`` times the pair
    mean of ``k / (k + max n)`` (``_pair_shape``).

    Both variances are then scaled up together to the upper ``_CONTEXT_BOUND`` confidence bound
    of their sum (jackknife over countries; all to the country when both estimates are zero).
    Returns ``year`` and ``country`` (the sds used; ``country`` for a country with no known
    outcome), ``country_k``, the moment estimates ``year_estimate`` and ``country_estimate``
    (same scales), ``se`` (the jackknife standard error of the summed variance) and
    ``country_shape``.
    """
    from statistics import NormalDist

    year = pd.to_datetime(cases["sent_date"]).dt.year.to_numpy()
    country = cases["country"].astype(str).to_numpy()
    p_oof = np.asarray(p_held, dtype=float)
    p_yr = p_oof if p_year is None else np.asarray(p_year, dtype=float)

    def both(keep: np.ndarray, first_order: bool = False) -> tuple[float, float]:
        return (
            _shared_variance(
                year[keep], country[keep], y[keep], p_yr[keep], first_order=first_order
            ),
            _shared_variance(
                country[keep], year[keep], y[keep], p_oof[keep], first_order=first_order
            ),
        )

    everyone = np.ones(len(y), dtype=bool)
    v_year, v_pairs = both(everyone)
    # Jackknife replicates of the first-order estimate (no root finding), rescaled to the
    # full estimate: the curvature changes the level of the estimate, hardly its noise.
    linear = sum(both(everyone, first_order=True))
    ratio = (v_year + v_pairs) / linear if linear > 0 and v_year + v_pairs > 0 else 1.0
    uniq = np.unique(country)
    reps = np.array([sum(both(country != c, first_order=True)) for c in uniq])
    n = len(uniq)
    se = float(np.sqrt((n - 1) / n * np.sum((reps - reps.mean()) ** 2))) * ratio if n > 1 else 0.0
    bound = max(v_year + v_pairs + NormalDist().inv_cdf(_CONTEXT_BOUND) * se, 0.0)
    v_year, v_pairs = max(v_year, 0.0), max(v_pairs, 0.0)
    if v_year + v_pairs > 0:
        scale = bound / (v_year + v_pairs)
        b_year, b_pairs = v_year * scale, v_pairs * scale
    else:
        b_year, b_pairs = 0.0, bound
    k = float(SHRINK["improve"])
    shape = _pair_shape(country, year, p_oof, k / (k + np.asarray(n_known, dtype=float)))
    return {
        "year": float(np.sqrt(b_year)),
        "country": float(np.sqrt(b_pairs / shape)) if shape > 0 else 0.0,
        "country_k": k,
        "year_estimate": float(np.sqrt(v_year)),
        "country_estimate": float(np.sqrt(v_pairs / shape)) if shape > 0 else 0.0,
        "se": se,
        "country_shape": float(shape),
    }


def _context_of(context: dict[str, float], n_known: np.ndarray) -> np.ndarray:
    """Per-case context sd from ``_context_sd``'s estimates (``TriageModel.context_sd_of``)."""
    k = context["country_k"]
    n = np.clip(np.asarray(n_known, dtype=float), 0.0, None)
    return np.sqrt(context["year"] ** 2 + context["country"] ** 2 * k / (k + n))


def _seeds_table(out: Path) -> dict[str, Any] | None:
    """``models/seeds.json`` for a model trained into ``models/`` (its card shows it), else None.

    The table describes the training procedure on other seeds
    (``python -m benchmarks.seeds FIRST LAST --write models/seeds.json``).
    """
    from triage.config import models_dir

    path = models_dir() / "seeds.json"
    if out.resolve().parent != models_dir().resolve() or not path.is_file():
        return None
    table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return table


def _ranking(scores: np.ndarray) -> dict[str, Any]:
    """How well the calibrated score ranks a queue: distinct values and the largest exact tie."""
    _, counts = np.unique(scores, return_counts=True)
    largest = int(counts.max()) if len(counts) else 0
    return {
        "queue_n": len(scores),
        "distinct_scores": len(counts),
        "largest_tie": largest,
        "largest_tie_share": round(largest / max(len(scores), 1), 6),
    }


def _queue_coverage(history: History, model: TriageModel, level: float) -> pd.DataFrame | None:
    """The queue scored by ``model`` next to the generator's truth (simulated histories only)."""
    if history.queue is None or history.truth is None or len(history.queue) == 0:
        return None
    queue = history.queue
    truth_map = history.truth.drop_duplicates("case_id").set_index("case_id")["p_improve"]
    truth = queue["case_id"].astype(str).map(truth_map).to_numpy(dtype=float)
    if np.isnan(truth).any():
        return None
    n_known = known_country_outcomes(queue, history)
    score, sd = model.score_sd(build_features(queue, history), n_known=n_known)
    lower, upper = interval_bounds(score, sd, level=level)
    return pd.DataFrame(
        {
            "case_id": queue["case_id"].astype(str).to_numpy(),
            "score": score,
            "lower": lower,
            "upper": upper,
            "sd": sd,
            "n_known": n_known,
            "truth": truth,
        }
    )


def _scaled_rounds(rounds: int, n_fit: int, n_selected: int) -> int:
    """Boosting rounds for a fit on ``n_fit`` rows when ``rounds`` were chosen on ``n_selected``."""
    if rounds == 0:
        return 0
    return int(min(_MAX_ROUNDS, max(1, round(rounds * n_fit / max(n_selected, 1)))))


def _fit_calibrated(
    X: pd.DataFrame, y: np.ndarray, params: dict[str, Any], rounds: int, kind: CalibratorKind
) -> tuple[Unit, Calibrator]:
    """Fit the booster on all rows; fit the calibrator on 5 time-ordered cross-fitted folds.

    Rows must be in time order; each fold's predictions come from a booster that never saw it.
    """
    n = len(y)
    unit = _fit(X, y, params, rounds)
    if kind == "identity":
        return unit, fit_calibrator(np.zeros(0), np.zeros(0), kind=kind)
    oof = np.full(n, np.nan)
    for block in np.array_split(np.arange(n), 5):
        keep = np.setdiff1d(np.arange(n), block)
        oof[block] = _raw_p(_fit(X.iloc[keep], y[keep], params, rounds), X.iloc[block])
    return unit, fit_calibrator(oof, y, kind=kind)


def _comparison(folder: Path) -> dict[str, Any]:
    """The headline of another trained model folder: data size, split and test metrics."""
    path = folder / "metrics.json"
    if not path.is_file():
        raise TriageError(f"{path}: no metrics to compare with; train that model first.")
    other = json.loads(path.read_text(encoding="utf-8"))
    return {
        "folder": folder.name,
        "n_labelled": other.get("n_labelled"),
        "test_years": other.get("split", {}).get("test", {}).get("years"),
        "test": other.get("test"),
        "coverage": {k: v for k, v in other.get("coverage", {}).items() if k != "definition"},
        "training_data_sha256": other.get("training_data_sha256"),
    }


def _data_hash(cases: pd.DataFrame, X: pd.DataFrame, y: np.ndarray) -> str:
    """sha256 of exactly what the model saw: case ids, dates, features (repr) and labels."""
    frame = X.copy()
    frame.insert(0, "case_id", cases["case_id"].astype(str).to_numpy())
    frame.insert(
        1, "sent_date", pd.to_datetime(cases["sent_date"]).dt.strftime("%Y-%m-%d").to_numpy()
    )
    frame["improved"] = y
    text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _round(obj: Any) -> Any:
    """Round floats for stable, readable JSON (NaN becomes null)."""
    if isinstance(obj, float):
        return None if obj != obj else round(obj, 6)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


def train(
    history: History,
    *,
    out_dir: str | Path,
    seed: int = 0,
    n_bootstrap: int = 20,
    level: float = 0.9,
    compare_with: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train, evaluate on held-out years and write the model artifacts to ``out_dir``.

    Parameters
    ----------
    history : History
        Simulated or real history; the labelled cases are those in ``outcomes``.
    out_dir : str or Path
        Folder for the artifacts (created; files are overwritten).
    seed : int, default 0
        Seed of every random step (bagging, bootstrap, calibration folds).
    n_bootstrap : int, default 20
        Bootstrap boosters for the intervals.
    level : float, default 0.9
        Nominal level of the interval.
    compare_with : str or Path, optional
        Another trained model folder (e.g. trained on ``--outcomes all`` data) whose test metrics
        are copied into ``metrics.json`` and the model card, to show learning from more data.
    on_progress : callable, optional
        ``on_progress(done, total, what)``.

    Returns
    -------
    TrainResult

    Raises
    ------
    TriageError
        If there are too few labelled cases or a split lacks one of the classes.
    """
    if n_bootstrap < 2:
        raise ValueError(f"`n_bootstrap` must be at least 2. Got {n_bootstrap} instead.")
    if not 0.5 <= level < 1:
        raise ValueError(f"`level` must be in [0.5, 1). Got {level} instead.")
    comparison = _comparison(Path(compare_with)) if compare_with is not None else None
    total = 6
    step = 0

    def tick(what: str) -> None:
        nonlocal step
        step += 1
        if on_progress is not None:
            on_progress(step, total, what)

    cases, y = labelled_cases(history)
    if len(cases) < 3 * _MIN_TRAIN // 2:
        raise TriageError(
            f"only {len(cases)} cases have a recorded outcome; training needs at least "
            f"{3 * _MIN_TRAIN // 2}. Generate more with `triage generate --outcomes all`."
        )
    X = build_features(cases, history)
    tick("features built")
    tr, va, te = time_split(cases["sent_date"])
    for name, mask in (("training", tr), ("validation", va), ("test", te)):
        if mask.sum() == 0 or len(np.unique(y[mask])) < 2:
            raise TriageError(
                f"the {name} years have no case of one class (improved / not improved); "
                "the time split needs both in every part."
            )
    Xtr, ytr, Xva, yva, Xte, yte = X[tr], y[tr], X[va], y[va], X[te], y[te]

    # 2. model selection: log loss per boosting round, averaged over two time-ordered origins
    lr_c = _choose_c(Xtr, ytr, Xva, yva, seed)
    config, rounds = _select(X, y, cases["sent_date"], tr, va, seed)
    params = _params(config, seed)
    tick("model selected")

    # 3. calibration chosen on validation
    p_va = _raw_p(_fit(Xtr, ytr, params, rounds), Xva)
    kind, cal_scores = _choose_calibrator(p_va, yva, seed)
    tick(f"calibrator: {kind}")

    # 4. test metrics: the shipping procedure run on training + validation years only
    trva = tr | va
    n_tr = int(tr.sum())
    eval_rounds = _scaled_rounds(rounds, int(trva.sum()), n_tr)
    eval_unit, eval_cal = _fit_calibrated(X[trva], y[trva], params, eval_rounds, kind)
    p_model = eval_cal(_raw_p(eval_unit, Xte))
    base_rate = float(y[trva].mean())
    lr, lr_cols = _logistic(X[trva], y[trva], seed, C=lr_c)
    p_lr = lr.predict_proba(Xte[lr_cols])[:, 1]
    rows = {
        "model": score_metrics(p_model, yte),
        "logistic_regression": score_metrics(p_lr, yte),
        "base_rate": score_metrics(np.full(len(yte), base_rate), yte),
    }
    truth_p: np.ndarray | None = None
    if history.truth is not None:
        truth_map = history.truth.drop_duplicates("case_id").set_index("case_id")["p_improve"]
        truth_all = cases["case_id"].map(truth_map).to_numpy(dtype=float)
        if not np.isnan(truth_all[te]).any():
            truth_p = truth_all[te]
            rows["truth"] = score_metrics(truth_p, yte)
    metrics = pd.DataFrame([{"model": k, **v} for k, v in rows.items()])
    metrics["n"] = metrics["n"].astype(int)
    reliability = reliability_table(p_model, yte)

    # 5. intervals and their coverage on the test years
    eval_members, eval_cals = _bootstrap(
        X[trva], y[trva], params, eval_rounds, n_bootstrap, seed, kind
    )
    eval_held = _country_held_out_scores(
        X[trva], y[trva], cases["country"][trva].astype(str).to_numpy(), params, eval_rounds, kind
    )
    year_all = pd.to_datetime(cases["sent_date"]).dt.year.astype(str).to_numpy()
    eval_held_year = _country_held_out_scores(
        X[trva], y[trva], year_all[trva], params, eval_rounds, kind
    )
    n_known = known_country_outcomes(cases, history)
    eval_context = _context_sd(cases[trva], y[trva], eval_held, n_known[trva], eval_held_year)
    eval_draws = _draws(eval_members, eval_cals, Xte)
    held_sd = interval_sd(
        eval_draws,
        n=len(p_model),
        level=level,
        context_sd=_context_of(eval_context, n_known[te]),
    )
    lower, upper = interval_bounds(p_model, held_sd, level=level)
    coverage: dict[str, float] = {"nominal": level, "mean_width": float(np.mean(upper - lower))}
    if truth_p is not None:
        coverage["covered"] = float(np.mean((truth_p >= lower) & (truth_p <= upper)))
    held_out = pd.DataFrame(
        {
            "case_id": cases["case_id"][te].astype(str).to_numpy(),
            "year": pd.to_datetime(cases["sent_date"][te]).dt.year.to_numpy(),
            "improved": yte,
            "score": p_model,
            "lower": lower,
            "upper": upper,
            "sd": held_sd,
        }
    )
    if truth_p is not None:
        held_out["truth"] = truth_p
    tick("evaluated on held-out years")

    # 6. the shipped model: all labelled cases, same procedure
    n_all = len(y)
    final_rounds = _scaled_rounds(rounds, n_all, n_tr)
    (linear, booster), calibrator = _fit_calibrated(X, y, params, final_rounds, kind)
    held = _country_held_out_scores(
        X, y, cases["country"].astype(str).to_numpy(), params, final_rounds, kind
    )
    held_year = _country_held_out_scores(X, y, year_all, params, final_rounds, kind)
    context = _context_sd(cases, y, held, n_known, held_year)
    tick("final model fitted")
    members, member_cals = _bootstrap(X, y, params, final_rounds, n_bootstrap, seed + 1000, kind)

    out = Path(out_dir)
    years = pd.to_datetime(cases["sent_date"]).dt.year
    summary: dict[str, Any] = {
        "simulated": bool(history.simulated),
        "target": "improved: outcome is much_better or somewhat_better, one year after sent_date",
        "n_labelled": n_all,
        "base_rate_all": float(y.mean()),
        "split": {
            part: {
                "years": sorted({int(v) for v in years[mask]}),
                "n": int(mask.sum()),
                "positive_rate": float(y[mask].mean()),
            }
            for part, mask in (("train", tr), ("validation", va), ("test", te))
        },
        "config": {
            **{k: v for k, v in config.items() if not k.startswith("_")},
            "linear_start_C": config.get("_linear_C"),
            "rounds_selected": rounds,
            "rounds_final": final_rounds,
        },
        "calibration": {"kind": kind, "cv_brier": cal_scores},
        "logistic_regression_C": lr_c,
        "test": {
            row["model"]: {k: row[k] for k in metrics.columns if k != "model"}
            for row in metrics.to_dict("records")
        },
        "auc_gap_to_truth": (rows["truth"]["auc"] - rows["model"]["auc"])
        if "truth" in rows
        else float("nan"),
        "reliability": reliability.to_dict("records"),
        "coverage": {
            **coverage,
            "definition": (
                "share of test-year cases whose generator truth p_improve lies in [lower, upper]; "
                f"{level:.0%} intervals of the case's chance read as log-odds normal with mean "
                "equal to the score; their variance adds the spread of "
                f"{n_bootstrap} bootstrap replicates of the pipeline fitted on training + "
                "validation years (booster on a resample, calibrator on its out-of-bag rows; "
                "members refit the additive start with a light penalty), the year's climate "
                f"(sd {eval_context['year']:.3f}) and the country's own effect as far as its "
                "improvement rate did not yet carry it (sd "
                f"{eval_context['country']:.3f} with no outcome of the country known, variance "
                f"shrinking as {eval_context['country_k']:g} / ({eval_context['country_k']:g} + "
                "n) with n of its outcomes known at the case's date), both estimated from pairs "
                "of residuals of the pipeline cross-fitted by year or by country on those years "
                "and scaled "
                f"to the upper {_CONTEXT_BOUND:.0%} confidence bound of their summed variance "
                f"(moment estimates: year {eval_context['year_estimate']:.3f}, country "
                f"{eval_context['country_estimate']:.3f}; standard error of the summed variance "
                f"{eval_context['se']:.3f})"
            ),
            "context": eval_context,
        },
        "context_sd": context,
        "training_data_sha256": _data_hash(cases, X, y),
        "seed": seed,
        "n_bootstrap": n_bootstrap,
    }
    from triage.scoring._card import _verdict

    summary["verdict"] = _verdict(metrics)
    if comparison is not None:
        summary["comparison"] = comparison
    summary = _round(summary)
    model = TriageModel(
        booster=booster,
        linear=linear,
        members=[b for _, b in members],
        member_linears=[lin for lin, _ in members],
        year_sd=context["year"],
        country_sd=context["country"],
        country_k=context["country_k"],
        member_calibrators=member_cals,
        calibrator=calibrator,
        features=FEATURE_COLUMNS,
        level=level,
        metrics={
            "_features_meta": {
                "categorical": list(CATEGORICAL_FEATURES),
                "monotone": dict(MONOTONE),
                "params": {
                    k: v
                    for k, v in params.items()
                    if k != "monotone_constraints" and not k.startswith("_")
                },
                "linear_start_C": params.get("_linear_C"),
                "rounds": final_rounds,
            }
        },
    )
    queue = _queue_coverage(history, model, level)
    if queue is not None:
        queue_cov = {
            "n": float(len(queue)),
            "covered": float(
                np.mean((queue["truth"] >= queue["lower"]) & (queue["truth"] <= queue["upper"]))
            ),
            "mean_width": float(np.mean(queue["upper"] - queue["lower"])),
        }
        coverage.update({f"queue_{k}": v for k, v in queue_cov.items()})
        summary["coverage"]["queue"] = _round(queue_cov)
    if history.queue is not None and len(history.queue):
        queue_scores = (
            queue["score"]
            if queue is not None
            else pd.Series(model.predict_features(build_features(history.queue, history))["score"])
        )
        summary["ranking"] = _ranking(np.asarray(queue_scores, dtype=float))
    model.save(out)
    model.metrics = summary
    summary["model_sha256"] = model.sha256
    _write_json(out / "metrics.json", summary)
    from triage.scoring._card import reliability_svg, write_model_card

    (out / "reliability.svg").write_text(reliability_svg(reliability), encoding="utf-8")
    write_model_card(out, summary, metrics, seeds=_seeds_table(out))
    tick("artifacts written")
    return TrainResult(
        metrics=metrics,
        reliability=reliability,
        coverage=coverage,
        model=model,
        out_dir=out,
        summary=summary,
        held_out=held_out,
        queue=queue,
    )


def _select(
    X: pd.DataFrame,
    y: np.ndarray,
    dates: pd.Series,
    tr: np.ndarray,
    va: np.ndarray,
    seed: int,
) -> tuple[dict[str, Any], int]:
    """The configuration and round count of ``train``'s step 2, selected on ``tr`` → ``va``.

    With few outcomes the earlier origin's fitting years can hold one class only, which no
    model can be fitted on; that origin is then left out (the first origin, ``tr`` → ``va``,
    is checked by the caller).
    """
    folds = [(f, v) for f, v in _selection_folds(dates, tr, va) if len(np.unique(y[f])) == 2]
    start_c = _choose_start_c(X, y, folds, seed)
    best: tuple[float, dict[str, Any], int] | None = None
    for config in _grid(int(tr.sum()), start_c):
        params = _params(config, seed)
        curve = np.zeros(_MAX_ROUNDS + 1)
        weight = 0
        for fit_mask, val_mask in folds:
            losses = _loss_curve(X[fit_mask], y[fit_mask], X[val_mask], y[val_mask], params)
            curve += losses * int(val_mask.sum())
            weight += int(val_mask.sum())
        curve /= weight
        r = int(np.argmin(curve))
        if best is None or curve[r] < best[0] - 1e-12:
            best = (float(curve[r]), config, r)
    assert best is not None
    return best[1], best[2]


def fit_model(history: History, *, seed: int = 0) -> TriageModel:
    """Fit the point model on every labelled case of ``history``: no test split, no intervals.

    The lean version of ``train`` for repeated refits (``triage evaluate`` refits once per
    year on the outcomes observed before it). The same steps on all labelled cases: the most
    recent years holding 20 % of them validate the configuration grid and the additive start
    (two time-ordered origins) and choose the calibrator; the chosen model is refitted on all
    of them with its rounds scaled, its calibrator fitted on time-ordered cross-fitted
    predictions. Nothing is written; the model has no bootstrap members and no context
    spread, so its ``lower`` and ``upper`` equal its score (up to rounding).

    Parameters
    ----------
    history : History
        The labelled cases are those with an outcome in ``history.outcomes``; features use only
        what ``history`` holds (pass a history cut at the decision date). The generator's truth
        is never read.
    seed : int, default 0
        Seed of every random step.

    Returns
    -------
    TriageModel
        ``version`` is ``"unsaved"``; ``metrics`` holds the fit's ``n_labelled``,
        ``last_sent_date``, ``config``, ``rounds`` and ``calibration``.

    Raises
    ------
    TriageError
        If there are too few labelled cases, or the training or validation years lack a class.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Got {seed!r} instead.")
    cases, y = labelled_cases(history)
    if len(cases) < _MIN_TRAIN:
        raise TriageError(
            f"only {len(cases)} cases have a recorded outcome; fitting needs at least {_MIN_TRAIN}."
        )
    X = build_features(cases, history)
    tr, va, te = time_split(cases["sent_date"])
    fit_part, val_part = tr | va, te
    for name, mask in (("training", fit_part), ("validation", val_part)):
        if mask.sum() == 0 or len(np.unique(y[mask])) < 2:
            raise TriageError(
                f"the {name} years have no case of one class (improved / not improved); "
                "the time split needs both in every part."
            )
    for block in np.array_split(np.arange(len(y)), 5):
        if len(np.unique(np.delete(y, block))) < 2:
            raise TriageError(
                f"only {int(y.sum())} of the {len(y)} labelled cases improved, all in one period; "
                "the time-ordered calibration folds need both classes."
            )
    config, rounds = _select(X, y, cases["sent_date"], fit_part, val_part, int(seed))
    params = _params(config, int(seed))
    p_val = _raw_p(_fit(X[fit_part], y[fit_part], params, rounds), X[val_part])
    kind, _ = _choose_calibrator(p_val, y[val_part], int(seed))
    final_rounds = _scaled_rounds(rounds, len(y), int(fit_part.sum()))
    (linear, booster), calibrator = _fit_calibrated(X, y, params, final_rounds, kind)
    return TriageModel(
        booster=booster,
        linear=linear,
        members=[],
        calibrator=calibrator,
        features=FEATURE_COLUMNS,
        metrics={
            "n_labelled": len(y),
            "last_sent_date": str(pd.to_datetime(cases["sent_date"]).max().date()),
            "config": {k: v for k, v in config.items() if not k.startswith("_")},
            "linear_start_C": config.get("_linear_C"),
            "rounds": final_rounds,
            "calibration": kind,
        },
    )
