"""Held-out metrics: AUC, Brier score, log loss, expected calibration error, reliability bins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from triage._validation import at_least, check_params

_CONSTRAINTS = {"n_bins": at_least(1)}

__all__ = ["ece", "reliability_table", "score_metrics"]


def reliability_table(p: np.ndarray, y: np.ndarray, *, n_bins: int = 10) -> pd.DataFrame:
    """Equal-width bins of predicted probability: bin, lower, upper, n, mean_predicted, observed_rate."""
    check_params(_CONSTRAINTS, n_bins=n_bins)
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        m = idx == b
        n = int(m.sum())
        rows.append(
            {
                "bin": b,
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "n": n,
                "mean_predicted": float(p[m].mean()) if n else float("nan"),
                "observed_rate": float(y[m].mean()) if n else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def ece(p: np.ndarray, y: np.ndarray, *, n_bins: int = 10) -> float:
    """Expected calibration error: Σ_bins (n_b / n) · |mean predicted − observed rate| (10 equal-width bins)."""
    table = reliability_table(p, y, n_bins=n_bins)
    filled = table[table["n"] > 0]
    if filled.empty:
        return float("nan")
    gap = (filled["mean_predicted"] - filled["observed_rate"]).abs()
    return float((gap * filled["n"]).sum() / filled["n"].sum())


def score_metrics(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """AUC, Brier score, log loss and ECE of probabilities ``p`` against 0/1 labels ``y``."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=int)
    q = np.clip(p, 1e-6, 1 - 1e-6)
    both = len(np.unique(y)) == 2
    return {
        "n": float(len(y)),
        "auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, q, labels=[0, 1])),
        "ece": ece(p, y),
    }
