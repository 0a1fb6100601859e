"""``allocate``: the proven-optimal selection, its constraints, prices and, if infeasible, the fix."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
import pandas as pd

from triage.allocate._engine import (
    Engine,
    LPResult,
    MIPResult,
    canonical_ties,
    new_highs,
    satisfies,
    tie_break,
)
from triage.allocate._policy import Bound, Policy
from triage.allocate._problem import Problem, build_problem

__all__ = ["Allocation", "Relaxation", "TieDraw", "allocate", "find_relaxation", "solve_problem"]

Status = Literal["optimal", "infeasible", "time_limit"]
Solver = Literal["highs", "cbc", "highspy"]


def _records(frame: pd.DataFrame) -> list[Any]:
    """The rows of ``frame`` as namespaces (``row.column``), values as Python scalars."""
    return [
        SimpleNamespace(**{str(k): v for k, v in row.items()}) for row in frame.to_dict("records")
    ]


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
    draws = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        group = order[a:b]
        chosen = int(x[group].sum())
        if len(group) < 2 or chosen in (0, len(group)):
            continue
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
class Relaxation:
    """The smallest set of target changes that makes an infeasible policy feasible.

    ``changes`` has columns name, target and relaxed_to (counts of cases). Fewest changed targets
    first, then the smallest total change.
    """

    changes: pd.DataFrame
    k: int

    def to_list(self) -> list[dict[str, Any]]:
        """Return the changes as JSON-ready dicts."""
        return [
            {"name": r.name, "target": int(r.target), "relaxed_to": int(r.relaxed_to)}
            for r in _records(self.changes)
        ]

    def apply(self, policy: Policy) -> Policy:
        """Return ``policy`` with these changes written into it (shares as count / K)."""
        shares = {d: dict(b) for d, b in policy.shares.items()}
        per_country = dict(policy.per_country)
        must = set(policy.must_include)
        for r in _records(self.changes):
            name = str(r.name)
            kind, _, rest = name.partition("[")
            key, _, code = rest.rstrip("]").partition("=")
            if kind in ("share_min", "share_max"):
                old = shares.setdefault(key, {}).get(code, Bound())
                value = int(r.relaxed_to) / self.k
                if kind == "share_min":
                    shares[key][code] = Bound(min=value if r.relaxed_to > 0 else None, max=old.max)
                else:
                    shares[key][code] = Bound(min=old.min, max=min(value, 1.0))
                if shares[key][code].min is None and shares[key][code].max is None:
                    del shares[key][code]
            elif kind == "max_per_country":
                per_country[code] = int(r.relaxed_to)
            elif kind == "must_include":
                must.discard(code)
        from triage.allocate._policy import _freeze

        return policy.with_changes(
            shares=_freeze(shares), per_country=per_country, must_include=tuple(sorted(must))
        )


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


def find_relaxation(
    problem: Problem, lo: np.ndarray | None = None, hi: np.ndarray | None = None
) -> Relaxation | None:
    """Return the fewest (then smallest) target changes that make the program feasible.

    Candidates with the same constraint rows are interchangeable for feasibility, so the elastic
    program counts cases per pattern instead of choosing them one by one.
    """
    import highspy

    base_lo, base_hi = problem.bounds()
    lo = base_lo if lo is None else lo
    hi = base_hi if hi is None else hi
    m = len(problem.rows)
    csc = problem.csc
    rng = np.random.default_rng(20181)
    keys = np.stack(
        [csc.T @ rng.integers(1, 2**40, m).astype(np.float64) for _ in range(2)], axis=1
    )
    _, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
    agg = csc[:, first].tocsr()
    n_pat = len(first)
    relax_rows = [r for r, row in enumerate(problem.rows) if row.relaxable and row.sense != "eq"]
    big = float(max(problem.k, 1) + max((row.target for row in problem.rows), default=0))

    def run(phase: int, limit: float | None) -> tuple[np.ndarray, float] | None:
        h = new_highs()
        inf = highspy.kHighsInf
        # columns: pattern counts, slacks u_r, switches z_r
        n_r = len(relax_rows)
        cost = np.concatenate(
            [
                np.zeros(n_pat),
                np.ones(n_r) if phase == 2 else np.zeros(n_r),
                np.ones(n_r) if phase == 1 else np.zeros(n_r),
            ]
        )
        lower = np.zeros(n_pat + 2 * n_r)
        upper = np.concatenate([counts.astype(float), np.full(n_r, big), np.ones(n_r)])
        h.addVars(len(cost), lower, upper)
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        h.changeColsIntegrality(
            len(cost),
            np.arange(len(cost), dtype=np.int32),
            np.array([highspy.HighsVarType.kInteger] * len(cost)),
        )
        slack_of = {r: i for i, r in enumerate(relax_rows)}
        for r in range(m):
            idx = agg.indices[agg.indptr[r] : agg.indptr[r + 1]].tolist()
            val = [1.0] * len(idx)
            if r in slack_of:
                idx.append(n_pat + slack_of[r])
                val.append(1.0 if problem.rows[r].sense == "ge" else -1.0)
            rl = lo[r] if np.isfinite(lo[r]) else -inf
            ru = hi[r] if np.isfinite(hi[r]) else inf
            h.addRow(rl, ru, len(idx), np.array(idx, dtype=np.int32), np.array(val))
        for i in range(n_r):
            h.addRow(
                -inf,
                0.0,
                2,
                np.array([n_pat + i, n_pat + n_r + i], dtype=np.int32),
                np.array([1.0, -big]),
            )
        if limit is not None:
            idx = np.arange(n_pat + n_r, n_pat + 2 * n_r, dtype=np.int32)
            h.addRow(-inf, limit, len(idx), idx, np.ones(len(idx)))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value), float(h.getInfo().objective_function_value)

    first_run = run(1, None)
    if first_run is None:
        return None
    _, n_changed = first_run
    second = run(2, round(n_changed))
    if second is None:
        return None
    values, _ = second
    changes = []
    for i, r in enumerate(relax_rows):
        u = round(values[n_pat + i])
        if u > 0:
            row = problem.rows[r]
            relaxed = row.target - u if row.sense == "ge" else row.target + u
            changes.append((row.name, row.target, max(relaxed, 0)))
    frame = pd.DataFrame(changes, columns=["name", "target", "relaxed_to"])
    return Relaxation(changes=frame, k=problem.k)


def _explain_infeasible(problem: Problem, relaxation: Relaxation | None) -> str:
    if relaxation is None:
        return (
            "The policy cannot be met with these candidates, and no change of share or country "
            "targets alone repairs it (check capacity, exploration and must-include cases)."
        )
    parts = [
        f"{r.name} from {int(r.target)} to {int(r.relaxed_to)} cases"
        for r in _records(relaxation.changes)
    ]
    return (
        f"The policy cannot be met with these {problem.n} candidates when {problem.k} are "
        f"selected. The smallest change that makes it feasible: relax " + "; ".join(parts) + "."
    )


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
            solver=used,
            k=problem.k,
            n_candidates=problem.n,
            policy_name=policy.name,
            policy_sha256=policy.sha256,
            message=_explain_infeasible(problem, relaxation),
            missing_must_include=problem.missing_must_include,
            tie_seed=problem.tie_seed,
            _problem=problem,
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
        solver=used,
        k=problem.k,
        n_candidates=problem.n,
        policy_name=policy.name,
        policy_sha256=policy.sha256,
        message=message,
        exploration=tuple(problem.case_ids[problem.exploration].tolist()),
        missing_must_include=problem.missing_must_include,
        tie_seed=problem.tie_seed,
        ties=tie_draws(problem, x),
        _problem=problem,
        _x=x,
        _lp=lp,
    )


def _solve_cbc_only(problem: Problem, policy: Policy, limit: float | None) -> Allocation:
    from triage.allocate._pulp import solve_core_mip

    lo, hi = problem.bounds()
    mip = solve_core_mip(
        problem,
        np.arange(problem.n),
        lo,
        hi,
        np.zeros(problem.n),
        np.ones(problem.n),
        solver="cbc",
        time_limit=limit,
    )
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
