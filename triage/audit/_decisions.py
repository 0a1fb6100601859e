"""The ledger read once for the app: the latest run holding each case and every override.

``decision_index(registry)`` walks the hash-chained records in chain order and returns, for
each case, the most recent run in which it was a candidate, its overrides in order, and the
override standing for it (the latest one, which later runs carry forward until a run lets it
lapse, as ``run_selection`` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from triage.audit._ledger import HasEngine

__all__ = ["OVERRIDE_ACTIONS", "DecisionIndex", "decision_index"]

#: An override's action in words, as staff choose it.
OVERRIDE_ACTIONS = {"select": "Take up", "drop": "Do not take up"}

_OVERRIDE_COLUMNS = ["Override", "Time (UTC)", "User", "Role", "Run", "Action", "Reason"]


@dataclass(frozen=True)
class DecisionIndex:
    """What the ledger says about each case.

    Attributes
    ----------
    latest_run : dict of str to str
        case_id → id of the latest run in which the case was a candidate.
    overrides : dict of str to list of dict
        case_id → every override of the case in chain order; each has id, time, user, role,
        run_id, action ("select" or "drop") and reason.
    standing : dict of str to str
        case_id → id of the override in force (carried into later runs until one lets it lapse).
    """

    latest_run: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    standing: dict[str, str] = field(default_factory=dict)

    def effective(self) -> dict[str, dict[str, str]]:
        """The override in force for each case (keys as in ``overrides``)."""
        out = {}
        for case_id, override_id in self.standing.items():
            found = [o for o in self.overrides.get(case_id, []) if o["id"] == override_id]
            if found:
                out[case_id] = found[-1]
        return out

    def override_table(self, case_id: str) -> pd.DataFrame:
        """Every override of a case, in words: Override, Time (UTC), User, Role, Run, Action, Reason."""
        rows = [
            [
                o["id"],
                o["time"][:19].replace("T", " "),
                o["user"],
                o["role"],
                o["run_id"],
                OVERRIDE_ACTIONS.get(o["action"], o["action"]),
                o["reason"],
            ]
            for o in self.overrides.get(case_id, [])
        ]
        return pd.DataFrame(rows, columns=_OVERRIDE_COLUMNS)


def decision_index(registry: HasEngine) -> DecisionIndex:
    """Read the ledger once: each case's latest run, its overrides and the one standing."""
    from triage.audit._ledger import read_records

    index = DecisionIndex()
    for record in read_records(registry):
        content: dict[str, Any] = record.content
        if record.kind == "run":
            for r in content.get("reasons", []):
                index.latest_run[str(r["case_id"])] = str(record.record_id)
            for entry in content.get("overrides", {}).get("lapsed", []):
                index.standing.pop(str(entry["case_id"]), None)
        elif record.kind == "override":
            case_id = str(content.get("case_id"))
            index.overrides.setdefault(case_id, []).append(
                {
                    "id": str(record.record_id),
                    "time": str(record.created_at),
                    "user": str(record.user),
                    "role": str(record.role),
                    "run_id": str(content.get("run_id")),
                    "action": str(content.get("action")),
                    "reason": str(content.get("reason", "")),
                }
            )
            index.standing[case_id] = str(record.record_id)
    return index
