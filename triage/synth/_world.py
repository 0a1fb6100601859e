"""The simulated world's fixed design: volumes by year, country mix, behaviour parameters.

Every number here is either a figure of the policy paper (Spannagel 2018, *Chasing Shadows*),
quoted next to it, or an assumption the paper does not settle (marked ``ASSUMPTION`` and
documented in ``data/README.md``). Rates that the paper reports are not written here as
outputs: they emerge from the structural simulation in ``_simulate.py``.
"""

from __future__ import annotations

import csv
from importlib import resources
from types import MappingProxyType
from typing import Final

__all__: list[str] = []


def _read_weights(name: str) -> MappingProxyType[str, float]:
    """Return a weights table of this package (CSV: iso3, weight) as iso3 -> weight (float)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return MappingProxyType(
        {row["iso3"]: float(row["weight"]) for row in csv.DictReader(text.splitlines())}
    )


FIRST_YEAR: Final = 2000  # September 2000 (paper p. 3: "between September 2000 and November 2016")
LAST_YEAR: Final = 2016  # November 2016
HISTORY_START: Final = "2000-09-01"
HISTORY_END: Final = "2016-11-30"
QUEUE_START: Final = "2016-12-01"
QUEUE_END: Final = "2017-11-30"

#: Mandate-holders and the first month of each (paper p. 11 fn 7: hand-overs in May 2008 and
#: June 2014).
ERAS: Final = (("jilani", "2000-09-01"), ("sekaggya", "2008-05-01"), ("forst", "2014-06-01"))

#: Communications per calendar year, press releases included (paper p. 10: rising over the
#: first seven years to an all-time high of 468 in 2008, 236 in 2010 and 2011, slight increase
#: since). Sums to 4,511. Years other than 2008, 2010 and 2011 are an ASSUMPTION shaped on the
#: paper's Figure 4.
COMMS_PER_YEAR: Final = MappingProxyType(
    {
        2000: 34,
        2001: 140,
        2002: 180,
        2003: 230,
        2004: 280,
        2005: 310,
        2006: 350,
        2007: 400,
        2008: 468,
        2009: 360,
        2010: 236,
        2011: 236,
        2012: 250,
        2013: 255,
        2014: 262,
        2015: 270,
        2016: 250,
    }
)

#: Press releases per year (139 in total, paper p. 8 fn 3); rising use in recent years (p. 11).
PRESS_RELEASES_PER_YEAR: Final = MappingProxyType(
    {
        2000: 0,
        2001: 2,
        2002: 3,
        2003: 4,
        2004: 5,
        2005: 6,
        2006: 7,
        2007: 8,
        2008: 8,
        2009: 8,
        2010: 8,
        2011: 9,
        2012: 10,
        2013: 11,
        2014: 14,
        2015: 17,
        2016: 19,
    }
)

#: Letters naming no individual (560 in total, paper p. 8 fn 3), more frequent after 2011
#: (p. 11: "increasingly emphasized communications addressing mass violations, legislation").
UNNAMED_PER_YEAR: Final = MappingProxyType(
    {
        2000: 2,
        2001: 10,
        2002: 14,
        2003: 18,
        2004: 22,
        2005: 25,
        2006: 28,
        2007: 30,
        2008: 34,
        2009: 30,
        2010: 24,
        2011: 26,
        2012: 40,
        2013: 50,
        2014: 60,
        2015: 70,
        2016: 77,
    }
)

#: Communications to non-state entities (paper p. 13 fn 11: 37 of 4,511). ASSUMPTION: 5 of
#: them name individuals, which closes the paper's arithmetic (3,807 + 560 + 139 = 4,506).
NON_STATE_NAMED: Final = 5
NON_STATE_UNNAMED: Final = 32

#: Individual cases by mandate-holder (paper p. 11: 862 a year under Sekaggya, 545 under Forst,
#: over 73 and 30 months; the rest of the 12,086 under Jilani).
CASES_TOTAL: Final = 12_086
CASES_SEKAGGYA: Final = 5_244  # 862 * 73 / 12
CASES_FORST: Final = 1_363  # 545 * 30 / 12

#: ASSUMPTION: the relative monthly caseload by year inside each era (shape of Figure 4).
CASE_RATE_SHAPE: Final = MappingProxyType(
    {
        2000: 560,
        2001: 600,
        2002: 660,
        2003: 700,
        2004: 740,
        2005: 760,
        2006: 780,
        2007: 800,
        2008: 900,
        2009: 950,
        2010: 880,
        2011: 860,
        2012: 840,
        2013: 820,
        2014: 640,
        2015: 560,
        2016: 540,
    }
)

#: Share of letters sent by the HRD mandate alone, by year (paper p. 11: always relatively low,
#: zero in 2012 and 2013, very few since 2014). Levels are an ASSUMPTION.
ALONE_SHARE: Final = MappingProxyType(
    {
        2000: 0.34,
        2001: 0.32,
        2002: 0.30,
        2003: 0.28,
        2004: 0.24,
        2005: 0.22,
        2006: 0.20,
        2007: 0.17,
        2008: 0.14,
        2009: 0.11,
        2010: 0.08,
        2011: 0.05,
        2012: 0.0,
        2013: 0.0,
        2014: 0.03,
        2015: 0.02,
        2016: 0.02,
    }
)

#: Mean number of co-signing mandates beyond the second on joint letters, by year (paper p. 12:
#: "a trend over the last decade to combine efforts with ever more mandates").
EXTRA_MANDATES: Final = MappingProxyType(
    {
        2000: 0.2,
        2001: 0.25,
        2002: 0.3,
        2003: 0.35,
        2004: 0.45,
        2005: 0.55,
        2006: 0.65,
        2007: 0.8,
        2008: 1.0,
        2009: 1.2,
        2010: 1.4,
        2011: 1.7,
        2012: 2.0,
        2013: 2.3,
        2014: 2.4,
        2015: 2.5,
        2016: 2.6,
    }
)

#: Share of urgent appeals among letters naming individuals, by year (paper p. 11: urgent
#: appeals decreased in recent years). ASSUMPTION on levels.
UA_SHARE: Final = MappingProxyType(
    {
        2000: 0.66,
        2001: 0.66,
        2002: 0.66,
        2003: 0.65,
        2004: 0.65,
        2005: 0.64,
        2006: 0.64,
        2007: 0.63,
        2008: 0.63,
        2009: 0.62,
        2010: 0.61,
        2011: 0.60,
        2012: 0.57,
        2013: 0.54,
        2014: 0.50,
        2015: 0.46,
        2016: 0.44,
    }
)

#: Land, environment and indigenous rights share of cases by year (paper p. 7-8: peaks of 14 %
#: in 2003 and 18 % in 2007, renewed increase from 2012 to the highest level, 24 %, in 2016;
#: 13 % overall). Other years are an ASSUMPTION.
LEI_SHARE: Final = MappingProxyType(
    {
        2000: 0.10,
        2001: 0.10,
        2002: 0.11,
        2003: 0.14,
        2004: 0.11,
        2005: 0.10,
        2006: 0.12,
        2007: 0.18,
        2008: 0.12,
        2009: 0.10,
        2010: 0.10,
        2011: 0.11,
        2012: 0.15,
        2013: 0.14,
        2014: 0.15,
        2015: 0.17,
        2016: 0.25,
    }
)

#: Submitted LGBTI incidents per year (paper p. 8: 157 cases in 92 communications; a steady
#: 2 % of cases since 2012/13). The mandate takes up nearly every eligible one (deliberate
#: attention), so about 88 % become letters. 2000 covers September to December only.
LGBTI_INCIDENTS_PER_YEAR: Final = MappingProxyType(
    {
        **{y: 5.1 for y in range(2001, 2012)},
        2000: 1.7,
        2012: 9.0,
        2013: 9.6,
        2014: 9.6,
        2015: 9.6,
        2016: 8.8,
        2017: 9.6,
    }
)

#: Country mix of submissions: relative advocacy intensity by ISO3 code (ASSUMPTION, shaped on the
#: paper's Figure 3 hot spots; named countries are given enough volume for their figures), in
#: ``country_weights.csv`` beside this module. India and
#: Argentina are pinned to the paper's case counts (247 and 113 of 12,086, p. 13).
COUNTRY_WEIGHTS: Final = _read_weights("country_weights.csv")
#: Their incidents are small (``INDIVIDUAL_FOCUS``), so their share of incidents is larger
#: than their share of cases by the factor after the fraction (fitted on seeds 1-5).
PINNED_COUNTRY_SHARES: Final = MappingProxyType(
    {"IND": 247 / 12_086 * 1.79, "ARG": 113 / 12_086 * 1.86}
)

#: Countries whose reply figures the paper quotes: their incidents concern one or two people.
INDIVIDUAL_FOCUS: Final = ("IND", "ARG", "SAU", "USA", "OMN", "MRT", "AGO")

#: Reply behaviour the paper names (p. 13-14): substantive response rate (immaterial replies
#: disregarded), rejection rate among substantive replies of known content, mean days to reply.
NAMED_RESPONSE: Final = MappingProxyType({"IND": 70 / 247, "ARG": 0.42})
NAMED_REJECTION: Final = MappingProxyType({"IND": 0.82, "ARG": 0.04})
DAYS_PER_MONTH: Final = 365.25 / 12
NAMED_REPLY_DAYS: Final = MappingProxyType(
    {
        "SAU": 8 * DAYS_PER_MONTH,
        "IND": 7.6 * DAYS_PER_MONTH,
        "USA": 6.8 * DAYS_PER_MONTH,
        "OMN": 24.0,
        "MRT": 24.0,
        "AGO": 43.0,
    }
)
#: Substantive reply rate of cases by mandate-holder (p. 13: 37 %, 42 %, 47 %).
ERA_SUBSTANTIVE: Final = MappingProxyType({"jilani": 0.37, "sekaggya": 0.42, "forst": 0.47})
#: Share of replies that are immaterial (p. 13: 44 % replied, 40 % without immaterial).
IMMATERIAL_SHARE: Final = 0.04 / 0.44
#: ASSUMPTION: replies whose content is unknown (in translation or inaccessible).
CONTENT_UNKNOWN_SHARE: Final = 0.08
#: ASSUMPTION: mean rejection propensity by mandate-holder (p. 13: rejections increased; p. 15:
#: the majority of substantive replies reject the allegation).
ERA_REJECTION_LOGIT: Final = MappingProxyType({"jilani": 0.35, "sekaggya": 0.9, "forst": 1.65})
MEAN_REPLY_DAYS: Final = 104.0  # p. 14, immaterial replies excluded
IMMATERIAL_SLOWER: Final = 1.35  # p. 15 fn 14: immaterial replies took longer (factor ASSUMED)

#: Outcome climate by year (paper p. 20, Figure 7): the expected share of the impact sample's
#: cases improved within a year, by year sent. "In 2005 as well as in 2009, 2010, 2012, and 2015,
#: there was significant improvement or even a complete recovery in about one-third of all
#: cases"; 2013 is "the low point" (a "particularly hostile climate"), after which "the share
#: ... has again increased considerably" (2014 ASSUMED halfway back, 2015 one-third). Each
#: year's log-odds shift is solved on every seed's sample so that its expected share is this
#: (other years: no shift; the intercept is solved for 24 % overall).
YEAR_IMPROVED_SHARE: Final = MappingProxyType(
    {2005: 1 / 3, 2009: 1 / 3, 2010: 1 / 3, 2012: 1 / 3, 2013: 0.10, 2014: 0.20, 2015: 1 / 3}
)
#: Expected improved share of the sample's cases without detention (p. 22: 16 %), of its
#: convicted cases (p. 23: 36 %; the others then come out at 23 %) and of its professional
#: restrictions (p. 23 fn 21: six of eight): these effects are solved on every seed's sample,
#: like the intercept. With the overall 24 % the detention cases follow; as about 59 % of the
#: sample are detention cases (the paper's three figures imply 57 %), 15.7 % without detention
#: gives about 29.7 % with it: both round to the paper's 16 % and 30 %.
NO_DETENTION_IMPROVED_SHARE: Final = 0.157
PROFESSIONAL_IMPROVED_SHARE: Final = 0.75
CONVICTED_IMPROVED_SHARE: Final = 0.36
#: Expected improved share of the sample's letters sent by the HRD mandate alone (p. 12: 30 %,
#: against "less than 24 percent" for joint letters): the log-odds lost per co-signing mandate
#: is solved on every seed's sample.
ALONE_IMPROVED_SHARE: Final = 0.30
#: Expected share of the sample's detention cases with mixed developments (p. 22: 14 %, "the
#: highest level"); the chance of mixed developments given neither improvement nor
#: deterioration is solved for detention cases on every seed's sample (0.12 for the others).
DETENTION_MIXED_SHARE: Final = 0.14
YEAR_WORSEN: Final = MappingProxyType({2005: 3.5, 2013: 1.5})
#: Countries with more (fewer) improvements than their engagement suggests (p. 21-22).
COUNTRY_IMPROVE_POSITIVE: Final = ("SAU", "KEN", "UGA", "NER", "PAK", "MNG", "AZE")
COUNTRY_IMPROVE_NEGATIVE: Final = ("MEX", "HND", "ECU", "PER", "GRC", "IND", "ARG")
#: Their country effects (log-odds; ASSUMPTION): large enough that each positive country's
#: expected improved share is well above the sample's 24 % (seeds 1-40: 0.44-0.55) and each
#: negative one's well below one-half.
NAMED_POSITIVE_EFFECT: Final = 1.6
NAMED_NEGATIVE_EFFECT: Final = -1.3

#: The impact study (p. 17 fn 16): communications naming at most 10 individuals sent between
#: January 2004 and November 2015; 661 cases sampled, information found for 471, of which 89
#: from the survey and 382 from reports online.
SAMPLE_FROM: Final = "2004-01-01"
SAMPLE_TO: Final = "2015-11-30"
SAMPLE_MAX_INDIVIDUALS: Final = 10
SAMPLE_DRAWN: Final = 661
SAMPLE_FOUND: Final = 471
SAMPLE_SURVEY: Final = 89
#: Survey answers (p. 18 and fn 17): 25 % definitely, 40 % probably, 24 % rather or
#: definitely unlikely, 10 do not know; as counts of 89.
SURVEY_COUNTS: Final = MappingProxyType(
    {
        "definitely": 22,
        "probably": 36,
        "rather_unlikely": 14,
        "definitely_unlikely": 7,
        "dont_know": 10,
    }
)
#: Queue: about three times the annual capacity of about 550 (issue 2).
QUEUE_SIZE: Final = 1_650

#: Supplementary figures (issue 2), drawn from their own random stream after everything else.
#: p. 8 fn 3: 42 LGBTI communications without individual names and 3 LGBTI press releases;
#: p. 8: a surge "when international attention to the issue was stirred by repressive draft
#: legislation in several countries". ASSUMPTION: the chance that a nameless letter (resp. a
#: press release) is about LGBTI rights, by year, peaking with the draft laws of 2012-2014.
LGBTI_UNNAMED_SHARE: Final = MappingProxyType(
    {
        **{y: 0.01 for y in range(2000, 2009)},
        **{y: 0.05 for y in range(2009, 2012)},
        2012: 0.15,
        2013: 0.20,
        2014: 0.18,
        2015: 0.08,
        2016: 0.05,
    }
)
LGBTI_PR_SHARE: Final = MappingProxyType({2012: 0.06, 2013: 0.06, 2014: 0.06, 2015: 0.06})
#: Issue areas of nameless letters and press releases other than LGBTI rights (ASSUMPTION:
#: legislation and mass abuses, mostly on democratic rights), in ``ISSUE_AREAS`` order.
OTHER_TOPIC_SHARES: Final = MappingProxyType(
    {
        "womens_rights": 0.08,
        "cultural_ethnic_religious_rights": 0.06,
        "indigenous_rights": 0.06,
        "land_environmental_rights": 0.12,
        "socioeconomic_anticorruption": 0.08,
        "democratic_rights_institutions": 0.45,
        "anti_impunity_justice_peace": 0.15,
    }
)
#: p. 18-19: 65 state responses justified a violation under domestic law (rejections) and
#: simultaneously reported an improvement. ASSUMPTION: a reply reports an improvement only when
#: one of the letter's cases did improve, and a rejection does so less often than a reply that
#: does not reject (the state defends its measure; a release is reported in passing).
REJECTION_REPORTS_IMPROVEMENT: Final = 0.175
NO_REJECTION_REPORTS_IMPROVEMENT: Final = 0.60
#: p. 7: "more than one-third of the 3,288 protesters considered by the mandate were not referred
#: to as 'activists' in the respective communication, nor were they described as pursuing any
#: human rights-related activity other than their presence" at the protest. ASSUMPTION: the
#: chance a protester is not called an activist, by what the letter says of them: nothing
#: (no issue area), only democratic rights (the protest itself), or some other activity.
NOT_ACTIVIST_IF_UNDESCRIBED: Final = 0.85
NOT_ACTIVIST_IF_PROTEST_ONLY: Final = 0.70
NOT_ACTIVIST_IF_ACTIVITY: Final = 0.10
