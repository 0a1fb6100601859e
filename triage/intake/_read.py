"""Read CSV, XLSX and JSON files into rows of text cells, never losing a row.

The format is told from the content first (a ZIP is a workbook, ``[``/``{`` is JSON) and the
file extension second. Text is decoded as UTF-8, then UTF-8 with BOM, then Windows-1252 or
Latin-1 with a warning. Anything that cannot be read as a table refuses the whole file with one
:class:`~triage.errors.InputFileError` naming the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from triage.errors import InputFileError

__all__ = ["RawRow", "RawTable", "read_table"]

Format = Literal["csv", "xlsx", "json"]
HeaderTest = Callable[[list[str]], bool]

#: How many non-blank rows at the top of a file are searched for the header.
_HEADER_SEARCH = 20

#: Refuse files bigger than this: intake files are a few thousand rows at most.
MAX_BYTES = 200 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REPLACEMENT = "\ufffd"

csv.field_size_limit(MAX_BYTES)


@dataclass
class RawRow:
    """One data row as read: where it is, and its cells (text, blank = ``""``).

    ``number`` is the spreadsheet row (header = 1, first data row = 2) or, for JSON, the
    1-based record index. ``fault`` is set when the row cannot be split into cells properly
    (too many cells, not a JSON object...).
    """

    number: int
    cells: list[str]
    fault: str | None = None
    #: The cell that holds the fault, when there is one.
    fault_column: str = ""
    #: Cells that cannot be read as written, by position: why (a formula with no saved value,
    #: a JSON ``true`` or ``Infinity`` where text was expected...).
    cell_faults: dict[int, str] = field(default_factory=dict)
    #: Cells the file typed as something other than text, by position: "boolean", "number".
    cell_kinds: dict[int, str] = field(default_factory=dict)
    #: How many cells the row really had (a shifted row has more or fewer than the header).
    width: int | None = None

    def where(self, fmt: Format, sheet: str | None = None) -> str:
        """Where the row is, as a person looks for it: ``row 7``, ``sheet Cases, row 7``..."""
        if fmt == "json":
            return f"record {self.number}"
        if sheet:
            return f"sheet {sheet}, row {self.number}"
        return f"row {self.number}"


@dataclass
class RawTable:
    """A file read as a header and data rows of text cells."""

    path: Path
    format: Format
    header: list[str]
    rows: list[RawRow]
    sheet: str | None = None
    encoding: str = "utf-8"
    sha256: str = ""
    warnings: list[str] = field(default_factory=list)


def read_table(path: Path, data: bytes, *, is_header: HeaderTest = lambda cells: True) -> RawTable:
    """Split a file's bytes into a header and rows of text cells.

    ``is_header(cells)`` recognises the header row among the first rows of a CSV or sheet
    (rows above it are titles); when no row passes, the first non-blank row is the header.

    Raises
    ------
    InputFileError
        The file is empty, binary, undecodable, not a table, or has no header.
    """
    name = path.name
    if not data.strip():
        raise InputFileError(f"{name}: the file is empty.")
    if len(data) > MAX_BYTES:
        raise InputFileError(f"{name}: the file is larger than {MAX_BYTES // 2**20} MB.")
    suffix = path.suffix.lower()
    if data.startswith(_OLE_MAGIC):
        raise InputFileError(
            f"{name}: this is an old Excel (.xls) or a password-protected workbook; "
            "save it as .xlsx or CSV (UTF-8) without a password and try again."
        )
    if data.startswith(b"\x1f\x8b"):
        raise InputFileError(f"{name}: a compressed (gzip) file; decompress it first.")
    if data.startswith(b"%PDF"):
        raise InputFileError(f"{name}: this is a PDF, not a table; export the data as CSV.")
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(path, data, is_header)
    if suffix in (".xlsx", ".xlsm"):
        raise InputFileError(f"{name}: not a valid Excel workbook (.xlsx): it is not a ZIP file.")
    text, encoding, warnings = _decode(name, data)
    stripped = text.lstrip()
    if stripped[:1] == "<":
        raise InputFileError(
            f"{name}: looks like HTML or XML, not a table file; open it in a spreadsheet and "
            "save it as .xlsx or CSV (UTF-8)."
        )
    if suffix in (".json", ".jsonl", ".ndjson") or stripped[:1] in ("[", "{"):
        table = _read_json(path, stripped)
    else:
        table = _read_csv(path, text, is_header)
    table.encoding = encoding
    table.warnings = warnings + table.warnings
    return table


def _decode(name: str, data: bytes) -> tuple[str, str, list[str]]:
    """Decode text: UTF-8, UTF-8 with BOM, UTF-16 with BOM, then Windows-1252 or Latin-1."""
    warnings: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        text, encoding = data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{name}: cannot be decoded as UTF-16 ({exc.reason}).") from exc
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _decode_not_utf8(data, warnings, name)
    if _REPLACEMENT in text and encoding.startswith("utf-8"):
        bad = text.count(_REPLACEMENT)
        warnings.append(
            f"{name}: {bad} byte sequence(s) are not valid UTF-8; the rows that hold them are "
            "quarantined."
        )
    _refuse_binary(name, text)
    return text, encoding, warnings


def _decode_not_utf8(data: bytes, warnings: list[str], name: str) -> tuple[str, str]:
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count(_REPLACEMENT)
    good = sum(1 for ch in replaced if ord(ch) > 0x7F and ch != _REPLACEMENT)
    if good:
        # Valid UTF-8 letters next to bytes that are not (a file joined from two exports, or
        # edited in two programs): decoding it all as Windows-1252 would store "ZoÃ«" for
        # "Zoë". Keep UTF-8; the rows with the other bytes are quarantined, never changed.
        if good <= bad:
            warnings.append(
                f"{name}: mixes UTF-8 with another text encoding; only the UTF-8 rows can be "
                "read as written."
            )
        return replaced, "utf-8"
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        label = "Windows-1252" if encoding == "cp1252" else "Latin-1"
        warnings.append(
            f"{name}: not UTF-8; read as {label}. Check accented names, and save as UTF-8 "
            "next time."
        )
        return text, encoding
    raise InputFileError(f"{name}: the text encoding cannot be recognised.")  # pragma: no cover


def _refuse_binary(name: str, text: str) -> None:
    sample = text[:200_000]
    control = sum(
        1
        for ch in sample
        if (ord(ch) < 32 and ch not in "\t\n\r") or 0x7F <= ord(ch) < 0xA0 or ch == _REPLACEMENT
    )
    # Random bytes are about a quarter control characters; a few corrupted cells in a real
    # table stay far below 5% and are quarantined row by row instead.
    if control > max(3, len(sample) // 20):
        raise InputFileError(
            f"{name}: looks like binary data, not a text table ({control} unreadable or control "
            f"characters in the first {len(sample)}). Export the data as CSV (UTF-8), XLSX or "
            "JSON."
        )


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    # Prefer the comma unless another separator clearly splits the header and the comma doesn't.
    return best if counts[best] > 0 and counts[","] == 0 else ","


def _read_csv(path: Path, text: str, is_header: HeaderTest) -> RawTable:
    name = path.name
    text = text.replace("\x00", _REPLACEMENT)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        # A person counts records as spreadsheet rows: a quoted multi-line cell is one row and
        # a blank line is a (skipped) row.
        records = [(n, r) for n, r in enumerate(reader, start=1) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputFileError(f"{name}: cannot be read as CSV ({exc}).") from exc
    if not records:
        raise InputFileError(f"{name}: the file is empty.")
    if any("\n" in cell or "\r" in cell for cell in records[-1][1]):
        _refuse_unclosed_quote(name, text, delimiter, records[-1][0])
    header, rows, warnings = _split_header(name, records, is_header)
    return RawTable(path=path, format="csv", header=header, rows=rows, warnings=warnings)


def _split_header(
    name: str,
    records: list[tuple[int, list[str]]],
    is_header: HeaderTest,
    *,
    exact_width: bool = True,
) -> tuple[list[str], list[RawRow], list[str]]:
    """Find the header (a title row or two above it is common) and cut the data rows."""
    at = next((i for i, (_, r) in enumerate(records[:_HEADER_SEARCH]) if is_header(r)), 0)
    number, header = records[at][0], [c.strip() for c in records[at][1]]
    while header and not header[-1]:
        header.pop()
    warnings = (
        [f"{name}: the header is row {number}; {at} row(s) above it were skipped as titles."]
        if at
        else []
    )
    rows: list[RawRow] = []
    for n, record in records[at + 1 :]:
        row = RawRow(
            n,
            (record + [""] * len(header))[: len(header)],
            width=len(record) if exact_width else None,
        )
        if len(record) > len(header) and any(c.strip() for c in record[len(header) :]):
            row.fault = (
                f"has {len(record)} cells but the header has {len(header)} "
                "(a separator inside an unquoted value?)"
            )
        rows.append(row)
    return header, rows, warnings


def _refuse_unclosed_quote(name: str, text: str, delimiter: str, number: int) -> None:
    """A quote opened and never closed swallows every later line into one cell: refuse."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputFileError(
                f'{name}: row {number} opens a quote (") that is never closed, so the lines '
                "after it cannot be told apart. Close the quote and ingest the file again."
            ) from exc


def _read_xlsx(path: Path, data: bytes, is_header: HeaderTest) -> RawTable:
    name = path.name
    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        # The same workbook with formulas: a formula whose value was never saved reads as
        # blank in ``book`` and must not be stored as a blank.
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except KeyError as exc:
        raise InputFileError(
            f"{name}: a ZIP archive, but not an Excel workbook (.xlsx); export the data as "
            "XLSX, CSV or JSON."
        ) from exc
    except Exception as exc:
        raise InputFileError(
            f"{name}: not a readable Excel workbook ({type(exc).__name__}: {exc})."
        ) from exc
    warnings: list[str] = []
    try:
        sheets = [(sheet.title, _sheet_records(sheet)) for sheet in book.worksheets]
        filled = [(title, records) for title, records in sheets if records]
        if not filled:
            raise InputFileError(f"{name}: the workbook has no data in any sheet.")
        tables = [
            (title, records)
            for title, records in filled
            if any(is_header(cells) for _, cells, _ in records[:_HEADER_SEARCH])
        ]
        with_rows = [
            (title, records)
            for title, records in tables
            if len(records)
            > 1 + next(i for i, (_, cells, _) in enumerate(records) if is_header(cells))
        ]
        if len(with_rows) > 1:
            shown = ", ".join(repr(title) for title, _ in with_rows)
            raise InputFileError(
                f"{name}: sheets {shown} all hold data rows under a header triage knows; "
                "only one sheet per file is read. Save each sheet as its own file (or join them "
                "into one sheet) and ingest them one by one."
            )
        title, records = (with_rows or tables or filled)[0]
        others = [t for t, _ in filled if t != title]
        if others:
            warnings.append(
                f"{name}: read sheet {title!r}; other sheets hold no table triage knows and "
                "were not read: " + ", ".join(repr(o) for o in others) + "."
            )
        header, out, found = _split_header(
            name, [(n, cells) for n, cells, _ in records], is_header, exact_width=False
        )
        warnings += found
        kinds = {n: k for n, _, k in records}
        saved_formulas = _formula_cells(formulas[title], {r.number for r in out})
        for row in out:
            row.cell_kinds = {i: k for i, k in kinds.get(row.number, {}).items() if i < len(header)}
            for i in saved_formulas.get(row.number, ()):
                if i < len(header) and not row.cells[i].strip():
                    row.cell_faults[i] = (
                        "a formula whose value was never saved; open the file in a spreadsheet, "
                        "save it (or paste the values) and ingest it again"
                    )
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(
            f"{name}: the workbook cannot be read ({type(exc).__name__}: {exc})."
        ) from exc
    finally:
        book.close()
        formulas.close()
    return RawTable(
        path=path, format="xlsx", header=header, rows=out, sheet=title, warnings=warnings
    )


def _sheet_records(sheet: Any) -> list[tuple[int, list[str], dict[int, str]]]:
    """The sheet's non-blank rows: (row number, cells as text, kinds of the typed cells)."""
    records: list[tuple[int, list[str], dict[int, str]]] = []
    for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            kinds = {i: _kind(v) for i, v in enumerate(values) if _kind(v)}
            records.append((n, cells, kinds))
    return records


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return ""


def _formula_cells(sheet: Any, wanted: set[int]) -> dict[int, list[int]]:
    """Positions of formula cells, by row number, in the formula view of the sheet (the caller
    faults those whose saved value is blank: the value was never computed and saved)."""
    found: dict[int, list[int]] = {}
    for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if n not in wanted:
            continue
        where = [i for i, v in enumerate(values) if isinstance(v, str) and v.startswith("=")]
        if where:
            found[n] = where
    return found


def _cell_text(value: Any) -> str:
    """A workbook or JSON cell as text in the file contract (dates ISO, booleans true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


_JSON_CONTAINER_KEYS = ("records", "data", "rows", "submissions", "cases", "communications")


def _read_json(path: Path, text: str) -> RawTable:
    name = path.name
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        records = _json_lines(text)
        if records is None:
            raise InputFileError(
                f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from exc
        document = records
    except RecursionError as exc:
        raise InputFileError(f"{name}: the JSON is nested too deeply.") from exc
    if isinstance(document, dict):
        lists = [k for k, v in document.items() if isinstance(v, list)]
        key = next((k for k in _JSON_CONTAINER_KEYS if k in lists), None)
        if key is None and len(lists) == 1:
            key = lists[0]
        if key is None:
            if document and all(not isinstance(v, list | dict) for v in document.values()):
                document = [document]  # a single record
            else:
                raise InputFileError(
                    f"{name}: expected a JSON list of records (objects), or an object with one "
                    "such list."
                )
        else:
            document = document[key]
    if not isinstance(document, list):
        raise InputFileError(f"{name}: expected a JSON list of records (objects).")
    if not document:
        raise InputFileError(f"{name}: the file holds no records.")
    header: dict[str, None] = {}
    for record in document:
        if isinstance(record, dict):
            header.update(dict.fromkeys(str(k).strip() for k in record))
    columns = list(header)
    rows: list[RawRow] = []
    for index, record in enumerate(document, start=1):
        if not isinstance(record, dict):
            rows.append(
                RawRow(
                    index,
                    [""] * len(columns),
                    fault=f"is not an object with named fields (found {type(record).__name__})",
                )
            )
            continue
        values = {str(k).strip(): v for k, v in record.items()}
        cells: list[str] = []
        fault = None
        fault_column = ""
        kinds: dict[int, str] = {}
        cell_faults: dict[int, str] = {}
        for position, col in enumerate(columns):
            value = values.get(col)
            if isinstance(value, list) and all(not isinstance(v, list | dict) for v in value):
                cells.append(";".join(_cell_text(v) for v in value))
            elif isinstance(value, list | dict):
                cells.append("")
                fault, fault_column = "holds a nested structure, not a value", col
            else:
                cells.append(_cell_text(value))
                if _kind(value):
                    kinds[position] = _kind(value)
                if isinstance(value, float) and value in (float("inf"), float("-inf")):
                    cell_faults[position] = "an infinite number (Infinity or out of range)"
        rows.append(
            RawRow(
                index,
                cells,
                fault=fault,
                fault_column=fault_column,
                cell_faults=cell_faults,
                cell_kinds=kinds,
            )
        )
    return RawTable(path=path, format="json", header=columns, rows=rows)


def _json_lines(text: str) -> list[Any] | None:
    records: list[Any] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            return None
    return records if len(records) > 1 else None
