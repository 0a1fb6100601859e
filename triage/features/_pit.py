"""Point-in-time aggregation: sums of events per group dated strictly before each query date.

Every country statistic in the feature table is a count or a sum over events (a reply, an
outcome, a case) that carry a group key and the date on which they became known. Sorting the
events once by ``(key, date)`` and keeping cumulative sums makes each query two binary searches,
so 100,000 queries over the full history stay vectorised and exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PointInTime", "day_numbers"]

_EPOCH = np.datetime64("1800-01-01", "D")
# Day numbers stay far below this; the composite key is ``key * _SPAN + day``.
_SPAN = 1_000_000


def day_numbers(values: pd.Series) -> np.ndarray:
    """Return days since 1800-01-01 as float (NaN for missing dates)."""
    dates = pd.to_datetime(values, errors="coerce")
    out = np.full(len(dates), np.nan)
    ok = dates.notna().to_numpy()
    if ok.any():
        days = dates.to_numpy()[ok].astype("datetime64[D]") - _EPOCH
        out[ok] = days.astype(np.int64).astype(float)
    return out


class PointInTime:
    """Cumulative sums of event values per integer group key, queried by "dated before t".

    Parameters
    ----------
    keys : ndarray of int
        Group of each event (``0`` for a single global group).
    days : ndarray of float
        Day number on which each event became known; events with NaN are ignored.
    values : ndarray of shape (n_events, n_values)
        What each event adds to the sums (``1`` to count it).
    """

    def __init__(self, keys: np.ndarray, days: np.ndarray, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values.reshape(-1, 1)
        keep = ~np.isnan(days) & (np.asarray(keys) >= 0)
        composite = np.asarray(keys)[keep].astype(np.int64) * _SPAN + days[keep].astype(np.int64)
        order = np.argsort(composite, kind="stable")
        self._composite = composite[order]
        sums = np.cumsum(values[keep][order], axis=0)
        self._cumsum = np.vstack([np.zeros((1, values.shape[1])), sums])

    def before(self, keys: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Sum the values of events in group ``keys[i]`` known strictly before ``days[i]``.

        Queries with a negative key or a NaN day get zeros.
        """
        keys = np.asarray(keys)
        valid = ~np.isnan(days) & (keys >= 0)
        k = np.where(valid, keys, 0).astype(np.int64)
        d = np.where(valid, days, 0).astype(np.int64)
        hi = np.searchsorted(self._composite, k * _SPAN + d, side="left")
        lo = np.searchsorted(self._composite, k * _SPAN, side="left")
        out = self._cumsum[hi] - self._cumsum[lo]
        out[~valid] = 0.0
        return out
