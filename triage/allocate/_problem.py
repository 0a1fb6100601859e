"""Candidates in, integer program out: the named rows over validated candidates
(``_candidates.prepare_candidates``).

The program is: choose ``x`` in {0, 1}^N maximising ``score @ x`` subject to ``sum(x) = K`` and
one named row per target, ``lo <= A[r] @ x <= hi``. Columns are in case_id order, so the program
(and therefore the solver's answer) does not depend on the order of the input rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from triage.allocate._candidates import CANDIDATE_COLUMNS, prepare_candidates
from triage.allocate._policy import DIMENSIONS, Policy

__all__ = [
    "CANDIDATE_COLUMNS",
    "Problem",
    "Row",
    "build_problem",
    "column_patterns",
    "lottery_rank",
    "prepare_candidates",
    "subproblem",
]


Sense = Literal["eq", "ge", "le"]


@dataclass(frozen=True)
class Row:
    """One named constraint: ``name``, reported ``kind`` ('min'/'max'), count ``target``."""

    name: str
    kind: Literal["min", "max"]
    sense: Sense
    target: int
    group: str  # e.g. "un_region=african", "country=IND", "case_id=X", "" for capacity
    relaxable: bool = True


@dataclass
class Problem:
    """The integer program over validated candidates (columns sorted by case_id)."""

    candidates: pd.DataFrame
    case_ids: np.ndarray
    scores: np.ndarray
    k: int
    rows: list[Row]
    matrix: sp.csr_matrix  # rows x candidates, 0/1
    forced: np.ndarray  # column indices forced in (must-include, exploration)
    exploration: np.ndarray  # column indices drawn for exploration
    missing_must_include: tuple[str, ...] = ()
    #: Seed of the lottery that orders exactly tied candidates (see :func:`lottery_rank`).
    tie_seed: int = 0
    _csc: sp.csc_matrix | None = field(default=None, repr=False)
    _lottery: np.ndarray | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of candidates."""
        return len(self.case_ids)

    @property
    def csc(self) -> sp.csc_matrix:
        """The constraint matrix by columns (cached)."""
        if self._csc is None:
            self._csc = self.matrix.tocsc()
        return self._csc

    @property
    def lottery(self) -> np.ndarray:
        """Each column's place in the tie lottery (0 is drawn first), cached."""
        if self._lottery is None:
            self._lottery = lottery_rank(self.case_ids, seed=self.tie_seed)
        return self._lottery

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Return row lower and upper bounds (``-inf``/``inf`` where open)."""
        lo = np.full(len(self.rows), -np.inf)
        hi = np.full(len(self.rows), np.inf)
        for i, r in enumerate(self.rows):
            if r.sense in ("eq", "ge"):
                lo[i] = r.target
            if r.sense in ("eq", "le"):
                hi[i] = r.target
        return lo, hi

    def row_index(self, name: str) -> int:
        """Return the position of the row called ``name``."""
        for i, r in enumerate(self.rows):
            if r.name == name:
                return i
        raise KeyError(name)


def _members_of(cands: pd.DataFrame, dim: str, code: str, cache: dict[str, object]) -> np.ndarray:
    if dim in ("un_region", "gender"):
        cat_col = pd.Categorical(cands[dim])
        if code not in cat_col.categories:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(np.asarray(cat_col.codes) == cat_col.categories.get_loc(code))
    # Violations: test each distinct list once, then broadcast through the category codes.
    if "violations" not in cache:
        cache["violations"] = pd.Categorical(cands["violations"])
    cat = cache["violations"]
    assert isinstance(cat, pd.Categorical)
    has = np.array([code in str(v).split(";") for v in cat.categories], dtype=bool)
    codes = np.asarray(cat.codes)
    return np.flatnonzero((codes >= 0) & has[np.maximum(codes, 0)])


def exploration_draw(case_ids: np.ndarray, *, share: float, seed: int, k: int) -> np.ndarray:
    """Return the column indices drawn for exploration: ``round(share * k)`` uniformly at random.

    The draw ranks candidates by a seeded hash of their case_id, so it is reproducible and does not
    depend on row order or on scores (each candidate has the same chance, ``n_draw / N``).
    """
    n_draw = int(np.floor(share * k + 0.5))
    if n_draw <= 0 or len(case_ids) == 0:
        return np.empty(0, dtype=np.int64)
    key = hashlib.sha256(f"triage-exploration:{seed}".encode()).hexdigest()[:16]
    hashes = pd.util.hash_array(np.asarray(case_ids, dtype=object), hash_key=key)
    order = np.lexsort((np.asarray(case_ids, dtype=str), hashes))
    return np.sort(order[: min(n_draw, len(case_ids))]).astype(np.int64)


def lottery_rank(case_ids: np.ndarray, *, seed: int) -> np.ndarray:
    """Return each candidate's place in the seeded tie lottery: 0 is drawn first.

    The order ranks a keyed hash of each case_id (the seed is the key), so a case's place does not
    depend on row order, on the other candidates or on scores, and the same seed redraws the same
    order. It is used only between candidates the program cannot tell apart (equal scores), never
    as a preference between different scores.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Got {seed!r} instead.")
    ids = np.asarray(case_ids, dtype=object)
    if len(ids) == 0:
        return np.empty(0, dtype=np.int64)
    key = hashlib.sha256(f"triage-tie-lottery:{int(seed)}".encode()).hexdigest()[:16]
    hashes = pd.util.hash_array(ids, hash_key=key)
    order = np.lexsort((ids.astype(str), hashes))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank


def build_problem(
    candidates: pd.DataFrame, policy: Policy, *, prepared: bool = False, seed: int = 0
) -> Problem:
    """Build the named integer program for ``policy`` over validated candidates.

    Parameters
    ----------
    candidates : DataFrame
        The candidate table (validated here unless ``prepared``).
    policy : Policy
        The balance policy.
    prepared : bool, default False
        Set when ``candidates`` already comes from :func:`prepare_candidates`.
    seed : int, default 0
        Seed of the lottery between exactly tied candidates (recorded with the result).
    """
    lottery_rank(np.empty(0), seed=seed)  # validates the seed before any work
    cands = candidates if prepared else prepare_candidates(candidates)
    n = len(cands)
    k = min(policy.capacity, n)
    policy.check_for(k)
    case_ids = cands["case_id"].to_numpy().astype(str)
    rows: list[Row] = [Row("capacity", "max", "eq", k, "", relaxable=False)]
    members: list[np.ndarray] = [np.arange(n)]
    cache: dict[str, object] = {}
    for dim in DIMENSIONS:
        for code, bound in policy.shares.get(dim, {}).items():
            idx = _members_of(cands, dim, code, cache)
            lo, hi = bound.min_count(k), bound.max_count(k)
            if lo is not None:
                rows.append(Row(f"share_min[{dim}={code}]", "min", "ge", lo, f"{dim}={code}"))
                members.append(idx)
            if hi is not None:
                rows.append(Row(f"share_max[{dim}={code}]", "max", "le", hi, f"{dim}={code}"))
                members.append(idx)
    country_cat = pd.Categorical(cands["country"])
    if policy.max_per_country is not None or policy.per_country:
        inverse = np.asarray(country_cat.codes)
        uniq = np.asarray(country_cat.categories, dtype=object)
        counts = np.bincount(inverse, minlength=len(uniq))
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)])
        for i in sorted(range(len(uniq)), key=lambda u: str(uniq[u])):
            iso3 = str(uniq[i])
            if not iso3:
                continue
            cap = policy.per_country.get(iso3, policy.max_per_country)
            # A cap that the candidates cannot reach can never bind; leaving it out keeps the
            # program small for very large queues.
            if cap is None or counts[i] <= cap:
                continue
            rows.append(
                Row(f"max_per_country[country={iso3}]", "max", "le", cap, f"country={iso3}")
            )
            members.append(np.sort(order[starts[i] : starts[i + 1]]))
    position = {cid: i for i, cid in enumerate(case_ids)} if policy.must_include else {}
    must = set(np.flatnonzero(cands["must_include"].to_numpy()).tolist())
    missing: list[str] = []
    for cid in policy.must_include:
        if cid in position:
            must.add(position[cid])
        else:
            missing.append(cid)
    for j in sorted(must):
        rows.append(
            Row(f"must_include[case_id={case_ids[j]}]", "min", "ge", 1, f"case_id={case_ids[j]}")
        )
        members.append(np.array([j]))
    # Cases from a country capped at zero can never be selected: they are not drawn.
    zero = {c for c, cap in policy.per_country.items() if cap == 0}
    if policy.max_per_country == 0:
        zero |= {str(c) for c in country_cat.categories} - set(policy.per_country) - {""}
    zero_cat = np.array([str(c) in zero for c in country_cat.categories] + [False])
    drawable = np.flatnonzero(~zero_cat[np.asarray(country_cat.codes)])
    explore = drawable[
        exploration_draw(
            case_ids[drawable], share=policy.exploration_share, seed=policy.exploration_seed, k=k
        )
    ]
    explore = np.array([j for j in explore if j not in must], dtype=np.int64)
    for j in explore:
        rows.append(
            Row(
                f"exploration[case_id={case_ids[j]}]",
                "min",
                "ge",
                1,
                f"case_id={case_ids[j]}",
                relaxable=False,
            )
        )
        members.append(np.array([j]))
    indptr = np.concatenate([[0], np.cumsum([len(m) for m in members])])
    indices = np.concatenate(members).astype(np.int64) if members else np.empty(0, np.int64)
    matrix = sp.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(len(rows), n), dtype=np.float64
    )
    forced = np.array(sorted(must | set(explore.tolist())), dtype=np.int64)
    return Problem(
        candidates=cands,
        case_ids=case_ids,
        scores=cands["score"].to_numpy(dtype=np.float64),
        k=k,
        rows=rows,
        matrix=matrix,
        forced=forced,
        exploration=explore,
        missing_must_include=tuple(missing),
        tie_seed=int(seed),
    )


def column_patterns(problem: Problem) -> np.ndarray:
    """Return each column's constraint pattern as an int (equal ints: identical rows).

    Exact (no hashing): the sorted row indices of each column, padded, compared whole.
    """
    csc = problem.csc
    lengths = np.diff(csc.indptr)
    width = int(lengths.max()) if len(lengths) else 0
    padded = np.full((problem.n, max(width, 1)), -1, dtype=np.int64)
    col_of = np.repeat(np.arange(problem.n), lengths)
    slot = np.arange(len(csc.indices)) - np.repeat(csc.indptr[:-1], lengths)
    padded[col_of, slot] = csc.indices
    padded.sort(axis=1)
    return np.unique(padded, axis=0, return_inverse=True)[1].ravel().astype(np.int64)


def subproblem(problem: Problem, cols: np.ndarray) -> Problem:
    """Return ``problem`` restricted to the columns ``cols`` (sorted), with the same rows, capacity
    and tie lottery; forced and exploration columns must be among ``cols``."""
    cols = np.asarray(cols, dtype=np.int64)
    where = np.full(problem.n, -1, dtype=np.int64)
    where[cols] = np.arange(len(cols))
    if (where[problem.forced] < 0).any():
        raise ValueError("`cols` must hold every forced column. Got some left out instead.")
    # The rows, capacity, must-includes and lottery seed carry over; the columns are cut.
    return replace(
        problem,
        candidates=problem.candidates.iloc[cols],
        case_ids=problem.case_ids[cols],
        scores=problem.scores[cols],
        matrix=problem.csc[:, cols].tocsr(),
        forced=where[problem.forced],
        exploration=where[problem.exploration],
        _csc=None,
        _lottery=problem.lottery[cols],
    )
