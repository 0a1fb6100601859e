"""Model selection for ``train``: the grid, the time-ordered folds, the calibrator and ``C``.

Each configuration of a small grid is scored by validation log loss after every boosting round,
averaged over two time-ordered origins; the additive start's ``C`` is chosen on the same origins.
Sigmoid, isotonic and identity calibration are compared by cross-validated Brier score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from triage._validation import check_params, in_range
from triage.features import CATEGORICAL_FEATURES, FEATURE_COLUMNS, MONOTONE, START_FEATURES
from triage.scoring._calibration import Calibrator, CalibratorKind, fit_calibrator, sigmoid
from triage.scoring._linear import LinearOffset, fit_linear
from triage.scoring._metrics import score_metrics

_CONSTRAINTS = {"share": in_range(0, 0.5, closed="neither")}

_MIN_TRAIN = 40


def time_split(
    dates: pd.Series, *, share: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split rows by calendar year into train, validation and test masks (most recent = test).

    Test takes the most recent whole years holding at least ``share`` of the rows, validation the
    years before them holding at least ``share`` more; training keeps the rest.
    """
    check_params(_CONSTRAINTS, share=share)
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


_MAX_ROUNDS = 400


_EARLY_STOP = 60


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
