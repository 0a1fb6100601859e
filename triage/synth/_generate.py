"""Write the simulated history to a folder: six CSV files in the history contract, four more."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from triage.config import DEFAULT_SEED
from triage.errors import TriageError
from triage.schema import CONTRACTS, HISTORY_FILES, coerce
from triage.synth._simulate import ProgressCallback, _check, _run

__all__ = ["generate"]


def generate(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    outcomes: Literal["sample", "all"] = "sample",
    scale: float = 1.0,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Simulate the history and write communications, cases, outcomes, truth, queue, submissions.

    Also writes the supplementary ``sample_frame.csv``, ``communication_topics.csv``,
    ``reply_content.csv`` and ``protester_descriptions.csv`` (figures of the paper the six files cannot carry; see
    ``triage.synth.read_supplements``) and the counterfactual ``submission_plans.csv`` and
    ``submission_truth.csv`` (see ``triage.synth.read_counterfactual``; never features). They
    come from their own random streams, so the six files are the same as without them.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if missing; existing history files are replaced).
    seed : int
        Seed of the simulation; the same seed writes byte-identical files.
    outcomes : {"sample", "all"}
        ``"all"`` adds a ``systematic`` outcome for every case outside the impact sample.
    scale : float
        Multiplies every volume; calibration holds at 1 only.
    on_progress : callable, optional
        ``on_progress(done, total, what)`` while simulating and writing.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    ContractError
        If a simulated table breaks its contract (``triage.schema.coerce``); nothing is written then.
    TriageError
        If the folder cannot be created or written.
    """
    from triage.synth._assemble import to_text
    from triage.synth._counterfactual import COUNTERFACTUAL_FILES
    from triage.synth._supplements import SUPPLEMENT_FILES

    _check(seed, outcomes, scale)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TriageError(f"{out}: cannot create the output folder ({exc.strerror}).") from exc
    columns = {**HISTORY_FILES, **SUPPLEMENT_FILES, **COUNTERFACTUAL_FILES}
    # One bar: the simulated months, assembling the tables, then writing each file.
    steps = {"months": 0}

    def months(done: int, total: int, what: str) -> None:
        steps["months"] = total
        if on_progress is not None:
            on_progress(done, total + 1 + len(columns), what)

    run = _run(int(seed), float(scale), months)
    n_months = steps["months"]
    total = n_months + 1 + len(columns)
    tables = to_text(
        run, outcomes=outcomes, scale=float(scale), supplements=True, counterfactual=True
    )
    if on_progress is not None:
        on_progress(n_months + 1, total, "assembled tables")
    tables = {name: frame.loc[:, list(columns[name])] for name, frame in tables.items()}
    for name, model in CONTRACTS.items():
        # Each table's one contract, as its readers apply it: nothing is written if one breaks it.
        coerce(tables[name], model, source=f"the simulated {name}.csv")
    for i, (name, frame) in enumerate(tables.items()):
        path = out / f"{name}.csv"
        try:
            frame.to_csv(path, index=False, lineterminator="\n", float_format="%.6f")
        except OSError as exc:
            raise TriageError(f"{path}: cannot be written ({exc.strerror}).") from exc
        if on_progress is not None:
            on_progress(n_months + 2 + i, total, f"wrote {name}.csv")
    return out
