"""Checking every row: each cell through its friendly parser, then the cross-column checks;
the accepted rows and one fault line per problem."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from pandera.pandas import DataFrameModel

from triage.intake._cells import (
    find_dates,
    parse_cell,
    parse_date,
    region_mismatch,
)
from triage.intake._faults import (
    _blank,
    _clean,
    _Fault,
    _fault_line,
    _looks_personal,
    _redact,
    _where,
)
from triage.intake._plan import _settle_day_month
from triage.intake._read import RawRow, RawTable
from triage.intake._spec import (
    FIELDS,
    OHCHR_COLUMNS,
    OHCHR_REQUIRED,
    SHAPES,
    FieldSpec,
    Shape,
    normalise_column,
)
from triage.schema import (
    Cases,
    Communications,
    ContractError,
    Queue,
    Submissions,
    coerce,
    columns_of,
    region_of,
)

_OHCHR_SPECS: Mapping[str, FieldSpec] = {
    "Ref. no.": FIELDS["communication_id"],
    "Date": FIELDS["sent_date"],
    "Country": FIELDS["country"],
    "Type": FIELDS["type"],
    "Summary": FIELDS["summary"],
    "UN Region": FIELDS["un_region"],
    "Nb. of alleged victims": FIELDS["n_individuals"],
    "Nb. of replies": FieldSpec("int", max_length=10, minimum=0, maximum=100),
}
_MANDATES_MAX_LENGTH = 5_000


def _check_rows(
    table: RawTable,
    shape: Shape,
    columns: dict[int, tuple[str, str]],
    *,
    today: dt.date,
    assume: bool,
    warnings: list[str],
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """Validate every row; return the accepted (row number, values) and the fault lines."""
    checker: Callable[[dict[str, str], dict[str, str]], tuple[dict[str, Any], list[_Fault]]]
    headers = {canon: header for canon, header in columns.values()}
    month_first = _settle_day_month(table, shape, columns, warnings)
    if shape == "ohchr":
        checker = _ohchr_checker(today, month_first)
        id_column = "Ref. no."
    else:
        checker = _contract_checker(shape, headers, today, assume, month_first)
        id_column = SHAPES[shape].id_column
        if shape == "submissions" and id_column not in headers:
            id_column = "case_id"
    accepted: list[tuple[int, dict[str, Any]]] = []
    fault_lines: list[dict[str, Any]] = []
    first_seen: dict[str, int] = {}
    file = str(table.path)
    header_key = [normalise_column(h) for h in table.header]
    id_columns = {id_column, "case_id", "communication_id", "individual_id", "Ref. no."}
    width = len(table.header)
    for raw in table.rows:
        cells: dict[str, str] = {}
        unread: list[_Fault] = []
        for i, (canon, header) in columns.items():
            if i >= len(raw.cells):
                continue
            if i in raw.cell_faults:  # cannot be read as written: never stored as a blank
                unread.append(_Fault(header, "", raw.cell_faults[i]))
                continue
            kind = raw.cell_kinds.get(i)
            if canon in id_columns and kind == "boolean":
                unread.append(
                    _Fault(header, "", "a true/false value, not an id; write ids as text")
                )
                continue
            if canon in id_columns and kind == "number" and not raw.cells[i].isdigit():
                unread.append(
                    _Fault(header, "", "a number that is not whole, not an id; write ids as text")
                )
                continue
            cells[canon] = _clean(raw.cells[i])
        if [normalise_column(c) for c in raw.cells] == header_key:
            fault_lines.append(
                _fault_line(
                    file,
                    table,
                    raw,
                    _Fault("", "", "repeats the header row (were two files joined?)"),
                )
            )
            continue
        values, faults = checker(cells, headers)
        faults[:0] = unread
        if raw.fault:
            faults.insert(0, _Fault(raw.fault_column, "", raw.fault))
        shifted = raw.fault is not None or (raw.width is not None and raw.width != width)
        if raw.width is not None and raw.width < width and not raw.fault:
            faults.insert(
                0,
                _Fault(
                    "",
                    "",
                    f"has {raw.width} cells but the header has {width} (a missing separator, "
                    "or a value split over two lines?)",
                ),
            )

        key = cells.get(id_column, "").strip()
        if key:
            if key in first_seen:
                where = _where(table, first_seen[key])
                faults.append(
                    _Fault(
                        headers.get(id_column, id_column),
                        key,
                        f"duplicate {headers.get(id_column, id_column)}; first seen in {where}",
                    )
                )
            else:
                first_seen[key] = raw.number
        if faults:
            # A shifted row may have pushed a name or contact into any column: never echo it.
            faults = [
                f if f.sensitive or not (shifted or _looks_personal(f.value)) else _redact(f)
                for f in faults
            ]
            fault_lines.extend(_fault_line(file, table, raw, f) for f in faults)
        else:
            accepted.append((raw.number, values))
    return accepted, fault_lines


def _contract_checker(
    shape: Shape, headers: dict[str, str], today: dt.date, assume: bool, month_first: bool
) -> Callable[[dict[str, str], dict[str, str]], tuple[dict[str, Any], list[_Fault]]]:
    spec = SHAPES[shape]
    required = set(spec.required)
    if shape == "submissions" and "submission_id" not in headers:
        required = (required - {"submission_id"}) | {"case_id"}

    def check(cells: dict[str, str], _: dict[str, str]) -> tuple[dict[str, Any], list[_Fault]]:
        values: dict[str, Any] = {}
        faults: list[_Fault] = []
        for canon, text in cells.items():
            fs = FIELDS[canon]
            header = headers[canon]
            if _blank(text):
                if canon in required:
                    faults.append(_Fault(header, "", "missing required value"))
                continue
            value, why = parse_cell(text, fs, today=today, month_first=month_first)
            if why:
                faults.append(_Fault(header, text, why, fs.sensitive))
            else:
                values[canon] = value
        if shape == "submissions":
            if "submission_id" not in headers and "case_id" in values:
                values["submission_id"] = values["case_id"]
            if "eligible" not in headers and assume:
                values["eligible"] = True
        faults.extend(_cross_checks(values, headers, shape))
        return values, faults

    return check


def _cross_checks(values: dict[str, Any], headers: dict[str, str], shape: Shape) -> list[_Fault]:
    faults: list[_Fault] = []
    country, region = values.get("country"), values.get("un_region")
    if country and region:
        why = region_mismatch(country, region)
        if why:
            faults.append(_Fault(headers.get("un_region", "un_region"), region, why))
    elif country and shape in ("submissions", "cases"):
        values["un_region"] = region_of(country)  # derived: the balance targets need it
    received, sent, reply = (values.get(c) for c in ("received_date", "sent_date", "reply_date"))
    for column, later, earlier, words in (
        ("reply_date", reply, sent, "the reply is dated before the communication was sent"),
        ("sent_date", sent, received, "sent before the submission was received"),
    ):
        if later and earlier and later < earlier:
            faults.append(
                _Fault(
                    headers.get(column, column),
                    later.isoformat(),
                    f"{words} ({earlier.isoformat()})",
                )
            )
    if values.get("reply_class") == "none" and reply:
        faults.append(
            _Fault(
                headers.get("reply_class", "reply_class"),
                "none",
                f"says no reply, but a reply date is given ({reply.isoformat()})",
            )
        )
    if values.get("eligible") is False and sent:
        faults.append(
            _Fault(
                headers.get("eligible", "eligible"),
                "false",
                "marked ineligible, but a communication was sent",
            )
        )
    return faults


def _ohchr_checker(
    today: dt.date,
    month_first: bool,
) -> Callable[[dict[str, str], dict[str, str]], tuple[dict[str, Any], list[_Fault]]]:
    mapped = {label: target for label, target in OHCHR_COLUMNS.items() if target}

    def check(
        cells: dict[str, str], headers: dict[str, str]
    ) -> tuple[dict[str, Any], list[_Fault]]:
        values: dict[str, Any] = {"addressee": "state"}
        faults: list[_Fault] = []
        parsed: dict[str, Any] = {}
        for label, text in cells.items():
            header = headers[label]
            if _blank(text):
                if label in OHCHR_REQUIRED:
                    faults.append(_Fault(header, "", "missing required value"))
                continue
            value: Any
            if label == "Mandates":
                value, why = _parse_mandates(text)
            elif label == "Replies":
                value, why = _parse_replies(text, today, month_first)
            elif label == "OHCHR Region":
                continue  # OHCHR's own office regions, not the UN regional groups
            else:
                value, why = parse_cell(
                    text, _OHCHR_SPECS[label], today=today, month_first=month_first
                )
            if why:
                faults.append(_Fault(header, text, why, label == "Summary"))
            else:
                parsed[label] = value
        for label, target in mapped.items():
            if label in parsed:
                values[target] = parsed[label]
        n_replies, dates = parsed.get("Nb. of replies"), parsed.get("Replies")
        if dates:
            values["reply_date"] = min(dates)
            values["reply_dates"] = sorted(dates)
        if n_replies == 0 and dates:
            faults.append(
                _Fault(
                    headers.get("Nb. of replies", "Nb. of replies"),
                    "0",
                    f"says 0 replies, but Replies lists one dated {min(dates).isoformat()}",
                )
            )
        replied = bool(n_replies) or bool(dates) or bool(cells.get("Replies", "").strip())
        if replied:
            values["reply_class"] = "content_unknown"  # the export does not say what was replied
        elif n_replies == 0:
            values["reply_class"] = "none"
        renamed = {target: headers[label] for label, target in mapped.items() if label in headers}
        renamed["reply_date"] = headers.get("Replies", "Replies")
        faults.extend(_cross_checks(values, renamed, "ohchr"))
        return values, faults

    return check


def _parse_mandates(text: str) -> tuple[int | None, str | None]:
    """Mandates: a count, or a list of mandate names (one per line or ``;``-separated)."""
    value = text.strip()
    if value.isdigit():
        number = int(value)
        return (number, None) if 1 <= number <= 100 else (None, "must be from 1 to 100 mandates")
    if len(value) > _MANDATES_MAX_LENGTH:
        return None, f"too long: {len(value)} characters, at most {_MANDATES_MAX_LENGTH}"
    check = parse_cell(value, FieldSpec("text", max_length=_MANDATES_MAX_LENGTH), today=dt.date.max)
    if check[1]:
        return None, check[1]
    names = [n for n in value.replace("|", ";").replace("\n", ";").split(";") if n.strip()]
    if len(names) > 100:
        return None, f"lists {len(names)} mandates; at most 100"
    return len(names), None


def _parse_replies(
    text: str, today: dt.date, month_first: bool = False
) -> tuple[list[dt.date] | None, str | None]:
    """Replies: free text holding the dates of the state's replies."""
    check = parse_cell(text, FieldSpec("text", max_length=2_000), today=today)
    if check[1]:
        return None, check[1]
    dates: list[dt.date] = []
    for token in find_dates(text):
        date, why = parse_date(token, today=today, month_first=month_first)
        if why:
            return None, f"reply date {token}: {why}"
        dates.append(date)
    return dates, None


#: The table contracts an accepted row of each shape must keep (``triage.schema``); a column
#: is checked by the first contract that has it.
_CONTRACTS_OF: Mapping[Shape, tuple[type[DataFrameModel], ...]] = {
    "submissions": (Submissions, Queue, Communications),
    "cases": (Cases,),
    "communications": (Communications,),
    "ohchr": (Communications,),
}


def _contract_pass(
    table: RawTable,
    shape: Shape,
    columns: dict[int, tuple[str, str]],
    rows: list[tuple[int, dict[str, Any]]],
    accepted: pd.DataFrame,
    faults: list[dict[str, Any]],
) -> tuple[list[tuple[int, dict[str, Any]]], pd.DataFrame]:
    """Check the parsed rows against their table contracts in one lazy pass.

    The friendly cell parsers ran first; every cell the contract still refuses becomes a
    quarantine line (file, row, column, reason; values that may name a person redacted) and
    its row leaves ``rows`` and ``accepted``. Returns the rows and frame that remain.
    """
    headers = {canon: header for canon, header in columns.values()}
    covered: set[str] = set()
    refused: dict[int, list[_Fault]] = {}
    for model in _CONTRACTS_OF[shape]:
        wanted = [c for c in columns_of(model) if c in accepted.columns and c not in covered]
        covered.update(wanted)
        if not wanted:
            continue
        try:
            coerce(accepted[wanted], model, source=table.path.name, partial=True)
        except ContractError as exc:
            for bad in exc.failures.itertuples(index=False):
                column = str(bad.column)
                spec = FIELDS.get(column)
                fault = _Fault(
                    headers.get(column, column),
                    str(bad.value),
                    f"expected {bad.check} (the {shape} contract)",
                    bool(spec and spec.sensitive),
                )
                refused.setdefault(int(str(bad.row)), []).append(
                    fault if fault.sensitive or not _looks_personal(fault.value) else _redact(fault)
                )
    if not refused:
        return rows, accepted
    file = str(table.path)
    for position, found in sorted(refused.items()):
        raw = RawRow(rows[position][0], [])
        faults.extend(_fault_line(file, table, raw, f) for f in found)
    keep = [i for i in range(len(rows)) if i not in refused]
    return [rows[i] for i in keep], accepted.iloc[keep].reset_index(drop=True)
