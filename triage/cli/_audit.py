"""CLI commands of the audit module: ``triage audit ...`` and ``triage user ...``.

Heavy imports (pandas, SQLAlchemy, the registry) happen inside the command functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from triage.cli._app import app, console, err_console
from triage.cli._options import DbOption, PasswordOption, RoleOption, UserOption
from triage.errors import TriageError

__all__ = ["audit_app", "user_app"]

audit_app = typer.Typer(
    help="Decision records: verify the hash chain, replay runs, review overrides, export bundles.",
    no_args_is_help=True,
)
user_app = typer.Typer(
    help="Local users and roles (staff, mandate_holder, auditor).", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")


def open_registry(db: str | None) -> Any:
    """Open (and create the tables of) the registry at ``db``."""
    from triage.registry import Registry

    return Registry(db).init()


def cli_session(user: str | None, role: str | None, password: str | None) -> Any:
    """Resolve the acting session; prompt for the password when a users file exists."""
    import os

    from triage.audit import open_demo_mode, resolve_session

    if not open_demo_mode() and user and password is None and not os.environ.get("TRIAGE_PASSWORD"):
        password = typer.prompt(f"password for {user}", hide_input=True)
    session = resolve_session(user, role, password)  # type: ignore[arg-type]
    if session.demo:
        err_console.print(
            f"open demo mode: acting as {session.user} ({session.role}) without login."
        )
    return session


def print_frame(frame: Any, *, title: str | None = None, limit: int | None = None) -> None:
    """Print a DataFrame as a rich table (first ``limit`` rows)."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for i, col in enumerate(frame.columns):
        # The first column is the row's id: never break it across lines.
        table.add_column(str(col), overflow="fold", no_wrap=i == 0)
    shown = frame if limit is None else frame.head(limit)
    for row in shown.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    if limit is not None and len(frame) > limit:
        console.print(f"... {len(frame) - limit} more rows")


def _cell(value: Any) -> str:
    import pandas as pd

    if value is None or (not isinstance(value, list | tuple | dict) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.3f}"
    return str(value)


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint file kept by an auditor (`triage audit checkpoint`); repeatable.",
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key", help="The audit public key (default: the installation's own key)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Check the chain: hashes, signatures, checkpoints, and the registry's decisions.

    Names the first changed, deleted, inserted or moved record, an unsigned or forged record,
    a chain that no longer extends a checkpoint (a rollback, an emptied or truncated ledger),
    and statuses that disagree with the chain. Exits with code 1 when anything fails.
    """
    from triage.audit import verify_chain

    result = verify_chain(
        open_registry(db), checkpoints=list(checkpoint or []), public_key=public_key
    )
    if result.ok:
        console.print(result.summary())
        return
    err_console.print(f"[bold red]{result.summary()}[/]", highlight=False)
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[
        Path, typer.Option("--out", help="File to append the signed checkpoint to (JSON lines).")
    ],
    db: DbOption = None,
) -> None:
    """Write a signed checkpoint of the chain (records, head hash, time) for an auditor to keep.

    Later, `triage audit verify --checkpoint FILE` fails unless the chain still extends it.
    """
    from triage.audit import write_auditor_checkpoint

    cp = write_auditor_checkpoint(open_registry(db), out)
    console.print(f"checkpoint #{cp.seq} {cp.head[:16]} at {cp.time} appended to {out}")


@audit_app.command("public-key")
def audit_public_key(
    out: Annotated[Path, typer.Option("--out", help="Where to write the public key (PEM).")],
) -> None:
    """Export the audit signing key's public half, for auditors to verify with."""
    from triage.audit import export_public_key

    console.print(f"wrote the audit public key to {export_public_key(out)}")


@audit_app.command("replay")
def audit_replay(
    run_id: Annotated[str, typer.Argument(help="The run to replay (see `triage audit runs`).")],
    db: DbOption = None,
) -> None:
    """Re-run a stored selection from its stored inputs; exit 1 unless the selection is identical."""
    from triage.audit import replay

    result = replay(open_registry(db), run_id)
    if result.identical and result.model_ok and result.record_ok:
        console.print(result.summary())
        if result.model_check:
            console.print(result.model_check)
        return
    err_console.print(f"[bold red]{result.summary()}[/]", highlight=False)
    raise typer.Exit(1)


@audit_app.command("runs")
def audit_runs(db: DbOption = None) -> None:
    """List stored selection runs: time, user, role, policy and model, counts, solver status."""
    from triage.audit import list_runs

    runs = list_runs(open_registry(db))
    if runs.empty:
        console.print("no selection runs recorded yet.")
        return
    runs = runs.assign(created_at=runs["created_at"].str[:19].str.replace("T", " "))
    shown = runs.loc[
        :, ["run_id", "created_at", "user", "role", "candidates", "selected", "status", "overrides"]
    ]
    print_frame(shown, title="Selection runs (time in UTC)")


@audit_app.command("overrides")
def audit_overrides(
    run_id: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the tables as CSV into this folder.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Summarise override rates by UN regional group, gender and violation."""
    from triage.audit import override_summary, safe_frame

    summary = override_summary(open_registry(db), run_id=run_id)
    print_frame(summary.overall, title="Overrides overall")
    print_frame(summary.by_group, title="Override rate by group")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in (
            ("overall", summary.overall),
            ("by_group", summary.by_group),
            ("overrides", summary.overrides),
        ):
            safe_frame(frame).to_csv(
                out / f"overrides_{name}.csv", index=False, lineterminator="\n"
            )
        console.print(f"wrote {out}/overrides_*.csv")


@audit_app.command("override")
def audit_override(
    run_id: Annotated[str, typer.Argument(help="The run whose allocation you override.")],
    case_id: Annotated[str, typer.Argument(help="One of the run's candidate cases.")],
    action: Annotated[str, typer.Option("--action", help="select or drop.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (at least 10 characters; no names).")
    ],
    user: UserOption = None,
    role: RoleOption = None,
    password: PasswordOption = None,
    db: DbOption = None,
) -> None:
    """Record a person's decision to select or drop a case against the allocator."""
    from triage.audit import record_override

    if action not in ("select", "drop"):
        raise TriageError(f"--action must be select or drop. Got {action!r} instead.")
    session = cli_session(user, role, password)
    record = record_override(
        open_registry(db),
        run_id=run_id,
        case_id=case_id,
        action=action,  # type: ignore[arg-type]
        reason=reason,
        user=session.user,
        role=session.role,
        auth=session.auth,
    )
    console.print(f"recorded {record.record_id}: {action} {case_id} in {run_id} by {session.user}")


@audit_app.command("export")
def audit_export(
    run_id: Annotated[str, typer.Argument(help="The run to export.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the bundle (created if missing).")],
    model_dir: Annotated[
        Path | None, typer.Option("--model-dir", help="Where to find model_card.md.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Write an auditor's bundle: record JSON and CSV, policy, model card, HTML summary, SHA256SUMS."""
    from triage.audit import export_run

    folder = export_run(open_registry(db), run_id, out, model_dir=model_dir)
    names = sorted(p.name for p in folder.iterdir())
    console.print(f"wrote {run_id} to {folder}: {', '.join(names)}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help="staff, mandate_holder or auditor.")],
    password: Annotated[
        bool,
        typer.Option(
            "--password/--token", help="Prompt for a password, or (default) generate a token."
        ),
    ] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Reset an existing user.")] = False,
) -> None:
    """Create a user in the users file (var/users.toml); only a salted scrypt hash is kept."""
    from triage.audit import add_user, users_file

    secret = (
        typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    )
    from triage.config import db_url

    url = db_url()
    known = not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists()
    try:
        token = add_user(
            name,
            role=role,  # type: ignore[arg-type]
            password=secret,
            replace=replace,
            registry=open_registry(None) if known else None,
        )
    except ValueError as exc:
        raise TriageError(str(exc)) from exc
    console.print(f"added {name} ({role}) to {users_file()}")
    if secret is None:
        console.print(f"token (shown once, keep it safe): {token}", highlight=False, soft_wrap=True)


@user_app.command("list")
def user_list() -> None:
    """List users and roles (never passwords)."""
    from triage.audit import list_users, open_demo_mode, users_file

    users = list_users()
    if not users:
        console.print(f"no users in {users_file()}: the app runs in open demo mode.")
        return
    for u in users:
        console.print(f"{u.user}\t{u.role}\t{u.created_at}")
    if open_demo_mode():
        console.print("TRIAGE_OPEN_DEMO is set: the app runs without login.")


@user_app.command("lockouts")
def user_lockouts() -> None:
    """List recorded sign-in lockouts (var/audit/signins.jsonl): user, when, until when (UTC)."""
    from triage.audit._users import lockouts

    found = lockouts()
    if not found:
        console.print("no sign-in lockout recorded.")
        return
    for entry in found:
        console.print(
            f"{entry.get('user')}\tlocked at {entry.get('at')}\tuntil {entry.get('until')}",
            highlight=False,
        )
