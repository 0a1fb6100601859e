"""The simulation's calendar and monthly volumes, and the systematic draws that keep counts even."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from triage.synth import _world as W


def _systematic(rng: np.random.Generator, n: int, p: np.ndarray) -> np.ndarray:
    """Draw ``n`` categories with probabilities ``p`` by systematic sampling, in random order.

    Counts per category then stay within one of their expectation, which keeps the country
    mix of every month close to the advocacy weights (less noise than independent draws).
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(p)
    cum[-1] = 1.0
    points = (rng.random() + np.arange(n)) / n
    return rng.permutation(np.searchsorted(cum, points, side="right"))


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights, exactly."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


# ----------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Calendar:
    start: np.ndarray  # datetime64[D] first day of each month
    days: np.ndarray  # days in month
    year: np.ndarray
    era: np.ndarray  # 0 jilani, 1 sekaggya, 2 forst, 3 after the history


def _calendar(first: str, last: str) -> _Calendar:
    months = np.arange(np.datetime64(first[:7], "M"), np.datetime64(last[:7], "M") + 1)
    start = months.astype("datetime64[D]")
    end = (months + 1).astype("datetime64[D]")
    year = months.astype("datetime64[Y]").astype(int) + 1970
    era = np.zeros(len(months), dtype=np.int64)
    era[start >= np.datetime64(W.ERAS[1][1])] = 1
    era[start >= np.datetime64(W.ERAS[2][1])] = 2
    era[start > np.datetime64(W.HISTORY_END)] = 3
    return _Calendar(start, (end - start).astype(int), year, era)


def _volumes(cal: _Calendar, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Letters naming individuals, cases, press releases and unnamed letters per month."""
    n = len(cal.start)
    letters = np.zeros(n, dtype=np.int64)
    prs = np.zeros(n, dtype=np.int64)
    unnamed = np.zeros(n, dtype=np.int64)
    for y in range(W.FIRST_YEAR, W.LAST_YEAR + 1):
        months = np.flatnonzero(cal.year == y)
        even = np.ones(len(months))
        named = W.COMMS_PER_YEAR[y] - W.PRESS_RELEASES_PER_YEAR[y] - W.UNNAMED_PER_YEAR[y]
        letters[months] = _largest_remainder(round(named * scale), even)
        prs[months] = _largest_remainder(round(W.PRESS_RELEASES_PER_YEAR[y] * scale), even)
        unnamed[months] = _largest_remainder(round(W.UNNAMED_PER_YEAR[y] * scale), even)
    cases = np.zeros(n, dtype=np.int64)
    era_totals = (
        W.CASES_TOTAL - W.CASES_SEKAGGYA - W.CASES_FORST,
        W.CASES_SEKAGGYA,
        W.CASES_FORST,
    )
    shape = np.array([W.CASE_RATE_SHAPE.get(int(y), 0) for y in cal.year], dtype=float)
    for e, total in enumerate(era_totals):
        months = np.flatnonzero(cal.era == e)
        # Cases go only to months that send letters (all months at scale 1; not at tiny scales).
        weight = shape[months] * (letters[months] > 0)
        if weight.sum() == 0:
            weight = shape[months]
            letters[months[np.argmax(weight)]] = 1
            weight = shape[months] * (letters[months] > 0)
        cases[months] = _largest_remainder(round(total * scale), weight)
    letters = np.minimum(letters, cases)
    return letters, cases, prs, unnamed
