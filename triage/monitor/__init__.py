"""Monitoring: the paper's figures from a ``History`` and the app's first-page cache.

- Figures: ``violation_shares`` (Figure 1), ``issue_area_shares`` (2),
  ``communications_by_country`` (3), ``caseload_by_year`` (4), ``ua_delay_by_year`` and
  ``ua_delay_by_mandates`` (5), ``outcomes_by_year`` (7), ``improvement_by_country`` (8), and
  ``shares_by_year`` (each group's share of a year's cases, to compare with policy targets).
- First-page cache: ``build_first_page(registry, model_dir=, policy_path=) -> FirstPage``,
  ``write_first_page(page)`` / ``read_first_page(key=) -> FirstPage | None`` at
  ``first_page_path()``; ``current_key(registry, model_dir=)`` hashes the model artifacts, every
  submission with its status and the registry's table counts, so the cache never serves stale
  scores; ``FirstPage.selection_for(policy_sha256)`` serves policy reasons for that policy only.
"""

from triage.monitor._cache import (
    FirstPage,
    build_first_page,
    current_key,
    first_page_key,
    first_page_path,
    frame_fingerprint,
    model_sha256,
    read_first_page,
    write_first_page,
)
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
    "FirstPage",
    "build_first_page",
    "caseload_by_year",
    "code_shares",
    "communications_by_country",
    "current_key",
    "first_page_key",
    "first_page_path",
    "frame_fingerprint",
    "improvement_by_country",
    "issue_area_shares",
    "model_sha256",
    "outcomes_by_year",
    "read_first_page",
    "shares_by_year",
    "ua_delay_by_mandates",
    "ua_delay_by_year",
    "violation_shares",
    "write_first_page",
]
