"""Monitoring: the paper's figures from a ``History`` and the app's first-page cache.

- Figures: ``violation_shares`` (Figure 1), ``issue_area_shares`` (2),
  ``communications_by_country`` (3), ``caseload_by_year`` (4), ``ua_delay_by_year`` and
  ``ua_delay_by_mandates`` (5), ``outcomes_by_year`` (7), ``improvement_by_country`` (8), and
  ``shares_by_year`` (each group's share of a year's cases, to compare with policy targets).
"""

from triage.monitor._figures import (
    SAMPLE_ASSESSMENTS,
    caseload_by_year,
    code_shares,
    communications_by_country,
    improvement_by_country,
    issue_area_shares,
    outcomes_by_year,
    shares_by_year,
    ua_delay_by_mandates,
    ua_delay_by_year,
    violation_shares,
)

__all__ = [
    "SAMPLE_ASSESSMENTS",
    "caseload_by_year",
    "code_shares",
    "communications_by_country",
    "improvement_by_country",
    "issue_area_shares",
    "outcomes_by_year",
    "shares_by_year",
    "ua_delay_by_mandates",
    "ua_delay_by_year",
    "violation_shares",
]
