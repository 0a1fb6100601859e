"""Rebuild ``data/countries.csv`` from maintained packages (a developer tool, not run at run time).

UN regional groups come from ``countrygroups.UN_REGIONAL_GROUPS``; names from ``pycountry``.
Turkey sits in two groups there; it is given the Western European and Others Group, where it is
a member for electoral purposes. A few non-member states and territories that the mandate
addresses are added with the group they sit with in practice.

Run: ``.venv/bin/python data/build_countries.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import countrygroups as cg
import pycountry

GROUPS = {
    "african": cg.UN_REGIONAL_GROUPS.AFRICAN_GROUP,
    "asia_pacific": cg.UN_REGIONAL_GROUPS.ASIA_PACIFIC_GROUP,
    "eastern_european": cg.UN_REGIONAL_GROUPS.EASTERN_EUROPEAN_GROUP,
    "latin_american_caribbean": cg.UN_REGIONAL_GROUPS.GRULAC,
    "weog": cg.UN_REGIONAL_GROUPS.WEOG,
}
# One group per country: these sit in two lists upstream.
PREFERRED = {"TUR": "weog"}
# Observers and territories the mandate writes to, with the group they sit with in practice.
EXTRA = {
    "PSE": "asia_pacific",
    "VAT": "weog",
    "TWN": "asia_pacific",
    "HKG": "asia_pacific",
    "ESH": "african",
    "XKX": "eastern_european",
}
EXTRA_NAMES = {
    "XKX": "Kosovo",
    "PSE": "Palestine",
    "COD": "Democratic Republic of the Congo",
    "FSM": "Micronesia",
    "TWN": "Taiwan",
    "VAT": "Holy See",
}
ALIASES = {
    "BOL": ["Bolivia"],
    "BHS": ["Bahamas", "The Bahamas"],
    "CIV": ["Ivory Coast", "Côte d'Ivoire"],
    "COD": ["DR Congo", "DRC", "Democratic Republic of Congo", "Congo-Kinshasa", "Zaire"],
    "COG": ["Republic of the Congo", "Congo-Brazzaville", "Congo"],
    "CPV": ["Cape Verde"],
    "CZE": ["Czech Republic"],
    "FSM": ["Micronesia"],
    "GBR": [
        "United Kingdom",
        "UK",
        "Britain",
        "Great Britain",
        "United Kingdom of Great Britain and Northern Ireland",
    ],
    "GMB": ["Gambia", "The Gambia"],
    "IRN": ["Iran"],
    "KOR": ["South Korea", "Republic of Korea", "Korea"],
    "PRK": ["North Korea", "DPRK", "Democratic People's Republic of Korea"],
    "LAO": ["Laos", "Lao PDR"],
    "MDA": ["Moldova"],
    "MKD": ["Macedonia", "North Macedonia", "FYROM", "The former Yugoslav Republic of Macedonia"],
    "MMR": ["Burma", "Myanmar"],
    "PSE": [
        "Palestine",
        "State of Palestine",
        "Occupied Palestinian Territory",
        "Palestinian Territories",
    ],
    "RUS": ["Russia", "Russian Federation"],
    "SWZ": ["Swaziland", "Eswatini"],
    "SYR": ["Syria", "Syrian Arab Republic"],
    "TLS": ["East Timor", "Timor-Leste"],
    "TUR": ["Turkey", "Türkiye"],
    "TZA": ["Tanzania", "United Republic of Tanzania"],
    "USA": ["United States", "USA", "US", "United States of America"],
    "ARE": ["UAE", "United Arab Emirates"],
    "VEN": ["Venezuela", "Venezuela (Bolivarian Republic of)"],
    "VNM": ["Vietnam", "Viet Nam"],
    "BRN": ["Brunei"],
    "VAT": ["Holy See", "Vatican"],
    "TWN": ["Taiwan"],
    "HKG": ["Hong Kong"],
    "KGZ": ["Kyrgyzstan"],
    "SVK": ["Slovakia"],
    "BIH": ["Bosnia", "Bosnia and Herzegovina"],
    "LBY": ["Libya"],
    "ESH": ["Western Sahara"],
    "XKX": ["Kosovo"],
}


def main() -> None:
    rows = []
    seen: dict[str, str] = {}
    for region, members in GROUPS.items():
        for iso3 in members:
            if iso3 in PREFERRED and PREFERRED[iso3] != region:
                continue
            seen[iso3] = region
    seen.update(EXTRA)
    for iso3, region in sorted(seen.items()):
        entry = pycountry.countries.get(alpha_3=iso3)
        name = EXTRA_NAMES.get(iso3) or (getattr(entry, "common_name", None) or entry.name)
        names = {name}
        if entry is not None:
            names |= {entry.name, getattr(entry, "official_name", entry.name)}
        names |= set(ALIASES.get(iso3, []))
        # UN documents write "Iran (Islamic Republic of)" where ISO writes "Iran, Islamic Republic of".
        for n in list(names):
            if ", " in n:
                head, tail = n.split(", ", 1)
                names |= {f"{head} ({tail})", f"{tail} {head}"}
        aliases = sorted(n for n in names if n != name)
        rows.append({"iso3": iso3, "name": name, "un_region": region, "aliases": ";".join(aliases)})
    out = Path(__file__).with_name("countries.csv")
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["iso3", "name", "un_region", "aliases"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} countries to {out}")


if __name__ == "__main__":
    main()
