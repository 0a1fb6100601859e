"""CLI commands of the allocate module: select, price, tradeoff, rolling, backtest.

Heavy libraries (pandas, PuLP, highspy) are imported inside the commands so that ``--help`` is
instant and ``triage select --candidates`` never loads LightGBM, SHAP or Streamlit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from triage.cli._allocate_show import (
    _print_frame,
    _print_summary,
    _replicate_chances,
    _write_reasons,
)
from triage.cli._app import app, console, err_console
from triage.errors import InputFileError, TriageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from triage.registry import Registry

_POLICY_HELP = "Policy file (TOML). Default: policies/default.toml."


def _policy_path(policy: Path | None) -> Path:
    from triage.config import policies_dir

    return policy if policy is not None else policies_dir() / "default.toml"


#: The largest registry queue ``triage select`` scores, explains and records in one run. Measured
#: (2026-12-02, `make bench ONLY=reliability`, 2-core machine shared with other work): 100,000 queued
#: cases take 26 s of CPU and peak at 0.88 GiB; 250,000 took 107 s of CPU and peaked at 1.62 GiB
#: (before the 100,000 run went from 45 to 26 s; its peak did not move, so neither does this).
#: Counted over the incoming submissions awaiting or holding a revisable decision (the run's
#: candidates), in the database, before anything is read.
MAX_REGISTRY_QUEUE = 250_000


def _open_decisions(registry: Registry, statuses: Iterable[str]) -> int:
    """Incoming submissions (queue and intake) with one of ``statuses``: a run's candidates,
    counted in the database without reading them."""
    from sqlalchemy import func, select

    from triage.registry import Submission
    from triage.registry._registry import INCOMING_ORIGINS

    query = (
        select(func.count())
        .select_from(Submission)
        .where(Submission.status.in_(list(statuses)))
        .where(Submission.origin.in_(INCOMING_ORIGINS))
    )
    with registry.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise InputFileError(f"{path}: no such {what} file.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot be read as CSV ({exc}).") from exc


@app.command("select")
def select(
    candidates: Annotated[
        Path | None,
        typer.Option(
            help="CSV of scored candidates: case_id, score, country, un_region, gender, "
            "violations (';'-separated). The score is used as given. Without it, the registry's "
            "queue is scored with the default model and the run is recorded."
        ),
    ] = None,
    policy: Annotated[Path | None, typer.Option(help=_POLICY_HELP)] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (status, objective, ...).")
    ] = False,
    reasons: Annotated[
        Path | None,
        typer.Option(
            help="Write one row per candidate: case_id, selected, reason, score_to_enter "
            "(exact), displaced_by and, when the model's replicate scores are known (registry "
            "runs, or candidates scored with `triage score --replicates`), p_selected and chance."
        ),
    ] = None,
    solver: Annotated[str, typer.Option(help="highs (falls back to CBC) or cbc.")] = "highs",
    seed: Annotated[
        int,
        typer.Option(
            help="Seed of the lottery that settles exact ties between candidates' scores "
            "(recorded with the run; replay reuses it)."
        ),
    ] = 0,
    user: Annotated[
        str | None, typer.Option(help="Who runs the selection (registry runs; logs in).")
    ] = None,
    role: Annotated[
        str | None, typer.Option(help="Role: staff, mandate_holder or auditor (registry runs).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Password or token for --user (or set TRIAGE_PASSWORD)."),
    ] = None,
    lapse_overrides: Annotated[
        bool,
        typer.Option(
            "--lapse-overrides",
            help="Let earlier overrides lapse (registry runs). By default a case someone "
            "selected stays in and one someone dropped stays out; the record lists them.",
        ),
    ] = False,
) -> None:
    """Select cases under a balance policy: exactly K = min(capacity, candidates), proven optimal.

    If the policy cannot be met, it exits with code 2 and prints the smallest relaxation.
    Example: triage select --candidates scored.csv --policy policies/low-key.toml --json
    """
    if solver not in ("highs", "cbc"):
        raise TriageError(f"--solver must be highs or cbc. Got {solver!r} instead.")
    if seed < 0:
        raise TriageError(f"--seed must be a non-negative integer. Got {seed} instead.")
    from triage.allocate import explain_selection, load_policy

    policy_path = _policy_path(policy)
    pol = load_policy(policy_path)
    cands: pd.DataFrame | None
    precomputed: pd.DataFrame | None
    if candidates is not None:
        from triage.allocate import allocate

        frame = _read_csv(candidates, "candidates")
        from triage.allocate._problem import prepare_candidates

        cands = prepare_candidates(frame, source=str(candidates))
        allocation = allocate(cands, pol, solver=solver, seed=seed)  # type: ignore[arg-type]
        precomputed = (
            _replicate_chances(frame, candidates, pol, seed) if reasons is not None else None
        )
    else:
        from triage.audit import run_selection
        from triage.cli._audit import cli_session, open_registry
        from triage.registry import OPEN_DECISIONS

        session = cli_session(user, role, password)
        registry = open_registry(None)
        # Refuse a queue too large to score, explain and record in memory before reading it.
        queued = _open_decisions(registry, OPEN_DECISIONS)
        if queued > MAX_REGISTRY_QUEUE:
            raise TriageError(
                f"the registry queue holds {queued:,} cases awaiting a decision; a recorded "
                f"selection takes at most {MAX_REGISTRY_QUEUE:,} at once. Decide on part of the "
                "queue first (e.g. mark ineligible submissions), or score it in parts with "
                "`triage score` and select with `triage select --candidates`."
            )
        record = run_selection(
            registry=registry,
            policy_path=policy_path,
            user=session.user,
            role=session.role,
            seed=seed,
            auth=session.auth,
            lapse_overrides=lapse_overrides,
        )
        allocation = record.allocation
        cands = getattr(record, "candidates", None)
        precomputed = getattr(record, "reasons", None)
        err_console.print(f"recorded run {record.run_id}", highlight=False)
        kept = record.record.content.get("overrides", {})
        for verb, entries in (
            ("kept", kept.get("carried", [])),
            ("let lapse", kept.get("lapsed", [])),
        ):
            if entries:
                listed = ", ".join(
                    f"{e['case_id']} ({e['action']}, {e['override_id']})" for e in entries
                )
                err_console.print(
                    f"{verb} {len(entries)} earlier override(s): {listed}", highlight=False
                )
    if json_out:
        console.file.write(allocation.to_json() + "\n")
        console.file.flush()
    else:
        _print_summary(allocation)
    if reasons is not None:
        if cands is None:
            problem = getattr(allocation, "_problem", None)
            if problem is None:
                raise TriageError("--reasons needs the candidates of the run; none are available.")
            cands = problem.candidates
        columns = ["case_id", "selected", "reason", "score_to_enter", "displaced_by"]
        if precomputed is not None and all(c in precomputed.columns for c in columns):
            table = precomputed.loc[:, columns]
        else:
            table = explain_selection(cands, pol, allocation)
        chance_cols = ["case_id", "p_selected", "chance"]
        if precomputed is not None and all(c in precomputed.columns for c in chance_cols):
            table = table.merge(precomputed.loc[:, chance_cols], on="case_id", how="left")
        elif candidates is not None:
            err_console.print(
                "note: no p_selected column: the candidates carry no replicate scores "
                "(score them with `triage score --replicates`).",
                highlight=False,
            )
        _write_reasons(table, reasons)
        err_console.print(f"wrote reasons for {len(cands)} candidates to {reasons}")
    if allocation.status == "infeasible":
        raise TriageError(allocation.message, exit_code=2)


def _load_candidates(path: Path) -> pd.DataFrame:
    from triage.allocate._problem import prepare_candidates

    return prepare_candidates(_read_csv(path, "candidates"), source=str(path))


def _scored_queue(history: Path) -> tuple[pd.DataFrame, str]:
    """The simulated queue scored with the generator's truth (an oracle, labelled as such)."""
    import pandas as pd

    queue = _read_csv(history / "queue.csv", "queue")
    truth = _read_csv(history / "truth.csv", "truth")
    merged = queue.merge(truth, on="case_id", how="left")
    if merged["p_improve"].eq("").any() or merged["p_improve"].isna().any():
        raise InputFileError(f"{history / 'truth.csv'}: has no p_improve for some queued cases.")
    merged["score"] = pd.to_numeric(merged["p_improve"])
    return merged, "the simulation's true p_improve (SIMULATED oracle, not a model score)"


@app.command("price")
def price(
    candidates: Annotated[Path, typer.Option(help="CSV of scored candidates (as for select).")],
    policy: Annotated[Path | None, typer.Option(help=_POLICY_HELP)] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the table as CSV.")] = None,
) -> None:
    """Price of balance: what each target costs in expected improvements (duals and re-solves)."""
    from triage.allocate import load_policy, price_of_balance

    pol = load_policy(_policy_path(policy))
    frame = price_of_balance(_load_candidates(candidates), pol)
    shown = frame[(frame["binding"]) | (frame["cost"] > 0) | (frame["name"] == "all targets")]
    _print_frame(
        shown[["name", "kind", "target", "achieved", "shadow_price", "cost"]],
        "price of balance (expected improvements; binding or costly targets)",
    )
    if out is not None:
        frame.to_csv(out, index=False, lineterminator="\n")


@app.command("tradeoff")
def tradeoff(
    candidates: Annotated[Path, typer.Option(help="CSV of scored candidates (as for select).")],
    target: Annotated[
        str, typer.Option(help="The share to tighten, as dimension=code, e.g. gender=woman.")
    ],
    policy: Annotated[Path | None, typer.Option(help=_POLICY_HELP)] = None,
    bound: Annotated[
        str, typer.Option(help="min (raise a floor) or max (lower a ceiling).")
    ] = "min",
    steps: Annotated[int, typer.Option(help="Number of steps between 0 and 1.", min=2)] = 21,
    out: Annotated[Path | None, typer.Option(help="Also write the curve as CSV.")] = None,
) -> None:
    """Trade-off curve: the objective as one share target is tightened step by step."""
    from triage.allocate import load_policy, tradeoff_curve

    dimension, _, code = target.partition("=")
    pol = load_policy(_policy_path(policy))
    shares = [i / (steps - 1) for i in range(steps)]
    if bound == "max":
        shares = shares[::-1]
    try:
        frame = tradeoff_curve(
            _load_candidates(candidates),
            pol,
            dimension=dimension,
            code=code,
            bound=bound,
            shares=shares,
        )
    except ValueError as exc:
        raise TriageError(f"--target/--bound: {exc}") from exc
    _print_frame(frame, f"objective as share_{bound}[{dimension}={code}] tightens")
    if out is not None:
        frame.to_csv(out, index=False, lineterminator="\n")


@app.command("rolling")
def rolling(
    candidates: Annotated[
        Path | None,
        typer.Option(help="CSV of scored candidates with received_date (one year)."),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(
            help="A simulated history folder: its queue.csv is the year, scored with the "
            "simulation's true p_improve (an oracle, for testing the allocator only)."
        ),
    ] = None,
    policy: Annotated[Path | None, typer.Option(help=_POLICY_HELP)] = None,
    out: Annotated[Path | None, typer.Option(help="Write the per-period table as CSV.")] = None,
) -> None:
    """Rolling selection: weekly batches paced through the year, against the hindsight optimum."""
    from triage.allocate import load_policy
    from triage.allocate._rolling import rolling_selection
    from triage.cli._progress import progress_bar

    if (candidates is None) == (history is None):
        raise TriageError("Give exactly one of --candidates FILE or --history DIR.")
    pol = load_policy(_policy_path(policy))
    if candidates is not None:
        frame, source = _read_csv(candidates, "candidates"), f"the scores in {candidates}"
    else:
        assert history is not None
        frame, source = _scored_queue(history)
    if "received_date" not in frame.columns:
        raise InputFileError(f"{candidates}: missing required column received_date.")
    with progress_bar("rolling selection") as update:
        result = rolling_selection(frame, pol, on_progress=update)
    o = result.overall
    console.print(
        f"scores: {source}\nrolling: {o['selected']} selected in {o['batches']} batches "
        f"({o['relaxed_batches']} needed a relaxed band), objective {o['objective']:.3f}; "
        f"hindsight optimum {o['hindsight_objective']:.3f}; ratio {o['ratio']:.4f}; "
        f"bands missed at year end: {o['bands_missed']}",
        highlight=False,
    )
    banded = result.by_group[result.by_group["min"].notna() | result.by_group["max"].notna()]
    _print_frame(
        banded[["dimension", "group", "min", "max", "rolling_share", "hindsight_share", "inside"]],
        "year-end shares",
    )
    if out is not None:
        result.by_period.to_csv(out, index=False, lineterminator="\n")


@app.command("backtest")
def backtest_cmd(
    history: Annotated[Path, typer.Option(help="A history folder with submissions.csv.")],
    scores: Annotated[
        Path | None,
        typer.Option(
            help="CSV with submission_id and score for the eligible submissions. Default: score "
            "them with the default model (in-sample for the years it was trained on)."
        ),
    ] = None,
    policy: Annotated[Path | None, typer.Option(help=_POLICY_HELP)] = None,
    capacity: Annotated[
        str, typer.Option(help="actual (as many as the mandate took each year) or policy.")
    ] = "actual",
    model_dir: Annotated[
        Path | None, typer.Option(help="Model folder when scoring (default models/default).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the per-group table as CSV.")] = None,
) -> None:
    """Backtest: what a policy would have selected vs what the mandate did, year by year.

    Both sides are valued with the same scores (expected improvements), and the policy selects
    as many cases each year as the mandate took, among the same eligible submissions.
    In-sample (the output says so): for an out-of-sample comparison valued by the simulation's
    truth, use ``triage evaluate``.
    """
    import pandas as pd

    from triage.allocate import load_policy
    from triage.allocate._rolling import backtest
    from triage.cli._progress import progress_bar

    if capacity not in ("actual", "policy"):
        raise TriageError(f"--capacity must be actual or policy. Got {capacity!r} instead.")
    pol = load_policy(_policy_path(policy))
    subs = _read_csv(history / "submissions.csv", "submissions")
    for col in ("submission_id", "eligible", "case_id", "received_date"):
        if col not in subs.columns:
            raise InputFileError(f"{history / 'submissions.csv'}: missing required column {col}.")
    subs = subs[subs["eligible"].str.lower() == "true"]
    if scores is not None:
        sc = _read_csv(scores, "scores")
        for col in ("submission_id", "score"):
            if col not in sc.columns:
                raise InputFileError(f"{scores}: missing required column {col}.")
        source = f"the scores in {scores}"
    else:
        from triage.schema import read_history
        from triage.scoring import load_model

        model = load_model(model_dir)
        hist = read_history(history)
        assert hist.submissions is not None
        eligible = hist.submissions[hist.submissions["eligible"].fillna(False).astype(bool)]
        cases = eligible.assign(case_id=eligible["submission_id"])
        with progress_bar("scoring submissions") as update:
            update(0, 1, "model")
            pred = model.predict(cases, hist)
            update(1, 1, "model")
        sc = pd.DataFrame({"submission_id": pred["case_id"], "score": pred["score"]})
        source = (
            f"model {getattr(model, 'version', '')} scores (in-sample for the years it was "
            "trained on; SIMULATED history)"
            if hist.simulated
            else "model scores"
        )
    frame = subs.merge(sc[["submission_id", "score"]], on="submission_id", how="inner")
    frame["taken"] = frame["case_id"].fillna("") != ""
    frame["case_id"] = frame["submission_id"]
    with progress_bar("backtest") as update:
        result = backtest(frame, pol, capacity=capacity, on_progress=update)
    console.print(f"scores: {source}", highlight=False)
    _print_frame(result.by_year, f"{pol.name} vs the mandate (expected improvements)")
    o = result.overall
    console.print(
        f"total: mandate {o['mandate_objective']:.2f}, policy {o['policy_objective']:.2f}, "
        f"gain {o['gain']:+.2f} expected improvements over {o['years']} years",
        highlight=False,
    )
    console.print(
        "IN-SAMPLE: both sides are valued with the model's own scores, from a model trained on "
        "outcomes of these same years; this is no evidence that triage chooses better. For "
        "that, see `triage evaluate` (yearly refits on earlier outcomes only, valued by the "
        "simulation's truth).",
        highlight=False,
        soft_wrap=True,
    )
    if out is not None:
        result.by_group.to_csv(out, index=False, lineterminator="\n")
