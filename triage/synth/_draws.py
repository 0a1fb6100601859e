"""Seeded draws that keep every row's own probability and spread each group's draws evenly.

Stratified, low-discrepancy and systematic draws: each row is marginally what a plain draw would
give, while the counts of every group (a country's replies, a year's outcomes) stay close to
their expectation instead of adding binomial noise on top.
"""

from __future__ import annotations

import numpy as np


def _stratified(
    rng: np.random.Generator, groups: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Uniform draws, stratified within each group (rows outside ``mask`` get plain draws).

    Each draw is marginally uniform, so every row keeps its own probability; within a group
    the draws cover [0, 1) evenly, which keeps counts per group (a country's replies, a
    year's outcomes) close to their expectation instead of adding binomial noise on top.
    """
    n = len(groups)
    u = rng.random(n)
    rows = np.arange(n) if mask is None else np.flatnonzero(mask)
    if len(rows) == 0:
        return u
    g = groups[rows]
    order = rows[np.lexsort((rng.random(len(rows)), g))]
    g_sorted = groups[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    u[order] = (rank + rng.random(len(order))) / np.repeat(sizes, sizes)
    return u


def _van_der_corput(n: int) -> np.ndarray:
    """The first ``n`` points of the base-2 van der Corput sequence."""
    i = np.arange(n, dtype=np.uint64)
    out = np.zeros(n)
    scale = 0.5
    while i.any():
        out += (i & np.uint64(1)).astype(float) * scale
        i >>= np.uint64(1)
        scale /= 2
    return out


def _low_discrepancy(
    rng: np.random.Generator, keys: tuple[np.ndarray, ...], mask: np.ndarray | None = None
) -> np.ndarray:
    """Uniform draws spread evenly along the rows sorted by ``keys`` (last key first).

    A randomly shifted van der Corput sequence: each draw is marginally uniform, and every run
    of consecutive rows in the sort order (hence every group of the leading keys) gets draws
    that cover [0, 1) evenly.
    """
    n = len(keys[0])
    u = rng.random(n)
    rows = np.arange(n) if mask is None else np.flatnonzero(mask)
    if len(rows) == 0:
        return u
    tie = rng.random(len(rows))
    order = rows[np.lexsort((tie, *(np.asarray(k)[rows] for k in keys)))]
    u[order] = (_van_der_corput(len(order)) + rng.random()) % 1.0
    return u


def _systematic_draws(
    rng: np.random.Generator,
    p: np.ndarray,
    keys: tuple[np.ndarray, ...],
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Bernoulli(``p``) events by systematic sampling along the rows sorted by ``keys``.

    Rows are sorted by ``keys`` (last key first, random order within), their probabilities
    laid end to end, and a row is drawn when a point of ``r, r + 1, r + 2, ...`` (``r`` uniform)
    falls in its stretch. Each row is drawn with exactly its own probability, and every run of
    consecutive rows (hence every group of the leading keys) gets a count within one of its
    expected count. Rows outside ``mask`` get plain independent draws.
    """
    n = len(p)
    out = rng.random(n) < p
    rows = np.arange(n) if mask is None else np.flatnonzero(mask)
    if len(rows) == 0:
        return out
    tie = rng.random(len(rows))
    order = rows[np.lexsort((tie, *(np.asarray(k)[rows] for k in keys)))]
    edge = np.concatenate([[0.0], np.cumsum(np.clip(p[order], 0.0, 1.0))]) - rng.random()
    out[order] = np.ceil(edge[1:]) > np.ceil(edge[:-1])
    return out
