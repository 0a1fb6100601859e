"""Candidates in, integer program out: validation of the candidate table and the named rows.

The program is: choose ``x`` in {0, 1}^N maximising ``score @ x`` subject to ``sum(x) = K`` and
one named row per target, ``lo <= A[r] @ x <= hi``. Columns are in case_id order, so the program
(and therefore the solver's answer) does not depend on the order of the input rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal, NoReturn

import numpy as np
import pandas as pd
import scipy.sparse as sp

from triage.allocate._policy import DIMENSIONS, Policy
from triage.errors import InputFileError
from triage.schema import (
    GENDERS,
    SENSITIVE_COLUMNS,
    UN_REGIONS,
    VIOLATIONS,
    Candidates,
    ContractError,
    coerce,
    columns_of,
    countries,
)

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

#: Columns a candidate table must have (its contract, ``triage.schema.Candidates``);
#: ``must_include`` (true/false) and ``received_date`` are read when present.
CANDIDATE_COLUMNS: Final = columns_of(Candidates)

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


def _fail(
    source: str,
    case_ids: np.ndarray,
    values: np.ndarray,
    mask: np.ndarray,
    column: str,
    reason: str,
) -> None:
    bad = np.flatnonzero(mask)
    if not len(bad):
        return
    shown = []
    for pos in bad[:3]:
        # Line numbers count the header as line 1, as a spreadsheet does; a name or contact is
        # never repeated.
        value = "" if column in SENSITIVE_COLUMNS else f"value {values[pos]!r} "
        shown.append(f"line {pos + 2} (case_id {case_ids[pos]}), column {column}: {value}{reason}")
    more = f" ({len(bad) - 3} more rows like this)" if len(bad) > 3 else ""
    raise InputFileError(f"{source}: " + "; ".join(shown) + more + ".")


#: Why a cell of a candidate column breaks the contract, in the words of the error message.
_WHY: Final[Mapping[str, str]] = {
    "country": "is not an ISO 3166 alpha-3 code",
    "un_region": f"is not a UN regional group ({', '.join(UN_REGIONS)})",
    "gender": f"is not one of {', '.join(GENDERS)}",
}


def _blank_is_none(values: np.ndarray) -> pd.Series:
    """Text cells with blanks as missing (the contract's "unknown")."""
    cells = values.astype(object)
    return pd.Series([None if v == "" else v for v in cells.tolist()], dtype="object")


def _refuse(
    source: str, case_id: np.ndarray, error: ContractError, shown: Mapping[str, np.ndarray]
) -> NoReturn:
    """Raise ``InputFileError`` for the first column (in file order) with cells the contract
    refused (``error.failures``): up to three rows by line and case_id, the value as given and
    why it is refused."""
    failures = error.failures
    for column in CANDIDATE_COLUMNS:
        rows = failures.loc[failures["column"] == column, "row"].to_numpy(dtype=np.int64)
        if not len(rows):
            continue
        bad = np.zeros(len(case_id), dtype=bool)
        bad[rows] = True
        values = shown[column]
        if column == "case_id":
            _fail(source, case_id, values, bad & (case_id == ""), column, "is blank")
            later = pd.Series(case_id).duplicated(keep="first").to_numpy()
            _fail(source, case_id, values, bad & later, column, "appears more than once")
        elif column == "score":
            number = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
            _fail(
                source,
                case_id,
                values,
                bad & ~np.isfinite(number),
                column,
                "is not a finite number",
            )
            _fail(source, case_id, values, bad, column, "is not a probability from 0 to 1")
        elif column == "violations":
            text = str(values[rows[0]]).replace(" ", "").lower().split(";")
            first = next(c for c in text if c and c not in VIOLATIONS)
            _fail(source, case_id, values, bad, column, f"has unknown code {first!r}")
        _fail(source, case_id, values, bad, column, _WHY.get(column, "breaks its contract"))
    raise InputFileError(str(error))


def _factor(frame: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (codes, stripped distinct texts): work on the few distinct values, not every row."""
    codes, uniques = pd.factorize(frame[col].reset_index(drop=True))
    clean = np.array(
        ["" if u is None or u != u else str(u).strip() for u in uniques] + [""], dtype=object
    )
    # Index -1 (missing) lands on the trailing "".
    codes = np.asarray(codes)
    return np.where(codes < 0, len(clean) - 1, codes), clean


def _categorical(codes: np.ndarray, texts: np.ndarray) -> pd.Categorical:
    cats, inverse = np.unique(texts.astype(str), return_inverse=True)
    return pd.Categorical.from_codes(inverse[codes], categories=pd.Index(cats.astype(object)))


def prepare_candidates(frame: pd.DataFrame, *, source: str = "candidates") -> pd.DataFrame:
    """Validate a candidate table and return it sorted by case_id.

    Returns columns case_id (text), score (float, expected improvements), country (ISO3, '' if
    unknown), un_region, gender ('unknown' when blank), violations (';'-separated codes) and
    must_include (bool), plus received_date when given.

    Raises
    ------
    InputFileError
        Naming the file, line, column, value and reason for the first bad rows.
    """
    missing = [c for c in CANDIDATE_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(f"{source}: missing required column(s) {', '.join(missing)}.")
    if len(frame) == 0:
        raise InputFileError(f"{source}: has no candidate rows.")
    n = len(frame)
    ids = frame["case_id"].reset_index(drop=True)
    ids = ids.where(ids.notna(), "").astype("str").str.strip()
    case_id = ids.to_numpy(dtype=object)
    raw_score = frame["score"].reset_index(drop=True)

    # Spelling is forgiven before the contract is checked: codes in any case, a region implied
    # by the country, a blank gender unknown, violations in any order.
    table = countries()
    c_codes, c_u = _factor(frame, "country")
    c_u = np.array([u.upper() for u in c_u], dtype=object)
    country = c_u[c_codes]
    implied_u = np.array([table[u].un_region if u in table else "" for u in c_u], dtype=object)
    implied = implied_u[c_codes]
    r_codes, r_u = _factor(frame, "un_region")
    r_u = np.array([u.lower() for u in r_u], dtype=object)
    region = r_u[r_codes]
    region = np.where(region == "", implied, region)
    g_codes, g_u = _factor(frame, "gender")
    g_u = np.array([u.lower() or "unknown" for u in g_u], dtype=object)
    gender = g_u[g_codes]
    v_codes, v_u = _factor(frame, "violations")
    order_of = {c: i for i, c in enumerate(VIOLATIONS)}
    canon = np.empty(len(v_u), dtype=object)
    for i, value in enumerate(v_u):
        codes = [c for c in str(value).replace(" ", "").lower().split(";") if c]
        known = all(c in order_of for c in codes)
        canon[i] = ";".join(sorted(set(codes), key=order_of.__getitem__)) if known else value

    # The one contract of a candidate table (triage.schema.Candidates) judges every cell; a
    # region stays required (a blank one with no country to imply it is refused).
    spelled = pd.DataFrame(
        {
            "case_id": _blank_is_none(case_id),
            "score": raw_score,
            "country": _blank_is_none(country),
            "un_region": pd.Series(region, dtype=object),
            "gender": pd.Series(gender, dtype=object),
            "violations": _blank_is_none(canon[v_codes]),
        }
    )
    try:
        score_arr = coerce(spelled, Candidates, source=source)["score"].to_numpy(np.float64)
    except ContractError as exc:
        shown = {
            "case_id": case_id,
            "score": raw_score.to_numpy(dtype=object, na_value=""),
            "country": country,
            "un_region": region,
            "gender": gender,
            "violations": v_u[v_codes],
        }
        _refuse(source, case_id, exc, shown)
    _fail(
        source,
        case_id,
        region,
        (implied != "") & (implied != region),
        "un_region",
        "does not match the regional group of the case's country",
    )

    # Group columns stay categorical: a million rows hold only a few hundred distinct values,
    # and the program is built from the category codes.
    out = pd.DataFrame(
        {
            "case_id": pd.Series(case_id, dtype=object),
            "score": score_arr,
            "country": _categorical(c_codes, c_u),
            "un_region": pd.Categorical(region),
            "gender": _categorical(g_codes, g_u),
            "violations": _categorical(v_codes, canon),
        }
    )
    if "must_include" in frame.columns:
        m_codes, m_u = _factor(frame, "must_include")
        mapping = {"true": True, "false": False, "": False, "1": True, "0": False}
        m_low = [u.lower() for u in m_u]
        m_ok = np.array([u in mapping for u in m_low])
        m_val = np.array([mapping.get(u, False) for u in m_low], dtype=bool)
        _fail(source, case_id, m_u[m_codes], ~m_ok[m_codes], "must_include", "is not true or false")
        out["must_include"] = m_val[m_codes]
    else:
        out["must_include"] = np.zeros(n, dtype=bool)
    if "received_date" in frame.columns:
        raw_date = frame["received_date"].reset_index(drop=True)
        dates = pd.to_datetime(raw_date, errors="coerce", format="mixed")
        bad = dates.isna().to_numpy()
        _fail(
            source, case_id, raw_date.to_numpy(dtype=object), bad, "received_date", "is not a date"
        )
        out["received_date"] = dates.to_numpy()
    order = np.argsort(case_id.astype(str), kind="stable")
    return out.iloc[order].reset_index(drop=True)


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
