"""What ``train`` reports besides the model: ranking, queue coverage, comparison, hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage.errors import TriageError
from triage.features import build_features
from triage.schema import History
from triage.scoring._model import TriageModel, interval_bounds, known_country_outcomes
from triage.scoring._uncertainty import _CONTEXT_BOUND


def _seeds_table(out: Path) -> dict[str, Any] | None:
    """``models/seeds.json`` for a model trained into ``models/`` (its card shows it), else None.

    The table describes the training procedure on other seeds
    (``python -m benchmarks.seeds FIRST LAST --write models/seeds.json``).
    """
    from triage.config import models_dir

    path = models_dir() / "seeds.json"
    if out.resolve().parent != models_dir().resolve() or not path.is_file():
        return None
    table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return table


def _ranking(scores: np.ndarray) -> dict[str, Any]:
    """How well the calibrated score ranks a queue: distinct values and the largest exact tie."""
    _, counts = np.unique(scores, return_counts=True)
    largest = int(counts.max()) if len(counts) else 0
    return {
        "queue_n": len(scores),
        "distinct_scores": len(counts),
        "largest_tie": largest,
        "largest_tie_share": round(largest / max(len(scores), 1), 6),
    }


def _queue_coverage(history: History, model: TriageModel, level: float) -> pd.DataFrame | None:
    """The queue scored by ``model`` next to the generator's truth (simulated histories only)."""
    if history.queue is None or history.truth is None or len(history.queue) == 0:
        return None
    queue = history.queue
    truth_map = history.truth.drop_duplicates("case_id").set_index("case_id")["p_improve"]
    truth = queue["case_id"].astype(str).map(truth_map).to_numpy(dtype=float)
    if np.isnan(truth).any():
        return None
    n_known = known_country_outcomes(queue, history)
    score, sd = model.score_sd(build_features(queue, history), n_known=n_known)
    lower, upper = interval_bounds(score, sd, level=level)
    return pd.DataFrame(
        {
            "case_id": queue["case_id"].astype(str).to_numpy(),
            "score": score,
            "lower": lower,
            "upper": upper,
            "sd": sd,
            "n_known": n_known,
            "truth": truth,
        }
    )


def _comparison(folder: Path) -> dict[str, Any]:
    """The headline of another trained model folder: data size, split and test metrics."""
    path = folder / "metrics.json"
    if not path.is_file():
        raise TriageError(f"{path}: no metrics to compare with; train that model first.")
    other = json.loads(path.read_text(encoding="utf-8"))
    return {
        "folder": folder.name,
        "n_labelled": other.get("n_labelled"),
        "test_years": other.get("split", {}).get("test", {}).get("years"),
        "test": other.get("test"),
        "coverage": {k: v for k, v in other.get("coverage", {}).items() if k != "definition"},
        "training_data_sha256": other.get("training_data_sha256"),
    }


def _data_hash(cases: pd.DataFrame, X: pd.DataFrame, y: np.ndarray) -> str:
    """sha256 of exactly what the model saw: case ids, dates, features (repr) and labels."""
    frame = X.copy()
    frame.insert(0, "case_id", cases["case_id"].astype(str).to_numpy())
    frame.insert(
        1, "sent_date", pd.to_datetime(cases["sent_date"]).dt.strftime("%Y-%m-%d").to_numpy()
    )
    frame["improved"] = y
    text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _round(obj: Any) -> Any:
    """Round floats for stable, readable JSON (NaN becomes null)."""
    if isinstance(obj, float):
        return None if obj != obj else round(obj, 6)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


def _coverage_definition(level: float, n_bootstrap: int, eval_context: dict[str, float]) -> str:
    """The sentence defining the test-year coverage of ``metrics.json`` and the model card."""
    return (
        "share of test-year cases whose generator truth p_improve lies in [lower, upper]; "
        f"{level:.0%} intervals of the case's chance read as log-odds normal with mean "
        "equal to the score; their variance adds the spread of "
        f"{n_bootstrap} bootstrap replicates of the pipeline fitted on training + "
        "validation years (booster on a resample, calibrator on its out-of-bag rows; "
        "members refit the additive start with a light penalty), the year's climate "
        f"(sd {eval_context['year']:.3f}) and the country's own effect as far as its "
        "improvement rate did not yet carry it (sd "
        f"{eval_context['country']:.3f} with no outcome of the country known, variance "
        f"shrinking as {eval_context['country_k']:g} / ({eval_context['country_k']:g} + "
        "n) with n of its outcomes known at the case's date), both estimated from pairs "
        "of residuals of the pipeline cross-fitted by year or by country on those years "
        "and scaled "
        f"to the upper {_CONTEXT_BOUND:.0%} confidence bound of their summed variance "
        f"(moment estimates: year {eval_context['year_estimate']:.3f}, country "
        f"{eval_context['country_estimate']:.3f}; standard error of the summed variance "
        f"{eval_context['se']:.3f})"
    )
