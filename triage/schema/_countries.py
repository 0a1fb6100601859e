"""Countries: ISO 3166-1 alpha-3 codes, display names, and the UN regional group of each.

The table ``data/countries.csv`` is built from maintained packages by
``data/build_countries.py``; every country has exactly one regional group.
"""

from __future__ import annotations

import csv
import difflib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from triage.config import data_dir

__all__ = ["Country", "countries", "country_name", "region_of", "suggest_country", "to_iso3"]


@dataclass(frozen=True)
class Country:
    """One country: ISO3 code, display name, UN regional group code and accepted aliases."""

    iso3: str
    name: str
    un_region: str
    aliases: tuple[str, ...]


def _norm(text: str) -> str:
    # Typographic apostrophes would be dropped by the ASCII fold, so map them first.
    text = text.replace("’", "'").replace("‘", "'")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(folded.lower().replace(".", "").split())


@lru_cache(maxsize=1)
def countries() -> Mapping[str, Country]:
    """Return every known country keyed by ISO3 code (read once from ``data/countries.csv``)."""
    table: dict[str, Country] = {}
    with (data_dir() / "countries.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            aliases = tuple(a for a in row["aliases"].split(";") if a)
            table[row["iso3"]] = Country(row["iso3"], row["name"], row["un_region"], aliases)
    return MappingProxyType(table)


@lru_cache(maxsize=1)
def _lookup() -> Mapping[str, str]:
    index: dict[str, str] = {}
    for c in countries().values():
        for text in (c.iso3, c.name, *c.aliases):
            index.setdefault(_norm(text), c.iso3)
    return MappingProxyType(index)


def to_iso3(value: str) -> str | None:
    """Map an ISO3 code or a common country name to its ISO3 code, or ``None`` if unknown.

    Matching ignores case, accents, dots and extra spaces: ``"cote d'ivoire"`` gives ``"CIV"``.
    """
    if not value or not str(value).strip():
        return None
    text = str(value).strip()
    if text.upper() in countries():
        return text.upper()
    return _lookup().get(_norm(text))


def suggest_country(value: str) -> str | None:
    """Return the display name of the closest known country to an unknown name, if any."""
    matches = difflib.get_close_matches(_norm(str(value)), list(_lookup()), n=1, cutoff=0.6)
    if not matches:
        return None
    return countries()[_lookup()[matches[0]]].name


def region_of(iso3: str) -> str:
    """Return the UN regional group code of an ISO3 country code.

    Raises
    ------
    KeyError
        If the code is not in the countries table.
    """
    return countries()[iso3].un_region


def country_name(iso3: str) -> str:
    """Return the display name of an ISO3 code (the code itself if unknown)."""
    c = countries().get(iso3)
    return c.name if c else iso3
