"""Who acts, with what authority, at what time: the actor of a recorded event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from triage.audit._privacy import Role

if TYPE_CHECKING:
    from triage.audit._users import Session

__all__ = ["Actor"]


@dataclass(frozen=True)
class Actor:
    """Who acts (user name), with what role and sign-in method, at what time (aware, UTC).

    Attributes
    ----------
    user : str
        The acting user's login name.
    role : {"staff", "mandate_holder", "auditor"}
        The role the user acts in.
    auth : {"demo", "password", "token"}, optional
        How the user signed in (stored in each record).
    now : datetime, optional
        Timezone-aware time of the action (default: the time it is recorded).
    """

    user: str
    role: Role
    auth: str | None = None
    now: dt.datetime | None = None

    @classmethod
    def of(cls, session: Session, now: dt.datetime | None = None) -> Actor:
        """Return the actor of a signed-in ``session`` (its user, role and sign-in method)."""
        return cls(session.user, session.role, session.auth, now)
