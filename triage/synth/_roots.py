"""The simulation's intercepts, solved with :func:`triage._roots.solve_increasing`."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from triage._roots import solve_increasing

__all__ = ["solve_increasing", "solve_intercept"]


def solve_intercept(
    offset: np.ndarray, weight: np.ndarray, target: float, *, scale: np.ndarray | None = None
) -> float:
    """Return the intercept ``a`` (log-odds) with ``Σ w·s·expit(a + offset) / Σ w == target``.

    ``a`` is sought in ``[-15, 15]``; with no weight, the target's own log-odds (clipped to
    ``[1e-6, 1 - 1e-6]``).
    """
    s = np.ones_like(offset) if scale is None else scale
    wsum = weight.sum()
    if wsum <= 0:
        return float(logit(min(max(target, 1e-6), 1 - 1e-6)))
    ws = weight * s

    def mean(a: float) -> float:
        return float((ws * expit(a + offset)).sum() / wsum)

    return solve_increasing(mean, target, -15.0, 15.0, what="a simulation intercept")
