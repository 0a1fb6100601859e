"""What each evaluated year sees: the history known at its start, its pool and its truth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from triage.errors import TriageError
from triage.schema import QUEUE_COLUMNS, SENSITIVE_COLUMNS, History

__all__ = ["Prepared", "known_at", "observed_dates", "prepare"]

#: An outcome is observed one year after its case's ``sent_date`` (the history contract).
OUTCOME_LAG = pd.Timedelta(days=365)

#: The queue's columns without the sensitive ones: what a submission pool is scored on.
_POOL_COLUMNS = tuple(c for c in QUEUE_COLUMNS if c not in SENSITIVE_COLUMNS)


@dataclass(frozen=True)
class Prepared:
    """One history ready to evaluate.

    Attributes
    ----------
    history : History
        The history without its truth (``truth=None``, ``queue=None``): what the mandate knew.
    pool : DataFrame
        Every eligible submission in the vocabulary of ``queue.csv`` (``case_id`` is the
        submission_id, the letter is the planned one), plus ``year`` (received), ``taken``
        (it became a case) and ``truth`` (its chance of improvement had it been taken up).
    seed : int
        The seed of the simulated history (a label: 0 for a folder read from disk).
    """

    history: History
    pool: pd.DataFrame
    seed: int


def observed_dates(history: History) -> pd.Series:
    """The date each labelled case's outcome became known (``sent_date`` + one year)."""
    sent = history.cases.set_index("case_id")["sent_date"]
    dates = history.outcomes["case_id"].map(sent)
    return pd.to_datetime(dates) + OUTCOME_LAG


def known_at(history: History, start: pd.Timestamp) -> History:
    """The history as known at ``start``: only outcomes observed strictly before it.

    Features are point-in-time already; cutting the outcomes also cuts the labels a model
    trained on this history can see.
    """
    keep = (observed_dates(history) < start).to_numpy()
    return replace(history, outcomes=history.outcomes[keep].reset_index(drop=True))


def prepare(
    tables: Mapping[str, pd.DataFrame | None],
    counterfactual: Mapping[str, pd.DataFrame],
    *,
    seed: int = 0,
) -> Prepared:
    """Join eligible submissions with their planned letter and their counterfactual truth.

    Parameters
    ----------
    tables : mapping
        The history tables (``simulate`` output or a ``History``'s frames); needs
        ``submissions``.
    counterfactual : mapping
        ``submission_plans`` and ``submission_truth`` (``triage.synth.read_counterfactual``).
    seed : int, default 0
        The history's seed, recorded with the result (a label only).

    Raises
    ------
    TriageError
        If submissions or the counterfactual files are missing or do not match.
    """
    subs = tables.get("submissions")
    if subs is None:
        raise TriageError("the history has no submissions.csv; evaluation needs it.")
    for name in ("submission_plans", "submission_truth"):
        if name not in counterfactual:
            raise TriageError(f"the counterfactual table {name} is missing.")
    eligible = subs[subs["eligible"].fillna(False).astype(bool)]
    pool = eligible.merge(counterfactual["submission_plans"], on="submission_id", how="left")
    pool = pool.merge(counterfactual["submission_truth"], on="submission_id", how="left")
    missing = pool["p_improve"].isna().to_numpy() | pool["type"].isna().to_numpy()
    if missing.any():
        first = str(pool["submission_id"].iloc[int(np.flatnonzero(missing)[0])])
        raise TriageError(
            f"submission {first} is eligible but has no planned letter or no truth in the "
            "counterfactual files; they do not belong to this history."
        )
    pool = pool.assign(
        taken=pool["case_id"].notna().to_numpy(),
        year=pd.to_datetime(pool["received_date"]).dt.year.to_numpy(),
        truth=pool["p_improve"].to_numpy(dtype=float),
    )
    pool["case_id"] = pool["submission_id"].astype(str)
    pool = pool.loc[:, [*_POOL_COLUMNS, "year", "taken", "truth"]].reset_index(drop=True)
    history = History.from_frames({**tables, "truth": None, "queue": None})
    history = replace(history, simulated=True)
    return Prepared(history=history, pool=pool, seed=int(seed))
