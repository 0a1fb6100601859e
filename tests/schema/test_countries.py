"""Countries: every ISO3 code has exactly one UN regional group, and names map to codes."""

from __future__ import annotations

import pytest

from triage.schema import UN_REGIONS, countries, region_of, suggest_country, to_iso3


def test_every_country_has_one_known_group() -> None:
    table = countries()
    assert len(table) >= 193
    assert {c.un_region for c in table.values()} == set(UN_REGIONS)


def test_turkey_has_exactly_one_group() -> None:
    assert region_of("TUR") == "weog"


def test_matches_the_maintained_mapping() -> None:
    cg = pytest.importorskip("countrygroups")
    groups = {
        "african": cg.UN_REGIONAL_GROUPS.AFRICAN_GROUP,
        "asia_pacific": cg.UN_REGIONAL_GROUPS.ASIA_PACIFIC_GROUP,
        "eastern_european": cg.UN_REGIONAL_GROUPS.EASTERN_EUROPEAN_GROUP,
        "latin_american_caribbean": cg.UN_REGIONAL_GROUPS.GRULAC,
        "weog": cg.UN_REGIONAL_GROUPS.WEOG,
    }
    for region, members in groups.items():
        for iso3 in members:
            if iso3 == "TUR":
                continue
            assert region_of(iso3) == region, iso3


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        ("India", "IND"),
        ("ind", "IND"),
        ("  argentina ", "ARG"),
        ("Russia", "RUS"),
        ("Russian Federation", "RUS"),
        ("Cote d'Ivoire", "CIV"),
        ("Côte d’Ivoire", "CIV"),
        ("Turkey", "TUR"),
        ("United States", "USA"),
        ("Democratic Republic of the Congo", "COD"),
        ("Iran (Islamic Republic of)", "IRN"),
        ("Palestine", "PSE"),
    ],
)
def test_common_names_map_to_iso3(text: str, iso3: str) -> None:
    assert to_iso3(text) == iso3


def test_unknown_names_get_a_suggestion() -> None:
    assert to_iso3("Frnace") is None
    assert suggest_country("Frnace") == "France"
    assert to_iso3("") is None
    assert suggest_country("zzzzzzzzzz") is None
