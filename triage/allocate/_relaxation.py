"""The smallest change of targets that makes an infeasible policy feasible (elastic program)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from triage.allocate._highs import new_highs
from triage.allocate._policy import Bound, Policy
from triage.allocate._problem import Problem

__all__ = ["Relaxation", "find_relaxation"]


def _records(frame: pd.DataFrame) -> list[Any]:
    """The rows of ``frame`` as namespaces (``row.column``), values as Python scalars."""
    return [
        SimpleNamespace(**{str(k): v for k, v in row.items()}) for row in frame.to_dict("records")
    ]


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
