"""The integer program as a PuLP model with readable constraint names, solved by HiGHS or CBC."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from triage.allocate._engine import MIPResult
from triage.allocate._highs import _normaliser, quiet_highs
from triage.allocate._problem import Problem

__all__ = ["CoreBounds", "build_pulp_model", "solve_core_mip"]


@dataclass(frozen=True)
class CoreBounds:
    """The bounds a program is solved under: rows ``lo``/``hi`` (counts, ``±inf`` where open)
    and each candidate's ``col_lb``/``col_ub`` (0 or 1; both 1 forces a case in)."""

    lo: np.ndarray
    hi: np.ndarray
    col_lb: np.ndarray
    col_ub: np.ndarray


def build_pulp_model(problem: Problem, core: np.ndarray, bounds: CoreBounds):  # type: ignore[no-untyped-def]
    """Return ``(model, variables)``: the program restricted to ``core``, rows named as reported.

    Names such as ``share_min[un_region=african]`` are kept as given; PuLP itself replaces the
    characters its file formats cannot carry (``[``, ``]``, ``-``...) by ``_`` when writing.
    """
    import pulp

    lo, hi, col_lb, col_ub = bounds.lo, bounds.hi, bounds.col_lb, bounds.col_ub
    model = pulp.LpProblem("triage_allocation", pulp.LpMaximize)
    variables = [
        model.add_variable(
            f"x{j}", lowBound=float(col_lb[j]), upBound=float(col_ub[j]), cat="Integer"
        )
        for j in core
    ]
    # The scores on [0, 1], as the in-memory engine hands them to HiGHS: the same optimum,
    # and the solver's absolute tolerances cannot hide differences between tiny scores.
    low, spread = _normaliser(problem)
    scores = (problem.scores - low) / spread
    model.setObjective(
        pulp.LpAffineExpression(
            [(v, float(scores[j])) for v, j in zip(variables, core, strict=True)]
        )
    )
    pos = np.full(problem.n, -1, dtype=np.int64)
    pos[core] = np.arange(len(core))
    mat = problem.matrix
    for r, row in enumerate(problem.rows):
        members = mat.indices[mat.indptr[r] : mat.indptr[r + 1]]
        inside = pos[members]
        inside = inside[inside >= 0]
        expr = pulp.LpAffineExpression([(variables[i], 1.0) for i in inside])
        if np.isfinite(lo[r]) and np.isfinite(hi[r]) and lo[r] == hi[r]:
            model.addConstraint(expr == float(lo[r]), name=row.name)
        else:
            if np.isfinite(lo[r]):
                model.addConstraint(expr >= float(lo[r]), name=row.name)
            if np.isfinite(hi[r]):
                name = row.name if not np.isfinite(lo[r]) else f"{row.name}:upper"
                model.addConstraint(expr <= float(hi[r]), name=name)
    return model, variables


def solve_core_mip(
    problem: Problem,
    core: np.ndarray,
    bounds: CoreBounds,
    *,
    solver: Literal["highs", "cbc"] | str,
    time_limit: float | None,
) -> MIPResult:
    """Solve the named PuLP model on ``core`` with gap 0 and return the full-length solution."""
    import pulp

    model, variables = build_pulp_model(problem, core, bounds)
    if solver == "highs":
        quiet_highs()
        engine = pulp.HiGHS(
            msg=False,
            gapRel=0.0,
            gapAbs=1e-9,
            timeLimit=time_limit,
            presolve="off",
            random_seed=0,
            threads=1,
        )
    elif solver == "cbc":
        with warnings.catch_warnings():
            # PuLP 3 warns that the bundled CBC moves to an extra in PuLP 4; it is still here.
            warnings.simplefilter("ignore", DeprecationWarning)
            engine = pulp.PULP_CBC_CMD(
                msg=False, gapRel=0.0, gapAbs=1e-9, timeLimit=time_limit, threads=1
            )
    else:
        raise ValueError(f"`solver` must be 'highs' or 'cbc'. Got {solver!r} instead.")
    model.solve(engine)
    n = problem.n
    status = pulp.LpStatus[model.status]
    if status == "Infeasible" or model.sol_status == pulp.LpSolutionInfeasible:
        return MIPResult("infeasible", -np.inf, np.zeros(n, dtype=bool), -np.inf, np.inf)
    values = np.array([v.varValue if v.varValue is not None else 0.0 for v in variables])
    x = np.zeros(n, dtype=bool)
    x[core] = values > 0.5
    objective = float(problem.scores[x].sum())
    if model.sol_status == pulp.LpSolutionOptimal:
        return MIPResult("optimal", objective, x, objective, 0.0)
    if model.sol_status == pulp.LpSolutionIntegerFeasible:
        return MIPResult("time_limit", objective, x, np.inf, np.inf)
    raise RuntimeError(f"{solver} ended with status {status}")
