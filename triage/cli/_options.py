"""Typer option types shared by several commands (``Annotated`` aliases: one help text each).

``DbOption`` (``--db``), ``UserOption``, ``RoleOption`` and ``PasswordOption`` (who acts, for
commands that write to the registry or its audit chain) and ``PolicyOption`` (``--policy``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["DbOption", "PasswordOption", "PolicyOption", "RoleOption", "UserOption"]

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
