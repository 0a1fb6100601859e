"""Pseudonyms, role-based redaction of names and the spreadsheet formula-injection guard.

Names of defenders and submitters (``triage.schema.SENSITIVE_COLUMNS``) are stored but only
shown where a role allows it: staff and mandate-holders see them on the case page only,
auditors never. Everywhere else a name is replaced by its pseudonym, an HMAC-SHA256 of the
name under a secret key kept in ``var/`` (generated on first use, never committed), so the
same person gets the same pseudonym in every list and export of one installation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from triage._validation import Constraint, check_params, one_of
from triage.config import var_dir
from triage.errors import TriageError
from triage.schema import SENSITIVE_COLUMNS

__all__ = [
    "ROLES",
    "Role",
    "View",
    "names_allowed",
    "pseudonym",
    "pseudonym_key",
    "redact",
    "safe_cell",
    "safe_frame",
]

Role = Literal["staff", "mandate_holder", "auditor"]
View = Literal["list", "case", "export", "log"]
ROLES: tuple[Role, ...] = ("staff", "mandate_holder", "auditor")
_CONSTRAINTS = {
    "role": one_of(ROLES),
    "key": Constraint(
        lambda k: isinstance(k, bytes | bytearray) and len(k) >= 16,
        "bytes of length 16 or more",
        show="type",
    ),
    "view": one_of(("list", "case", "export", "log")),
}

_KEY_FILE = "pseudonym.key"
# A leading character that a spreadsheet reads as the start of a formula (or a DDE payload).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _check_role(role: object) -> None:
    check_params(_CONSTRAINTS, role=role)


def pseudonym_key(directory: str | Path | None = None) -> bytes:
    """Return the installation's pseudonym key, creating ``var/pseudonym.key`` on first use.

    The file holds 32 random bytes as hex and is readable by its owner only. Losing it changes
    every pseudonym; sharing it lets anyone confirm a guessed name, so it never leaves ``var/``.
    """
    folder = Path(directory) if directory is not None else var_dir()
    path = folder / _KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # O_EXCL: if two processes race, the loser reads the winner's key instead of replacing it.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, OSError) as exc:
        raise TriageError(f"{path}: the pseudonym key cannot be read ({exc}).") from exc
    if len(key) < 16:
        raise TriageError(
            f"{path}: the pseudonym key is too short ({len(key)} bytes, need 16 or more)."
        )
    return key


def pseudonym(value: object, key: bytes) -> str:
    """Return the stable pseudonym of a name: ``P-`` and 12 hex digits of HMAC-SHA256(key, name).

    Names are compared after trimming and case-folding, so ``"Ana Ruiz "`` and ``"ana ruiz"``
    get the same pseudonym. A missing value gives ``""``.
    """
    check_params(_CONSTRAINTS, key=key)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    text = " ".join(str(value).split()).casefold()
    if not text:
        return ""
    return "P-" + hmac.new(bytes(key), text.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def names_allowed(role: Role, view: View) -> bool:
    """Return whether ``role`` may see real names in ``view`` (only staff and mandate-holders on the case page)."""
    _check_role(role)
    return view == "case" and role in ("staff", "mandate_holder")


def redact(
    frame: pd.DataFrame,
    role: Role,
    *,
    view: View = "list",
    key: bytes | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with names replaced by pseudonyms unless the role may see them.

    Each sensitive column present (``defender_name``, ``source_contact``, ``submitter_name``)
    is dropped and replaced, in the same position, by ``<column>_pseudonym``. Other columns are
    untouched. The frame is returned unchanged (as a copy) when ``names_allowed(role, view)``.

    Parameters
    ----------
    frame : DataFrame
        Any table; only sensitive columns are changed.
    role : {"staff", "mandate_holder", "auditor"}
        The role of the session that will see the result.
    view : {"list", "case", "export", "log"}, default "list"
        Where the table is shown.
    key : bytes, optional
        The pseudonym key; default ``pseudonym_key()``.
    """
    _check_role(role)
    check_params(_CONSTRAINTS, view=view)
    out = frame.copy()
    present = [c for c in out.columns if c in SENSITIVE_COLUMNS]
    if not present or names_allowed(role, view):
        return out
    key = key if key is not None else pseudonym_key()
    for col in present:
        pos = list(out.columns).index(col)
        values = [pseudonym(v, key) for v in out[col].tolist()]
        out = out.drop(columns=[col])
        out.insert(pos, f"{col}_pseudonym", pd.Series(values, index=out.index, dtype=object))
    return out


def safe_cell(value: Any) -> Any:
    """Neutralise one spreadsheet cell: text starting with ``= + - @``, tab or CR gets a ``'`` prefix.

    Numbers, booleans, dates and missing values are returned unchanged (a spreadsheet does not
    read them as formulas). Anything else (text of any kind, bytes, categories, lists, objects)
    is made text first, so no dtype slips through.
    """
    import datetime as dt
    import numbers

    import numpy as np

    if value is None or value is pd.NA or value is pd.NaT:
        return value
    if isinstance(value, bool | np.bool_ | numbers.Number | dt.date | dt.time | pd.Timestamp):
        return value
    if isinstance(value, np.datetime64 | np.timedelta64 | pd.Timedelta):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = value if isinstance(value, str) else str(value)
    stripped = text.lstrip(" \u00a0\u200b\ufeff")
    if stripped.startswith(_FORMULA_STARTS) or text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text if not isinstance(value, str) else value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with every cell that is not a number, boolean or date, and
    every column name, passed through ``safe_cell`` (categorical and any other dtype too)."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        dtype = series.dtype
        if (
            pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype)
        ) and not isinstance(dtype, pd.CategoricalDtype):
            continue
        cleaned = series.astype(object).map(safe_cell, na_action="ignore")
        if isinstance(dtype, pd.StringDtype):
            cleaned = cleaned.astype(dtype)
        out[col] = cleaned
    out.columns = [safe_cell(c) if not isinstance(c, int | float) else c for c in out.columns]
    if not isinstance(out.index, pd.RangeIndex):
        out.index = out.index.map(lambda v: safe_cell(v) if isinstance(v, str) else v)
    return out
