"""Re-solving in milliseconds as a slider moves, the price of balance, and trade-off curves.

``InteractiveAllocator`` builds one row for every share target that could be set (each region,
gender and violation, min and max) and keeps the LP in memory; moving a target only changes row
bounds, and the dual simplex restarts from the previous basis. An integral LP optimum is a
proven integer optimum; otherwise the integer program is solved on the core (integer repair).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from triage.allocate._allocation import Allocation, _result
from triage.allocate._engine import Engine, LPResult, MIPResult
from triage.allocate._policy import DIMENSIONS, Bound, Policy, _freeze
from triage.allocate._problem import Problem, build_problem, prepare_candidates
from triage.errors import TriageError

__all__ = ["InteractiveAllocator", "price_of_balance", "tradeoff_curve"]


def _open_policy(policy: Policy) -> Policy:
    shares = {
        dim: dict.fromkeys(vocab, Bound(min=0.0, max=1.0)) for dim, vocab in DIMENSIONS.items()
    }
    return replace(policy, shares=_freeze(shares))


class InteractiveAllocator:
    """Keep the allocation model in memory and re-solve it when share targets change.

    Parameters
    ----------
    candidates : DataFrame
        As for :func:`allocate`.
    policy : Policy
        The starting policy. Capacity, country limits, must-include and exploration are fixed
        for the life of the object; share bands can change in :meth:`resolve`.
    """

    def __init__(self, candidates: pd.DataFrame, policy: Policy) -> None:
        self.candidates_ = prepare_candidates(candidates)
        self.policy_ = policy
        self.problem_ = build_problem(self.candidates_, _open_policy(policy), prepared=True)
        self.engine_ = Engine(self.problem_)
        self.allocation_ = self.resolve(policy)

    def _apply_changes(self, changes: Mapping[str, float | None]) -> Policy:
        policy = getattr(self, "current_policy_", self.policy_)
        for key, value in changes.items():
            parts = key.split(".")
            if len(parts) != 3 or parts[2] not in ("min", "max") or parts[0] not in DIMENSIONS:
                raise ValueError(
                    f"`changes` keys must look like 'gender.woman.min'. Got {key!r} instead."
                )
            dim, code, side = parts
            band = policy.shares.get(dim, {}).get(code, Bound())
            lo = value if side == "min" else band.min
            hi = value if side == "max" else band.max
            policy = policy.with_bound(dim, code, min=lo, max=hi)
        return policy

    def _bounds(self, policy: Policy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = self.problem_.k
        lo, hi = self.problem_.bounds()
        active = np.ones(len(lo), dtype=bool)
        for r, row in enumerate(self.problem_.rows):
            if not row.name.startswith("share_"):
                continue
            dim, _, code = row.group.partition("=")
            band = policy.shares.get(dim, {}).get(code)
            if row.kind == "min":
                target = band.min_count(k) if band is not None else None
                lo[r] = -np.inf if target is None else target
            else:
                target = band.max_count(k) if band is not None else None
                hi[r] = np.inf if target is None else target
            active[r] = target is not None
        return lo, hi, active

    def _view(self, active: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Problem:
        p = self.problem_
        idx = np.flatnonzero(active)
        rows = []
        for r in idx:
            row = p.rows[r]
            target = row.target
            if row.name.startswith("share_"):
                target = int(lo[r]) if row.kind == "min" else int(hi[r])
            rows.append(replace(row, target=target))
        return replace(p, rows=rows, matrix=p.matrix[idx], _csc=None)

    def resolve(self, policy: Policy | Mapping[str, float | None]) -> Allocation:
        """Re-solve with new share bands, typically in a few milliseconds.

        Parameters
        ----------
        policy : Policy or mapping
            Either a whole policy (only its share bands may differ from the starting policy), or
            changes to the current policy keyed ``"dimension.code.min"`` / ``"...max"``, e.g.
            ``{"gender.woman.min": 0.4, "un_region.weog.max": None}`` (``None`` removes a bound).
        """
        if not isinstance(policy, Policy):
            policy = self._apply_changes(policy)
        fixed = (
            "capacity",
            "max_per_country",
            "per_country",
            "must_include",
            "exploration_share",
            "exploration_seed",
        )
        for key in fixed:
            if getattr(policy, key) != getattr(self.policy_, key):
                raise ValueError(
                    f"`policy.{key}` must stay as in the starting policy. Got "
                    f"{getattr(policy, key)!r} instead of {getattr(self.policy_, key)!r}; "
                    "build a new InteractiveAllocator for that."
                )
        policy.check_for(self.problem_.k)
        self.current_policy_ = policy
        lo, hi, active = self._bounds(policy)
        self.engine_.set_row_bounds(lo, hi)
        lp = self.engine_.solve_lp()
        mip = (
            self.engine_.solve_mip(lp, backend="highspy")
            if lp.status == "optimal"
            else MIPResult(
                "infeasible", -math.inf, np.zeros(self.problem_.n, bool), -math.inf, math.inf
            )
        )
        view = self._view(active, lo, hi)
        view_lp = LPResult(
            lp.status, lp.objective, lp.x, lp.y[active] if len(lp.y) else lp.y, lp.reduced
        )
        if mip.status == "infeasible":
            return _result(view, policy, None, mip, "highspy")
        return _result(view, policy, view_lp, mip, "highspy")


def price_of_balance(
    candidates: pd.DataFrame,
    policy: Policy,
    *,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """The cost of each target in expected improvements: by its dual and by re-solving without it.

    Returns columns name, kind, target, achieved, binding, shadow_price (per case, from the LP),
    cost (objective without the target minus objective with it, from the integer program; >= 0)
    and objective_without. A last row ``all targets`` compares with selection by score alone.
    """
    from triage.allocate._allocation import allocate

    base = allocate(candidates, policy, solver="highspy")
    if not base.feasible:
        raise ValueError("`policy` must be feasible to price its targets. Got an infeasible one.")
    problem = base._problem
    assert problem is not None
    eng = Engine(problem)
    lo0, hi0 = problem.bounds()
    rows = []
    names = [r for r in range(1, len(problem.rows))]
    for i, r in enumerate(names):
        lo, hi = lo0.copy(), hi0.copy()
        lo[r], hi[r] = -np.inf, np.inf
        eng.set_row_bounds(lo, hi)
        lp = eng.solve_lp()
        mip = eng.solve_mip(lp, backend="highspy")
        rows.append((problem.rows[r].name, mip.objective))
        if on_progress:
            on_progress(i + 1, len(names) + 1, problem.rows[r].name)
    lo, hi = lo0.copy(), hi0.copy()
    lo[1:], hi[1:] = -np.inf, np.inf
    eng.set_row_bounds(lo, hi)
    free = eng.solve_mip(eng.solve_lp(), backend="highspy")
    frame = base.constraints.iloc[1:].copy()
    without = dict(rows)
    z = float(base.objective or 0.0)
    frame["objective_without"] = frame["name"].map(without)
    frame["cost"] = (frame["objective_without"] - z).clip(lower=0).round(9)
    total = {
        "name": "all targets",
        "kind": "",
        "target": np.nan,
        "achieved": pd.NA,
        "binding": False,
        "shadow_price": np.nan,
        "objective_without": free.objective,
        "cost": round(max(free.objective - z, 0.0), 9),
    }
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    frame["target"] = frame["target"].astype(float)
    frame["binding"] = frame["binding"].astype(bool)
    frame["achieved"] = frame["achieved"].astype("Int64")
    from triage.allocate._contracts import PriceFrame, check

    return check(frame.reset_index(drop=True), PriceFrame)


def tradeoff_curve(
    candidates: pd.DataFrame,
    policy: Policy,
    *,
    dimension: str,
    code: str,
    bound: str = "min",
    shares: Sequence[float] | None = None,
) -> pd.DataFrame:
    """The objective as one share target is tightened step by step.

    Returns columns share (the target as a fraction), target (count), status, objective,
    objective_loss (against the loosest step) and achieved (count).
    """
    if bound not in ("min", "max"):
        raise ValueError(f"`bound` must be 'min' or 'max'. Got {bound!r} instead.")
    if dimension not in DIMENSIONS or code not in DIMENSIONS[dimension]:
        raise ValueError(f"`dimension`/`code` must name a share group. Got {dimension}={code}.")
    if shares is None:
        shares = [i / 20 for i in range(21)] if bound == "min" else [1 - i / 20 for i in range(21)]
    inter = InteractiveAllocator(candidates, policy)
    current = policy.shares.get(dimension, {}).get(code, Bound())
    out: list[tuple[float, int | None, str, float | None, float]] = []
    k = inter.problem_.k
    for share in shares:
        band = (
            Bound(min=share, max=current.max)
            if bound == "min"
            else Bound(min=current.min, max=share)
        )
        if band.min is not None and band.max is not None and band.min > band.max:
            out.append((share, None, "infeasible", np.nan, np.nan))
            continue
        try:
            candidate_policy = policy.with_bound(dimension, code, min=band.min, max=band.max)
            alloc = inter.resolve(candidate_policy)
        except TriageError:  # a step the policy validation rejects is simply not reachable
            out.append((share, None, "infeasible", np.nan, np.nan))
            continue
        target = band.min_count(k) if bound == "min" else band.max_count(k)
        achieved = np.nan
        if alloc.feasible:
            row = alloc.constraints[
                alloc.constraints["name"] == f"share_{bound}[{dimension}={code}]"
            ]
            achieved = float(row["achieved"].iloc[0]) if len(row) else np.nan
        out.append((share, target, alloc.status, alloc.objective, achieved))
    frame = pd.DataFrame(out, columns=["share", "target", "status", "objective", "achieved"])
    best = frame["objective"].max()
    frame["objective_loss"] = (best - frame["objective"]).round(9)
    frame = frame.astype({"target": float, "objective": float, "achieved": float})
    from triage.allocate._contracts import TradeoffFrame, check

    return check(frame, TradeoffFrame)
