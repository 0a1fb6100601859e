"""triage: decision support for the UN Special Rapporteur on human rights defenders.

Score incoming cases, allocate the year's capacity under balance targets, show the result to
staff, mandate-holders and auditors, and remember every submission.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
