"""Typer option types shared by several commands (``Annotated`` aliases: one help text each).

``DbOption`` (``--db``), ``UserOption``, ``RoleOption`` and ``PasswordOption`` (who acts, for
commands that write to the registry or its audit chain) and ``PolicyOption`` (``--policy``).
``signed_in`` gives a command those four options at once, as one ``Who`` value.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from triage.audit import Actor
    from triage.registry import Registry

__all__ = [
    "DbOption",
    "PasswordOption",
    "PolicyOption",
    "RoleOption",
    "UserOption",
    "Who",
    "signed_in",
]

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Registry URL (default: TRIAGE_DB_URL or var/triage.db)."),
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Who acts (required unless in open demo mode).")
]
RoleOption = Annotated[
    str | None,
    typer.Option(
        "--role", help="staff, mandate_holder or auditor (open demo mode: default staff)."
    ),
]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password", help="Password or token (or set TRIAGE_PASSWORD); prompted if missing."
    ),
]
PolicyOption = Annotated[
    Path | None, typer.Option(help="Policy file (TOML). Default: policies/default.toml.")
]


@dataclass(frozen=True)
class Who:
    """A command's ``--user``, ``--role``, ``--password`` and ``--db``, as given (``None``: absent)."""

    user: str | None = None
    role: str | None = None
    password: str | None = None
    db: str | None = None

    def actor(self) -> Actor:
        """Sign in (prompting for a password where needed) and return the acting ``Actor``."""
        from triage.audit import Actor
        from triage.cli._audit import cli_session

        return Actor.of(cli_session(self.user, self.role, self.password))

    def registry(self) -> Registry:
        """Open the registry of ``--db`` (default: ``TRIAGE_DB_URL`` or var/triage.db)."""
        from triage.cli._audit import open_registry

        return open_registry(self.db)  # type: ignore[no-any-return]


_WHO_OPTIONS = {"user": UserOption, "role": RoleOption, "password": PasswordOption, "db": DbOption}


def signed_in(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the options ``--user``, ``--role``, ``--password``, ``--db`` (last, in
    that order); it receives them as one keyword ``who: Who`` and signs in when it is ready to.
    """
    signature = inspect.signature(command, eval_str=True)
    kept = [p for name, p in signature.parameters.items() if name != "who"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option)
        for name, option in _WHO_OPTIONS.items()
    ]

    @functools.wraps(command)
    def run(**options: Any) -> None:
        who = Who(**{name: options.pop(name) for name in _WHO_OPTIONS})
        command(**options, who=who)

    run.__signature__ = signature.replace(parameters=kept + added)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in kept} | _WHO_OPTIONS | {"return": None}
    return run
