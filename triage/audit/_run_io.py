"""A run's stored inputs: the canonical candidate table (CSV bytes) and the pluggable parts.

``candidates_to_csv`` and ``candidates_from_csv`` are exact inverses, so a stored run's candidate
table hashes the same whenever it is re-read; the allocator, explainer and policy parser default
to triage's own and are replaced in tests.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import io
import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from triage.errors import TriageError
from triage.schema import QUEUE_COLUMNS, SENSITIVE_COLUMNS

__all__ = ["CANDIDATE_COLUMNS", "candidates_from_csv", "candidates_to_csv"]

#: The candidate table stored with each run: the queue without names, plus the scores.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    *(c for c in QUEUE_COLUMNS if c not in SENSITIVE_COLUMNS),
    "score",
    "lower",
    "upper",
)
_DATES = ("received_date", "last_incident_date")
_FLOATS = ("score", "lower", "upper")

Allocator = Callable[..., Any]
Explainer = Callable[[pd.DataFrame, Any, Any], pd.DataFrame]
PolicyParser = Callable[[str], Any]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def candidates_to_csv(candidates: pd.DataFrame) -> bytes:
    """Return the canonical CSV bytes of a candidate table: CANDIDATE_COLUMNS, sorted by case_id.

    Dates are ``YYYY-MM-DD``, booleans ``true``/``false``, floats in shortest round-trip form,
    missing values blank, ``\\n`` line ends. Equal tables give equal bytes whatever their row order.
    """
    missing = [c for c in ("case_id", "score") if c not in candidates.columns]
    if missing:
        raise ValueError(
            f"`candidates` must have columns case_id and score. Got no {', '.join(missing)} instead."
        )
    frame = pd.DataFrame(index=candidates.index)
    for col in CANDIDATE_COLUMNS:
        values = (
            candidates[col]
            if col in candidates.columns
            else pd.Series(pd.NA, index=candidates.index)
        )
        if col in _DATES:
            text = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        elif col == "protester":
            text = _cells(values, lambda v: "true" if bool(v) else "false")
        elif col in _FLOATS:
            text = _cells(values, lambda v: repr(float(v)))
        elif col == "n_mandates":
            text = _cells(values, lambda v: str(int(v)))
        elif isinstance(values.dtype, pd.StringDtype):
            text = values  # already text: str(v) is v
        else:
            text = _cells(values, str)
        frame[col] = text.fillna("").astype(str)
    if frame["case_id"].duplicated().any():
        dup = frame.loc[frame["case_id"].duplicated(), "case_id"].iloc[0]
        raise TriageError(f"candidate table: case_id {dup!r} appears more than once.")
    for col in frame.columns:
        # The csv module leaves a bare carriage return unquoted, and a reader takes it for a
        # line end: the stored table would not read back as the one the run allocated on.
        broken = frame[col].str.contains("\r", regex=False)
        if broken.any():
            where = int(broken.to_numpy().argmax())
            raise TriageError(
                f"candidate table: column {col} of row {where + 1} holds a carriage return; "
                "fix that cell in the registry and run the selection again."
            )
    frame = frame.sort_values("case_id", kind="stable")
    # The csv module is what DataFrame.to_csv writes with (minimal quoting, '"' doubled);
    # called on the text columns directly it skips pandas' per-block conversions.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    writer.writerows(zip(*(frame[col].tolist() for col in frame.columns), strict=True))
    return buffer.getvalue().encode("utf-8")


def _cells(values: pd.Series, fmt: Callable[[Any], str]) -> pd.Series:
    """Each cell of ``values`` through ``fmt``, missing ones blank (missingness found at once)."""
    missing = values.isna().to_numpy(dtype=bool).tolist()
    cells = ["" if gone else fmt(v) for v, gone in zip(values.tolist(), missing, strict=True)]
    return pd.Series(cells, index=values.index, dtype=object)


def candidates_from_csv(data: bytes) -> pd.DataFrame:
    """Parse canonical candidate CSV bytes into typed columns (the exact inverse of ``candidates_to_csv``)."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
    for col in _DATES:
        frame[col] = pd.to_datetime(frame[col], format="%Y-%m-%d")
    for col in _FLOATS:
        frame[col] = pd.to_numeric(frame[col]).astype(float)
    frame["protester"] = frame["protester"].map({"true": True, "false": False}).astype("boolean")
    frame["n_mandates"] = pd.to_numeric(frame["n_mandates"]).astype("Int64")
    return frame


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _call_with_optional(func: Callable[..., Any], *args: Any, **optional: Any) -> Any:
    """Call ``func(*args)`` passing only the keyword arguments its signature accepts."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return func(*args)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in optional.items() if accepts_any or k in params}
    return func(*args, **kwargs)


def _default_allocator() -> Allocator:
    from triage.allocate import allocate

    return allocate


def _default_explainer() -> Explainer:
    from triage.allocate import explain_selection

    return explain_selection


def _default_policy_parser() -> PolicyParser:
    from triage.allocate import Policy

    return lambda text: Policy.from_toml(text)


def _with_overrides(candidates: pd.DataFrame, carried: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The candidates the allocator sees: dropped cases left out, selected ones must-include."""
    if not carried:
        return candidates
    drop = {str(e["case_id"]) for e in carried if e["action"] == "drop"}
    keep = {str(e["case_id"]) for e in carried if e["action"] == "select"}
    ids = candidates["case_id"].astype(str)
    out = candidates.loc[~ids.isin(drop)].copy()
    out["must_include"] = out["case_id"].astype(str).isin(keep)
    return out.reset_index(drop=True)
