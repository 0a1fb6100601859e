"""Saving a policy version from the app: a new TOML file that names its parent and never overwrites.

``save_policy_version`` checks the role and the free text (no names or contacts in a policy's
name or description), turns the name into a file name, and writes the policy with a header
that says who saved it, when, and which policy (name and sha256) it was derived from.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.allocate import Policy

__all__ = ["save_policy_version"]


def save_policy_version(
    policy: Policy,
    *,
    name: str,
    parent: Policy,
    user: str,
    role: str,
    folder: Path,
    registry: Any | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Write ``policy`` as a new version named ``name`` in ``folder``; return the file.

    Parameters
    ----------
    policy : Policy
        The targets to save.
    name : str
        The version's name (letters, digits, dots, dashes; other characters become dashes).
        An existing file is never overwritten: ``-v2``, ``-v3``... are appended.
    parent : Policy
        The policy it was derived from (named, with its sha256, in the file's header).
    user, role : str
        Who saves it; only roles allowed to ``save_policy`` may.
    folder : Path
        Where saved versions live (the app uses ``var/policies/``).
    registry : Registry, optional
        Used to refuse names of people in the registry in the name or the description.
    now : datetime, optional
        Timezone-aware time stamp of the header (default: now, UTC).

    Raises
    ------
    TriageError
        If the role may not save policies, or the name or the description holds a name,
        contact or no usable character.
    """
    from triage.audit._names import check_free_text
    from triage.audit._roles import require
    from triage.errors import TriageError

    if now is not None and now.tzinfo is None:
        raise ValueError(f"`now` must be timezone-aware. Got {now!r} instead.")
    require(role, "save_policy")
    check_free_text(registry, name, what="the policy name")
    check_free_text(
        registry, str(getattr(policy, "description", "") or ""), what="the policy description"
    )
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")
    if not slug:
        raise TriageError("a policy version needs a name of letters, digits, dots or dashes.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"{slug}.toml", 1
    while path.exists():
        n += 1
        path = folder / f"{slug}-v{n}.toml"
    named = policy.with_changes(name=path.stem)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = (
        f"# Saved from the Targets page by {user} at {stamp}.\n"
        f"# Derived from policy {parent.name} (sha256 {parent.sha256}).\n"
    )
    path.write_text(header + named.to_toml(), encoding="utf-8")
    return path
