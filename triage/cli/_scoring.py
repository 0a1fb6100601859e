"""CLI commands of the scoring module: ``triage train``, ``triage score``, ``triage explain``.

pandas, LightGBM and SHAP are imported inside the command functions so that other commands start
fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from triage.cli._app import app, console

if TYPE_CHECKING:
    import pandas as pd

    from triage.schema import History

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="History folder (from `triage generate`). Default: var/history, else the registry.",
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="Model folder (default: models/default)."),
]
CasesOption = Annotated[
    Path,
    typer.Option(
        "--cases",
        help="Cases to score, CSV or XLSX in the vocabulary of cases.csv or queue.csv.",
    ),
]


def _history(data: Path | None) -> History:
    from triage.config import default_history_dir
    from triage.errors import TriageError
    from triage.schema import read_history

    if data is not None:
        return read_history(data)
    default = default_history_dir()
    if default.is_dir():
        return read_history(default)
    try:
        from triage.registry import Registry

        registry = Registry()
        if not registry.is_empty():
            return registry.history()
    except ImportError:
        pass
    raise TriageError(
        f"no history found at {default} and the registry is empty. Pass --data DIR, or build the "
        "simulated history with `triage generate --out var/history`."
    )


def _read_cases(path: Path) -> pd.DataFrame:
    import pandas as pd

    from triage.errors import InputFileError

    if not path.is_file():
        raise InputFileError(f"{path}: no such file.")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, na_values=[""])
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as exc:
        raise InputFileError(f"{path}: cannot be read as a table ({exc}).") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in ("case_id", "country"):
        if column not in frame.columns:
            raise InputFileError(f"{path}: missing required column `{column}`.")
    if "sent_date" not in frame.columns and "received_date" not in frame.columns:
        raise InputFileError(
            f"{path}: needs a `sent_date` (historical cases) or `received_date` (queue) column."
        )
    if frame.empty:
        raise InputFileError(f"{path}: has no rows.")
    return frame


def _inputs(
    cases: Path, data: Path | None, model: Path | None
) -> tuple[pd.DataFrame, History, Any]:
    """The cases file, the history (``_history``) and the model (default: models/default)."""
    from triage.scoring import load_model

    return _read_cases(cases), _history(data), load_model(model)


def _in_file(path: Path, fn: Any, *args: Any) -> Any:
    """Run ``fn`` and name ``path`` in any input error it raises."""
    from triage.errors import InputFileError

    try:
        return fn(*args)
    except InputFileError as exc:
        message = exc.message.removeprefix("cases: ")
        raise InputFileError(f"{path}: {message}") from exc


@app.command()
def train(
    data: DataOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Model folder to write (default: models/default)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random step.")] = 0,
    n_bootstrap: Annotated[
        int, typer.Option("--n-bootstrap", help="Bootstrap boosters for the intervals.")
    ] = 20,
    compare_with: Annotated[
        Path | None,
        typer.Option(
            "--compare-with",
            help="Another trained model folder (e.g. on --outcomes all data) to report alongside.",
        ),
    ] = None,
) -> None:
    """Train the improvement model on the labelled cases, print held-out metrics, write artifacts.

    Splits by time (test = most recent years), compares with the base rate, a logistic regression
    and, on simulated data, the generator's truth.
    """
    from rich.table import Table

    from triage.cli._progress import progress_bar
    from triage.config import models_dir
    from triage.scoring import train as train_model

    history = _history(data)
    target = out if out is not None else models_dir() / "default"
    with progress_bar("Training") as update:
        result = train_model(
            history,
            out_dir=target,
            seed=seed,
            n_bootstrap=n_bootstrap,
            compare_with=compare_with,
            on_progress=update,
        )
    split = result.summary["split"]
    title = "Held-out test years " + ", ".join(str(y) for y in split["test"]["years"])
    if history.simulated:
        title += " (SIMULATED data)"
    table = Table(title=title)
    for col in ("model", "n", "AUC", "Brier", "log loss", "ECE"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for row in result.metrics.to_dict("records"):
        table.add_row(
            str(row["model"]),
            str(row["n"]),
            f"{row['auc']:.3f}",
            f"{row['brier']:.4f}",
            f"{row['log_loss']:.4f}",
            f"{row['ece']:.4f}",
        )
    console.print(table)
    console.print(result.summary["verdict"], highlight=False, soft_wrap=True)
    cov = result.coverage
    if "covered" in cov:
        console.print(
            f"interval coverage of the truth: {cov['covered']:.1%} (nominal {cov['nominal']:.0%}, "
            f"mean width {cov['mean_width']:.3f})",
            highlight=False,
        )
    console.print(
        f"calibration: {result.summary['calibration']['kind']}; trained on "
        f"{result.summary['n_labelled']} labelled cases; model sha256 "
        f"{result.model.sha256[:12]}; written to {target}",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def score(
    cases: CasesOption,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="CSV to write: case_id, score, lower, upper (+ p_selected, chance with --policy).",
        ),
    ],
    data: DataOption = None,
    model: ModelOption = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Also give each case's chance of selection under this policy (TOML): the share "
            "of the model's bootstrap replicates under which the policy selects it (p_selected).",
        ),
    ] = None,
    replicates: Annotated[
        bool,
        typer.Option(
            "--replicates",
            help="Also write each bootstrap replicate's score (replicate_1, ...), so that "
            "`triage select --candidates` can compute p_selected under any policy.",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the tie lottery (with --policy).")] = 0,
) -> None:
    """Score cases: calibrated probability of improvement within a year, with its interval."""
    from triage.features import build_features

    frame, history, fitted = _inputs(cases, data, model)
    pol = None
    if policy is not None:
        from triage.allocate import load_policy

        pol = load_policy(policy)
    features = _in_file(cases, build_features, frame, history)
    scored = fitted.predict(frame, history, features=features)
    members = fitted.member_scores(features) if (pol is not None or replicates) else None
    if pol is not None and members is not None:
        scored = scored.merge(
            _chances(cases, frame, scored, pol, members, seed), on="case_id", how="left"
        )
    if replicates and members is not None:
        for b in range(members.shape[1]):
            scored[f"replicate_{b + 1}"] = members[:, b]
    _write_scores(scored, out)
    console.print(
        f"scored {len(scored)} cases with model {fitted.version} ({fitted.sha256[:12]}) → {out}",
        highlight=False,
        soft_wrap=True,
    )


def _chances(
    path: Path, frame: pd.DataFrame, scored: pd.DataFrame, policy: Any, members: Any, seed: int
) -> pd.DataFrame:
    """p_selected and its words for every scored case (``triage score --policy``)."""
    from triage.allocate import CANDIDATE_COLUMNS, selection_chances
    from triage.errors import InputFileError

    missing = [c for c in CANDIDATE_COLUMNS if c != "score" and c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{path}: --policy needs the columns {', '.join(missing)} to place each case in "
            "the policy's groups."
        )
    cands = frame.loc[:, [c for c in CANDIDATE_COLUMNS if c != "score"]].copy()
    cands["case_id"] = cands["case_id"].astype(str)
    cands = cands.merge(scored[["case_id", "score"]], on="case_id", how="left")
    if members.shape[1] == 0:
        raise InputFileError(
            f"{path}: the model has no bootstrap replicates, so no chance of selection can be "
            "computed; retrain it with `triage train`."
        )
    chances = _in_file(path, lambda: selection_chances(cands, policy, members, seed=seed)).by_case
    return chances.loc[:, ["case_id", "p_selected", "chance"]]


def _write_scores(scored: pd.DataFrame, out: Path) -> None:
    from triage.errors import TriageError

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        scored.to_csv(out, index=False, float_format="%.6f", lineterminator="\n")
    except OSError as exc:
        raise TriageError(f"{out}: cannot write the scores ({exc}).") from exc


@app.command()
def explain(
    cases: CasesOption,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="CSV to write: case_id, feature, value, contribution (+ a _base row)."
        ),
    ],
    data: DataOption = None,
    model: ModelOption = None,
    reasons_out: Annotated[
        Path | None,
        typer.Option("--reasons", help="Also write the top reasons in words: case_id, rank, text."),
    ] = None,
    top: Annotated[int, typer.Option(help="Reasons per case for --reasons.")] = 3,
) -> None:
    """Explain scores with SHAP in probability points; per case, contributions + base = score."""
    from triage.explain import explain as explain_cases
    from triage.explain import reasons

    frame, history, fitted = _inputs(cases, data, model)
    table = _in_file(cases, explain_cases, fitted, frame, history)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, float_format="%.10f", lineterminator="\n")
    console.print(
        f"explained {len(frame)} cases ({len(table)} rows) with model {fitted.version} → {out}",
        highlight=False,
        soft_wrap=True,
    )
    if reasons_out is not None:
        words = reasons(table, top=top)[["case_id", "rank", "text"]]
        reasons_out.parent.mkdir(parents=True, exist_ok=True)
        words.to_csv(reasons_out, index=False, lineterminator="\n")
        console.print(f"reasons → {reasons_out}", highlight=False, soft_wrap=True)
