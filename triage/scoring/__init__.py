"""The improvement score: LightGBM, calibrated, with bootstrap intervals; training and artifacts."""

from triage.scoring._calibration import Calibrator
from triage.scoring._metrics import ece, reliability_table, score_metrics
from triage.scoring._model import TriageModel, artifact_sha256, load_model, what_if
from triage.scoring._train import TrainResult, fit_model, labelled_cases, time_split, train

__all__ = [
    "Calibrator",
    "TrainResult",
    "TriageModel",
    "artifact_sha256",
    "ece",
    "fit_model",
    "labelled_cases",
    "load_model",
    "reliability_table",
    "score_metrics",
    "time_split",
    "train",
    "what_if",
]
