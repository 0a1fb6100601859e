"""Follow-up on communications and state engagement (the paper's recommendations).

For the app and the CLI:

- ``due(registry, on=date) -> FollowupLists`` (``.reminders``, ``.followup``,
  ``.publication``, ``.schedule``, ``.followup_case_ids()``); ``due_lists(history, on=...)``
  does the same on a ``History`` (e.g. ``read_history(dir)``).
- ``record_reply``, ``record_outcome``, ``record_notified``: validated events that update the
  registry, append to the audit chain and move the lifecycle, each done by an ``actor``
  (``triage.audit.Actor``: user, role, sign-in method, time); ``notifications(registry)``.
- ``state_engagement(history, since=None) -> DataFrame`` per country (reply rate, substantive
  reply rate, rejection rate, mean response days, Figure 6 class); ``engagement_overall``.
- ``fixed_report_date``, ``rolling_publication_date``: the two publication schedules.
"""

from triage.followup._events import (
    EventResult,
    due,
    notifications,
    record_notified,
    record_outcome,
    record_reply,
    registry_history,
)
from triage.followup._lists import FollowupLists, due_lists
from triage.followup._schedule import fixed_report_date, next_session_date, rolling_publication_date
from triage.followup._states import (
    ENGAGEMENT_CLASSES,
    ENGAGEMENT_THRESHOLD,
    engagement_class,
    engagement_overall,
    state_engagement,
)

__all__ = [
    "ENGAGEMENT_CLASSES",
    "ENGAGEMENT_THRESHOLD",
    "EventResult",
    "FollowupLists",
    "due",
    "due_lists",
    "engagement_class",
    "engagement_overall",
    "fixed_report_date",
    "next_session_date",
    "notifications",
    "record_notified",
    "record_outcome",
    "record_reply",
    "registry_history",
    "rolling_publication_date",
    "state_engagement",
]
