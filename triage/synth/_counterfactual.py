"""Counterfactual files of a simulated history: every eligible submission as if taken up.

- ``submission_plans.csv``: submission_id, type, n_mandates, last_incident_date. The
  communication a take-up would have had: for a submission that became a case, its letter's
  type, co-signing mandates and last incident; for any other eligible submission, a letter
  design drawn as the mandate drew it that year (``_letter_design``) and a last incident a few
  days before receipt, drawn like those of the submissions taken up.
- ``submission_truth.csv``: submission_id, p_improve. Each eligible submission's chance of
  improvement within a year had it been taken up, computed exactly as truth.csv's p_improve
  (the hidden term averaged out, ``_marginal_improve``); for a submission that became a case
  it *is* that case's truth. Never a feature: ``read_history`` and every feature ignore it;
  only ``triage.evaluate`` sums it over selections.

Both come from their own random stream (``default_rng([seed, 98])``) after the rest of the
simulation, so the six history files and the four supplementary ones do not depend on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from triage.errors import InputFileError
from triage.synth._columns import read_text_table

if TYPE_CHECKING:
    from triage.synth._letters import NamedLetters

__all__ = [
    "COUNTERFACTUAL_FILES",
    "counterfactual_tables",
    "read_counterfactual",
    "typed_counterfactual",
]

#: Counterfactual file name (without ``.csv``) -> its columns, in order.
COUNTERFACTUAL_FILES: Final[Mapping[str, tuple[str, ...]]] = {
    "submission_plans": ("submission_id", "type", "n_mandates", "last_incident_date"),
    "submission_truth": ("submission_id", "p_improve"),
}
_STREAM: Final = 98  # second entropy word of the counterfactual files' own random stream


def counterfactual_tables(
    *,
    seed: int,
    submission_id: np.ndarray,
    received: np.ndarray,
    eligible: np.ndarray,
    letters: NamedLetters,
    case_truth: np.ndarray,
    truth_of: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> dict[str, pd.DataFrame]:
    """Build the two counterfactual tables as text, exactly as written to CSV.

    Parameters
    ----------
    seed : int
        The simulation's seed (the stream is ``default_rng([seed, 98])``).
    submission_id, received, eligible : ndarray
        Per submitted person: id text, receipt date (``datetime64[D]``), eligibility.
    letters : NamedLetters
        The letters naming individuals: which submissions became cases (``taken``, in case
        order) and each case's letter (its type, mandates and last incident).
    case_truth : ndarray
        Per case: truth.csv's p_improve.
    truth_of : callable
        ``truth_of(rows, n_mandates, delay_days, sent_year) -> p_improve`` for submissions
        ``rows`` (the generator's truth model with its intercept, hidden term averaged out).
    """
    from triage.synth._columns import _dates
    from triage.synth._letters import _drafting_days, _letter_design

    taken = letters.taken
    case_type = letters.kind[letters.case_letter]
    case_mandates = letters.n_mandates[letters.case_letter]
    case_incident = letters.last_incident[letters.case_letter]
    rng = np.random.default_rng([int(seed), _STREAM])
    n = len(submission_id)
    is_taken = np.zeros(n, dtype=bool)
    is_taken[taken] = True
    rows = np.flatnonzero(np.asarray(eligible, dtype=bool) & ~is_taken)
    recv = np.asarray(received).astype("datetime64[D]")
    year = recv[rows].astype("datetime64[Y]").astype(int) + 1970
    kind, mandates = _letter_design(rng, year, named=True)
    # Days from the last incident to receipt, as for the submissions taken up; the letter then
    # takes its drafting delay from the incident, never reaching receipt's day or earlier.
    lag = np.round(rng.gamma(1.5, 3.0, len(rows))).astype(np.int64)
    delay = np.maximum(_drafting_days(rng, kind, mandates), lag + 1)
    incident = recv[rows] - lag.astype("timedelta64[D]")
    sent_year = (incident + delay.astype("timedelta64[D]")).astype("datetime64[Y]").astype(
        int
    ) + 1970
    p_rows = np.asarray(truth_of(rows, mandates, delay, sent_year), dtype=np.float64)

    ids = np.concatenate([submission_id[taken], submission_id[rows]])
    order = np.argsort(ids, kind="stable")
    plans = pd.DataFrame(
        {
            "submission_id": ids,
            "type": np.concatenate([case_type, kind]),
            "n_mandates": np.concatenate([case_mandates, mandates]),
            "last_incident_date": np.concatenate([_dates(case_incident), _dates(incident)]),
        }
    ).iloc[order]
    truth = pd.DataFrame(
        {"submission_id": ids, "p_improve": np.concatenate([case_truth, p_rows])}
    ).iloc[order]
    return {
        "submission_plans": plans.reset_index(drop=True),
        "submission_truth": truth.reset_index(drop=True),
    }


def typed_counterfactual(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Type a counterfactual text table as ``read_counterfactual`` does."""
    out = frame.copy()
    if name == "submission_plans":
        out["n_mandates"] = pd.to_numeric(out["n_mandates"]).astype("Int64")
        out["last_incident_date"] = pd.to_datetime(out["last_incident_date"], format="%Y-%m-%d")
        out["type"] = out["type"].astype(str)
    else:
        out["p_improve"] = out["p_improve"].astype(float).round(6)
    out["submission_id"] = out["submission_id"].astype(str)
    return out


def read_counterfactual(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Read ``submission_plans.csv`` and ``submission_truth.csv`` from a history folder.

    Parameters
    ----------
    folder : str or Path
        A history folder written by ``triage generate``.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``submission_plans`` and ``submission_truth``, typed (dates, ``Int64`` mandates, float
        p_improve).

    Raises
    ------
    InputFileError
        If a file is missing, unreadable, lacks a column or holds a bad value.
    """
    out: dict[str, pd.DataFrame] = {}
    for name, columns in COUNTERFACTUAL_FILES.items():
        path = Path(folder) / f"{name}.csv"
        if not path.is_file():
            raise InputFileError(
                f"{path}: no such file; `triage evaluate` needs the counterfactual files that "
                "`triage generate` writes (simulated histories only; regenerate older folders with "
                "`triage generate --out DIR`)."
            )
        raw = read_text_table(path, columns)
        try:
            frame = typed_counterfactual(name, raw)
        except (ValueError, TypeError) as exc:
            raise InputFileError(f"{path}: a value cannot be read ({exc}).") from exc
        if name == "submission_truth":
            p = frame["p_improve"].to_numpy()
            bad = ~((p >= 0) & (p <= 1))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise InputFileError(
                    f"{path}: row {row + 2}, column p_improve: {raw['p_improve'].iloc[row]!r} "
                    "is not a probability."
                )
        out[name] = frame
    return out
