"""CLI commands of the registry and intake: ``triage ingest``, ``triage db init|load|status``.

Heavy libraries (pandas, SQLAlchemy, openpyxl) are imported inside the command functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.cli._app import app, console

db_app = typer.Typer(
    help="The case registry (SQLite file var/triage.db by default; TRIAGE_DB_URL overrides it).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="SQLAlchemy URL of the registry (default: TRIAGE_DB_URL, else var/triage.db)."
    ),
]


def _registry(url: str | None):  # type: ignore[no-untyped-def]
    from triage.registry import Registry

    return Registry(url)


@db_app.command("init")
def db_init(
    url: UrlOption = None,
) -> None:
    """Create the registry tables (safe to run again: existing tables and rows are kept)."""
    registry = _registry(url)
    registry.init()
    console.print(f"registry ready: {registry.engine.url.render_as_string(hide_password=True)}")


@db_app.command("load")
def db_load(
    directory: Annotated[
        Path,
        typer.Argument(
            help="History folder written by `triage generate` (communications.csv, cases.csv, ...)."
        ),
    ],
    url: UrlOption = None,
) -> None:
    """Load a history folder into the registry; rows already present are skipped."""
    from triage.cli._progress import progress_bar

    registry = _registry(url)
    registry.init()
    with progress_bar("Loading the registry") as update:
        summary = registry.load_history(directory, on_progress=update)
    console.print(f"loaded {directory}: {summary}", highlight=False, soft_wrap=True)


@db_app.command("status")
def db_status(
    url: UrlOption = None,
) -> None:
    """Show rows per table and submissions per lifecycle status."""
    from triage.registry import STATUSES

    registry = _registry(url)
    registry.init()
    console.print(
        f"registry: {registry.engine.url.render_as_string(hide_password=True)}", highlight=False
    )
    for table, n in registry.counts().items():
        console.print(f"  {table:<18} {n:>8}", highlight=False)
    console.print("submissions by status:")
    for status, n in registry.status_counts().items():
        console.print(f"  {STATUSES[status]:<26} {n:>8}", highlight=False)
