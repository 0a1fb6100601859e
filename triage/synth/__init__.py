"""The seeded structural simulation of the mandate's history (2000-09 to 2016-11) and its queue.

All data produced here is SIMULATED. ``calibration_report`` checks a history against every
figure the policy paper states; ``read_supplements`` reads the supplementary files that carry
the figures the six history files cannot.
"""

from triage.synth._calibration import CalibrationReport, calibration_report
from triage.synth._generate import generate
from triage.synth._simulate import simulate
from triage.synth._supplements import SUPPLEMENT_FILES, read_supplements

__all__ = [
    "SUPPLEMENT_FILES",
    "CalibrationReport",
    "calibration_report",
    "generate",
    "read_supplements",
    "simulate",
]
