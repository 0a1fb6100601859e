"""Candidates in: the allocator's input table judged by its contract, with messages that name
the file, line, case, column, value and reason.

``prepare_candidates`` forgives spelling (codes in any case, a region implied by the country, a
blank gender unknown, violations in any order), then lets ``triage.schema.coerce(frame,
Candidates)`` judge every cell, and says the first faulty column's rows in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NoReturn

import numpy as np
import pandas as pd

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

__all__ = ["CANDIDATE_COLUMNS", "prepare_candidates"]

#: Columns a candidate table must have (its contract, ``triage.schema.Candidates``);
#: ``must_include`` (true/false) and ``received_date`` are read when present.
CANDIDATE_COLUMNS: Final = columns_of(Candidates)


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
        if bad.any():  # the values as given, for the message: a slow copy, only when needed
            _fail(
                source,
                case_id,
                raw_date.to_numpy(dtype=object),
                bad,
                "received_date",
                "is not a date",
            )
        out["received_date"] = dates.to_numpy()
    order = np.argsort(case_id.astype(str), kind="stable")
    return out.iloc[order].reset_index(drop=True)
