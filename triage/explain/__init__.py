"""Why a case scores what it does: SHAP in probability points, reasons in words, global importance."""

from triage.explain._shap import (
    BASE,
    contributions,
    explain,
    feature_words,
    global_importance,
    reasons,
)

__all__ = ["BASE", "contributions", "explain", "feature_words", "global_importance", "reasons"]
