"""The seeded structural simulation of the mandate's history (2000-09 to 2016-11) and its queue.

All data produced here is SIMULATED. ``calibration_report`` checks a history against every
figure the policy paper states; ``read_supplements`` reads the supplementary files that carry
the figures the six history files cannot; ``read_counterfactual`` reads every eligible
submission's planned letter and its chance of improvement had it been taken up (never a feature).
"""

from triage.synth._calibration import CalibrationReport, calibration_report
from triage.synth._counterfactual import COUNTERFACTUAL_FILES, read_counterfactual
from triage.synth._generate import generate
from triage.synth._simulate import simulate
from triage.synth._supplements import SUPPLEMENT_FILES, read_supplements

__all__ = [
    "COUNTERFACTUAL_FILES",
    "SUPPLEMENT_FILES",
    "CalibrationReport",
    "calibration_report",
    "generate",
    "read_counterfactual",
    "read_supplements",
    "simulate",
]
