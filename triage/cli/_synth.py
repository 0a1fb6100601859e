"""``triage generate`` and ``triage calibration``: the simulated history and its check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.cli._app import app, console

__all__: list[str] = []


@app.command("generate")
def generate_command(
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder to write the CSV files into (created if missing)."),
    ],
    seed: Annotated[
        int | None, typer.Option(help="Seed of the simulation (default: the bundled seed, 2018).")
    ] = None,
    outcomes: Annotated[
        str,
        typer.Option(
            help="'sample': outcomes for the paper's 471-case impact sample only; 'all': also a "
            "'systematic' outcome for every other case taken up (simulated extension)."
        ),
    ] = "sample",
    scale: Annotated[
        float, typer.Option(help="Multiply every volume (0.1 for quick tests; calibrated at 1).")
    ] = 1.0,
) -> None:
    """Simulate the mandate's history (Sep 2000 - Nov 2016) and the next year's queue.

    Writes communications.csv, cases.csv, outcomes.csv, truth.csv, queue.csv and
    submissions.csv, and the supplementary sample_frame.csv, communication_topics.csv,
    reply_content.csv and protester_descriptions.csv (paper figures the six files cannot carry). All of it is SIMULATED data;
    the same seed writes identical files.
    """
    from triage.cli._progress import progress_bar
    from triage.config import DEFAULT_SEED
    from triage.errors import TriageError
    from triage.synth import generate

    if outcomes not in ("sample", "all"):
        raise TriageError(f"--outcomes must be 'sample' or 'all'. Got {outcomes!r} instead.")
    the_seed = DEFAULT_SEED if seed is None else seed
    try:
        with progress_bar("Simulating the history (simulated data)") as update:
            folder = generate(
                out,
                seed=the_seed,
                outcomes=outcomes,  # type: ignore[arg-type]
                scale=scale,
                on_progress=update,
            )
    except ValueError as exc:
        raise TriageError(str(exc)) from exc
    from triage.audit._signing import secure_dir, secure_file

    # queue.csv holds (simulated) defenders' names and sources' contacts: owner only.
    secure_dir(Path(folder))
    for sensitive in Path(folder).glob("*.csv"):
        secure_file(sensitive)
    import pandas as pd

    comms = pd.read_csv(folder / "communications.csv", usecols=["communication_id"])
    cases = pd.read_csv(folder / "cases.csv", usecols=["case_id"])
    outs = pd.read_csv(folder / "outcomes.csv", usecols=["case_id"])
    queue = pd.read_csv(folder / "queue.csv", usecols=["case_id"])
    subs = pd.read_csv(folder / "submissions.csv", usecols=["submission_id"])
    console.print(f"simulated history written to {folder}")
    console.print(
        f"seed {the_seed}, scale {scale:g}: {len(comms):,} communications, {len(cases):,} cases, "
        f"{len(outs):,} outcomes ({outcomes}), {len(subs):,} submissions, "
        f"{len(queue):,} queued submissions (SIMULATED)"
    )


@app.command("calibration")
def calibration_command(
    data: Annotated[
        Path | None,
        typer.Option(help="History folder to check (default: var/history, the demo history)."),
    ] = None,
) -> None:
    """Compare a simulated history with every figure of the policy paper.

    Prints each figure with the paper's value, the generated value, the tolerance and a
    pass/fail mark; exits with status 1 if any figure fails.
    """
    from rich.table import Table

    from triage.config import default_history_dir
    from triage.errors import TriageError
    from triage.schema import read_history
    from triage.synth import SUPPLEMENT_FILES, calibration_report, read_supplements

    folder = default_history_dir() if data is None else data
    if not (folder / "communications.csv").exists():
        raise TriageError(
            f"{folder}: no simulated history here. Create it with "
            f"`triage generate --out {folder}` (or `triage demo prepare`)."
        )
    try:
        history = read_history(folder)
    except ValueError as exc:  # e.g. a date that does not parse
        raise TriageError(f"{folder}: cannot read the history ({exc}).") from exc
    supplements = read_supplements(folder)
    report = calibration_report(history, supplements=supplements)
    table = Table(title=f"Calibration of {folder} against the paper")
    numeric = ("paper", "expected (seeds 1-30)", "generated", "tolerance")
    for col in ("group", "figure", "page", *numeric, ""):
        table.add_column(col, justify="right" if col in numeric else "left")
    for row in report.table.itertuples(index=False):
        mark = "[green]pass[/]" if row.passed else "[bold red]FAIL[/]"
        table.add_row(
            str(row.group),
            str(row.figure),
            str(row.source).split(":", 1)[0],
            _fmt(row.paper),
            _fmt(row.expected),
            _fmt(row.generated),
            str(row.rule),
            mark,
        )
    console.print(table)
    n_fail = int((~report.table["passed"]).sum())
    if n_fail:
        console.print(f"[bold red]{n_fail} of {len(report.table)} figures out of tolerance.[/]")
        absent = [f"{name}.csv" for name in SUPPLEMENT_FILES if name not in supplements]
        if absent:
            console.print(
                f"{folder} has no {', '.join(absent)}: figures they carry are n/a. Regenerate "
                f"with `triage generate --out {folder}`."
            )
        raise typer.Exit(code=1)
    console.print(f"[green]all {len(report.table)} figures within tolerance.[/]")


def _fmt(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    if number != number:  # NaN
        return "n/a"
    if number.is_integer() and abs(number) >= 1:
        return f"{number:,.0f}"
    return f"{number:.3f}"
