"""HiGHS set up for exact, silent answers, and the scaling of scores the engine hands it."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from triage.allocate._problem import Problem

__all__ = ["new_highs", "quiet_highs"]

_TOL = 1e-9
_INT_TOL = 1e-6
_banner_done = False


@contextlib.contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def quiet_highs() -> None:
    """Swallow the banner HiGHS prints to the C stdout once per process (it would corrupt --json)."""
    global _banner_done
    if _banner_done:
        return
    import highspy

    with _stdout_to_devnull():
        highspy.Highs()
    _banner_done = True


def new_highs(time_limit: float | None = None) -> Any:
    """Return a silent ``highspy.Highs`` set up for exact answers (presolve off, gap 0)."""
    import highspy

    quiet_highs()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    # Presolve finds nothing on this model and can cost seconds (performance probe).
    h.setOptionValue("presolve", "off")
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-9)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    return h


def _finite(values: np.ndarray) -> np.ndarray:
    import highspy

    out = np.asarray(values, dtype=np.float64).copy()
    out[np.isposinf(out)] = highspy.kHighsInf
    out[np.isneginf(out)] = -highspy.kHighsInf
    return out


def _normaliser(problem: Problem) -> tuple[float, float]:
    """``(low, spread)`` mapping the scores onto [0, 1]; the shift only when the capacity row
    (row 0) makes every selection the same size, else ``(0, largest |score|)``."""
    scores = problem.scores
    if not len(scores):
        return 0.0, 1.0
    high, low = float(scores.max()), float(scores.min())
    rows = problem.rows
    first = problem.matrix.getrow(0) if len(rows) else None
    fixed_size = (
        first is not None
        and rows[0].sense == "eq"
        and first.nnz == problem.n
        and bool(np.all(first.data == 1.0))
    )
    if fixed_size and high > low:
        return low, high - low
    top = max(abs(high), abs(low))
    return 0.0, top if top > 0 else 1.0
