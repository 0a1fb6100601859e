"""CLI commands of the registry and intake: ``triage ingest``, ``triage db init|load|status``.

Heavy libraries (pandas, SQLAlchemy, openpyxl) are imported inside the command functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from triage.cli._app import app, console, err_console
from triage.cli._audit import open_registry

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


def _shown_url(registry: Any) -> str:
    """The registry's URL as printed: any password hidden."""
    return str(registry.engine.url.render_as_string(hide_password=True))


@db_app.command("init")
def db_init(
    url: UrlOption = None,
) -> None:
    """Create the registry tables (safe to run again: existing tables and rows are kept)."""
    console.print(f"registry ready: {_shown_url(open_registry(url))}")


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

    registry = open_registry(url)
    with progress_bar("Loading the registry") as update:
        summary = registry.load_history(directory, on_progress=update)
    console.print(f"loaded {directory}: {summary}", highlight=False, soft_wrap=True, markup=False)


@db_app.command("status")
def db_status(
    url: UrlOption = None,
) -> None:
    """Show rows per table and submissions per lifecycle status."""
    from triage.registry import STATUSES

    registry = open_registry(url)
    console.print(f"registry: {_shown_url(registry)}", highlight=False)
    for table, n in registry.counts().items():
        console.print(f"  {table:<18} {n:>8}", highlight=False, markup=False)
    console.print("submissions by status:")
    for status, n in registry.status_counts().items():
        console.print(f"  {STATUSES[status]:<26} {n:>8}", highlight=False, markup=False)
    log = registry.intake_log().tail(5)
    if len(log):
        console.print("last ingested files:")
        for r in log.itertuples(index=False):
            console.print(
                f"  {r.file_name}: read {r.n_read}, accepted {r.n_accepted}, "
                f"quarantined {r.n_quarantined}, new {r.n_added}",
                highlight=False,
                markup=False,
            )


@app.command("ingest")
def ingest(
    file: Annotated[
        Path,
        typer.Argument(
            help=(
                "CSV, XLSX or JSON file of submissions, cases or communications in the case "
                "vocabulary, or an OHCHR communications-report export (Date, Country, Type, "
                "Ref. no., Mandates, ...)."
            ),
        ),
    ],
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Write the quarantine (file, row, column, value, reason) to this CSV file.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check the file and report; write nothing to the registry."),
    ] = False,
    assume_eligible: Annotated[
        bool,
        typer.Option(
            "--assume-eligible/--received-only",
            help=(
                "Submissions without an `eligible` column enter the selection queue as eligible "
                "(default), or stay `received` until someone assesses them."
            ),
        ),
    ] = True,
    url: UrlOption = None,
) -> None:
    """Read a file row by row: accept good rows into the registry, quarantine the others.

    Prints `read N, accepted A, quarantined Q` (A + Q = N). Exit code 0 when every row is
    accepted, 3 when some are quarantined, 2 when the whole file is refused. Names and contact
    details are stored but never printed.
    """
    from rich.markup import escape

    from triage.cli._paths import check_output_file
    from triage.intake import ingest_file

    if report is not None:  # before anything is read or stored
        check_output_file(report, option="--report", inputs=[file])
    registry = None
    if not dry_run:
        registry = open_registry(url)
    result = ingest_file(file, registry=registry, assume_eligible=assume_eligible)
    for line in result.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True)
    shown = result.quarantine.head(20)
    for reason in shown["reason"]:
        err_console.print(f"  {reason}", highlight=False, soft_wrap=True, markup=False)
    if len(result.quarantine) > len(shown):
        err_console.print(
            f"  ... and {len(result.quarantine) - len(shown)} more (use --report FILE.csv)"
        )
    if report is not None:
        result.write_report(report)
        console.print(f"quarantine report written to {report}", highlight=False, markup=False)
    console.print(result.summary(), highlight=False, markup=False)
    if registry is not None:
        console.print(
            f"registry: {result.added} new, {result.already_present} already present",
            highlight=False,
        )
    raise typer.Exit(0 if result.n_quarantined == 0 else 3)
