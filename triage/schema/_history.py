"""The simulated (or imported) history on disk: file names, exact columns, and a typed reader.

``triage generate`` writes these files and ``triage db load`` reads them. Dates are
``YYYY-MM-DD``, lists are ``;``-separated codes, booleans are ``true``/``false`` and unknown
values are blank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from triage.errors import InputFileError

__all__ = [
    "CASES_COLUMNS",
    "COMMUNICATIONS_COLUMNS",
    "HISTORY_FILES",
    "OUTCOMES_COLUMNS",
    "QUEUE_COLUMNS",
    "SENSITIVE_COLUMNS",
    "SUBMISSIONS_COLUMNS",
    "TRUTH_COLUMNS",
    "History",
    "codes_to_frame",
    "read_history",
    "split_codes",
]

COMMUNICATIONS_COLUMNS: Final = (
    "communication_id",
    "sent_date",
    "type",
    "addressee",
    "country",
    "n_mandates",
    "last_incident_date",
    "reply_class",
    "reply_date",
    "n_individuals",
)
CASES_COLUMNS: Final = (
    "case_id",
    "communication_id",
    "individual_id",
    "sent_date",
    "country",
    "un_region",
    "gender",
    "violations",
    "issue_areas",
    "protester",
)
OUTCOMES_COLUMNS: Final = ("case_id", "outcome", "assessment", "survey_impact")
TRUTH_COLUMNS: Final = ("case_id", "p_improve")
#: The incoming queue: submissions received in the 12 months after the history.
#: ``type`` and ``n_mandates`` are the planned communication.
QUEUE_COLUMNS: Final = (
    "case_id",
    "received_date",
    "individual_id",
    "defender_name",
    "source_contact",
    "country",
    "un_region",
    "gender",
    "violations",
    "issue_areas",
    "protester",
    "type",
    "n_mandates",
    "last_incident_date",
)
#: Every historical submission, including those not taken up (the paper's first
#: recommendation). ``case_id`` is blank when the submission did not become a case.
SUBMISSIONS_COLUMNS: Final = (
    "submission_id",
    "received_date",
    "individual_id",
    "country",
    "un_region",
    "gender",
    "violations",
    "issue_areas",
    "protester",
    "eligible",
    "case_id",
)

#: Columns that identify people. Stored, never logged, explained or exported unless the role
#: allows it.
SENSITIVE_COLUMNS: Final = frozenset({"defender_name", "source_contact", "submitter_name"})

HISTORY_FILES: Final[Mapping[str, tuple[str, ...]]] = {
    "communications": COMMUNICATIONS_COLUMNS,
    "cases": CASES_COLUMNS,
    "outcomes": OUTCOMES_COLUMNS,
    "truth": TRUTH_COLUMNS,
    "queue": QUEUE_COLUMNS,
    "submissions": SUBMISSIONS_COLUMNS,
}

_DATE_COLUMNS: Final = frozenset({"sent_date", "last_incident_date", "reply_date", "received_date"})
_BOOL_COLUMNS: Final = frozenset({"protester", "eligible"})
_INT_COLUMNS: Final = frozenset({"n_mandates", "n_individuals"})


@dataclass(frozen=True)
class History:
    """The history tables, typed: dates as ``datetime64``, booleans as ``bool``, lists as text.

    ``submissions`` is ``None`` for a directory that has no ``submissions.csv``; ``truth`` is
    ``None`` for real (not simulated) data.
    """

    communications: pd.DataFrame
    cases: pd.DataFrame
    outcomes: pd.DataFrame
    queue: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    submissions: pd.DataFrame | None = None
    simulated: bool = True

    @classmethod
    def from_frames(cls, tables: Mapping[str, pd.DataFrame | None]) -> History:
        """Build a History from tables keyed by file name (``cases``, ``truth``, …).

        ``communications``, ``cases`` and ``outcomes`` are required; a missing optional table
        is ``None``. The history is simulated exactly when it has a truth table.
        """
        return cls(
            communications=tables["communications"],  # type: ignore[arg-type]
            cases=tables["cases"],  # type: ignore[arg-type]
            outcomes=tables["outcomes"],  # type: ignore[arg-type]
            queue=tables.get("queue"),
            truth=tables.get("truth"),
            submissions=tables.get("submissions"),
            simulated=tables.get("truth") is not None,
        )


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.EmptyDataError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{path}: cannot be read as CSV ({exc}).") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputFileError(f"{path}: missing required column(s) {', '.join(missing)}.")
    frame = frame.loc[:, list(columns)]
    for col in columns:
        raw = frame[col]
        parsed: pd.Series
        if col in _DATE_COLUMNS:
            parsed = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
        elif col in _BOOL_COLUMNS:
            parsed = raw.map({"true": True, "false": False}).astype("boolean")
        elif col in _INT_COLUMNS or col == "p_improve":
            parsed = pd.to_numeric(raw, errors="coerce")
            if col in _INT_COLUMNS:
                whole = parsed.isna() | (parsed == parsed.round())
                parsed = parsed.where(whole)
        else:
            continue
        _refuse_unparsed(path, col, raw, parsed)
        if col in _INT_COLUMNS:
            parsed = parsed.astype("Int64")
        elif col == "p_improve":
            parsed = parsed.astype(float)
        frame[col] = parsed
    return frame


def _refuse_unparsed(path: Path, column: str, raw: pd.Series, parsed: pd.Series) -> None:
    """Raise naming the first cell of ``column`` that is filled but could not be parsed."""
    bad = raw.notna() & parsed.isna()
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        kind = {"p_improve": "a probability"}.get(column, "")
        if column in _DATE_COLUMNS:
            kind = "a date (YYYY-MM-DD)"
        elif column in _BOOL_COLUMNS:
            kind = "true or false"
        elif column in _INT_COLUMNS:
            kind = "a whole number"
        # The value is not shown: a shifted row can put a name or a contact in any column.
        raise InputFileError(
            f"{path}: row {position + 2}, column {column}: expected {kind}; {int(bad.sum())} such cell(s) in this column. "
            f"`triage ingest {path.name} --dry-run` lists every faulty row."
        )


def read_history(directory: str | Path) -> History:
    """Read a history directory written by ``triage generate`` (or exported in that shape).

    Parameters
    ----------
    directory : str or Path
        Folder holding ``communications.csv``, ``cases.csv`` and ``outcomes.csv``; ``queue.csv``,
        ``truth.csv`` and ``submissions.csv`` are read when present.

    Returns
    -------
    History
        The typed tables.

    Raises
    ------
    InputFileError
        If the folder or a required file is missing or a file lacks a required column.
    """
    root = Path(directory)
    if not root.is_dir():
        raise InputFileError(f"{root}: no such history folder. Create one with `triage generate`.")
    tables: dict[str, pd.DataFrame | None] = {}
    for name, columns in HISTORY_FILES.items():
        path = root / f"{name}.csv"
        if path.exists():
            tables[name] = _read(path, columns)
        elif name in ("communications", "cases", "outcomes"):
            raise InputFileError(f"{path}: required history file is missing.")
        else:
            tables[name] = None
    return History.from_frames(tables)


def split_codes(value: object) -> tuple[str, ...]:
    """Split one ``;``-separated list cell into its codes (blank or NaN gives ``()``)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ()
    return tuple(code for code in (part.strip() for part in str(value).split(";")) if code)


def codes_to_frame(values: pd.Series, vocabulary: Iterable[str]) -> pd.DataFrame:
    """Turn a column of ``;``-separated codes into one boolean column per vocabulary code.

    The result has the same index as ``values`` and columns in vocabulary order. Codes outside
    the vocabulary are ignored here; intake validation is where they are reported.
    """
    vocab = list(vocabulary)
    text = values.fillna("").astype(str)
    padded = ";" + text.str.replace(" ", "", regex=False) + ";"
    return pd.DataFrame(
        {code: padded.str.contains(f";{code};", regex=False) for code in vocab}, index=values.index
    )
