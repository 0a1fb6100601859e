"""The role matrix: who may do what, enforced the same way by the CLI, the app and the library.

| action        | staff | mandate_holder | auditor |
|---------------|-------|----------------|---------|
| record_run    | yes   | yes            | no      |
| override      | yes   | no             | no      |
| record_event  | yes   | no             | no      |
| save_policy   | yes   | yes            | no      |
| see_names     | yes   | yes (case page)| no      |
| verify/export | yes   | yes            | yes     |
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

from triage._validation import check_params, one_of
from triage.errors import TriageError

__all__ = ["ACTIONS", "PERMISSIONS", "allowed", "require"]

Action = Literal["record_run", "override", "record_event", "save_policy", "see_names", "review"]

#: Every action and the roles allowed to take it (documented in docs/threat-model.md).
PERMISSIONS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "record_run": frozenset({"staff", "mandate_holder"}),
        "override": frozenset({"staff"}),
        "record_event": frozenset({"staff"}),
        "save_policy": frozenset({"staff", "mandate_holder"}),
        "see_names": frozenset({"staff", "mandate_holder"}),
        "review": frozenset({"staff", "mandate_holder", "auditor"}),
    }
)
ACTIONS: Final[tuple[str, ...]] = tuple(PERMISSIONS)
_CONSTRAINTS = {"action": one_of(ACTIONS)}

_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "record_run": "record a selection run",
        "override": "record an override",
        "record_event": "record a follow-up event",
        "save_policy": "save a policy",
        "see_names": "see names",
        "review": "review the record",
    }
)
_ROLE_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {"staff": "staff", "mandate_holder": "mandate-holders", "auditor": "auditors"}
)


def allowed(role: str, action: str) -> bool:
    """True when ``role`` may take ``action`` (see ``PERMISSIONS``)."""
    check_params(_CONSTRAINTS, action=action)
    return role in PERMISSIONS[action]


def require(role: str, action: str) -> None:
    """Raise ``TriageError`` unless ``role`` may take ``action``."""
    if not allowed(role, action):
        who = " and ".join(
            _ROLE_WORDS[r]
            for r in ("staff", "mandate_holder", "auditor")
            if r in PERMISSIONS[action]
        )
        raise TriageError(
            f"{_ROLE_WORDS.get(role, role)} may not {_WORDS[action]}; only {who} may."
        )
