"""Root finding: ``scipy.optimize.brentq`` with its convergence checked, shared by the simulation's
calibration and the training's variance solve."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

__all__ = ["solve_increasing"]

#: Absolute and relative tolerances: as fine as brentq allows, so the solution is the last float
#: at which ``f`` crosses the target (what the earlier 40- to 60-step bisections returned).
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
            f"Solving {what} did not converge in {result.iterations} iterations ({result.flag})."
        )
    return float(root)
