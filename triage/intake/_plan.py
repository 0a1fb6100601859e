"""Telling a file's shape from its header, mapping its columns onto the contract, and settling
whether its numeric dates are day first or month first."""

from __future__ import annotations

from triage.errors import InputFileError
from triage.intake._cells import (
    day_month_order,
    find_dates,
)
from triage.intake._read import RawRow, RawTable
from triage.intake._spec import (
    ALIASES,
    FIELDS,
    OHCHR_COLUMNS,
    OHCHR_REQUIRED,
    SHAPES,
    Shape,
    normalise_column,
)

_OHCHR_KEYS = {normalise_column(c): c for c in OHCHR_COLUMNS}
_OHCHR_MARKERS = {normalise_column(c) for c in ("Ref. no.", "Mandates", "Nb. of alleged victims")}


def _contract_columns(shape: Shape) -> tuple[str, ...]:
    if shape == "ohchr":
        return SHAPES["communications"].columns
    return SHAPES[shape].columns


# -- the file's shape and columns ---------------------------------------------------------


_KNOWN_COLUMNS = frozenset(FIELDS) | frozenset(ALIASES) | frozenset(_OHCHR_KEYS)


def _looks_like_header(cells: list[str]) -> bool:
    """A header names at least two columns intake knows."""
    return sum(normalise_column(c) in _KNOWN_COLUMNS for c in cells) >= 2


def _plan(table: RawTable) -> tuple[Shape, dict[int, tuple[str, str]], list[str]]:
    """Tell the shape and map header positions to (contract name, header as written)."""
    name = table.path.name
    normalised = [normalise_column(h) for h in table.header]
    warnings: list[str] = []
    if any(n in _OHCHR_MARKERS for n in normalised):
        return _plan_ohchr(table, normalised)
    canonical = [ALIASES.get(n, n) for n in normalised]
    seen: dict[str, int] = {}
    for i, c in enumerate(canonical):
        if not c:
            continue
        if c in seen and c in FIELDS:
            raise InputFileError(
                f"{name}: column {c} appears twice (columns {seen[c] + 1} and {i + 1}); keep one."
            )
        seen.setdefault(c, i)
    present = set(canonical)
    if "communication_id" in present and "case_id" in present:
        shape: Shape = "cases"
    elif "communication_id" in present and "submission_id" not in present:
        shape = "communications"
    else:
        shape = "submissions"
    spec = SHAPES[shape]
    id_present = spec.id_column in present or (shape == "submissions" and "case_id" in present)
    missing = [c for c in spec.required if c not in present and c != spec.id_column]
    if not id_present:
        missing.insert(
            0, "submission_id (or case_id)" if shape == "submissions" else spec.id_column
        )
    if missing:
        known = [c for c in canonical if c in FIELDS]
        hint = (
            " None of the columns is recognised: is the first row the header?" if not known else ""
        )
        raise InputFileError(
            f"{name}: missing required column(s) {', '.join(missing)}; "
            f"read as a {shape} file.{hint}"
        )
    columns: dict[int, tuple[str, str]] = {}
    ignored: list[str] = []
    for i, c in enumerate(canonical):
        if c in spec.columns:
            columns[i] = (c, table.header[i])
        elif c:
            ignored.append(table.header[i])
        elif any(r.cells[i].strip() for r in table.rows if i < len(r.cells)):
            ignored.append(f"(column {i + 1}, no header)")
    if ignored:
        warnings.append(
            f"{name}: columns not in the {shape} contract were ignored: "
            + ", ".join(ignored[:20])
            + (" ..." if len(ignored) > 20 else "")
        )
    return shape, columns, warnings


def _plan_ohchr(
    table: RawTable, normalised: list[str]
) -> tuple[Shape, dict[int, tuple[str, str]], list[str]]:
    name = table.path.name
    columns: dict[int, tuple[str, str]] = {}
    seen: dict[str, int] = {}
    for i, n in enumerate(normalised):
        label = _OHCHR_KEYS.get(n)
        if label is None:
            continue
        if label in seen:
            raise InputFileError(
                f"{name}: column {label!r} appears twice (columns {seen[label] + 1} and {i + 1})."
            )
        seen[label] = i
        columns[i] = (label, table.header[i])
    missing = [c for c in OHCHR_REQUIRED if c not in seen]
    if missing:
        raise InputFileError(
            f"{name}: missing required column(s) {', '.join(repr(m) for m in missing)}; "
            "read as an OHCHR communications-report export."
        )
    others = [table.header[i] for i, n in enumerate(normalised) if n and i not in columns]
    warnings = (
        [f"{name}: columns not in the OHCHR export were ignored: {', '.join(others[:20])}"]
        if others
        else []
    )
    return "ohchr", columns, warnings


def _settle_day_month(
    table: RawTable, shape: Shape, columns: dict[int, tuple[str, str]], warnings: list[str]
) -> bool:
    """Settle the day/month order of numeric dates (``02/03/2015``) for the whole file.

    Day first (the UN's order) unless some date can only be month first (``02/13/2015``) and
    none can only be day first; a file with both is refused, naming a row of each.
    """
    if shape == "ohchr":
        single = [i for i, (c, _) in columns.items() if c == "Date"]
        free = [i for i, (c, _) in columns.items() if c == "Replies"]
    else:
        single = [i for i, (c, _) in columns.items() if FIELDS[c].kind == "date"]
        free = []
    if not single and not free:
        return False
    first: dict[str, tuple[RawRow, str]] = {}
    for raw in table.rows:
        for i in single + free:
            if i >= len(raw.cells) or not raw.cells[i]:
                continue
            tokens = [raw.cells[i]] if i in single else find_dates(raw.cells[i])
            for token in tokens:
                order = day_month_order(token)
                if order and order not in first:
                    first[order] = (raw, columns[i][1])
        if len(first) == 2:
            day_row, day_col = first["day_first"]
            month_row, month_col = first["month_first"]
            raise InputFileError(
                f"{table.path.name}: dates are written day first in "
                f"{day_row.where(table.format, table.sheet)} (column {day_col}) and month first "
                f"in {month_row.where(table.format, table.sheet)} (column {month_col}); the "
                "order cannot be settled for the file. Write dates as YYYY-MM-DD."
            )
    if "month_first" in first:
        row, col = first["month_first"]
        warnings.append(
            f"{table.path.name}: numeric dates read month first (MM/DD/YYYY) throughout the "
            f"file, as {row.where(table.format, table.sheet)} (column {col}) can only be read "
            "that way."
        )
        return True
    return False
