"""Ties between optimal selections: settled by the problem's seeded lottery, never by the solver."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from triage.allocate._highs import _INT_TOL, _finite, _normaliser, new_highs
from triage.allocate._problem import Problem

__all__ = ["canonical_ties", "satisfies", "tie_break"]


def tie_break(problem: Problem, x: np.ndarray) -> np.ndarray:
    """Among candidates with equal score and identical constraint rows, select those drawn first.

    Swapping two such candidates changes neither the objective nor any row, so the places go by
    the problem's seeded lottery (``Problem.lottery``), whatever the solver returned.
    """
    s = problem.scores
    order = np.lexsort((np.arange(problem.n), s))
    same_next = s[order][1:] == s[order][:-1]
    if not same_next.any():
        return x
    starts = np.flatnonzero(np.concatenate([[True], ~same_next]))
    sizes = np.diff(np.concatenate([starts, [len(order)]]))
    chosen = np.add.reduceat(x[order].astype(np.int64), starts)
    # Only groups of equal scores with some selected and some not can be re-ordered.
    mixed = np.flatnonzero((sizes > 1) & (chosen > 0) & (chosen < sizes))
    x = x.copy()
    csc: sp.csc_matrix = problem.csc
    for g in mixed:
        group = order[starts[g] : starts[g] + sizes[g]]
        by_pattern: dict[bytes, list[int]] = {}
        for j in group:
            key = csc.indices[csc.indptr[j] : csc.indptr[j + 1]].tobytes()
            by_pattern.setdefault(key, []).append(int(j))
        rank = problem.lottery
        for cols in by_pattern.values():
            cols.sort(key=lambda c: rank[c])
            count = int(x[cols].sum())
            x[cols] = False
            x[cols[:count]] = True
    return x


def satisfies(problem: Problem, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether the 0/1 selection ``x`` meets every row bound exactly (counts are integers)."""
    counts = problem.matrix @ x.astype(np.float64)
    return bool(np.all(counts >= lo - 1e-6) & np.all(counts <= hi + 1e-6))


def canonical_ties(
    problem: Problem, x: np.ndarray, reduced: np.ndarray, *, gap_abs: float = 0.0
) -> np.ndarray:
    """Among all optimal selections, return the one that prefers the lottery's earlier draws, in order.

    Only candidates whose LP reduced cost is within the integrality gap can differ between
    optimal selections; every other candidate keeps its value. One LP checks whether anything
    else could be in an optimum (usually not: then nothing changes). Otherwise candidates are
    taken in the order of the problem's seeded lottery (``Problem.lottery``) and each is kept in whenever some optimal selection, consistent with
    the earlier decisions, contains it. A candidate that cannot be added rules out every later
    candidate with the same score and the same rows, so most need no solve. The answer depends
    only on the program, not on the optimum the solver returned: HiGHS and CBC end up equal.
    """
    import highspy

    # In the engine's units (scores on [0, 1]): tiny or tightly clustered scores keep their
    # differences, so only real alternative optima are free.
    low, spread = _normaliser(problem)
    free = np.flatnonzero(np.abs(reduced) / spread <= gap_abs / spread + 1e-7)
    if len(free) < 2:
        return x
    free = free[np.argsort(problem.lottery[free], kind="stable")]
    n = problem.n
    fixed_mask = np.ones(n, dtype=bool)
    fixed_mask[free] = False
    lo, hi = problem.bounds()
    shift = problem.matrix @ (x & fixed_mask).astype(np.float64)
    sub = problem.csc[:, free].tocsc()
    # Every optimum has the same number of free candidates (the capacity row), so the shift
    # by ``low`` changes each one's value alike (``_normaliser`` keeps it 0 otherwise).
    scores = (problem.scores[free] - low) / spread
    current = x[free].copy()
    target = float(scores[current].sum())
    total = int(current.sum())
    m = len(lo)
    k = len(free)
    ok = highspy.HighsModelStatus.kOptimal

    h = new_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = k
    lp.num_row_ = m + 1
    lp.col_cost_ = np.where(current, 0.0, -1.0)  # can anything else be in an optimum?
    lp.col_lower_ = np.zeros(k)
    lp.col_upper_ = np.ones(k)
    # Last row: keep the optimal value (the free candidates' share of it).
    tol = 1e-9 * max(1.0, abs(target))
    lp.row_lower_ = _finite(np.concatenate([lo - shift, [target - tol]]))
    lp.row_upper_ = _finite(np.concatenate([hi - shift, [np.inf]]))
    full = sp.vstack([sub, sp.csr_matrix(scores.reshape(1, -1))]).tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = full.indptr.astype(np.int32)
    lp.a_matrix_.index_ = full.indices.astype(np.int32)
    lp.a_matrix_.value_ = full.data.astype(np.float64)
    lp.a_matrix_.num_col_ = k
    lp.a_matrix_.num_row_ = m + 1
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != ok or -h.getInfo().objective_function_value < 0.5:
        return x  # no other optimum exists: the selection is already the only one
    h.changeColsCost(k, np.arange(k, dtype=np.int32), np.zeros(k))
    everything = np.arange(k, dtype=np.int32)

    def feasible() -> np.ndarray | None:
        h.run()
        if h.getModelStatus() != ok:
            return None
        values = np.asarray(h.getSolution().col_value)
        if np.all(np.abs(values - np.round(values)) <= _INT_TOL):
            return values > 0.5
        # A fractional vertex: settle it with the integer program, then go back to the LP.
        h.changeColsIntegrality(k, everything, np.array([highspy.HighsVarType.kInteger] * k))
        h.run()
        found = h.getModelStatus() == ok
        values = np.asarray(h.getSolution().col_value)
        h.changeColsIntegrality(k, everything, np.array([highspy.HighsVarType.kContinuous] * k))
        return values > 0.5 if found else None

    keys = [
        sub.indices[sub.indptr[i] : sub.indptr[i + 1]].tobytes() + scores[i].tobytes()
        for i in range(k)
    ]
    ruled_out: set[bytes] = set()
    chosen = 0
    block = 1
    i = 0
    while i < k:
        if chosen == total:
            rest = k - i
            h.changeColsBounds(rest, everything[i:], np.zeros(rest), np.zeros(rest))
            current[i:] = False
            break
        if current[i]:
            h.changeColBounds(i, 1.0, 1.0)
            chosen += 1
            i += 1
            continue
        if keys[i] in ruled_out:
            h.changeColBounds(i, 0.0, 0.0)
            i += 1
            continue
        # Try the next `block` undecided candidates together: if all can be in at once, each
        # would have been kept in one by one. Grow the block on success, shrink on failure.
        take: list[int] = []
        skip: list[int] = []
        j = i
        while j < k and len(take) < block and chosen + len(take) < total:
            if keys[j] in ruled_out and not current[j]:
                skip.append(j)
            else:
                take.append(j)
            j += 1
        idx = np.array(take, dtype=np.int32)
        h.changeColsBounds(len(idx), idx, np.ones(len(idx)), np.ones(len(idx)))
        if skip:
            sk = np.array(skip, dtype=np.int32)
            h.changeColsBounds(len(sk), sk, np.zeros(len(sk)), np.zeros(len(sk)))
        found = feasible()
        if found is not None:
            current = found
            chosen += len(take)
            i = j
            block *= 2
            continue
        h.changeColsBounds(len(idx), idx, np.zeros(len(idx)), np.ones(len(idx)))
        if skip:
            h.changeColsBounds(len(sk), sk, np.zeros(len(sk)), np.ones(len(sk)))
        if len(take) > 1:
            block = max(1, len(take) // 2)
            continue
        h.changeColBounds(i, 0.0, 0.0)
        ruled_out.add(keys[i])
        block = 1
        i += 1
    out = x.copy()
    out[free] = current
    return out
