"""Supplementary files of a simulated history: the paper's figures the six files cannot carry.

- ``sample_frame.csv``: case_id, communication_id, information_found (true/false): every case
  drawn for the impact study (661 at scale 1); the found ones (471) are exactly the cases of
  ``outcomes.csv`` assessed by ``survey`` or ``online``.
- ``communication_topics.csv``: communication_id, issue_areas (``;``-separated codes): letters
  naming no individual and press releases.
- ``reply_content.csv``: communication_id, reply_class, reports_improvement (true/false): every
  reply with known content (rejection or no_rejection) to a letter naming individuals.
- ``protester_descriptions.csv``: case_id, referred_as_activist (true/false): every protester
  case; whether the letter calls the person an activist.

They are drawn from their own random stream (``default_rng([seed, 99])``) after the rest of
the simulation, so the six history files do not depend on them. ``read_history`` ignores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from triage.errors import InputFileError
from triage.schema import ISSUE_AREAS
from triage.synth import _world as W
from triage.synth._columns import read_text_table

if TYPE_CHECKING:
    from triage.synth._letters import NamedLetters, OtherCommunications
    from triage.synth._outcomes import ImpactSample
    from triage.synth._simulate import _Run

__all__ = ["SUPPLEMENT_FILES", "read_supplements", "supplement_tables", "typed_supplement"]

#: Supplementary file name (without ``.csv``) -> its columns, in order.
SUPPLEMENT_FILES: Final[Mapping[str, tuple[str, ...]]] = {
    "sample_frame": ("case_id", "communication_id", "information_found"),
    "communication_topics": ("communication_id", "issue_areas"),
    "reply_content": ("communication_id", "reply_class", "reports_improvement"),
    "protester_descriptions": ("case_id", "referred_as_activist"),
}
_BOOL: Final = {
    "sample_frame": "information_found",
    "reply_content": "reports_improvement",
    "protester_descriptions": "referred_as_activist",
}
_STREAM: Final = 99  # second entropy word of the supplements' own random stream


def _systematic_flags(rng: np.random.Generator, rates: np.ndarray) -> np.ndarray:
    """Flag rows with chance ``rates`` (each < 1) so the count is within 1 of ``rates.sum()``."""
    if len(rates) == 0:
        return np.zeros(0, dtype=bool)
    cum = np.floor(np.cumsum(rates) + rng.random())
    return np.diff(np.r_[0.0, cum]) > 0  # floor(u) = 0 before the first row


def _topics(rng: np.random.Generator, lgbti: np.ndarray, described_other: np.ndarray) -> np.ndarray:
    """Issue areas of nameless communications: LGBTI flag plus one drawn other area or none."""
    others = [a for a in ISSUE_AREAS if a != "lgbti_rights"]
    p = np.array([W.OTHER_TOPIC_SHARES[a] for a in others], dtype=float)
    pick = rng.choice(len(others), size=len(lgbti), p=p / p.sum())
    text = np.empty(len(lgbti), dtype=object)
    for i in range(len(lgbti)):
        codes = []
        if lgbti[i]:
            codes.append("lgbti_rights")
        if described_other[i]:
            codes.append(others[pick[i]])
        # Keep the vocabulary order, as cases.csv does.
        text[i] = ";".join(a for a in ISSUE_AREAS if a in codes) or None
    return text


def supplement_tables(
    run: _Run,
    letters: NamedLetters,
    other: OtherCommunications,
    *,
    comm_id: np.ndarray,
    case_id: np.ndarray,
    sample: ImpactSample,
    improved: np.ndarray,
    letter_reply: np.ndarray,
) -> dict[str, pd.DataFrame]:
    """Build the four supplementary tables as text, exactly as written to CSV.

    ``comm_id`` lists named letters, then nameless letters, then press releases (the
    simulation's order); ``case_id`` and ``improved`` (each case's true improvement within a
    year) are in case order; ``sample`` indexes the cases drawn and found for the impact study;
    ``letter_reply`` is the observed reply class of each named letter. The tables draw from
    their own stream (``default_rng([run.seed, _STREAM])``), so the six tables are the same
    either way.
    """
    seed = run.seed
    n_letters = len(letters)
    unnamed_year, unnamed_sent = run.cal.year[other.unnamed_month], other.unnamed_sent
    pr_year, pr_sent = run.cal.year[other.release_month], other.release_sent
    case_letter, sampled, found = letters.case_letter, sample.drawn, sample.found
    protester, areas = run.people.protester[letters.taken], run.people.area[letters.taken]
    rng = np.random.default_rng([int(seed), _STREAM])
    n_u, n_r = len(unnamed_year), len(pr_year)

    # Impact-study frame: every drawn case, found or not (the draw itself is the simulation's).
    info = np.zeros(len(case_id), dtype=bool)
    info[found] = True
    frame = pd.DataFrame(
        {
            "case_id": case_id[sampled],
            "communication_id": comm_id[case_letter[sampled]],
            "information_found": np.where(info[sampled], "true", "false"),
        }
    ).sort_values("case_id", kind="stable")

    # Topics: LGBTI by year (systematic over time, so the count stays at its expectation).
    ids = np.concatenate([comm_id[n_letters : n_letters + n_u], comm_id[n_letters + n_u :]])
    sent = np.concatenate([unnamed_sent, pr_sent])
    rates = np.concatenate(
        [
            [W.LGBTI_UNNAMED_SHARE.get(int(y), 0.0) for y in unnamed_year],
            [W.LGBTI_PR_SHARE.get(int(y), 0.0) for y in pr_year],
        ]
    ).astype(float)
    lgbti = np.zeros(n_u + n_r, dtype=bool)
    for part in (np.arange(n_u), n_u + np.arange(n_r)):
        chrono = part[np.lexsort((ids[part], sent[part]))]
        lgbti[chrono] = _systematic_flags(rng, rates[chrono])
    described = rng.random(n_u + n_r) < 0.9
    topics = pd.DataFrame(
        {"communication_id": ids, "issue_areas": _topics(rng, lgbti, described | ~lgbti)}
    ).sort_values("communication_id", kind="stable")

    # Reply content: a reply reports an improvement only where one of the letter's cases did.
    letter_improved = np.zeros(n_letters, dtype=bool)
    letter_improved[case_letter[improved]] = True
    known = np.flatnonzero(np.isin(letter_reply, ("rejection", "no_rejection")))
    chrono = known[np.argsort(comm_id[known], kind="stable")]
    is_rej = letter_reply[chrono] == "rejection"
    chance = letter_improved[chrono] * np.where(
        is_rej, W.REJECTION_REPORTS_IMPROVEMENT, W.NO_REJECTION_REPORTS_IMPROVEMENT
    )
    reports = np.zeros(len(chrono), dtype=bool)
    for kind in (True, False):  # rejections and the rest each keep their expected count
        rows = np.flatnonzero(is_rej == kind)
        reports[rows] = _systematic_flags(rng, chance[rows])
    content = pd.DataFrame(
        {
            "communication_id": comm_id[chrono],
            "reply_class": letter_reply[chrono],
            "reports_improvement": np.where(reports, "true", "false"),
        }
    )
    # Protesters: whether the letter calls them activists depends on what it says they do.
    dem = list(ISSUE_AREAS).index("democratic_rights_institutions")
    rows = np.flatnonzero(protester)
    rows = rows[np.argsort(case_id[rows], kind="stable")]
    n_areas = areas[rows].sum(axis=1)
    protest_only = (n_areas == 1) & areas[rows, dem]
    p_not = np.select(
        [n_areas == 0, protest_only],
        [W.NOT_ACTIVIST_IF_UNDESCRIBED, W.NOT_ACTIVIST_IF_PROTEST_ONLY],
        default=W.NOT_ACTIVIST_IF_ACTIVITY,
    )
    activist = rng.random(len(rows)) >= p_not
    descriptions = pd.DataFrame(
        {"case_id": case_id[rows], "referred_as_activist": np.where(activist, "true", "false")}
    )
    return {
        "sample_frame": frame.reset_index(drop=True),
        "communication_topics": topics.reset_index(drop=True),
        "reply_content": content.reset_index(drop=True),
        "protester_descriptions": descriptions,
    }


def typed_supplement(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Type a supplementary text table as ``read_supplements`` does (booleans as ``bool``)."""
    out = frame.copy()
    if name in _BOOL:
        out[_BOOL[name]] = out[_BOOL[name]] == "true"
    return out


def read_supplements(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Read the supplementary files present in a history folder (booleans typed, the rest text).

    Parameters
    ----------
    folder : str or Path
        A history folder; ``triage generate`` writes the supplementary files beside the six,
        other histories (a registry export, an older folder) may lack some or all of them.

    Returns
    -------
    dict of str to pandas.DataFrame
        One entry per supplementary file found (a folder without them gives an empty dict).

    Raises
    ------
    InputFileError
        If a file present lacks a column or holds a boolean other than ``true``/``false``.
    """
    out: dict[str, pd.DataFrame] = {}
    for name, columns in SUPPLEMENT_FILES.items():
        path = Path(folder) / f"{name}.csv"
        if not path.exists():
            continue
        frame = read_text_table(path, columns)
        if name in _BOOL:
            col = _BOOL[name]
            bad = ~frame[col].isin(("true", "false"))
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputFileError(
                    f"{path}: row {row + 2}, column {col}: {frame[col].iloc[row]!r} is not "
                    "true or false."
                )
            frame[col] = frame[col] == "true"
        out[name] = frame
    return out
