"""Root finding for the simulation's calibration: ``scipy.optimize.brentq`` with its convergence checked."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit

__all__ = ["solve_increasing", "solve_intercept"]

#: Absolute and relative tolerances: as fine as brentq allows, so the solution is the last float
#: at which ``f`` crosses the target (what the earlier 50- and 60-step bisections returned).
_XTOL = 1e-300
_RTOL = 4 * np.finfo(float).eps
_MAXITER = 500


def solve_increasing(
    f: Callable[[float], float], target: float, lo: float, hi: float, *, what: str
) -> float:
    """Return ``x`` in ``[lo, hi]`` with ``f(x) == target`` for an increasing ``f``.

    Parameters
    ----------
    f : callable
        Increasing function of one float.
    target : float
        The value to reach.
    lo, hi : float
        The bracket. When ``target`` lies outside ``[f(lo), f(hi)]`` the nearer end is returned.
    what : str
        What is solved, named in the error.

    Returns
    -------
    float
        The root (Brent's method).

    Raises
    ------
    RuntimeError
        When Brent's method does not converge within its iteration limit.
    """
    below = f(lo) - target
    if below >= 0:
        return lo
    above = f(hi) - target
    if above <= 0:
        return hi
    root, result = brentq(
        lambda x: f(x) - target,
        lo,
        hi,
        xtol=_XTOL,
        rtol=_RTOL,
        maxiter=_MAXITER,
        full_output=True,
        disp=False,
    )
    if not result.converged:
        raise RuntimeError(
            f"Solving {what} did not converge in {result.iterations} iterations "
            f"({result.flag}); the simulation cannot be calibrated."
        )
    return float(root)


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
