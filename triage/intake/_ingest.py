"""``ingest_file``: read a file row by row, accept or quarantine every row, store the accepted.

Nothing is lost: ``read == accepted + quarantined`` always holds, and every quarantined row is
explained (file, row, column, value, reason). Whole-file faults (missing required column, empty
or binary file, unknown encoding) raise one :class:`~triage.errors.InputFileError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from triage.errors import InputFileError, TriageError
from triage.intake._cells import (
    day_month_order,
    find_dates,
    parse_cell,
    parse_date,
    region_mismatch,
)
from triage.intake._read import RawRow, RawTable, read_table
from triage.intake._spec import (
    ALIASES,
    FIELDS,
    OHCHR_COLUMNS,
    OHCHR_REQUIRED,
    SHAPES,
    FieldSpec,
    Shape,
    normalise_column,
)
from triage.schema import region_of

if TYPE_CHECKING:
    from triage.registry import Registry

__all__ = ["QUARANTINE_COLUMNS", "IngestResult", "ingest_file"]

#: Columns of the quarantine report.
QUARANTINE_COLUMNS = ("file", "row", "column", "value", "reason")
_REDACTED = "[redacted]"
#: Cell values shown in a reason are cut to this many characters.
_SHOWN = 80
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_OHCHR_KEYS = {normalise_column(c): c for c in OHCHR_COLUMNS}
_OHCHR_MARKERS = {normalise_column(c) for c in ("Ref. no.", "Mandates", "Nb. of alleged victims")}
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
#: Cells that spreadsheets and databases write for "no value"; read as blank.
_BLANK_TOKENS = frozenset({"null", "nan", "nat", "#n/a"})


def _blank(text: str) -> bool:
    value = text.strip()
    return not value or value.lower() in _BLANK_TOKENS


@dataclass(frozen=True)
class _Fault:
    column: str
    value: str
    reason: str
    sensitive: bool = False


@dataclass
class IngestResult:
    """What ``ingest_file`` did with one file.

    Attributes
    ----------
    path : Path
        The file.
    shape : {"submissions", "cases", "communications", "ohchr"}
        What the file holds, told from its columns.
    read : int
        Data rows read (blank rows are not counted).
    accepted : DataFrame
        The accepted rows, typed, in the file contract's columns (sensitive columns included:
        callers redact before showing them).
    quarantine : DataFrame
        One line per fault: file, row, column, value, reason. Sensitive values are
        ``[redacted]``. A row with several faults has several lines.
    warnings : list of str
        File-level notes (encoding fallback, ignored columns, other sheets).
    added, already_present : int
        Accepted rows new to the registry, and those it already held (0 without a registry).
    """

    path: Path
    shape: Shape
    read: int
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    sha256: str = ""
    sheet: str | None = None
    added: int = 0
    already_present: int = 0

    @property
    def n_accepted(self) -> int:
        """Rows accepted."""
        return len(self.accepted)

    @property
    def n_quarantined(self) -> int:
        """Rows quarantined (a row with several faults counts once)."""
        return int(self.quarantine["row"].nunique()) if len(self.quarantine) else 0

    def summary(self) -> str:
        """The reconciling summary line: ``read 40, accepted 34, quarantined 6``."""
        return f"read {self.read}, accepted {self.n_accepted}, quarantined {self.n_quarantined}"

    def write_report(self, path: str | Path) -> Path:
        """Write the quarantine as CSV (UTF-8), guarding cells against spreadsheet formulas."""
        out = Path(path)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(QUARANTINE_COLUMNS)
                for record in self.quarantine.itertuples(index=False):
                    writer.writerow([_safe_cell(v) for v in record])
        except OSError as exc:
            raise TriageError(
                f"{out}: the quarantine report cannot be written ({exc.strerror or exc})."
            ) from exc
        return out


def _safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def ingest_file(
    path: str | Path,
    *,
    registry: Registry | None = None,
    today: dt.date | None = None,
    assume_eligible: bool = True,
) -> IngestResult:
    """Read a CSV, XLSX or JSON file (or an OHCHR export); accept or quarantine every row.

    Parameters
    ----------
    path : str or Path
        The file. Its shape (submissions, cases, communications, OHCHR export) is told from
        its columns, matched case-insensitively.
    registry : Registry, optional
        Store the accepted rows there; rows whose id it already holds are not added again.
    today : date, optional
        The date that "in the future" is measured against (default: today, UTC).
    assume_eligible : bool, default True
        Submissions without an ``eligible`` column are registered as eligible (they enter the
        selection queue); with False they stay ``received``.

    Returns
    -------
    IngestResult
        ``read == n_accepted + n_quarantined``.

    Raises
    ------
    InputFileError
        The whole file is refused: missing, empty, binary, undecodable, not a table, or a
        required column is missing.
    """
    file = Path(path)
    today = today or dt.datetime.now(dt.UTC).date()
    data = _read_bytes(file)
    try:
        table = read_table(file, data, is_header=_looks_like_header)
        shape, columns, warnings = _plan(table)
        if not table.rows:
            raise InputFileError(f"{file.name}: the file has a header but no data rows.")
        rows, faults = _check_rows(
            table, shape, columns, today=today, assume=assume_eligible, warnings=warnings
        )
        if registry is not None and shape == "submissions":
            rows = _hold_changed(table, columns, rows, faults, registry)
    except TriageError:
        raise
    except Exception as exc:  # never a traceback to a user: any parsing failure refuses the file
        raise InputFileError(f"{file.name}: cannot be read ({type(exc).__name__}: {exc}).") from exc
    from triage.registry._rows import typed_frame

    contract = _contract_columns(shape)
    accepted = typed_frame([values for _, values in rows], contract)
    quarantine = pd.DataFrame(faults, columns=list(QUARANTINE_COLUMNS))
    quarantine["row"] = quarantine["row"].astype("int64")
    for col in ("file", "column", "value", "reason"):
        quarantine[col] = quarantine[col].astype("str")
    quarantine = _validated(quarantine)
    result = IngestResult(
        path=file,
        shape=shape,
        read=len(table.rows),
        accepted=accepted,
        quarantine=quarantine,
        warnings=[*table.warnings, *warnings],
        encoding=table.encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        sheet=table.sheet,
    )
    if registry is not None:
        _store(result, rows, registry)
    return result


def _validated(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Check the quarantine against its contract (every failure listed at once)."""
    import pandera.errors

    from triage.intake._contracts import QuarantineFrame

    try:
        return QuarantineFrame.validate(quarantine, lazy=True)
    except pandera.errors.SchemaErrors as exc:  # a bug in intake, not in the user's file
        raise RuntimeError(f"intake built a quarantine that breaks its contract:\n{exc}") from exc


def _size(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n:,} bytes"


def _read_bytes(file: Path) -> bytes:
    """Read a regular file of at most ``MAX_BYTES``; refuse anything else before reading it."""
    import stat

    from triage.intake._read import MAX_BYTES

    try:
        info = file.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(f"{file}: is a folder, not a file.")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(
                f"{file}: not a regular file (a device, pipe or socket); save the data to a file."
            )
        if info.st_size > MAX_BYTES:
            raise InputFileError(
                f"{file.name}: the file is {_size(info.st_size)}, larger than the "
                f"{_size(MAX_BYTES)} limit; split it into smaller files."
            )
        with file.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)  # the file may grow while it is read
    except FileNotFoundError as exc:
        raise InputFileError(f"{file}: no such file.") from exc
    except IsADirectoryError as exc:
        raise InputFileError(f"{file}: is a folder, not a file.") from exc
    except OSError as exc:
        raise InputFileError(f"{file}: cannot be opened ({exc.strerror or exc}).") from exc
    if len(data) > MAX_BYTES:
        raise InputFileError(
            f"{file.name}: the file is larger than the {_size(MAX_BYTES)} limit; split it."
        )
    return data


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


# -- rows ---------------------------------------------------------------------------------


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


def _clean(text: str) -> str:
    """Drop invisible characters that copy-paste and joined files leave in cells, and write
    accented letters one way (Unicode NFC): ``é`` typed as one character or as ``e`` plus an
    accent is the same text, so the same id."""
    if "\u200b" in text or "\ufeff" in text:
        text = text.replace("\ufeff", "").replace("\u200b", "")
    return text if text.isascii() else unicodedata.normalize("NFC", text)


_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_PHONE = re.compile(r"^\s*(?:\+|00)\s*\d[\d\s().\-/]{5,}\d\s*$")


def _looks_personal(value: str) -> bool:
    """An e-mail address or an international phone number, in whatever column it landed."""
    return bool(_EMAIL.search(value) or _PHONE.match(value))


def _redact(fault: _Fault) -> _Fault:
    return _Fault(fault.column, fault.value, fault.reason, sensitive=True)


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


def _where(table: RawTable, number: int) -> str:
    return RawRow(number, []).where(table.format, table.sheet)


def _fault_line(file: str, table: RawTable, raw: RawRow, fault: _Fault) -> dict[str, Any]:
    where = raw.where(table.format, table.sheet)
    value = fault.value.strip()
    if fault.sensitive and value:
        shown = _REDACTED
        stored = _REDACTED
    else:
        shown = json.dumps(
            value if len(value) <= _SHOWN else value[:_SHOWN] + "…", ensure_ascii=False
        )
        stored = value
    if not fault.column:
        reason = f"{where}: {fault.reason}"
    elif not value:
        reason = f"{where}, column {fault.column}: {fault.reason}"
    else:
        reason = f"{where}, column {fault.column}, value {shown}: {fault.reason}"
    return {
        "file": file,
        "row": raw.number,
        "column": fault.column,
        "value": stored,
        "reason": reason,
    }


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
    if sent and reply and reply < sent:
        faults.append(
            _Fault(
                headers.get("reply_date", "reply_date"),
                reply.isoformat(),
                f"the reply is dated before the communication was sent ({sent.isoformat()})",
            )
        )
    if received and sent and sent < received:
        faults.append(
            _Fault(
                headers.get("sent_date", "sent_date"),
                sent.isoformat(),
                f"sent before the submission was received ({received.isoformat()})",
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


# -- storing ------------------------------------------------------------------------------


def _content_hash(shape: Shape, values: Mapping[str, Any]) -> str:
    """sha256 of the normalised row: the same submission, however spelled, hashes the same."""
    payload = "\x1f".join(
        [shape, *(f"{k}={v}" for k, v in sorted(values.items()) if v is not None)]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _comparable(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    return str(value)


def _hold_changed(
    table: RawTable,
    columns: dict[int, tuple[str, str]],
    rows: list[tuple[int, dict[str, Any]]],
    faults: list[dict[str, Any]],
    registry: Registry,
) -> list[tuple[int, dict[str, Any]]]:
    """Quarantine rows whose id the registry already holds with other content.

    Whatever put the id there (the history, an earlier file, the queue), a row is either
    already present exactly as given, or held back naming the columns that differ (never their
    values): the registry keeps what it had and nothing changes silently.
    """
    from triage.registry._models import Submission

    stored_columns = {c.name for c in Submission.__table__.columns}
    given = [canon for canon, _ in columns.values() if canon in stored_columns]
    headers = {canon: header for canon, header in columns.values()}
    if "submission_id" not in headers:
        headers["submission_id"] = headers.get("case_id", "case_id")
    known = registry.submission_records([values["submission_id"] for _, values in rows])
    kept: list[tuple[int, dict[str, Any]]] = []
    file = str(table.path)
    for number, values in rows:
        stored = known.get(values["submission_id"])
        differs = [
            headers.get(c, c)
            for c in given
            if stored is not None
            and c != "submission_id"
            and _comparable(values.get(c)) != _comparable(stored.get(c))
        ]
        if not differs:
            kept.append((number, values))
            continue
        origin = stored.get("origin") if stored else None
        where = {"history": "from the history", "queue": "from the queue"}.get(
            str(origin), "by an earlier file"
        )
        faults.append(
            _fault_line(
                file,
                table,
                RawRow(number, []),
                _Fault(
                    headers["submission_id"],
                    "",
                    f"submission {values['submission_id']} is already registered {where} with "
                    f"different content (column(s) {', '.join(differs)} differ); the registry "
                    "keeps what it had. Record corrections through the lifecycle commands.",
                ),
            )
        )
    return kept


#: Attempts at storing a file when a concurrent writer wins a race for the same ids.
_STORE_ATTEMPTS = 3


def _store(
    result: IngestResult, numbered: list[tuple[int, dict[str, Any]]], registry: Registry
) -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

    from triage.registry._engine import one_line as _one_line

    name = result.path.name
    rows = [values for _, values in numbered]
    for attempt in range(1, _STORE_ATTEMPTS + 1):
        try:
            _store_once(result, rows, registry, name)
            return
        except (IntegrityError, OperationalError) as exc:
            # Another ingest committed some of the same ids first (PostgreSQL's unique
            # constraint), or the database was busy: try again; rows now present are skipped.
            if attempt == _STORE_ATTEMPTS:
                raise TriageError(
                    f"{name}: nothing stored: the registry stayed busy with concurrent writers "
                    f"after {attempt} attempts ({exc.__class__.__name__}: "
                    f"{_one_line(str(getattr(exc, 'orig', exc)))}). Ingest the file again."
                ) from exc
            import time

            time.sleep(0.2 * attempt)
        except SQLAlchemyError as exc:
            raise TriageError(
                f"{name}: the registry refused the rows ({exc.__class__.__name__}: "
                f"{_one_line(str(getattr(exc, 'orig', exc)))})."
            ) from exc


def _store_once(
    result: IngestResult, rows: list[dict[str, Any]], registry: Registry, name: str
) -> None:
    # The intake log entry is written in the rows' own transaction (all or nothing).
    log = {
        "file_name": name,
        "sha256": result.sha256,
        "read": result.read,
        "accepted": result.n_accepted,
        "quarantined": result.n_quarantined,
    }
    if result.shape == "submissions":
        prepared = [{**r, "content_hash": _content_hash("submissions", r)} for r in rows]
        added = registry.add_submissions(
            prepared, origin="intake", source_file=name, note=f"ingested from {name}", intake=log
        )
    elif result.shape == "cases":
        added = registry.add_cases(rows, source="intake", intake=log)
    else:
        source = "ohchr" if result.shape == "ohchr" else "intake"
        added = registry.add_communications(rows, source=source, intake=log)
    result.added = len(added)
    result.already_present = len(rows) - len(added)
