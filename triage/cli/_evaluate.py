"""``triage evaluate``: the counterfactual evaluation on a simulated history or on many seeds."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from triage.cli._app import app, console, err_console
from triage.cli._options import PolicyOption
from triage.errors import TriageError

if TYPE_CHECKING:
    from triage.evaluate import Evaluation

__all__: list[str] = []

_BACKENDS = ("loky", "threading", "multiprocessing", "dask", "ray")


def parse_seeds(text: str) -> list[int]:
    """Parse ``"0..9"``, ``"1,4,7"`` or a mix (``"0..4,10"``) into distinct seeds, in order."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)\s*\.\.\s*(\d+)", part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise TriageError(f"--seeds must count upwards (like 0..9). Got {part!r} instead.")
            seeds.extend(range(lo, hi + 1))
        elif part.isdigit():
            seeds.append(int(part))
        else:
            raise TriageError(
                f"--seeds must be non-negative seeds like 0..9 or 1,4,7. Got {text!r} instead."
            )
    if len(set(seeds)) != len(seeds):
        raise TriageError(f"--seeds must not repeat a seed. Got {text!r} instead.")
    return seeds


def _print_table(result: Evaluation, level: float) -> None:
    from rich.table import Column, Table

    several = len(result.seeds) > 1
    years = result.to_dict(level)["years"]
    equal = result.years.groupby("year", sort=True)["triage_equal"].mean()
    title = "expected improvements per received year" + (
        f" (mean over {len(result.seeds)} seeds)" if several else ""
    )
    table = Table(
        Column("year"),
        Column("capacity", justify="right"),
        Column("mandate", justify="right"),
        Column("triage", justify="right"),
        Column("random", justify="right"),
        Column("oracle", justify="right"),
        Column("gain vs mandate", justify="right"),
        Column("triage, equal balance", justify="right"),
        title=title,
    )
    for row in years:
        gain = 100 * (row["triage"] - row["mandate"]) / row["mandate"] if row["mandate"] else 0.0
        table.add_row(
            str(row["year"]),
            f"{row['capacity']:g}" if several else str(row["capacity"]),
            f"{row['mandate']:.1f}",
            f"{row['triage']:.1f}",
            f"{row['random']:.1f}",
            f"{row['oracle']:.1f}",
            f"{gain:+.1f}%",
            f"{equal[row['year']]:.1f}",
        )
    total = result.total
    table.add_row(
        "total",
        "",
        f"{total['mandate']:.1f}",
        f"{total['triage']:.1f}",
        f"{total['random']:.1f}",
        f"{total['oracle']:.1f}",
        f"{result.gain_pct:+.1f}%",
        f"{result.by_seed['triage_equal'].mean():.1f}",
        style="bold",
    )
    console.print(table)
    summ = result.summary(level).set_index("figure")
    gain_line = (
        f"triage vs the mandate's choices: {result.gain_pct:+.1f}% expected improvements under "
        f"the policy, {result.gain_equal_pct:+.1f}% at equal balance (as many cases of each "
        "region, gender and violation as the mandate took)"
    )
    share_line = (
        f"share of the oracle's gain over random that triage captures: {result.oracle_share:.0%}"
    )
    if several:
        g, e, s = summ.loc["gain_pct"], summ.loc["gain_equal_pct"], summ.loc["oracle_share"]
        gain_line += (
            f"; means of {len(result.seeds)} seeds, {level:.0%} t-intervals of the mean "
            f"{g['lower']:+.1f}% to {g['upper']:+.1f}% and {e['lower']:+.1f}% to "
            f"{e['upper']:+.1f}%; seeds range {g['min']:+.1f}% to {g['max']:+.1f}% and "
            f"{e['min']:+.1f}% to {e['max']:+.1f}%"
        )
        share_line += (
            f" ({level:.0%} t-interval {s['lower']:.0%} to {s['upper']:.0%}; seeds range "
            f"{s['min']:.0%} to {s['max']:.0%})"
        )
    _say(gain_line)
    _say(share_line)
    _say(
        f"Policy {result.policy!r} for triage, random ({result.n_random} draws) and oracle, with "
        "each year's capacity set to the number the mandate took up; the mandate's own choices "
        "follow no policy. Each year the model is refitted on the outcomes observed before "
        "1 January only. Values are sums of the generator's counterfactual truth "
        "(submission_truth.csv, never a feature) on SIMULATED histories."
    )
    relaxed = result.years[result.years["relaxed"] != ""]
    if relaxed.empty:
        console.print("No year needed a relaxed policy.", highlight=False)
    for r in relaxed.itertuples(index=False):
        _say(
            f"seed {r.seed}, {r.year}: the pool could not meet the policy; relaxed for every arm "
            f"alike: {r.relaxed}"
        )


def _say(text: str) -> None:
    """Print one paragraph as given: no highlighting, wrapped by the terminal, not by rich."""
    console.print(text, highlight=False, soft_wrap=True)


@app.command("evaluate")
def evaluate_command(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="A simulated history folder written by `triage generate` (default: var/history).",
        ),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            help="Simulate these seeds in memory instead of reading --data: 0..9, 1,4,7 or a mix."
        ),
    ] = None,
    policy: PolicyOption = None,
    from_year: Annotated[
        int | None,
        typer.Option(
            "--from-year",
            help="First received year to evaluate (default: the first with --min-outcomes "
            "outcomes observed before it).",
        ),
    ] = None,
    min_outcomes: Annotated[
        int, typer.Option("--min-outcomes", help="Outcomes needed before the first year.")
    ] = 100,
    draws: Annotated[int, typer.Option(help="Random selections averaged per year.")] = 5,
    scale: Annotated[float, typer.Option(help="With --seeds: volume scale of each history.")] = 1.0,
    outcomes: Annotated[
        str, typer.Option(help="With --seeds: 'sample' (the impact sample) or 'all'.")
    ] = "sample",
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Parallel workers (joblib; -1: all cores).")
    ] = -1,
    backend: Annotated[
        str,
        typer.Option(
            help="joblib backend: loky (local processes), threading, multiprocessing, dask or "
            "ray (a cluster; needs Dask distributed or Ray installed)."
        ),
    ] = "loky",
    level: Annotated[float, typer.Option(help="Level of the interval over seeds.")] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Would triage have chosen better? Replay each year with only what was known then.

    For each year of received submissions: refit the model on the outcomes observed before it
    started, score that year's eligible submissions, select as many as the mandate took up
    under the policy, and value every selection with the generator's counterfactual truth:
    the mandate's own choices, triage, random picks and the oracle (truth-ranked) under the
    same policy. SIMULATED histories only.
    """
    from triage.allocate import load_policy
    from triage.cli._progress import progress_bar
    from triage.config import default_history_dir, policies_dir
    from triage.evaluate import evaluate, prepare, simulated_histories

    if backend not in _BACKENDS:
        raise TriageError(
            f"--backend must be one of {', '.join(_BACKENDS)}. Got {backend!r} instead."
        )
    if outcomes not in ("sample", "all"):
        raise TriageError(f"--outcomes must be sample or all. Got {outcomes!r} instead.")
    if jobs == 0:
        raise TriageError(
            "--jobs must be a positive number of workers, or -1 for all cores. Got 0 instead."
        )
    if draws < 1:
        raise TriageError(f"--draws must be at least 1. Got {draws} instead.")
    if min_outcomes < 40:
        raise TriageError(f"--min-outcomes must be at least 40. Got {min_outcomes} instead.")
    if not 0.5 <= level < 1:
        raise TriageError(f"--level must be in [0.5, 1). Got {level} instead.")
    if not 0.01 <= scale <= 10:
        raise TriageError(f"--scale must be between 0.01 and 10. Got {scale} instead.")
    if data is not None and seeds is not None:
        raise TriageError("--data and --seeds exclude each other: evaluate one folder or seeds.")
    pol = load_policy(policy if policy is not None else policies_dir() / "default.toml")
    bk = None if backend == "loky" else backend
    if seeds is not None:
        seed_list = parse_seeds(seeds)
        with progress_bar("simulating") as update:
            histories = simulated_histories(
                seed_list,
                scale=scale,
                outcomes="all" if outcomes == "all" else "sample",
                n_jobs=jobs,
                backend=bk,  # type: ignore[arg-type]
                on_progress=update,
            )
    else:
        from triage.schema import read_history
        from triage.synth import read_counterfactual

        folder = data if data is not None else default_history_dir()
        if not (folder / "submissions.csv").is_file():
            raise TriageError(
                f"{folder}: no simulated history here. Pass --data DIR (written by `triage "
                "generate`) or --seeds 0..9."
            )
        history = read_history(folder)
        if not history.simulated:
            raise TriageError(
                f"{folder}: not a simulated history (no truth.csv); the evaluation needs the "
                "generator's counterfactual truth."
            )
        tables = {
            "communications": history.communications,
            "cases": history.cases,
            "outcomes": history.outcomes,
            "submissions": history.submissions,
        }
        histories = [prepare(tables, read_counterfactual(folder), seed=0)]
    with progress_bar("evaluating") as update:
        result = evaluate(
            histories,
            pol,
            from_year=from_year,
            min_outcomes=min_outcomes,
            n_random=draws,
            n_jobs=jobs,
            backend=bk,  # type: ignore[arg-type]
            on_progress=update,
        )
    if as_json:
        typer.echo(json.dumps(result.to_dict(level), indent=2, allow_nan=False))
    else:
        _print_table(result, level)
    if result.gain_pct != result.gain_pct:  # pragma: no cover - NaN only without a mandate
        err_console.print("warning: the mandate took up nothing in the years evaluated.")
