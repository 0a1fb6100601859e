"""The solver engine: an LP kept in memory on a core of candidates, priced out with its duals.

Why a core: with a few dozen rows an optimal LP vertex has at most that many fractional values,
so the LP relaxation almost always is the integer optimum. We solve the LP on the best
candidates, check every other candidate's reduced cost against the duals (sifting), add the
ones that could improve it, and only then solve the integer program on the core. A candidate
outside the core whose reduced cost is worse than the integrality gap cannot be in any better
integer solution, so the core optimum is proven for the whole queue.

Conventions: HiGHS minimises ``-score @ x``; ``y`` are its row duals. The objective reported is
the sum of scores (maximised); ``shadow = -y`` is d(objective)/d(target).

Scaling: HiGHS's feasibility tolerances are absolute (1e-7), so scores of 1e-6 or scores
clustered within 1e-8 of each other would look "optimal" while a better selection exists. The
engine therefore hands HiGHS the scores shifted and scaled to [0, 1], ``(score - low) / spread``:
every selection has exactly K cases (the capacity row, ``sum(x) = K``), so the shift changes
every selection's objective by the same ``low * K`` and the scale by the same factor; the
optimum is the same selection. Duals and reduced costs are converted back
(``y = spread * y'`` and ``y[capacity] -= low``; ``reduced = spread * reduced'``), so callers see
score units; the objective is always summed from the original scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from triage.allocate._highs import (
    _INT_TOL,
    _TOL,
    _finite,
    _normaliser,
    new_highs,
)
from triage.allocate._problem import Problem

__all__ = ["Engine", "LPResult", "MIPResult", "pattern_ids"]

#: A fractional LP's integer program starts on the columns whose reduced cost is within this
#: share of the score range (see ``Engine._near_core``).
_NEAR = 0.01


@dataclass
class LPResult:
    """The LP relaxation over every candidate (proven by pricing)."""

    status: Literal["optimal", "infeasible"]
    objective: float  # sum of scores, maximised
    x: np.ndarray  # full length, floats
    y: np.ndarray  # HiGHS row duals (minimisation form)
    #: Full length reduced costs (minimisation form), or a function computing them on first
    #: use (pricing itself needs one candidate per constraint pattern, not all of them).
    reduced_: Any

    @property
    def reduced(self) -> np.ndarray:
        """Full length reduced costs (minimisation form, score units)."""
        if callable(self.reduced_):
            self.reduced_ = self.reduced_()
        return np.asarray(self.reduced_)

    @property
    def integral(self) -> bool:
        """Whether every value of ``x`` is 0 or 1."""
        return bool(np.all(np.abs(self.x - np.round(self.x)) <= _INT_TOL))


@dataclass
class MIPResult:
    """An integer solution over every candidate."""

    status: Literal["optimal", "time_limit", "infeasible"]
    objective: float
    x: np.ndarray  # full length 0/1 (bool)
    bound: float
    gap: float


class Engine:
    """A highspy LP over a growing core of ``problem``'s columns, kept in memory for re-solves.

    Parameters
    ----------
    problem : Problem
        The program.
    lo, hi : ndarray, optional
        Row bounds (default: the problem's own).
    time_limit : float, optional
        Seconds HiGHS may spend on one solve.
    patterns : ndarray, optional
        ``pattern_ids(problem.csc.T.tocsr())``, when already computed for the same matrix.
    """

    def __init__(
        self,
        problem: Problem,
        *,
        lo: np.ndarray | None = None,
        hi: np.ndarray | None = None,
        time_limit: float | None = None,
        patterns: np.ndarray | None = None,
    ) -> None:
        self.problem = problem
        base_lo, base_hi = problem.bounds()
        self.lo = base_lo if lo is None else np.asarray(lo, dtype=np.float64)
        self.hi = base_hi if hi is None else np.asarray(hi, dtype=np.float64)
        self.csc = problem.csc
        self.low, self.spread = _normaliser(problem)
        # What HiGHS sees: scores on [0, 1] (see the module docstring).
        self.cost = -(problem.scores - self.low) / self.spread
        self.time_limit = time_limit
        self.col_lb = np.zeros(problem.n)
        self.col_ub = np.ones(problem.n)
        self.h: Any = None
        self.core = np.empty(0, dtype=np.int64)  # model column j -> problem column
        self.pos = np.full(problem.n, -1, dtype=np.int64)
        self._rank: np.ndarray | None = None
        self._inv_rank: np.ndarray | None = None
        self._transposed: Any = None
        self._patterns: Any = None
        #: ``pattern_ids`` of the problem's matrix when the caller already has them (programs
        #: that differ only in their scores share them).
        self._pattern_ids = patterns
        self._pattern_ptr = np.empty(0, dtype=np.int64)
        #: Pricing by pattern holds while every candidate outside the model has bounds 0..1.
        self._patterns_ok = bool(problem.matrix.nnz == 0 or np.all(problem.matrix.data == 1.0))

    # ------------------------------------------------------------------ core management
    @property
    def rank(self) -> np.ndarray:
        """Problem columns by decreasing score, ties by case_id (column order)."""
        if self._rank is None:
            n = self.problem.n
            self._rank = np.lexsort((np.arange(n), -self.problem.scores))
        return self._rank

    def initial_core(self) -> np.ndarray:
        """The best candidates overall and within every floor, plus every forced candidate."""
        p = self.problem
        k = p.k
        margin = max(100, k // 2)
        pick = [self.rank[: min(p.n, k + margin)], p.forced]
        in_rank = np.empty(p.n, dtype=np.int64)
        in_rank[self.rank] = np.arange(p.n)
        for r, row in enumerate(p.rows):
            if row.sense != "ge" or row.target <= 0 or r == 0:
                continue
            members = p.matrix.indices[p.matrix.indptr[r] : p.matrix.indptr[r + 1]]
            need = row.target + max(20, row.target // 2)
            if len(members) > need:
                members = members[np.argsort(in_rank[members], kind="stable")[:need]]
            pick.append(members)
        return np.unique(np.concatenate(pick).astype(np.int64))

    def _core_lp(self, core: np.ndarray) -> Any:
        """The LP relaxation restricted to the ``core`` columns, as a highspy model."""
        import highspy

        sub = self.csc[:, core]
        lp = highspy.HighsLp()
        lp.num_col_ = len(core)
        lp.num_row_ = len(self.lo)
        lp.col_cost_ = self.cost[core]
        lp.col_lower_ = self.col_lb[core]
        lp.col_upper_ = self.col_ub[core]
        lp.row_lower_ = _finite(self.lo)
        lp.row_upper_ = _finite(self.hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
        lp.a_matrix_.index_ = sub.indices.astype(np.int32)
        lp.a_matrix_.value_ = sub.data.astype(np.float64)
        lp.a_matrix_.num_col_ = len(core)
        lp.a_matrix_.num_row_ = len(self.lo)
        return lp

    def _build(self, core: np.ndarray) -> None:

        core = np.unique(core.astype(np.int64))
        lp = self._core_lp(core)
        if self.h is None:
            self.h = new_highs(self.time_limit)
        self.h.passModel(lp)
        self.core = core
        self.pos[:] = -1
        self.pos[core] = np.arange(len(core))
        if self._patterns is not None:
            self._pattern_ptr = self._patterns[1].copy()  # the model lost columns: start again

    def add_columns(self, cols: np.ndarray) -> None:
        """Add problem columns to the model (warm start kept)."""
        cols = np.setdiff1d(np.asarray(cols, dtype=np.int64), self.core)
        if not len(cols):
            return
        if self.h is None:
            self._build(cols)
            return
        sub = self.csc[:, cols]
        self.h.addCols(
            len(cols),
            self.cost[cols],
            self.col_lb[cols],
            self.col_ub[cols],
            int(sub.nnz),
            sub.indptr[:-1].astype(np.int32),
            sub.indices.astype(np.int32),
            sub.data.astype(np.float64),
        )
        self.pos[cols] = np.arange(len(self.core), len(self.core) + len(cols))
        self.core = np.concatenate([self.core, cols])

    def set_row_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Change every row's bounds (the model keeps its basis for a warm start)."""
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = np.asarray(hi, dtype=np.float64)
        if self.h is not None:
            m = len(self.lo)
            self.h.changeRowsBounds(
                m, np.arange(m, dtype=np.int32), _finite(self.lo), _finite(self.hi)
            )

    def set_col_bounds(self, cols: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:
        """Change column bounds (used to force a candidate in for score_to_enter)."""
        cols = np.asarray(cols, dtype=np.int64)
        self.col_lb[cols] = lb
        self.col_ub[cols] = ub
        if np.any((self.pos[cols] < 0) & ((self.col_lb[cols] != 0) | (self.col_ub[cols] != 1))):
            self._patterns_ok = False  # an outside candidate with its own bounds: price all
        inside = cols[self.pos[cols] >= 0]
        if self.h is not None and len(inside):
            self.h.changeColsBounds(
                len(inside),
                self.pos[inside].astype(np.int32),
                self.col_lb[inside],
                self.col_ub[inside],
            )

    # ------------------------------------------------------------------ LP with pricing
    def solve_lp(self, *, exclude: int | None = None) -> LPResult:
        """Solve the LP relaxation over every candidate by sifting.

        Parameters
        ----------
        exclude : int, optional
            A problem column that must stay out of the model (its effect was moved into the row
            bounds by the caller).
        """
        import highspy

        if self.h is None:
            self._build(self.initial_core())
        n = self.problem.n
        for _ in range(200):
            self.h.run()
            status = self.h.getModelStatus()
            # The LP is bounded (0 <= x <= 1), so "unbounded or infeasible" means infeasible.
            if status in (
                highspy.HighsModelStatus.kInfeasible,
                highspy.HighsModelStatus.kUnboundedOrInfeasible,
            ):
                # Keep score order: the best outside candidates are the likeliest to repair it
                # (one pass over the score ranking; no sort per solve).
                ranked = self.rank[self.pos[self.rank] < 0]
                if exclude is not None:
                    ranked = ranked[ranked != exclude]
                if not len(ranked):
                    return LPResult("infeasible", -np.inf, np.zeros(n), np.zeros(0), np.zeros(n))
                self.add_columns(ranked[: max(len(self.core), 500)])
                continue
            if status != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(
                    f"HiGHS LP ended with status {self.h.modelStatusToString(status)}"
                )
            sol = self.h.getSolution()
            y_scaled = np.asarray(sol.row_dual, dtype=np.float64)
            cand, reduced_cand = self._price(y_scaled, exclude)
            if not len(cand):
                values = np.asarray(sol.col_value, dtype=np.float64)
                x = np.zeros(n)
                x[self.core] = values
                # Summed over the model's columns only (the rest are 0): a dot product over
                # every candidate would hand a 100,000-long vector to the threaded BLAS on
                # every solve, whose threads spin for milliseconds on a busy machine.
                objective = float(self.problem.scores[self.core] @ values)
                y = y_scaled * self.spread
                if self.low:
                    y[0] -= self.low
                return LPResult(
                    "optimal",
                    objective,
                    x,
                    y,
                    _reduced_costs(self.problem.scores, self._by_row(), y),
                )
            # Add the most attractive first; large batches cost little and save rounds.
            take = cand[np.argsort(reduced_cand, kind="stable")[: max(1000, len(self.core))]]
            self.add_columns(take)
        raise RuntimeError("sifting did not converge")

    def _price(self, y_scaled: np.ndarray, exclude: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Candidates outside the model whose reduced cost is negative, with those costs.

        Candidates with the same constraint rows (the same pattern) have the same column, so
        their reduced costs are ordered like their scores: pricing looks at the best candidate
        of each pattern still outside the model, and only the patterns that price in are
        searched further. The cost is the number of patterns, not of candidates; the answer
        is the same as pricing every candidate.
        """
        if not self._patterns_ok:
            reduced = self.cost - self._by_row() @ y_scaled
            improving = reduced < -_TOL
            improving[self.core] = False
            if exclude is not None:
                improving[exclude] = False
            cand = np.flatnonzero(improving)
            return cand, reduced[cand]
        order, _, end, pattern_cols = self._pattern_index()
        ptr = self._pattern_ptr
        while True:  # move each pattern's pointer past members already in the model
            open_ = ptr < end
            stuck = np.flatnonzero(open_)[self.pos[order[ptr[open_]]] >= 0]
            if not len(stuck):
                break
            ptr[stuck] += 1
        live = np.flatnonzero(ptr < end)
        first = ptr[live]
        if exclude is not None:
            # The excluded candidate stays outside but is never priced: look past it.
            at = first < end[live]
            hit = at & (order[np.minimum(first, len(order) - 1)] == exclude)
            first = first + hit
            keep = first < end[live]
            live, first = live[keep], first[keep]
        if not len(live):
            return np.empty(0, dtype=np.int64), np.empty(0)
        # Reduced cost of each pattern's best outside member.
        dual_part = pattern_cols[live] @ y_scaled
        reps = order[first]
        reduced_rep = self.cost[reps] - dual_part
        pricing = reduced_rep < -_TOL
        if not pricing.any():
            return np.empty(0, dtype=np.int64), np.empty(0)
        # Patterns that price in: their next members, in score order, while they still do.
        found: list[np.ndarray] = []
        found_cost: list[np.ndarray] = []
        for p_idx, begin, part in zip(
            live[pricing].tolist(),
            first[pricing].tolist(),
            dual_part[pricing].tolist(),
            strict=True,
        ):
            members = order[begin : min(end[p_idx], begin + 200)]
            members = members[self.pos[members] < 0]
            if exclude is not None:
                members = members[members != exclude]
            cost = self.cost[members] - part
            good = cost < -_TOL
            found.append(members[good])
            found_cost.append(cost[good])
        return np.concatenate(found), np.concatenate(found_cost)

    def _pattern_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """Candidates grouped by constraint pattern, best score first within each."""
        if self._patterns is None:
            import scipy.sparse as sparse

            p = self.problem
            by_row = self._by_row()
            pid = self._pattern_ids if self._pattern_ids is not None else pattern_ids(by_row)
            order = np.lexsort((np.arange(p.n), -p.scores, pid))
            counts = np.bincount(pid)
            end = np.cumsum(counts)
            start = end - counts
            first_cols = order[start]
            pattern_cols = sparse.csr_matrix(by_row[first_cols])
            self._patterns = (order, start, end, pattern_cols)
            self._pattern_ptr = start.copy()
        return self._patterns

    def _by_row(self) -> Any:
        """The constraint matrix transposed, built once (pricing runs it on every solve)."""
        if self._transposed is None:
            self._transposed = self.csc.T.tocsr()
        return self._transposed

    def _rank_of(self, cols: np.ndarray) -> np.ndarray:
        if self._inv_rank is None:
            self._inv_rank = np.empty(self.problem.n, dtype=np.int64)
            self._inv_rank[self.rank] = np.arange(self.problem.n)
        return self._inv_rank[cols]

    # ------------------------------------------------------------------ MIP on the core
    def solve_mip(
        self,
        lp: LPResult,
        *,
        backend: Literal["highspy", "highs", "cbc"] = "highspy",
        exclude: int | None = None,
    ) -> MIPResult:
        """Solve the integer program on the core, proven for all candidates by reduced costs."""
        n = self.problem.n
        if lp.status == "infeasible":
            return MIPResult("infeasible", -np.inf, np.zeros(n, dtype=bool), -np.inf, np.inf)
        if lp.integral and backend == "highspy":
            # An integral LP optimum attains the LP bound, so it is a proven integer optimum.
            x = np.round(lp.x).astype(bool)
            return MIPResult("optimal", float(self.problem.scores[x].sum()), x, lp.objective, 0.0)
        core = self.core
        if not lp.integral:
            core = self._near_core(lp, core)
        if lp.integral:
            # The LP optimum is integral, so the gap is 0 and every column whose reduced cost is
            # worse than 0 is fixed at its LP value: the named model only needs the rest.
            core = np.flatnonzero(
                (lp.x > 0.5) | (lp.reduced <= _TOL * self.spread) | (self.col_lb > 0)
            )
        for _ in range(20):
            res = self._core_mip(core, backend)
            if res.status == "infeasible":
                # The core's LP is feasible, so this only happens when integrality bites:
                # widen the core to everything and try once more.
                if len(core) == n:
                    return res
                core = np.arange(n)
                continue
            gap_abs = max(lp.objective - res.objective, 0.0)
            # A column outside the core can only be in a better solution if its reduced cost
            # is within the gap of the LP bound.
            could = lp.reduced <= gap_abs + _TOL * self.spread
            could[core] = False
            if exclude is not None:
                could[exclude] = False
            if not could.any():
                bound = lp.objective
                if res.status == "optimal":
                    bound = res.objective
                gap = (bound - res.objective) / max(abs(res.objective), 1e-9)
                return MIPResult(res.status, res.objective, res.x, bound, max(gap, 0.0))
            core = np.union1d(core, np.flatnonzero(could))
        raise RuntimeError("core MIP did not converge")

    def _near_core(self, lp: LPResult, core: np.ndarray) -> np.ndarray:
        """The columns an integer optimum can plausibly use: those the LP uses, forced ones,
        and those whose reduced cost is within 1% of the score range of the LP bound.

        A fractional LP leaves a gap of about 1e-5 of the score range here; the core the LP
        priced in can hold 20 times more columns than this, and the integer program's time
        grows with them. The loop in :meth:`solve_mip` still widens the core to every column
        the final gap admits, so the optimum is proven over all candidates either way.
        """
        near = np.flatnonzero(
            (lp.x > _TOL) | (self.col_lb > 0) | (lp.reduced <= _NEAR * self.spread)
        )
        return near if len(near) < len(core) else core

    def _core_mip(self, core: np.ndarray, backend: str) -> MIPResult:
        if backend == "highspy":
            return self._core_mip_highspy(core)
        from triage.allocate._pulp import CoreBounds, solve_core_mip

        return solve_core_mip(
            self.problem,
            core,
            CoreBounds(self.lo, self.hi, self.col_lb, self.col_ub),
            solver=backend,
            time_limit=self.time_limit,
        )

    def _core_mip_highspy(self, core: np.ndarray) -> MIPResult:
        import highspy

        h = new_highs(self.time_limit)
        lp = self._core_lp(core)
        lp.integrality_ = [highspy.HighsVarType.kInteger] * len(core)
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
        n = self.problem.n
        if status in (
            highspy.HighsModelStatus.kInfeasible,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return MIPResult("infeasible", -np.inf, np.zeros(n, dtype=bool), -np.inf, np.inf)
        info = h.getInfo()
        values = np.asarray(h.getSolution().col_value)
        x = np.zeros(n, dtype=bool)
        x[core] = values > 0.5
        obj = float(self.problem.scores[x].sum())
        if status == highspy.HighsModelStatus.kOptimal:
            return MIPResult("optimal", obj, x, obj, 0.0)
        if info.primal_solution_status >= 2:
            # The solver's bound is in its own units (scores on [0, 1]): back to scores.
            bound = float(-info.mip_dual_bound) * self.spread + self.low * int(x.sum())
            gap = max(bound - obj, 0.0) / max(abs(obj), 1e-300)
            return MIPResult("time_limit", obj, x, bound, gap)
        raise RuntimeError(f"HiGHS MIP ended with status {h.modelStatusToString(status)}")


def pattern_ids(by_row: Any) -> np.ndarray:
    """Each column's constraint pattern as an int, from the transposed constraint matrix
    (columns x rows): two random projections of each 0/1 column identify its pattern."""
    rng = np.random.default_rng(20180101)
    weights = rng.random((by_row.shape[1], 2))
    keys = by_row @ weights
    _, pid = np.unique(keys, axis=0, return_inverse=True)
    return np.asarray(pid).ravel()


def _reduced_costs(scores: np.ndarray, by_row: Any, y: np.ndarray) -> Any:
    """A function computing every candidate's reduced cost (score units) when first needed."""
    return lambda: -scores - by_row @ y
