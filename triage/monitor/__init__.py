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
- Case-page cache: ``build_case_views(registry, model_dir=) -> CaseViews`` (every incoming
  case's SHAP table and its score under 1–8 mandates), ``write_case_views`` /
  ``read_case_views(key=)`` at ``case_views_path()``, keyed by ``case_views_key`` (statuses
  left out: a run never changes scores); ``history_counts(registry)`` and
  ``history_digest(registry)`` (the rows' content, statuses left out).
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
from triage.monitor._case_views import (
    WHAT_IF_MANDATES,
    CaseViews,
    build_case_views,
    case_views_key,
    case_views_path,
    history_counts,
    history_digest,
    read_case_views,
    write_case_views,
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
    "WHAT_IF_MANDATES",
    "CaseViews",
    "FirstPage",
    "build_case_views",
    "build_first_page",
    "case_views_key",
    "case_views_path",
    "caseload_by_year",
    "code_shares",
    "communications_by_country",
    "current_key",
    "first_page_key",
    "first_page_path",
    "frame_fingerprint",
    "history_counts",
    "history_digest",
    "improvement_by_country",
    "issue_area_shares",
    "model_sha256",
    "outcomes_by_year",
    "read_case_views",
    "read_first_page",
    "shares_by_year",
    "ua_delay_by_mandates",
    "ua_delay_by_year",
    "violation_shares",
    "write_case_views",
    "write_first_page",
]
