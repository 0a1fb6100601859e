"""Parse one cell of an intake file into its typed value, or say in plain words what is wrong.

Every parser returns ``(value, None)`` or ``(None, reason)``; reasons read like a person wrote
them (``unknown country; did you mean "France"?``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any

from triage.intake._spec import FieldSpec
from triage.schema import (
    ADDRESSEES,
    COMM_TYPES,
    GENDERS,
    ISSUE_AREAS,
    REPLY_CLASSES,
    UN_REGIONS,
    VIOLATIONS,
    country_name,
    region_of,
    suggest_country,
    to_iso3,
)

__all__ = ["day_month_order", "find_dates", "parse_cell", "parse_date", "region_mismatch"]

Parsed = tuple[Any, str | None]

#: Dates before this are taken as typing errors (the mandate was created in 2000).
EARLIEST_YEAR = 1945

_VOCABULARIES: Mapping[str, Mapping[str, str]] = {
    "VIOLATIONS": VIOLATIONS,
    "ISSUE_AREAS": ISSUE_AREAS,
    "COMM_TYPES": COMM_TYPES,
    "ADDRESSEES": ADDRESSEES,
    "REPLY_CLASSES": REPLY_CLASSES,
}
_NOUNS = {
    "VIOLATIONS": "violation",
    "ISSUE_AREAS": "issue area",
    "COMM_TYPES": "communication type",
    "ADDRESSEES": "addressee",
    "REPLY_CLASSES": "reply class",
}
#: Spellings seen in practice, beyond codes and labels (keys already normalised).
_SYNONYMS: Mapping[str, Mapping[str, str]] = {
    "COMM_TYPES": {
        "jua": "UA",
        "jal": "AL",
        "jol": "OL",
        "joint_urgent_appeal": "UA",
        "joint_allegation_letter": "AL",
        "joint_other_letter": "OL",
        "urgent_action": "UA",
        "news_release": "PR",
        "press_statement": "PR",
    },
    "ADDRESSEES": {"government": "state", "non_state_actor": "non_state", "company": "non_state"},
    "REPLY_CLASSES": {"no_reply": "none", "no": "none"},
}
_GENDER_WORDS = {
    "woman": "woman",
    "women": "woman",
    "female": "woman",
    "f": "woman",
    "w": "woman",
    "girl": "woman",
    "man": "man",
    "men": "man",
    "male": "man",
    "m": "man",
    "boy": "man",
    "unknown": "unknown",
    "u": "unknown",
    "not_known": "unknown",
    "n/a": "unknown",
}
_BOOLS = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
}
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m
}


_SEPARATORS = re.compile(r"[\s\-]+")


def _key(text: str) -> str:
    return _SEPARATORS.sub("_", text.strip().lower()).strip("_")


def _quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


@cache
def _lookup(vocabulary: str) -> dict[str, str]:
    """Normalised code, label and synonym → code."""
    codes = _VOCABULARIES[vocabulary]
    table = {_key(code): code for code in codes}
    table.update({_key(label): code for code, label in codes.items()})
    table.update(_SYNONYMS.get(vocabulary, {}))
    return table


def _suggest(text: str, vocabulary: str) -> str | None:
    table = _lookup(vocabulary)
    key = _key(text)
    match = difflib.get_close_matches(key, list(table), n=1, cutoff=0.6)
    if match:
        return table[match[0]]
    # "tortured" is far from "torture_physical_attack" by edit distance but shares its stem.
    stem = key[:5]
    partial = sorted({code for k, code in table.items() if len(stem) >= 4 and stem in k})
    return partial[0] if len(partial) == 1 else None


def _did_you_mean(code: str, vocabulary: str) -> str:
    label = _VOCABULARIES[vocabulary].get(code, code)
    shown = _quote(code)
    return shown if _key(label) == _key(code) else f"{shown} ({label})"


# -- dates ------------------------------------------------------------------------------------

_ISO = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_TEXT_DMY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$")
_TEXT_MDY = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_ANY_DATE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}"
    r"|\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}"
)


def _build_date(year: int, month: int, day: int) -> Parsed:
    if not 1 <= month <= 12:
        return None, f"impossible date: there is no month {month}"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return None, (
            f"impossible date: {calendar.month_name[month]} {year} has {days} days, not {day}"
        )
    return dt.date(year, month, day), None


def _number_date(number: int) -> Parsed:
    """A date written as a number: an Excel serial day (5 digits) or epoch milliseconds
    (pandas' JSON default, 12-13 digits)."""
    if number >= 10**11:
        return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=number)).date(), None
    if 20_000 <= number <= 80_000:
        return dt.date(1899, 12, 30) + dt.timedelta(days=number), None
    return None, "not a date; write it as YYYY-MM-DD"


def day_month_order(text: str) -> str | None:
    """What a numeric ``NN/NN/YYYY`` date says about its file's order: ``"day_first"`` when its
    first number can only be a day (13-31), ``"month_first"`` when its second can only be, else
    None (ambiguous, or not such a date)."""
    m = _DMY.match(text.strip())
    if not m:
        return None
    first, second = int(m[1]), int(m[2])
    if first > 12 >= second:
        return "day_first"
    if second > 12 >= first:
        return "month_first"
    return None


def parse_date(text: str, *, today: dt.date, month_first: bool = False) -> Parsed:
    """Parse ``YYYY-MM-DD`` (also ``DD/MM/YYYY``, ``DD.MM.YYYY``, ``3 March 2016``).

    Numeric dates are read day first, as the UN writes them, or month first when
    ``month_first``: the order is settled for a whole file (``day_month_order``), never
    guessed row by row. Excel serial days and epoch milliseconds are read too (spreadsheets
    and pandas write them).
    """
    value = text.strip()
    parsed: Parsed = (None, "not a date; write it as YYYY-MM-DD")
    if value.isdigit() and len(value) in (5, 12, 13):
        parsed = _number_date(int(value))
    elif m := _ISO.match(value):
        parsed = _build_date(int(m[1]), int(m[2]), int(m[3]))
    elif m := _DMY.match(value):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        parsed = (
            _build_date(year, first, second) if month_first else _build_date(year, second, first)
        )
    elif (m := _TEXT_DMY.match(value)) and m[2].lower() in _MONTHS:
        parsed = _build_date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    elif (m := _TEXT_MDY.match(value)) and m[1].lower() in _MONTHS:
        parsed = _build_date(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))
    date = parsed[0]
    if date is None:
        return parsed
    if date.year < EARLIEST_YEAR:
        return None, f"implausible date (before {EARLIEST_YEAR}); check the year"
    if date > today:
        return None, f"date in the future (today is {today.isoformat()})"
    return date, None


def find_dates(text: str) -> list[str]:
    """Every date-looking token in free text (e.g. the OHCHR ``Replies`` column)."""
    return _ANY_DATE.findall(text)


# -- other kinds ------------------------------------------------------------------------------


def _parse_country(text: str) -> Parsed:
    iso3 = to_iso3(text)
    if iso3 is not None:
        return iso3, None
    guess = suggest_country(text)
    if guess:
        return None, f"unknown country; did you mean {_quote(guess)}?"
    return None, "unknown country; use an ISO3 code (e.g. FRA) or an English country name"


@lru_cache(maxsize=1)
def _regions() -> dict[str, str]:
    table: dict[str, str] = {}
    extra = {
        "weog": "weog",
        "grulac": "latin_american_caribbean",
        "eeg": "eastern_european",
        "apg": "asia_pacific",
        "asia_and_the_pacific": "asia_pacific",
        "asia": "asia_pacific",
        "africa": "african",
        "latin_america": "latin_american_caribbean",
        "latin_america_and_the_caribbean": "latin_american_caribbean",
        "eastern_europe": "eastern_european",
        "western_europe_and_others": "weog",
        "western_european_and_other_states": "weog",
        "western_european_and_others_group": "weog",
    }
    for code, label in UN_REGIONS.items():
        table[_key(code)] = code
        table[_key(label)] = code
        table[_key(label.replace(" Group", ""))] = code
        table[_key(label.replace(" Group", " States"))] = code
    table.update(extra)
    return table


def _parse_region(text: str) -> Parsed:
    table = _regions()
    key = _key(text)
    if key in table:
        return table[key], None
    match = difflib.get_close_matches(key, list(table), n=1, cutoff=0.6)
    hint = f"; did you mean {_quote((match and table[match[0]]) or '')}?" if match else ""
    return None, f"unknown UN regional group{hint or ' (' + ', '.join(UN_REGIONS) + ')'}"


def region_mismatch(iso3: str, region: str) -> str | None:
    """Say why a given UN regional group contradicts the country's, or None if it agrees."""
    actual = region_of(iso3)
    if actual == region:
        return None
    return (
        f"does not match the country: {country_name(iso3)} is in the "
        f"{UN_REGIONS[actual]} ({actual})"
    )


def _parse_gender(text: str) -> Parsed:
    key = _key(text)
    code = _GENDER_WORDS.get(key) or (key if key in GENDERS else None)
    if code is not None:
        return code, None
    return None, f"not a gender code; use one of {', '.join(GENDERS)}"


def _parse_codes(text: str, vocabulary: str) -> Parsed:
    table = _lookup(vocabulary)
    noun = _NOUNS[vocabulary]
    codes: list[str] = []
    unknown: list[str] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        code = table.get(_key(part))
        if code is None:
            guess = _suggest(part, vocabulary)
            hint = f" (did you mean {_did_you_mean(guess, vocabulary)}?)" if guess else ""
            unknown.append(f"{_quote(part.strip())}{hint}")
        elif code not in codes:
            codes.append(code)
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        return None, f"unknown {noun} code{plural} {', '.join(unknown)}"
    return (";".join(codes) or None), None


def _parse_code(text: str, vocabulary: str) -> Parsed:
    code = _lookup(vocabulary).get(_key(text))
    if code is not None:
        return code, None
    guess = _suggest(text, vocabulary)
    noun = _NOUNS[vocabulary]
    if guess:
        return None, f"unknown {noun}; did you mean {_did_you_mean(guess, vocabulary)}?"
    return None, f"unknown {noun}; use one of {', '.join(_VOCABULARIES[vocabulary])}"


def _parse_bool(text: str) -> Parsed:
    value = _BOOLS.get(text.strip().lower())
    if value is None:
        return None, "not true or false"
    return value, None


def _parse_int(text: str, spec: FieldSpec) -> Parsed:
    value = text.strip()
    if re.fullmatch(r"[+-]?\d+(?:\.0*)?", value):
        number = int(float(value)) if "." in value else int(value)
        if spec.minimum <= number <= spec.maximum:
            return number, None
    return None, f"must be a whole number from {spec.minimum} to {spec.maximum}"


_PARSERS: Mapping[str, Callable[[str, FieldSpec], Parsed]] = {
    "id": lambda text, spec: (text.strip(), None),
    "text": lambda text, spec: (text.strip(), None),
    "country": lambda text, spec: _parse_country(text),
    "region": lambda text, spec: _parse_region(text),
    "gender": lambda text, spec: _parse_gender(text),
    "codes": lambda text, spec: _parse_codes(text, spec.vocabulary or ""),
    "code": lambda text, spec: _parse_code(text, spec.vocabulary or ""),
    "bool": lambda text, spec: _parse_bool(text),
    "int": _parse_int,
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")


def parse_cell(text: str, spec: FieldSpec, *, today: dt.date, month_first: bool = False) -> Parsed:
    """Parse one non-blank cell by its column's spec; ``(value, None)`` or ``(None, reason)``."""
    if spec.kind in ("id", "text"):
        return _parse(text, spec, today)
    # Countries, codes and dates repeat a lot in a file: parse each distinct value once.
    return _parse_cached(text, spec, today, month_first)


def _parse(text: str, spec: FieldSpec, today: dt.date, month_first: bool = False) -> Parsed:
    if _CONTROL.search(text):
        return None, "contains control characters or bytes that could not be decoded"
    if len(text.strip()) > spec.max_length:
        return None, f"too long: {len(text.strip())} characters, at most {spec.max_length}"
    if spec.kind == "date":
        return parse_date(text, today=today, month_first=month_first)
    return _PARSERS[spec.kind](text, spec)


_parse_cached = lru_cache(maxsize=1 << 16)(_parse)
