"""Faults found in a row and how they are reported: one quarantine line each, with values
that may name a person never echoed."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from triage.intake._read import RawRow, RawTable

_REDACTED = "[redacted]"
#: Cell values shown in a reason are cut to this many characters.
_SHOWN = 80
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
