"""What ``triage select`` and its sibling commands print and write: summaries, tables, reasons.

The reasons file is guarded against spreadsheet formula injection; replicate scores given with
the candidates are checked to be probabilities before their chances are computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.cli._app import console, err_console
from triage.errors import InputFileError, TriageError

if TYPE_CHECKING:
    import pandas as pd


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
    if "chance" in out.columns:
        out["chance"] = out["chance"].map(_guard)
    try:
        out.to_csv(path, index=False, lineterminator="\n")
    except OSError as exc:
        raise TriageError(f"{path}: cannot write the reasons file ({exc}).") from exc


def _print_summary(allocation: Any) -> None:
    from rich.markup import escape
    from rich.table import Column, Table

    console.print(
        f"[bold]{allocation.status}[/]: {len(allocation.selected)} of "
        f"{allocation.n_candidates} candidates selected, objective "
        f"{(allocation.objective or 0):.3f} expected improvements, gap {allocation.gap:g} "
        f"({allocation.solver}, policy {allocation.policy_name})",
        highlight=False,
    )
    table = Table("kind", "target", "achieved", "binding", "shadow price")
    table.columns.insert(0, Column("constraint", overflow="fold"))
    for r in allocation.constraints.to_dict("records"):
        name = str(r["name"])
        if name.startswith(("exploration[", "must_include[")):
            continue  # one line each would drown the table; counted below
        if name.startswith("max_per_country") and not r["binding"]:
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
    for tie in getattr(allocation, "ties", ()):
        console.print(
            f"{len(tie.draw_order)} candidates tie exactly at a score of {tie.score:.1%}; the "
            f"{tie.places} place(s) among them were drawn by lot (seed {allocation.tie_seed}; "
            "the draw order is in the --json output and the run record).",
            highlight=False,
        )
    forced = allocation.constraints["name"].str.startswith("must_include[").sum()
    if forced or allocation.exploration:
        console.print(
            f"{forced} must-include case(s); {len(allocation.exploration)} case(s) drawn at "
            "random for exploration.",
            highlight=False,
        )
    if allocation.missing_must_include:
        err_console.print(
            "warning: must-include case(s) not among the candidates: "
            + ", ".join(allocation.missing_must_include),
            highlight=False,
        )


def _replicate_chances(
    frame: pd.DataFrame, path: Path, policy: Any, seed: int
) -> pd.DataFrame | None:
    """p_selected from the candidates' replicate_1.. columns (``triage score --replicates``)."""
    import numpy as np
    import pandas as pd

    cols = [c for c in frame.columns if c.startswith("replicate_")]
    if not cols:
        return None
    values = frame.loc[:, cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        raise InputFileError(
            f"{path}: line {row + 2}, column {cols[col]}: a replicate score must be a "
            "probability in [0, 1]."
        )
    from triage.allocate import selection_chances

    return selection_chances(frame, policy, values, seed=seed).by_case


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    from rich.markup import escape
    from rich.table import Column, Table

    table = Table(*[Column(str(c), overflow="fold") for c in frame.columns], title=title)
    for rec in frame.itertuples(index=False):
        cells = []
        for v in rec:
            if isinstance(v, float):
                if v != v:
                    cells.append("")
                else:
                    cells.append(str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.4f}")
            else:
                cells.append(escape(str(v)))
        table.add_row(*cells)
    console.print(table)
