"""Checking a cases frame before features are built: dates, ids and codes.

Dates are parsed by a friendly parser (``YYYY-MM-DD`` text or datetime values); everything
else is checked against the table contract of ``triage.schema`` (the queue's contract, on the
columns the frame has), and the first bad cell is named with its row, case id, value and reason.
"""

from __future__ import annotations

import datetime
from typing import Final

import numpy as np
import pandas as pd

from triage.errors import InputFileError
from triage.schema import ContractError, Queue, coerce, columns_of

__all__ = ["case_dates", "flags", "validate_cases"]


def case_dates(cases: pd.DataFrame) -> pd.Series:
    """Return each case's date (``sent_date``, else ``received_date``) as ``datetime64``.

    Raises
    ------
    InputFileError
        If neither column is present, or a row has no date.
    """
    if "sent_date" not in cases.columns and "received_date" not in cases.columns:
        raise InputFileError(
            "cases: need a `sent_date` (historical cases) or `received_date` (queue) column."
        )
    date = pd.Series(pd.NaT, index=cases.index, dtype="datetime64[ns]")
    for col in ("sent_date", "received_date"):
        if col in cases.columns:
            parsed = _parse_dates(cases[col], col)
            date = date.fillna(parsed) if date.isna().any() else date
    missing = date.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise InputFileError(
            f"cases: row {row + 1} (case_id {_case_id(cases, row)}): no `sent_date` or "
            "`received_date`; every case needs a date so that only earlier history is used."
        )
    return date


def _case_id(cases: pd.DataFrame, row: int) -> str:
    return str(cases["case_id"].iloc[row]) if "case_id" in cases.columns else "?"


def _parse_dates(values: pd.Series, column: str) -> pd.Series:
    """Parse a date column: datetime values pass, text must be ``YYYY-MM-DD``, blank is missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    obj = values.astype(object)
    if pd.api.types.infer_dtype(obj, skipna=True) in ("string", "empty"):
        is_dt = pd.Series(False, index=obj.index)  # fast path: text only (CSV input)
    else:
        is_dt = obj.map(lambda v: isinstance(v, (datetime.date, np.datetime64))).astype(bool)
    from_dt = pd.to_datetime(obj.where(is_dt), errors="coerce")
    text = obj.where(~is_dt).astype("string").str.strip()
    text = text.where(text != "")
    from_text = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = (from_text.isna() & text.notna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputFileError(
            f"cases: row {row + 1}, column `{column}`: {text.iloc[row]!r} is not a date "
            "(expected YYYY-MM-DD)."
        )
    return from_dt.fillna(from_text).astype("datetime64[ns]")


#: The columns checked against the contract (dates have their own parser).
_CHECKED: Final = (
    "case_id",
    "country",
    "un_region",
    "gender",
    "violations",
    "issue_areas",
    "type",
    "n_mandates",
    "protester",
)
_NUMBER: Final = "is not a positive whole number"


def _bad(cases: pd.DataFrame, row: int, column: str, value: object, reason: str) -> InputFileError:
    return InputFileError(
        f"cases: row {row + 1} (case_id {_case_id(cases, row)}), column `{column}`: "
        f"{value!r} {reason}."
    )


def flags(values: pd.Series) -> np.ndarray:
    """Booleans (or ``true``/``false`` text) as 1.0/0.0, unknown as NaN."""
    text = values.astype("string").str.strip().str.lower()
    mapping = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0}
    return text.map(mapping).astype(float).to_numpy()


def _present(raw: pd.Series) -> np.ndarray:
    return (
        raw.notna().to_numpy() & (raw.astype("string").str.strip() != "").fillna(False).to_numpy()
    )


def _for_contract(cases: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The checked columns as the contract reads them: text stripped (countries upper-case),
    n_mandates as a number, protester as a boolean; a cell that cannot be read stays as text."""
    out = pd.DataFrame(index=pd.RangeIndex(len(cases)))
    for col in columns:
        raw = cases[col].reset_index(drop=True)
        if col == "protester":
            flag = flags(raw)
            cells = raw.astype("string").str.strip().fillna("").to_numpy(dtype=object)
            # Readable flags as true/false; an unreadable cell stays as written (and fails).
            readable = np.where(flag == 1.0, "true", "false")
            out[col] = pd.Series(np.where(np.isnan(flag), cells, readable), dtype="object").where(
                _present(raw), None
            )
            continue
        if col == "n_mandates":
            out[col] = raw.astype("string").str.strip().mask(~_present(raw))
            continue
        text = raw.astype("string").str.strip().mask(~_present(raw))
        out[col] = (text.str.upper() if col == "country" else text).astype("str")
    return out


def _reason(cases: pd.DataFrame, row: int, column: str, check: str) -> tuple[object, str]:
    """The value to show and the reason, in the words of the first failing check."""
    value = cases[column].iloc[row]
    if column == "case_id":
        if check.startswith("a value (it must not be blank)"):
            return "", "is blank; every case needs an id"
        return str(value), "appears more than once"
    if column == "country":
        return value, "is not an ISO3 country code"
    if column in ("violations", "issue_areas"):
        vocab = {"violations": "VIOLATIONS", "issue_areas": "ISSUE_AREAS"}[column]
        from triage.schema._contracts import _VOCABULARIES

        allowed = set(_VOCABULARIES[vocab])
        codes = [c.strip() for c in str(value).split(";")]
        return next(c for c in codes if c and c not in allowed), f"is not a {column} code"
    if column == "n_mandates":
        return value, _NUMBER
    if column == "protester":
        return value, "is not true or false"
    return value, f"is not a {column} code"


def validate_cases(cases: pd.DataFrame) -> None:
    """Refuse a cases frame with a code outside the vocabulary or an impossible value.

    Blank cells are allowed (unknown). The checks are the queue's table contract
    (``triage.schema.Queue``) on the columns the frame has; dates go through their parser.
    Raises ``InputFileError`` naming the first bad row (1-based data row), column, value and
    reason.
    """
    columns = [c for c in columns_of(Queue) if c in _CHECKED and c in cases.columns]
    frame = _for_contract(cases, columns)
    try:
        coerce(frame, Queue, source="cases", partial=True)
    except ContractError as exc:
        failures = exc.failures
        if "case_id" in columns:
            # A repeated id is reported where it repeats, not where it first appeared.
            first = cases["case_id"].astype(str).duplicated().to_numpy()
            unique = failures["check"] == "a value that appears only once"
            keep = ~unique | first[failures["row"].astype(int).clip(upper=len(first) - 1)]
            failures = failures[keep]
        bad = failures.iloc[0]
        row, column = int(bad["row"]), str(bad["column"])
        value, reason = _reason(cases, row, column, str(bad["check"]))
        raise _bad(cases, row, column, value, reason) from None
    if "last_incident_date" in cases.columns:
        _parse_dates(cases["last_incident_date"], "last_incident_date")
