"""Chance of selection: how often the policy selects each case when the score is re-estimated.

The model's bootstrap members are the whole scoring pipeline refitted on resamples of the
labelled cases. Each gives a plausible alternative score for every candidate; re-solving the
allocation under each one, on the same policy and the same tie lottery, shows which decisions
hold whatever the model's estimation noise and which are borderline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from triage.allocate._allocation import solve_problem
from triage.allocate._engine import Engine, pattern_ids
from triage.allocate._policy import Policy
from triage.allocate._problem import (
    Problem,
    build_problem,
    column_patterns,
    prepare_candidates,
    subproblem,
)

__all__ = ["SelectionChances", "chance_words", "reachable_columns", "selection_chances"]


@dataclass(frozen=True)
class SelectionChances:
    """How many of the model's replicates select each candidate.

    Attributes
    ----------
    by_case : DataFrame
        case_id, times_selected (int), n_replicates (int), p_selected (share of replicates
        under which the policy selects the case, 0–1), chance (the same in words), sorted by
        case_id. p_selected is NaN when the policy cannot be met (nothing is selected).
    n_replicates : int
        Number of alternative scores solved.
    """

    by_case: pd.DataFrame
    n_replicates: int

    @property
    def overall(self) -> pd.Series:
        """Headline counts: replicates, cases always selected, never selected, borderline."""
        p = self.by_case["p_selected"]
        return pd.Series(
            {
                "replicates": self.n_replicates,
                "always": int((p == 1).sum()),
                "never": int((p == 0).sum()),
                "borderline": int(((p >= 0.25) & (p <= 0.75)).sum()),
            }
        )


def chance_words(times: int, n: int) -> str:
    """Say a chance of selection in words: "selected under 19 of 20 plausible models".

    Parameters
    ----------
    times : int
        Replicates under which the case is selected.
    n : int
        Replicates solved.
    """
    if n <= 0:
        return "no chance of selection computed (the model has no replicates)"
    if not 0 <= times <= n:
        raise ValueError(f"`times` must be between 0 and {n}. Got {times} instead.")
    models = f"{n} plausible model{'s' if n != 1 else ''}"
    if times == n:
        return f"selected under all {models}"
    if times == 0:
        return f"left out under all {models}"
    text = f"selected under {times} of {models}"
    return f"{text}: borderline" if 0.25 <= times / n <= 0.75 else text


def reachable_columns(
    problem: Problem,
    replicates: np.ndarray,
    *,
    extra: int = 0,
    pattern: np.ndarray | None = None,
) -> np.ndarray:
    """Return the sorted columns that an optimal selection under some replicate can contain.

    Candidates with identical constraint rows (one pattern) are interchangeable except for their
    score, so an optimal selection takes a pattern's members best score first, and exact ties in
    the lottery's order (``tie_break`` and ``canonical_ties`` keep that order). A pattern can
    hold at most ``cap`` selected cases, the smallest upper bound of its rows (the capacity row
    bounds every column). So a member ranked ``cap`` or lower in its pattern, by (score, lottery),
    is selected under no replicate, and leaving it out changes no selection. Forced columns
    always stay.

    Parameters
    ----------
    problem : Problem
        The program (its rows; its own scores are not used).
    replicates : ndarray of shape (problem.n, n replicates)
        Alternative scores, row ``j`` for column ``j``.
    extra : int, default 0
        Keep this many more members per pattern (one more answers for any program in which one
        column is left out).
    pattern : ndarray, optional
        ``column_patterns(problem)``, when the caller already has it.
    """
    n = problem.n
    if n == 0:
        return np.empty(0, dtype=np.int64)
    _, hi = problem.bounds()
    csc = problem.csc
    lengths = np.diff(csc.indptr)
    if (lengths == 0).any():
        return np.arange(n, dtype=np.int64)
    upper = np.where(np.isfinite(hi), hi, n)[csc.indices]
    cap = np.minimum.reduceat(upper, csc.indptr[:-1]).astype(np.int64)
    if pattern is None:
        pattern = column_patterns(problem)
    keep = np.zeros(n, dtype=bool)
    keep[problem.forced] = True
    lottery = problem.lottery
    for b in range(replicates.shape[1]):
        order = np.lexsort((lottery, -replicates[:, b], pattern))
        sorted_pattern = pattern[order]
        starts = np.flatnonzero(np.r_[True, sorted_pattern[1:] != sorted_pattern[:-1]])
        first = np.repeat(starts, np.diff(np.r_[starts, n]))
        rank = np.arange(n) - first
        keep[order[rank < cap[order] + extra]] = True
    return np.flatnonzero(keep)


def selection_chances(
    candidates: pd.DataFrame,
    policy: Policy,
    replicates: np.ndarray,
    *,
    seed: int = 0,
) -> SelectionChances:
    """Re-solve the allocation under each replicate score: case_id, p_selected and its words.

    Parameters
    ----------
    candidates : DataFrame
        As for :func:`triage.allocate.allocate` (its ``score`` column is not used here).
    policy : Policy
        The balance policy.
    replicates : ndarray of shape (n candidates, n replicates)
        Alternative scores, row ``i`` for ``candidates.iloc[i]`` (e.g.
        ``TriageModel.member_scores``); each column is one plausible model. Probabilities in
        [0, 1].
    seed : int, default 0
        The tie lottery's seed, as for the selection itself.

    Returns
    -------
    SelectionChances
    """
    reps = np.asarray(replicates, dtype=np.float64)
    if reps.ndim != 2 or reps.shape[0] != len(candidates):
        raise ValueError(
            "`replicates` must be a 2-D array with one row per candidate. Got shape "
            f"{reps.shape} for {len(candidates)} candidates instead."
        )
    if not np.isfinite(reps).all() or (reps < 0).any() or (reps > 1).any():
        raise ValueError(
            "`replicates` must hold probabilities in [0, 1]. Got other values instead."
        )
    cands = prepare_candidates(candidates)
    problem = build_problem(cands, policy, prepared=True, seed=seed)
    # prepare_candidates sorts by case_id: line the replicate rows up with the program's columns.
    position = pd.Series(np.arange(len(candidates)), index=candidates["case_id"].astype(str))
    reps = reps[position.loc[problem.case_ids].to_numpy()]
    n_rep = reps.shape[1]
    counts = np.zeros(problem.n, dtype=np.int64)
    feasible = True
    # Only columns some replicate could select are solved: the rest provably never are.
    cols = reachable_columns(problem, reps)
    core = subproblem(problem, cols)
    # The replicates' programs differ only in their scores: their constraint patterns are found
    # once.
    patterns = pattern_ids(core.csc.T.tocsr())
    for b in range(n_rep):
        alt = replace(core, scores=np.ascontiguousarray(reps[cols, b]))
        engine = Engine(alt, time_limit=policy.time_limit, patterns=patterns)
        result = solve_problem(alt, policy, solver="highspy", engine=engine)
        if not result.feasible or result._x is None:
            feasible = False
            break
        counts[cols] += result._x.astype(np.int64)
    p = counts / n_rep if n_rep and feasible else np.full(problem.n, np.nan)
    words = [
        chance_words(int(c), n_rep) if feasible else "no selection: the policy cannot be met"
        for c in counts
    ]
    frame = pd.DataFrame(
        {
            "case_id": problem.case_ids.astype(object),
            "times_selected": counts if feasible else np.zeros(problem.n, dtype=np.int64),
            "n_replicates": np.full(problem.n, n_rep, dtype=np.int64),
            "p_selected": p,
            "chance": words,
        }
    )
    return SelectionChances(by_case=frame, n_replicates=n_rep)
