"""Text columns of the history tables: code lists, dates, UN regions, invented names; CSV text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from triage.errors import InputFileError
from triage.schema import region_of

_SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "za", "qu", "xe", "do", "fi", "gu", "ha",
    "jo", "ku", "li", "mo", "nu", "pe", "ri", "su", "ta", "ve", "wo", "yu", "zo",
)  # fmt: skip


def _codes(matrix: np.ndarray, codes: tuple[str, ...]) -> np.ndarray:
    """Join the codes of each boolean row with ``;`` (blank when none)."""
    weights = 1 << np.arange(matrix.shape[1], dtype=np.int64)
    packed = matrix.astype(np.int64) @ weights
    uniq, inverse = np.unique(packed, return_inverse=True)
    text = np.array(
        [";".join(c for j, c in enumerate(codes) if (u >> j) & 1) or None for u in uniq],
        dtype=object,
    )
    return text[inverse]


def _dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)


def _region(iso: np.ndarray) -> np.ndarray:
    uniq, inverse = np.unique(iso.astype(str), return_inverse=True)
    return np.array([region_of(str(c)) for c in uniq], dtype=object)[inverse]


def _fake_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Clearly invented names from a syllable list, tagged as simulated."""
    syl = np.array(_SYLLABLES, dtype=object)
    given = syl[rng.integers(0, len(syl), n)] + syl[rng.integers(0, len(syl), n)]
    family = (
        syl[rng.integers(0, len(syl), n)]
        + syl[rng.integers(0, len(syl), n)]
        + syl[rng.integers(0, len(syl), n)]
    )
    return np.array(
        [
            f"{g.capitalize()} {f.capitalize()} (simulated)"
            for g, f in zip(given, family, strict=True)
        ],
        dtype=object,
    )


def read_text_table(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """The given columns of a CSV file, in that order, as text (blank cells missing).

    Raises
    ------
    InputFileError
        If the file cannot be read as CSV or lacks one of ``columns``.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.EmptyDataError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{path}: cannot be read as CSV ({exc}).") from exc
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise InputFileError(f"{path}: missing required column(s) {', '.join(missing)}.")
    return raw.loc[:, list(columns)].copy()
