"""The interval's ingredients: bootstrap members and the shared year and country effects.

See step 5 of ``triage.scoring._train``'s protocol: the bootstrap spread of the pipeline, and the
variance of the effects that cases of one year or one country share and the score misses,
estimated from pairs of residuals (``_shared_variance``) and bounded above (``_context_sd``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from triage._roots import solve_increasing
from triage.features._build import SHRINK
from triage.scoring._calibration import Calibrator, CalibratorKind, fit_calibrator, logit, sigmoid
from triage.scoring._selection import Unit, _fit, _raw_p

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

    tau = solve_increasing(expected, observed, 0.0, 4.0, what="the shared effects' variance")
    return tau**2


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
