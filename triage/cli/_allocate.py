"""CLI commands of the allocate module: select, price, tradeoff, rolling, backtest.

Heavy libraries (pandas, PuLP, highspy) are imported inside the commands so that ``--help`` is
instant and ``triage select --candidates`` never loads LightGBM, SHAP or Streamlit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from triage.cli._app import app, console, err_console
from triage.errors import InputFileError, TriageError

if TYPE_CHECKING:
    import pandas as pd

_POLICY_HELP = "Policy file (TOML). Default: policies/default.toml."


def _policy_path(policy: Path | None) -> Path:
    from triage.config import policies_dir

    return policy if policy is not None else policies_dir() / "default.toml"


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise InputFileError(f"{path}: no such {what} file.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot be read as CSV ({exc}).") from exc


def _guard(value: Any) -> Any:
    # Spreadsheet formula injection: a cell starting with one of these would be executed.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_reasons(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for col in ("case_id", "reason", "displaced_by"):
        out[col] = out[col].map(_guard)
    out["selected"] = out["selected"].map({True: "true", False: "false"})
    try:
        out.to_csv(path, index=False, lineterminator="\n")
    except OSError as exc:
        raise TriageError(f"{path}: cannot write the reasons file ({exc}).") from exc


def _print_summary(allocation: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print(
        f"[bold]{allocation.status}[/]: {len(allocation.selected)} of "
        f"{allocation.n_candidates} candidates selected, objective "
        f"{(allocation.objective or 0):.3f} expected improvements, gap {allocation.gap:g} "
        f"({allocation.solver}, policy {allocation.policy_name})",
        highlight=False,
    )
    table = Table("constraint", "kind", "target", "achieved", "binding", "shadow price")
    for r in allocation.constraints.to_dict("records"):
        if str(r["name"]).startswith("max_per_country") and not r["binding"]:
            continue
        price = r["shadow_price"]
        table.add_row(
            escape(str(r["name"])),
            str(r["kind"]),
            str(r["target"]),
            "" if r["achieved"] is None else str(r["achieved"]),
            "yes" if r["binding"] else "",
            "" if price != price else f"{price:+.4f}",
        )
    console.print(table)


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
            "(exact), displaced_by."
        ),
    ] = None,
    solver: Annotated[str, typer.Option(help="highs (falls back to CBC) or cbc.")] = "highs",
    user: Annotated[str, typer.Option(help="Who runs the selection (registry runs).")] = "cli",
    role: Annotated[str, typer.Option(help="Role of the user (registry runs).")] = "staff",
) -> None:
    """Select cases under a balance policy: exactly K = min(capacity, candidates), proven optimal.

    Exits with code 2 and an explanation (plus the smallest relaxation) if the policy cannot be
    met.
    """
    if solver not in ("highs", "cbc"):
        raise TriageError(f"--solver must be highs or cbc. Got {solver!r} instead.")
    from triage.allocate import explain_selection, load_policy

    policy_path = _policy_path(policy)
    pol = load_policy(policy_path)
    if candidates is not None:
        from triage.allocate import allocate

        frame = _read_csv(candidates, "candidates")
        from triage.allocate._problem import prepare_candidates

        cands = prepare_candidates(frame, source=str(candidates))
        allocation = allocate(cands, pol, solver=solver)  # type: ignore[arg-type]
    else:
        try:
            from triage.audit import run_selection  # type: ignore[attr-defined]
            from triage.registry import Registry  # type: ignore[attr-defined]
        except ImportError as exc:
            raise TriageError(
                "Selecting from the registry needs the audit module, which is not available "
                "yet. Pass --candidates FILE with scored candidates instead."
            ) from exc
        if role not in ("staff", "mandate_holder", "auditor"):
            raise TriageError(f"--role must be staff, mandate_holder or auditor. Got {role!r}.")
        record = run_selection(
            registry=Registry(),
            policy_path=policy_path,
            user=user,
            role=role,  # type: ignore[arg-type]
        )
        allocation = record.allocation
        cands = None
        err_console.print(f"recorded run {record.run_id}", highlight=False)
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
        _write_reasons(explain_selection(cands, pol, allocation), reasons)
        err_console.print(f"wrote reasons for {len(cands)} candidates to {reasons}")
    if allocation.status == "infeasible":
        raise TriageError(allocation.message, exit_code=2)
