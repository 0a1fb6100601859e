"""One contract per table: columns, types, nullability and codes, as pandera models.

Every reader and writer of a table goes through :func:`coerce`: it keeps the model's columns
in order, turns text into the model's types (dates ``YYYY-MM-DD``, booleans ``true``/``false``,
whole numbers, probabilities) and validates the result lazily, so one pass finds every bad cell.
The column tuples (``CASES_COLUMNS``...) and the date, boolean, integer and float column sets
are derived from these models; nothing else spells them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera import extensions
from pandera.errors import SchemaErrors
from pandera.typing.pandas import Series

from triage.errors import InputFileError
from triage.schema import _vocab
from triage.schema._countries import countries

__all__ = [
    "BOOL_COLUMNS",
    "CONTRACTS",
    "DATE_COLUMNS",
    "FLOAT_COLUMNS",
    "INT_COLUMNS",
    "Candidates",
    "Cases",
    "Communications",
    "ContractError",
    "Kind",
    "Outcomes",
    "Queue",
    "Reasons",
    "Submissions",
    "Truth",
    "coerce",
    "column_kinds",
    "columns_of",
]

Kind = Literal["date", "bool", "int", "float", "text"]


_VOCABULARIES: Final[Mapping[str, Iterable[str]]] = {
    "VIOLATIONS": _vocab.VIOLATIONS,
    "ISSUE_AREAS": _vocab.ISSUE_AREAS,
}


@extensions.register_check_method(statistics=["vocabulary"])  # type: ignore[misc]
def codes_in(series: pd.Series, *, vocabulary: str) -> pd.Series:
    """Every ``;``-separated code of a cell is in the named vocabulary (blank is fine)."""
    allowed = frozenset(_VOCABULARIES[vocabulary])
    # Lists repeat a lot: judge each distinct cell once.
    bad = [
        v
        for v in series.dropna().unique()
        if any(c.strip() and c.strip() not in allowed for c in str(v).split(";"))
    ]
    return ~series.isin(bad)


@extensions.register_check_method(statistics=["table"])  # type: ignore[misc]
def iso3(series: pd.Series, *, table: str) -> pd.Series:
    """Every cell is an ISO3 code of ``data/countries.csv`` (``table`` names it)."""
    return series.isin(list(countries()))


#: Every column of every table, defined once: its type and its checks. A cell may be blank
#: (unknown) unless its table names the column as its key (never blank, unique) or required.
_COLUMNS: Final[Mapping[str, tuple[Any, Mapping[str, Any]]]] = {
    "communication_id": (str, {}),
    "case_id": (str, {}),
    "submission_id": (str, {}),
    "individual_id": (str, {}),
    "defender_name": (str, {}),
    "source_contact": (str, {}),
    "sent_date": (pa.DateTime, {}),
    "received_date": (pa.DateTime, {}),
    "last_incident_date": (pa.DateTime, {}),
    "reply_date": (pa.DateTime, {}),
    "type": (str, {"isin": list(_vocab.COMM_TYPES)}),
    "addressee": (str, {"isin": list(_vocab.ADDRESSEES)}),
    "country": (str, {"iso3": "countries"}),
    "un_region": (str, {"isin": list(_vocab.UN_REGIONS)}),
    "gender": (str, {"isin": list(_vocab.GENDERS)}),
    "violations": (str, {"codes_in": "VIOLATIONS"}),
    "issue_areas": (str, {"codes_in": "ISSUE_AREAS"}),
    "protester": (pd.BooleanDtype, {}),
    "eligible": (pd.BooleanDtype, {}),
    "n_mandates": (pd.Int64Dtype, {"ge": 1}),
    "n_individuals": (pd.Int64Dtype, {"ge": 0}),
    "reply_class": (str, {"isin": list(_vocab.REPLY_CLASSES)}),
    "outcome": (str, {"isin": list(_vocab.OUTCOMES)}),
    "assessment": (str, {"isin": list(_vocab.ASSESSMENTS)}),
    "survey_impact": (str, {"isin": list(_vocab.SURVEY_IMPACTS)}),
    "p_improve": (float, {"ge": 0.0, "le": 1.0}),
    "score": (float, {"ge": 0.0, "le": 1.0}),
    "selected": (pd.BooleanDtype, {}),
    "reason": (str, {}),
    "score_to_enter": (float, {}),
    "displaced_by": (str, {}),
}


class _Table(pa.DataFrameModel):
    class Config:
        strict = True
        ordered = True


def _table(
    name: str, doc: str, columns: str, *, key: str, required: tuple[str, ...] = ()
) -> type[pa.DataFrameModel]:
    """A table contract: ``columns`` (space-separated, in file order) from ``_COLUMNS``."""
    names = columns.split()
    namespace: dict[str, Any] = {
        "__doc__": doc,
        "__module__": __name__,
        "__qualname__": name,
        "__annotations__": {c: Series[_COLUMNS[c][0]] for c in names},  # type: ignore[misc]
    }
    for c in names:
        checks = _COLUMNS[c][1]
        namespace[c] = pa.Field(nullable=c not in (key, *required), unique=c == key, **checks)
    return type(name, (_Table,), namespace)


Communications = _table(
    "Communications",
    "communications.csv: one row per communication (letter or press release).",
    "communication_id sent_date type addressee country n_mandates last_incident_date"
    " reply_class reply_date n_individuals",
    key="communication_id",
)
Cases = _table(
    "Cases",
    "cases.csv: one row per individual case taken up in a communication.",
    "case_id communication_id individual_id sent_date country un_region gender violations"
    " issue_areas protester",
    key="case_id",
)
Outcomes = _table(
    "Outcomes",
    "outcomes.csv: the observed outcome of a case (one year after sending).",
    "case_id outcome assessment survey_impact",
    key="case_id",
)
Truth = _table(
    "Truth",
    "truth.csv: the simulation's chance of improvement of each case (never a feature).",
    "case_id p_improve",
    key="case_id",
)
Queue = _table(
    "Queue",
    "queue.csv: incoming submissions awaiting a decision, with the planned communication.",
    "case_id received_date individual_id defender_name source_contact country un_region"
    " gender violations issue_areas protester type n_mandates last_incident_date",
    key="case_id",
)
Submissions = _table(
    "Submissions",
    "submissions.csv: every historical submission, taken up or not (case_id blank if not).",
    "submission_id received_date individual_id country un_region gender violations"
    " issue_areas protester eligible case_id",
    key="submission_id",
)
Candidates = _table(
    "Candidates",
    "The allocator's input: case_id, score (probability of improvement, 0-1), country "
    "(ISO3), UN regional group, gender and violations (';'-separated codes).",
    "case_id score country un_region gender violations",
    key="case_id",
    required=("score",),
)
Reasons = _table(
    "Reasons",
    "Why each candidate is in or out: case_id, selected, reason (a sentence), score_to_enter "
    "(probability, blank when selected) and displaced_by (a case_id or blank).",
    "case_id selected reason score_to_enter displaced_by",
    key="case_id",
    required=("selected", "reason"),
)


#: The history files' contracts, keyed by file name (without ``.csv``).
CONTRACTS: Final[Mapping[str, type[pa.DataFrameModel]]] = {
    "communications": Communications,
    "cases": Cases,
    "outcomes": Outcomes,
    "truth": Truth,
    "queue": Queue,
    "submissions": Submissions,
}


@cache
def _schema(
    model: type[pa.DataFrameModel], columns: tuple[str, ...] | None = None
) -> pa.DataFrameSchema:
    """The model's schema, or its schema restricted to ``columns``."""
    schema = model.to_schema()
    if columns is None or columns == tuple(schema.columns):
        return schema
    return schema.select_columns(list(columns))


def columns_of(model: type[pa.DataFrameModel]) -> tuple[str, ...]:
    """Return the model's columns, in order."""
    return tuple(_schema(model).columns)


@cache
def column_kinds(model: type[pa.DataFrameModel]) -> Mapping[str, Kind]:
    """Return each column's kind (date, bool, int, float, text), read from its pandera type."""
    kinds: dict[str, Kind] = {}
    for name, column in _schema(model).columns.items():
        dtype = str(column.dtype)
        kinds[name] = (
            "date"
            if dtype.startswith("datetime64")
            else "bool"
            if dtype in ("boolean", "bool")
            else "int"
            if dtype == "Int64"
            else "float"
            if dtype.startswith("float")
            else "text"
        )
    return kinds


def _columns_of_kind(kind: Kind) -> frozenset[str]:
    return frozenset(
        name
        for model in (*CONTRACTS.values(), Candidates, Reasons)
        for name, k in column_kinds(model).items()
        if k == kind
    )


#: Columns typed as dates, booleans, whole numbers and floats in any table contract.
DATE_COLUMNS: Final = _columns_of_kind("date")
BOOL_COLUMNS: Final = _columns_of_kind("bool")
INT_COLUMNS: Final = _columns_of_kind("int")
FLOAT_COLUMNS: Final = _columns_of_kind("float")

#: What a cell of each kind must look like, in the words of an error message.
EXPECTED: Final[Mapping[str, str]] = {
    "date": "a date (YYYY-MM-DD)",
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "text": "text",
}


class ContractError(InputFileError):
    """A table breaks its contract; ``failures`` lists every bad cell.

    ``failures`` has columns row (0-based position in the frame), column, check (what the cell
    must be, in plain words) and value (the cell as given; never show it for sensitive columns).
    """

    def __init__(self, message: str, failures: pd.DataFrame) -> None:
        super().__init__(message)
        self.failures = failures


def _typed(raw: pd.Series, kind: Kind) -> pd.Series:
    """Turn one text (or already typed) column into ``kind``; unreadable cells become NA."""
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(raw):
            return raw
        return pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
    if kind == "bool":
        if isinstance(raw.dtype, pd.BooleanDtype):
            return raw
        if pd.api.types.is_bool_dtype(raw):
            return raw.astype("boolean")
        return raw.map({"true": True, "false": False, True: True, False: False}).astype("boolean")
    if kind in ("int", "float"):
        parsed = pd.to_numeric(raw, errors="coerce")
        if kind == "int":
            whole = parsed.isna() | (parsed == parsed.round())
            return parsed.where(whole).astype("Int64")
        return parsed.astype(float)
    if raw.dtype == "str":
        return raw
    return raw.astype("str")


def _check_words(check: str, kind: Kind, column: str) -> str:
    """Plain words for a pandera check name."""
    if check in ("not_nullable",):
        return "a value (it must not be blank)"
    if check in ("field_uniqueness", "unique"):
        return "a value that appears only once"
    if check.startswith(("greater_than_or_equal_to", "less_than_or_equal_to", "in_range")):
        bound = check[check.index("(") + 1 : -1] if "(" in check else ""
        side = "at least" if check.startswith("greater") else "at most"
        return f"{EXPECTED[kind]} {side} {bound}".strip()
    if check.startswith("iso3"):
        return "an ISO3 country code"
    if check.startswith("codes_in"):
        return f"{column} codes separated by ;"
    if check.startswith("isin"):
        return f"a {column} code"
    return EXPECTED[kind]


def coerce(
    frame: pd.DataFrame,
    model: type[pa.DataFrameModel],
    *,
    source: str = "table",
    partial: bool = False,
) -> pd.DataFrame:
    """Return ``frame`` in the model's columns and types, validated lazily.

    Parameters
    ----------
    frame : DataFrame
        Text as read from a file, or frames already typed; extra columns are dropped.
    model : pandera DataFrameModel
        One of this module's table contracts.
    source : str, default "table"
        Names the table in the error message (a file path, "cases").
    partial : bool, default False
        Check only the model's columns that ``frame`` has (intake files carry some columns
        of a table); by default a missing column is refused.

    Returns
    -------
    DataFrame
        The model's columns in order: dates ``datetime64``, booleans ``boolean``, whole
        numbers ``Int64``, probabilities ``float``, other columns text (blank = NA).

    Raises
    ------
    ContractError
        A required column is missing, or cells break the contract; ``failures`` lists every
        bad cell, the message names the first (row as in a spreadsheet: header = row 1) without
        echoing its value.
    """
    columns = columns_of(model)
    if partial:
        columns = tuple(c for c in columns if c in frame.columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ContractError(
            f"{source}: missing required column(s) {', '.join(missing)}.",
            _failures([]),
        )
    kinds = column_kinds(model)
    out = frame.loc[:, list(columns)].copy()
    unread: list[pd.DataFrame] = []
    for col in columns:
        raw = out[col]
        kind = kinds[col]
        if kind == "text":
            out[col] = _typed(raw, kind)
            continue
        parsed = _typed(raw, kind)
        bad = raw.notna().to_numpy() & parsed.isna().to_numpy()
        if bad.any():
            rows = np.flatnonzero(bad)
            unread.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "column": col,
                        "check": EXPECTED[kind],
                        "value": raw.iloc[rows].astype(str).to_numpy(),
                    }
                )
            )
        out[col] = parsed
    try:
        _schema(model, columns).validate(out.reset_index(drop=True), lazy=True)
    except SchemaErrors as exc:
        unread.append(_from_pandera(exc.failure_cases, kinds))
    if unread:
        failures = _failures(unread)
        first = failures.iloc[0]
        same = int((failures["column"] == first["column"]).sum())
        raise ContractError(
            f"{source}: row {int(first['row']) + 2}, column {first['column']}: expected "
            f"{first['check']}; {same} such cell(s) in this column.",
            failures,
        )
    return out


def _from_pandera(cases: pd.DataFrame, kinds: Mapping[str, Kind]) -> pd.DataFrame:
    """Pandera's failure table (validated on a 0..n-1 index) as ``ContractError.failures``."""
    cells = cases[cases["column"].isin(list(kinds))]
    # A column-level failure (a wrong dtype) has no row: report it on the first.
    positions = pd.to_numeric(cells["index"], errors="coerce").fillna(0).astype(int)
    return pd.DataFrame(
        {
            "row": positions.to_numpy(),
            "column": cells["column"].astype(str).to_numpy(),
            "check": [
                _check_words(str(c), kinds.get(str(col), "text"), str(col))
                for c, col in zip(cells["check"], cells["column"], strict=True)
            ],
            "value": cells["failure_case"].astype(str).to_numpy(),
        }
    )


def _failures(parts: list[pd.DataFrame]) -> pd.DataFrame:
    columns = ["row", "column", "check", "value"]
    if not parts:
        return pd.DataFrame(columns=columns)
    joined = pd.concat(parts, ignore_index=True)
    return joined.drop_duplicates(["row", "column"]).sort_values(
        ["row", "column"], kind="stable", ignore_index=True
    )
