"""The case vocabulary: every code used in tables, forms and charts, with one human label each.

Codes follow the policy paper (Spannagel 2018, *Chasing Shadows*): violations are its Figure 1,
issue areas split its Figure 2 so that the finer figures in its prose can be counted.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "ADDRESSEES",
    "ASSESSMENTS",
    "COMM_TYPES",
    "GENDERS",
    "IMPROVED_OUTCOMES",
    "ISSUE_AREAS",
    "ISSUE_AREA_GROUPS",
    "LABELS",
    "OUTCOMES",
    "REPLY_CLASSES",
    "SURVEY_IMPACTS",
    "UN_REGIONS",
    "VIOLATIONS",
    "Gender",
    "UNRegion",
    "label",
]

Gender = Literal["woman", "man", "unknown"]
UNRegion = Literal[
    "african", "asia_pacific", "eastern_european", "latin_american_caribbean", "weog"
]

VIOLATIONS: Final = MappingProxyType(
    {
        "detention": "Detention",
        "torture_physical_attack": "Torture / physical attack",
        "killing": "Killing",
        "disappearance_abduction": "Disappearance / abduction",
        "failure_to_intervene": "Failure to intervene",
        "threats": "Threats",
        "relatives_targeted": "Relatives targeted",
        "surveillance": "Surveillance",
        "defamation": "Defamation",
        "trial": "Trial",
        "conviction": "Conviction",
        "raid_property_attack": "Raid / property attack",
        "travel_restriction": "Travel restriction",
        "administrative_harassment": "Administrative harassment",
        "professional_restriction": "Professional restriction",
        "expulsion": "Expulsion",
        "citizenship_revoked": "Citizenship revoked",
    }
)

ISSUE_AREAS: Final = MappingProxyType(
    {
        "womens_rights": "Women's rights",
        "lgbti_rights": "LGBTI rights",
        "cultural_ethnic_religious_rights": "Cultural, ethnic and religious rights",
        "indigenous_rights": "Indigenous rights",
        "land_environmental_rights": "Land and environmental rights",
        "socioeconomic_anticorruption": "Socioeconomic rights and anti-corruption",
        "democratic_rights_institutions": "Democratic rights and institutions",
        "anti_impunity_justice_peace": "Anti-impunity, transitional justice and peace",
    }
)

#: The paper's six issue categories (Figure 2, p. 8), each the union of one or two of the
#: ``ISSUE_AREAS`` codes: (label, codes).
ISSUE_AREA_GROUPS: Final = MappingProxyType(
    {
        "womens_lgbti_rights": ("Women's, LGBTI rights", ("womens_rights", "lgbti_rights")),
        "cultural_ethnic_religious_rights": (
            "Cultural, ethnic, religious rights",
            ("cultural_ethnic_religious_rights",),
        ),
        "indigenous_land_environmental_rights": (
            "Indigenous, land, environmental rights",
            ("indigenous_rights", "land_environmental_rights"),
        ),
        "socioeconomic_anticorruption": (
            "Socioeconomic rights, anti-corruption",
            ("socioeconomic_anticorruption",),
        ),
        "democratic_rights_institutions": (
            "Democratic rights & institutions",
            ("democratic_rights_institutions",),
        ),
        "anti_impunity_justice_peace": (
            "Anti-impunity, transitional justice, peace",
            ("anti_impunity_justice_peace",),
        ),
    }
)

GENDERS: Final = MappingProxyType({"woman": "Woman", "man": "Man", "unknown": "Unknown"})

UN_REGIONS: Final = MappingProxyType(
    {
        "african": "African Group",
        "asia_pacific": "Asia-Pacific Group",
        "eastern_european": "Eastern European Group",
        "latin_american_caribbean": "Latin American and Caribbean Group",
        "weog": "Western European and Others Group",
    }
)

COMM_TYPES: Final = MappingProxyType(
    {
        "UA": "Urgent appeal",
        "AL": "Allegation letter",
        "OL": "Other letter",
        "PR": "Press release",
    }
)

ADDRESSEES: Final = MappingProxyType({"state": "State", "non_state": "Non-state actor"})

REPLY_CLASSES: Final = MappingProxyType(
    {
        "none": "No reply",
        "immaterial": "Immaterial reply (e.g. acknowledgement of receipt)",
        "rejection": "Reply rejecting the allegation",
        "no_rejection": "Substantive reply, no rejection",
        "content_unknown": "Reply, content unknown (in translation or inaccessible)",
    }
)

OUTCOMES: Final = MappingProxyType(
    {
        "much_better": "Much better",
        "somewhat_better": "Somewhat better",
        "same": "Stayed the same",
        "mixed": "Both positive and negative developments",
        "somewhat_worse": "Somewhat worse",
        "much_worse": "Much worse",
    }
)

#: Outcomes that count as an improvement (the scoring target).
IMPROVED_OUTCOMES: Final = frozenset({"much_better", "somewhat_better"})

ASSESSMENTS: Final = MappingProxyType(
    {
        "survey": "Survey of the submitting organisation",
        "online": "Reports available online",
        "systematic": "Systematic outcome recording (simulated extension)",
    }
)

SURVEY_IMPACTS: Final = MappingProxyType(
    {
        "definitely": "Definitely had a distinct impact",
        "probably": "Probably had a distinct impact",
        "rather_unlikely": "Distinct impact rather unlikely",
        "definitely_unlikely": "Distinct impact definitely unlikely",
        "dont_know": "Does not know",
    }
)

_ALL_VOCABULARIES = (
    VIOLATIONS,
    ISSUE_AREAS,
    GENDERS,
    UN_REGIONS,
    COMM_TYPES,
    ADDRESSEES,
    REPLY_CLASSES,
    OUTCOMES,
    ASSESSMENTS,
    SURVEY_IMPACTS,
)

#: Every code with its human label. Codes are unique across vocabularies except where the
#: same word means the same thing.
LABELS: Final = MappingProxyType({k: v for voc in _ALL_VOCABULARIES for k, v in voc.items()})


def label(code: str) -> str:
    """Return the human label of a vocabulary code, or the code itself if it has none."""
    return LABELS.get(code, code)
