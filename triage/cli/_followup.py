"""CLI commands of the followup module: ``triage followup due``, ``triage record ...``, ``triage states``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from triage.cli._app import app, console
from triage.cli._audit import open_registry, print_frame
from triage.cli._options import DbOption, Who, signed_in
from triage.errors import TriageError

__all__ = ["followup_app", "record_app"]

followup_app = typer.Typer(
    help="Reminders, follow-up candidates and publication due.", no_args_is_help=True
)
record_app = typer.Typer(
    help="Record follow-up events: a state's reply, a case outcome, the source notified.",
    no_args_is_help=True,
)
app.add_typer(followup_app, name="followup")
app.add_typer(record_app, name="record")

HistoryOption = Annotated[
    Path | None,
    typer.Option("--history", help="Read a history folder instead of the registry."),
]
DateOption = Annotated[str, typer.Option("--date", help="When it happened (YYYY-MM-DD).")]


def _parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise TriageError(f"{option} must be a date YYYY-MM-DD. Got {value!r} instead.") from exc


def _record(record: Any, key: str, who: Who, date: str, **fields: Any) -> None:
    """Run a ``triage.followup.record_*`` function as the signed-in user and print its summary.

    ``who`` is the command's ``--user``, ``--role``, ``--password`` and ``--db``; ``date`` its
    ``--date`` (YYYY-MM-DD).
    """
    when = _parse_date(date, "--date")
    actor = who.actor()
    result = record(who.registry(), key, **fields, date=when, actor=actor)
    console.print(result.summary())


def _history(history: Path | None, db: str | None) -> Any:
    """The history to analyse: a folder when given, else the registry, else var/history."""
    from triage.config import default_history_dir
    from triage.schema import read_history

    if history is not None:
        return read_history(history)
    registry = open_registry(db)
    if not registry.is_empty():
        from triage.followup import registry_history

        return registry_history(registry)
    folder = default_history_dir()
    if folder.is_dir():
        return read_history(folder)
    raise TriageError(
        "no data: the registry is empty and var/history does not exist. Run `triage demo prepare` "
        "or pass --history DIR."
    )


def _dates_as_text(frame: Any) -> Any:
    out = frame.copy()
    for col in out.columns:
        if str(out[col].dtype).startswith("datetime64"):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


@followup_app.command("due")
def followup_due(
    on: Annotated[
        str | None, typer.Option("--on", help="The day (YYYY-MM-DD); default today.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown per list.")] = 15,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write every list in full as CSV into this folder.")
    ] = None,
    history: HistoryOption = None,
    db: DbOption = None,
) -> None:
    """List reminders due (no reply after 2 months), follow-up candidates (rejected, no later
    outcome) and communications due for rolling publication, each next to the fixed March/June/
    September schedule and the delay it causes."""
    from triage.audit import safe_frame
    from triage.followup import due_lists

    day = _parse_date(on, "--on") if on else dt.date.today()
    lists = due_lists(_history(history, db), on=day)
    console.print(f"[bold]Follow-up on {lists.on}[/]")
    print_frame(lists.schedule, title="Proposed rules against the fixed schedule (delay in days)")
    for name, frame, title in (
        ("reminders", lists.reminders, "Reminders due (no reply 2 months after sending)"),
        (
            "followup",
            lists.followup,
            "Follow-up candidates (reply rejected the allegation, no later outcome)",
        ),
        (
            "publication",
            lists.publication,
            "Due for rolling publication (the fixed schedule has not published them yet)",
        ),
    ):
        print_frame(_dates_as_text(frame), title=f"{title}: {len(frame)}", limit=limit)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            safe_frame(_dates_as_text(frame)).to_csv(
                out / f"{name}.csv", index=False, lineterminator="\n"
            )
    if out is not None:
        console.print(f"wrote {out}/reminders.csv, followup.csv, publication.csv")


@record_app.command("reply")
@signed_in
def record_reply_cmd(
    communication_id: Annotated[str, typer.Argument(help="The communication replied to.")],
    reply_class: Annotated[
        str, typer.Option("--class", help="immaterial, rejection, no_rejection or content_unknown.")
    ],
    date: DateOption,
    who: Who,
) -> None:
    """Record a state's classified reply; refuses a reply dated before the sending or in the future."""
    from triage.followup import record_reply

    _record(record_reply, communication_id, who, date, reply_class=reply_class)


@record_app.command("outcome")
@signed_in
def record_outcome_cmd(
    case_id: Annotated[str, typer.Argument(help="The case whose outcome was observed.")],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="much_better, somewhat_better, same, mixed, somewhat_worse, much_worse.",
        ),
    ],
    date: DateOption,
    assessment: Annotated[
        str, typer.Option("--assessment", help="survey, online or systematic.")
    ] = "systematic",
    *,
    who: Who,
) -> None:
    """Record a case's observed outcome; refuses dates before the sending and a second outcome."""
    from triage.followup import record_outcome

    _record(
        record_outcome,
        case_id,
        who,
        date,
        outcome=outcome,
        assessment=assessment,
    )


@record_app.command("notified")
@signed_in
def record_notified_cmd(
    communication_id: Annotated[
        str, typer.Argument(help="The communication whose source was told.")
    ],
    date: DateOption,
    who: Who,
) -> None:
    """Record that the source was told the communication went out (not before it was sent)."""
    from triage.followup import record_notified

    _record(record_notified, communication_id, who, date)


@app.command("states")
def states(
    since: Annotated[
        int | None, typer.Option("--since", help="Only cases sent in this year or later.")
    ] = None,
    country: Annotated[
        list[str] | None, typer.Option("--country", help="Show only these ISO3 codes (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown (by number of cases).")] = 30,
    out: Annotated[Path | None, typer.Option("--out", help="Write the full table as CSV.")] = None,
    history: HistoryOption = None,
    db: DbOption = None,
) -> None:
    """State engagement per country: cases, reply rate, substantive-reply rate, rejection rate,
    mean response days and the Figure 6 class (cooperative / responds_but_rejects / uncooperative)."""
    from triage.audit import safe_frame
    from triage.followup import engagement_overall, state_engagement

    data = _history(history, db)
    table = state_engagement(data, since=since)
    overall = engagement_overall(data, since=since)
    label = " (SIMULATED data)" if getattr(data, "simulated", False) else ""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        safe_frame(table).to_csv(out, index=False, lineterminator="\n")
    if country:
        wanted = {c.upper() for c in country}
        unknown = wanted - set(table["country"])
        if unknown:
            raise TriageError(f"no cases for {', '.join(sorted(unknown))} in this history.")
        table = table.loc[table["country"].isin(wanted)]
    shown = table.loc[
        :,
        [
            "country",
            "country_name",
            "cases",
            "reply_rate",
            "substantive_reply_rate",
            "rejection_rate",
            "mean_response_days",
            "engagement_index",
            "engagement",
        ],
    ].copy()
    for col in ("reply_rate", "substantive_reply_rate", "rejection_rate"):
        shown[col] = (shown[col] * 100).round(0)
    shown["mean_response_days"] = shown["mean_response_days"].round(0)
    shown["engagement_index"] = (shown["engagement_index"] * 100).round(0)
    print_frame(
        shown.rename(
            columns={
                "reply_rate": "reply %",
                "substantive_reply_rate": "substantive %",
                "rejection_rate": "rejection %",
                "mean_response_days": "mean days",
                "engagement_index": "index",
            }
        ),
        title=f"State engagement{' since ' + str(since) if since else ''}{label}",
        limit=limit,
    )
    if overall.get("cases"):
        console.print(
            f"all states: {int(overall['cases'])} cases, reply {overall['reply_rate']:.0%}, substantive "
            f"{overall['substantive_reply_rate']:.0%}, rejection {overall['rejection_rate']:.0%}, "
            f"mean {overall['mean_response_days']:.0f} days to a substantive reply{label}"
        )
    if out is not None:
        console.print(f"wrote {out}")
