"""``allocate``: the proven-optimal selection, its constraints, prices and, if infeasible, the fix."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from triage.allocate._engine import Engine, LPResult, MIPResult
from triage.allocate._policy import Policy
from triage.allocate._problem import Problem, build_problem
from triage.allocate._relaxation import (
    Relaxation,
    _explain_infeasible,
    _records,
    find_relaxation,
)
from triage.allocate._ties import canonical_ties, satisfies, tie_break

__all__ = ["Allocation", "Relaxation", "TieDraw", "allocate", "find_relaxation", "solve_problem"]

Status = Literal["optimal", "infeasible", "time_limit"]
Solver = Literal["highs", "cbc", "highspy"]


def _clean(value: float) -> float:
    out = round(float(value), 9)
    return 0.0 if out == 0 else out


@dataclass(frozen=True)
class TieDraw:
    """Candidates with exactly equal scores, split by the selection: the places went by lot.

    Attributes
    ----------
    score : float
        The score they share.
    places : int
        How many of them are selected.
    draw_order : tuple of str
        Every tied case_id in the order the seeded lottery draws them.
    selected : tuple of str
        The tied case_ids that are selected (sorted).
    """

    score: float
    places: int
    draw_order: tuple[str, ...]
    selected: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready draw."""
        return {
            "score": self.score,
            "places": self.places,
            "draw_order": list(self.draw_order),
            "selected": list(self.selected),
        }


def tie_draws(problem: Problem, x: np.ndarray) -> tuple[TieDraw, ...]:
    """Return every group of exactly equal scores that the selection splits, by score, highest first."""
    s = problem.scores
    if problem.n < 2:
        return ()
    order = np.lexsort((problem.lottery, -s))
    same_next = s[order][1:] == s[order][:-1]
    if not same_next.any():
        return ()
    starts = np.flatnonzero(np.concatenate([[True], ~same_next]))
    ends = np.concatenate([starts[1:], [len(order)]])
    # Counted for every group at once; only the groups the selection splits are looked at.
    chosen_in = np.add.reduceat(x[order].astype(np.int64), starts)
    split = (ends - starts >= 2) & (chosen_in > 0) & (chosen_in < ends - starts)
    draws = []
    for a, b, chosen in zip(
        starts[split].tolist(), ends[split].tolist(), chosen_in[split].tolist(), strict=True
    ):
        group = order[a:b]
        draws.append(
            TieDraw(
                score=float(s[group[0]]),
                places=chosen,
                draw_order=tuple(problem.case_ids[group].tolist()),
                selected=tuple(sorted(problem.case_ids[group[x[group]]].tolist())),
            )
        )
    return tuple(draws)


@dataclass(frozen=True)
class Allocation:
    """The result of one allocation run.

    Attributes
    ----------
    status : {"optimal", "infeasible", "time_limit"}
    gap : float
        Relative optimality gap (0 when proven optimal; ``inf`` when infeasible).
    objective : float or None
        Sum of the scores of the selected cases (expected improvements).
    selected : tuple of str
        Selected case_ids, sorted.
    constraints : DataFrame
        name, kind ('min'/'max'), target (count), achieved, binding (bool), shadow_price
        (d objective / d target from the LP relaxation, expected improvements per case; NaN if
        unavailable).
    relaxation : Relaxation or None
        When infeasible, the smallest change of targets that makes the policy feasible.
    solver : str
        The solver that proved the integer optimum.
    tie_seed : int
        Seed of the lottery between exactly tied candidates.
    ties : tuple of TieDraw
        Every group of equal scores that the selection splits, with the lottery's draw order:
        the places among them went to the earliest draws the targets allow.
    """

    status: Status
    gap: float
    objective: float | None
    selected: tuple[str, ...]
    constraints: pd.DataFrame
    relaxation: Relaxation | None
    solver: str
    k: int
    n_candidates: int
    policy_name: str
    policy_sha256: str
    message: str = ""
    exploration: tuple[str, ...] = ()
    missing_must_include: tuple[str, ...] = ()
    tie_seed: int = 0
    ties: tuple[TieDraw, ...] = ()
    _problem: Problem | None = field(default=None, repr=False, compare=False)
    _x: np.ndarray | None = field(default=None, repr=False, compare=False)
    _lp: LPResult | None = field(default=None, repr=False, compare=False)

    @property
    def feasible(self) -> bool:
        """Whether a selection was found."""
        return self.status != "infeasible"

    @property
    def overall(self) -> pd.Series:
        """Headline figures: status, objective, gap, selected count, candidates."""
        return pd.Series(
            {
                "status": self.status,
                "objective": self.objective,
                "gap": self.gap,
                "selected": len(self.selected),
                "candidates": self.n_candidates,
            }
        )

    @property
    def by_group(self) -> pd.DataFrame:
        """Selected counts and shares by group: dimension, group, candidates, selected, share."""
        if self._problem is None or self._x is None:
            return pd.DataFrame(columns=["dimension", "group", "candidates", "selected", "share"])
        return group_shares(self._problem.candidates, self._x)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready result (the ``triage select --json`` object)."""
        constraints = []
        for r in _records(self.constraints):
            price = r.shadow_price
            constraints.append(
                {
                    "name": r.name,
                    "kind": r.kind,
                    "target": int(r.target),
                    "achieved": None if pd.isna(r.achieved) else int(r.achieved),
                    "binding": bool(r.binding),
                    "shadow_price": None if pd.isna(price) else float(price),
                }
            )
        return {
            "status": self.status,
            "gap": None if not math.isfinite(self.gap) else self.gap,
            "objective": self.objective,
            "solver": self.solver,
            "policy": {"name": self.policy_name, "sha256": self.policy_sha256},
            "capacity": self.k,
            "candidates": self.n_candidates,
            "selected": list(self.selected),
            "constraints": constraints,
            "relaxation": None if self.relaxation is None else self.relaxation.to_list(),
            "exploration": list(self.exploration),
            "missing_must_include": list(self.missing_must_include),
            "tie_lottery": {
                "seed": self.tie_seed,
                "ties": [t.to_dict() for t in self.ties],
            },
            "message": self.message,
        }

    def to_json(self) -> str:
        """Return :meth:`to_dict` as stable, indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)


def group_shares(cands: pd.DataFrame, x: np.ndarray) -> pd.DataFrame:
    """Counts and shares of selected cases per group (a case counts toward each violation)."""
    from triage.allocate._policy import DIMENSIONS
    from triage.schema import codes_to_frame

    total = max(int(x.sum()), 1)
    rows = []
    for dim, vocab in DIMENSIONS.items():
        if dim == "violations":
            flags = codes_to_frame(cands["violations"], vocab).to_numpy()
        else:
            values = cands[dim].to_numpy()
            flags = np.stack([values == code for code in vocab], axis=1)
        for i, code in enumerate(vocab):
            sel = int((flags[:, i] & x).sum())
            rows.append((dim, code, int(flags[:, i].sum()), sel, sel / total))
    return pd.DataFrame(rows, columns=["dimension", "group", "candidates", "selected", "share"])


def _constraints_frame(problem: Problem, x: np.ndarray | None, lp: LPResult | None) -> pd.DataFrame:
    achieved = problem.matrix @ x.astype(np.float64) if x is not None else None
    out = []
    for r, row in enumerate(problem.rows):
        got = None if achieved is None else round(float(achieved[r]))
        price = (
            _clean(-lp.y[r]) if lp is not None and lp.status == "optimal" and len(lp.y) else np.nan
        )
        out.append(
            (row.name, row.kind, row.target, got, got is not None and got == row.target, price)
        )
    frame = pd.DataFrame(
        out, columns=["name", "kind", "target", "achieved", "binding", "shadow_price"]
    )
    frame["achieved"] = frame["achieved"].astype("Int64")
    frame["shadow_price"] = frame["shadow_price"].astype(float)
    return frame


def solve_problem(
    problem: Problem,
    policy: Policy,
    *,
    solver: Solver = "highs",
    time_limit: float | None = None,
    engine: Engine | None = None,
) -> Allocation:
    """Solve a built :class:`Problem` (see :func:`allocate`)."""
    limit = time_limit if time_limit is not None else policy.time_limit
    try:
        import highspy  # noqa: F401
    except ImportError:  # pragma: no cover - highspy is a dependency; CBC alone still works
        return _solve_cbc_only(problem, policy, limit)
    eng = engine or Engine(problem, time_limit=limit)
    lp = eng.solve_lp()
    mip: MIPResult
    if lp.status == "optimal":
        try:
            mip = eng.solve_mip(lp, backend=solver)
            used = solver
        except Exception:
            if solver != "highs":
                raise
            mip = eng.solve_mip(lp, backend="cbc")
            used = "cbc"
    else:
        mip = MIPResult("infeasible", -np.inf, np.zeros(problem.n, dtype=bool), -np.inf, np.inf)
        used = solver
    return _result(problem, policy, lp, mip, used)


def _result(
    problem: Problem, policy: Policy, lp: LPResult | None, mip: MIPResult, used: str
) -> Allocation:
    if mip.status == "infeasible":
        relaxation = find_relaxation(problem)
        return Allocation(
            status="infeasible",
            gap=math.inf,
            objective=None,
            selected=(),
            constraints=_constraints_frame(problem, None, None),
            relaxation=relaxation,
            message=_explain_infeasible(problem, relaxation),
            **_program_fields(problem, policy, used),
        )
    x = tie_break(problem, mip.x)
    if lp is not None and lp.status == "optimal" and mip.status == "optimal":
        x = canonical_ties(problem, x, lp.reduced, gap_abs=max(lp.objective - mip.objective, 0.0))
    lo, hi = problem.bounds()
    if not satisfies(problem, x, lo, hi):  # pragma: no cover - a solver bug, not a user error
        raise RuntimeError("the solver returned a selection that breaks a constraint")
    selected = tuple(sorted(problem.case_ids[x].tolist()))
    objective = math.fsum(problem.scores[x].tolist())
    message = ""
    if mip.status == "time_limit":
        message = f"Stopped at the time limit with a relative gap of {mip.gap:.2e}."
    return Allocation(
        status=mip.status,
        gap=_clean(mip.gap) if math.isfinite(mip.gap) else mip.gap,
        objective=objective,
        selected=selected,
        constraints=_constraints_frame(problem, x, lp),
        relaxation=None,
        message=message,
        exploration=tuple(problem.case_ids[problem.exploration].tolist()),
        ties=tie_draws(problem, x),
        _x=x,
        _lp=lp,
        **_program_fields(problem, policy, used),
    )


def _program_fields(problem: Problem, policy: Policy, used: str) -> dict[str, Any]:
    """What every allocation, feasible or not, says of its program: the solver used, K, the
    number of candidates, the policy, must-include cases not among them, the lottery's seed."""
    return {
        "solver": used,
        "k": problem.k,
        "n_candidates": problem.n,
        "policy_name": policy.name,
        "policy_sha256": policy.sha256,
        "missing_must_include": problem.missing_must_include,
        "tie_seed": problem.tie_seed,
        "_problem": problem,
    }


def _solve_cbc_only(problem: Problem, policy: Policy, limit: float | None) -> Allocation:
    from triage.allocate._pulp import CoreBounds, solve_core_mip

    lo, hi = problem.bounds()
    bounds = CoreBounds(lo, hi, np.zeros(problem.n), np.ones(problem.n))
    mip = solve_core_mip(problem, np.arange(problem.n), bounds, solver="cbc", time_limit=limit)
    return _result(problem, policy, None, mip, "cbc")


def allocate(
    candidates: pd.DataFrame,
    policy: Policy,
    *,
    solver: Solver = "highs",
    time_limit: float | None = None,
    seed: int = 0,
) -> Allocation:
    """Select exactly K = min(capacity, N) cases maximising the sum of scores under ``policy``.

    Parameters
    ----------
    candidates : DataFrame
        case_id, score (expected improvements, used as given), country (ISO3), un_region,
        gender, violations (';'-separated); optional must_include (bool).
    policy : Policy
        Balance targets.
    solver : {"highs", "cbc", "highspy"}, default "highs"
        "highs" and "cbc" solve the named PuLP model on the sifted core (HiGHS falls back to CBC
        on failure); "highspy" uses the in-memory LP and skips PuLP when the LP is integral.
    time_limit : float, optional
        Seconds for the integer program (default: the policy's ``solver.time_limit``).
    seed : int, default 0
        Seed of the lottery that settles exact ties: among candidates with equal scores, the
        places the targets leave go to the earliest draws (``Allocation.ties`` records them).

    Returns
    -------
    Allocation
        Status, gap, objective, selected case_ids, constraints with shadow prices, relaxation.
    """
    if solver not in ("highs", "cbc", "highspy"):
        raise ValueError(f"`solver` must be 'highs', 'cbc' or 'highspy'. Got {solver!r} instead.")
    problem = build_problem(candidates, policy, seed=seed)
    return solve_problem(problem, policy, solver=solver, time_limit=time_limit)
