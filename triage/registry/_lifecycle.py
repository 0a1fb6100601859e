"""The lifecycle of a submission: which status may follow which.

received → eligible | ineligible → selected | not_selected (by a selection run) →
communication sent → reply received → outcome recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

from triage.errors import TriageError

__all__ = [
    "DECISIONS",
    "OPEN_DECISIONS",
    "STATUSES",
    "TRANSITIONS",
    "LifecycleError",
    "Status",
    "check_transition",
]

Status = Literal[
    "received",
    "eligible",
    "ineligible",
    "selected",
    "not_selected",
    "communication_sent",
    "reply_received",
    "outcome_recorded",
]

#: Every status with its human label, in lifecycle order.
STATUSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "received": "Received",
        "eligible": "Eligible",
        "ineligible": "Ineligible",
        "selected": "Selected",
        "not_selected": "Eligible, not taken up",
        "communication_sent": "Communication sent",
        "reply_received": "Reply received",
        "outcome_recorded": "Outcome recorded",
    }
)

#: Statuses that a selection run decides; they need the run's id.
DECISIONS: Final = frozenset({"selected", "not_selected"})
#: Statuses a new selection run may (re)decide: until the communication is sent, a decision
#: may be revised by a later run or an override.
OPEN_DECISIONS: Final[tuple[Status, ...]] = ("eligible", "selected", "not_selected")

#: Allowed next statuses. A decision may be revised (a later run, an override) until the
#: communication is sent; an ineligible submission may be re-assessed; several replies may come.
TRANSITIONS: Final[Mapping[str | None, frozenset[str]]] = MappingProxyType(
    {
        None: frozenset({"received"}),
        "received": frozenset({"eligible", "ineligible"}),
        "ineligible": frozenset({"eligible"}),
        "eligible": frozenset({"selected", "not_selected", "ineligible"}),
        "not_selected": frozenset({"selected", "not_selected"}),
        "selected": frozenset({"not_selected", "selected", "communication_sent"}),
        "communication_sent": frozenset({"reply_received", "outcome_recorded"}),
        "reply_received": frozenset({"reply_received", "outcome_recorded"}),
        "outcome_recorded": frozenset(),
    }
)


class LifecycleError(TriageError):
    """A status change that the lifecycle does not allow (wrong order, missing run...)."""


def check_transition(
    submission_id: str, current: str | None, new: str, *, run_id: str | None
) -> None:
    """Raise :class:`LifecycleError` unless ``current → new`` is an allowed step."""
    if new not in STATUSES:
        raise ValueError(f"`status` must be one of {', '.join(STATUSES)}. Got {new!r} instead.")
    allowed = TRANSITIONS[current]
    if new not in allowed:
        after = "a new submission" if current is None else f"status {current!r}"
        options = ", ".join(sorted(allowed)) or "nothing (the lifecycle is complete)"
        raise LifecycleError(
            f"submission {submission_id}: cannot move to {new!r} from {after}; "
            f"allowed next: {options}."
        )
    if new in DECISIONS and not run_id:
        raise LifecycleError(
            f"submission {submission_id}: {new!r} must name the selection run that decided it "
            "(run_id)."
        )
