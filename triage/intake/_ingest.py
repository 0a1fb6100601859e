"""``ingest_file``: read a file row by row, accept or quarantine every row, store the accepted.

Nothing is lost: ``read == accepted + quarantined`` always holds, and every quarantined row is
explained (file, row, column, value, reason). Whole-file faults (missing required column, empty
or binary file, unknown encoding) raise one :class:`~triage.errors.InputFileError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from triage.errors import InputFileError, TriageError
from triage.intake._check import _check_rows, _contract_pass
from triage.intake._plan import _contract_columns, _looks_like_header, _plan
from triage.intake._read import read_table
from triage.intake._spec import Shape
from triage.intake._store import _hold_changed, _store

if TYPE_CHECKING:
    from triage.registry import Registry

__all__ = ["QUARANTINE_COLUMNS", "IngestResult", "ingest_file"]

#: Columns of the quarantine report.
QUARANTINE_COLUMNS = ("file", "row", "column", "value", "reason")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
        # The friendly parsers ran first; the table contract checks what they accepted.
        from triage.registry._rows import typed_frame

        accepted = typed_frame([values for _, values in rows], _contract_columns(shape))
        rows, accepted = _contract_pass(table, shape, columns, rows, accepted, faults)
    except TriageError:
        raise
    except Exception as exc:  # never a traceback to a user: any parsing failure refuses the file
        raise InputFileError(f"{file.name}: cannot be read ({type(exc).__name__}: {exc}).") from exc
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
