"""The seeded structural simulation of the mandate's history (2000-09 to 2016-11) and its queue.

All data produced here is SIMULATED. ``calibration_report`` checks a history against every
figure the policy paper states.
"""

from triage.synth._calibration import CalibrationReport, calibration_report
from triage.synth._generate import generate
from triage.synth._simulate import simulate

__all__ = ["CalibrationReport", "calibration_report", "generate", "simulate"]
