"""The case's interval: its chance of improvement read as log-odds normal around the score.

``interval_sd`` combines the bootstrap spread with the shared year and country effects,
``interval_bounds`` reads the band at a nominal level, and ``known_country_outcomes`` counts
what the country's improvement rate already knew at each case's date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from triage.scoring._calibration import logit, sigmoid

if TYPE_CHECKING:
    from triage.schema import History


def interval(
    score: np.ndarray,
    draws: np.ndarray | None,
    *,
    level: float,
    context_sd: float | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` interval of each case's chance, on the log-odds scale, from two sources.

    - estimation: the spread of the bootstrap members' scores (``draws``, one column per member),
      read as a normal standard deviation ``(logit q_hi − logit q_lo) / (2 z)``;
    - context: ``context_sd`` (one value, or one per case), how much the case's log-odds may
      move with effects the score misses: its year's climate and what its country's record
      does not yet show (see ``TriageModel.context_sd_of``).

    They add in variance ``s²``. The chance is read as ``sigmoid(b + s·Z)``, ``Z`` standard
    normal, with ``b`` set so that its mean is the (calibrated) score: ``b = logit(score) ·
    sqrt(1 + π s² / 8)`` (probit matching). The interval is its central ``level`` range,
    ``sigmoid(b ± z·s)``: below 50 % the chance is skewed toward zero, so the band sits lower on
    the log-odds scale than one centred on the score, and is narrower in probability. It is
    widened to hold the score when it would not (scores near 0 or 1 with a large ``s``).
    """
    p = np.asarray(score, dtype=float)
    sd = interval_sd(draws, n=len(p), level=level, context_sd=context_sd)
    return interval_bounds(p, sd, level=level)


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2.0)


def interval_sd(
    draws: np.ndarray | None, *, n: int, level: float, context_sd: float | np.ndarray
) -> np.ndarray:
    """Each case's total log-odds sd: bootstrap spread (read at ``level``) and context, in variance."""
    var = np.broadcast_to(np.asarray(context_sd, dtype=float) ** 2, (n,)).copy()
    if draws is not None and draws.shape[1] > 1:
        alpha = (1.0 - level) / 2.0
        lo = logit(np.quantile(draws, alpha, axis=1))
        hi = logit(np.quantile(draws, 1.0 - alpha, axis=1))
        var = var + ((hi - lo) / (2.0 * _z(level))) ** 2
    return np.sqrt(var)


def interval_bounds(
    score: np.ndarray, sd: np.ndarray, *, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """``sigmoid(b ± z·sd)`` with ``b = logit(score) · sqrt(1 + π sd² / 8)``, widened to hold the score."""
    p = np.asarray(score, dtype=float)
    sd = np.asarray(sd, dtype=float)
    middle = logit(p) * np.sqrt(1.0 + np.pi * sd**2 / 8.0)
    half = _z(level) * sd
    lower = np.where(half > 0, np.minimum(sigmoid(middle - half), p), p)
    upper = np.where(half > 0, np.maximum(sigmoid(middle + half), p), p)
    return lower, upper


def known_country_outcomes(cases: pd.DataFrame, history: History) -> np.ndarray:
    """For each case, how many outcomes of its country were known before the case's date.

    Counted as ``country_improve_rate`` counts them (``triage.features``): an outcome is known
    ``OUTCOME_LAG_DAYS`` after its case was sent; only earlier outcomes count. Cases of a
    country with no recorded outcome (or without a country) get 0.
    """
    from triage.features._build import OUTCOME_LAG_DAYS, case_dates
    from triage.features._pit import PointInTime, day_numbers

    labelled = history.outcomes.merge(
        history.cases[["case_id", "country", "sent_date"]], on="case_id", how="inner"
    )
    labelled = labelled[labelled["outcome"].notna().to_numpy()]

    def norm(values: pd.Series) -> pd.Series:
        return values.astype("string").str.strip().str.upper()

    known = norm(labelled["country"])
    asked = norm(cases["country"])
    codes = {c: i for i, c in enumerate(sorted(set(known.dropna()) | set(asked.dropna())))}
    key = known.map(codes).fillna(-1).to_numpy(dtype=np.int64)
    when = day_numbers(labelled["sent_date"]) + OUTCOME_LAG_DAYS
    counts = PointInTime(key, when, np.ones(len(when))).before(
        asked.map(codes).fillna(-1).to_numpy(dtype=np.int64), day_numbers(case_dates(cases))
    )
    return counts[:, 0]
