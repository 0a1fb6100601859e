"""Point-in-time features: one function builds them for training and for scoring."""

from triage.features._build import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    FEATURE_LABELS,
    MONOTONE,
    START_FEATURES,
    build_features,
    case_dates,
    drafting_delay,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURE_COLUMNS",
    "FEATURE_LABELS",
    "MONOTONE",
    "START_FEATURES",
    "build_features",
    "case_dates",
    "drafting_delay",
]
