"""The case registry: every submission, communication, case, reply and outcome, with the
lifecycle of each submission (SQLAlchemy 2; SQLite by default, PostgreSQL by URL)."""

from triage.registry._lifecycle import (
    OPEN_DECISIONS,
    STATUSES,
    TRANSITIONS,
    LifecycleError,
    Status,
    check_transition,
)
from triage.registry._models import (
    Base,
    Case,
    Communication,
    Individual,
    IntakeFile,
    Outcome,
    Reply,
    StatusEvent,
    Submission,
)
from triage.registry._registry import LoadSummary, Registry, StatusChange

__all__ = [
    "OPEN_DECISIONS",
    "STATUSES",
    "TRANSITIONS",
    "Base",
    "Case",
    "Communication",
    "Individual",
    "IntakeFile",
    "LifecycleError",
    "LoadSummary",
    "Outcome",
    "Registry",
    "Reply",
    "Status",
    "StatusChange",
    "StatusEvent",
    "Submission",
    "check_transition",
]
