"""The simulated (or imported) history on disk: file names, exact columns, and a typed reader.

``triage generate`` writes these files and ``triage db load`` reads them. Dates are
``YYYY-MM-DD``, lists are ``;``-separated codes, booleans are ``true``/``false`` and unknown
values are blank.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pandera.pandas as pa

from triage.errors import InputFileError
from triage.schema._contracts import (
    CONTRACTS,
    Cases,
    Communications,
    ContractError,
    Outcomes,
    Queue,
    Submissions,
    Truth,
    coerce,
    columns_of,
)

__all__ = [
    "CASES_COLUMNS",
    "COMMUNICATIONS_COLUMNS",
    "HISTORY_FILES",
    "OUTCOMES_COLUMNS",
    "QUEUE_COLUMNS",
    "SENSITIVE_COLUMNS",
    "SUBMISSIONS_COLUMNS",
    "TRUTH_COLUMNS",
    "History",
    "codes_to_frame",
    "read_chunks",
    "read_history",
    "split_codes",
]

COMMUNICATIONS_COLUMNS: Final = columns_of(Communications)
CASES_COLUMNS: Final = columns_of(Cases)
OUTCOMES_COLUMNS: Final = columns_of(Outcomes)
TRUTH_COLUMNS: Final = columns_of(Truth)
#: The incoming queue: submissions received in the 12 months after the history.
#: ``type`` and ``n_mandates`` are the planned communication.
QUEUE_COLUMNS: Final = columns_of(Queue)
#: Every historical submission, including those not taken up (the paper's first
#: recommendation). ``case_id`` is blank when the submission did not become a case.
SUBMISSIONS_COLUMNS: Final = columns_of(Submissions)

#: Columns that identify people. Stored, never logged, explained or exported unless the role
#: allows it.
SENSITIVE_COLUMNS: Final = frozenset({"defender_name", "source_contact", "submitter_name"})

HISTORY_FILES: Final[Mapping[str, tuple[str, ...]]] = {
    name: columns_of(model) for name, model in CONTRACTS.items()
}


@dataclass(frozen=True)
class History:
    """The history tables, typed: dates as ``datetime64``, booleans as ``bool``, lists as text.

    ``submissions`` is ``None`` for a directory that has no ``submissions.csv``; ``truth`` is
    ``None`` for real (not simulated) data.
    """

    communications: pd.DataFrame
    cases: pd.DataFrame
    outcomes: pd.DataFrame
    queue: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    submissions: pd.DataFrame | None = None
    simulated: bool = True

    @classmethod
    def from_frames(cls, tables: Mapping[str, pd.DataFrame | None]) -> History:
        """Build a History from tables keyed by file name (``cases``, ``truth``, …).

        ``communications``, ``cases`` and ``outcomes`` are required; a missing optional table
        is ``None``. The history is simulated exactly when it has a truth table.
        """
        return cls(
            communications=tables["communications"],  # type: ignore[arg-type]
            cases=tables["cases"],  # type: ignore[arg-type]
            outcomes=tables["outcomes"],  # type: ignore[arg-type]
            queue=tables.get("queue"),
            truth=tables.get("truth"),
            submissions=tables.get("submissions"),
            simulated=tables.get("truth") is not None,
        )


def _read(path: Path, model: type[pa.DataFrameModel]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.EmptyDataError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{path}: cannot be read as CSV ({exc}).") from exc
    try:
        return coerce(frame, model, source=str(path))
    except ContractError as exc:
        if exc.failures.empty:  # a missing column: the message says which
            raise
        # The value is not shown: a shifted row can put a name or a contact in any column.
        raise ContractError(
            f"{exc} `triage ingest {path.name} --dry-run` lists every faulty row.", exc.failures
        ) from None


def read_history(directory: str | Path, *, skip: Collection[str] = ()) -> History:
    """Read a history directory written by ``triage generate`` (or exported in that shape).

    Parameters
    ----------
    directory : str or Path
        Folder holding ``communications.csv``, ``cases.csv`` and ``outcomes.csv``; ``queue.csv``,
        ``truth.csv`` and ``submissions.csv`` are read when present.
    skip : collection of str, optional
        Optional tables not to read (e.g. ``{"queue"}``): they are ``None``, so a caller that
        streams them with ``read_chunks`` does not hold them whole as well.

    Returns
    -------
    History
        The typed tables.

    Raises
    ------
    InputFileError
        If the folder or a required file is missing, a file lacks a required column, or cells
        break the table's contract (``triage.schema.CONTRACTS``; a ``ContractError`` whose
        ``failures`` lists every bad cell).
    """
    root = Path(directory)
    if not root.is_dir():
        raise InputFileError(f"{root}: no such history folder. Create one with `triage generate`.")
    tables: dict[str, pd.DataFrame | None] = {}
    for name, model in CONTRACTS.items():
        path = root / f"{name}.csv"
        if path.exists() and name not in skip:
            tables[name] = _read(path, model)
        elif name in ("communications", "cases", "outcomes"):
            raise InputFileError(f"{path}: required history file is missing.")
        else:
            tables[name] = None
    return History.from_frames(tables)


def read_chunks(
    path: Path, model: type[pa.DataFrameModel], key: str, rows: int
) -> Iterator[pd.DataFrame]:
    """Read a history file in typed chunks of ``rows`` rows, refusing what ``read_history``
    refuses, with the same message.

    A chunk is checked against the contract on its own; a key repeated in two chunks is found
    by keeping a 64-bit hash of every key read (8 bytes a row, not the rows). On any fault
    the whole file is read the old way (``_read``) to raise the message that names the first
    faulty row and counts every such cell in the file, as loading the file whole does.

    Parameters
    ----------
    path : Path
        A history file (e.g. ``queue.csv``).
    model : pandera DataFrameModel
        Its contract (``triage.schema.CONTRACTS``).
    key : str
        The contract's key column (never blank, unique over the file).
    rows : int
        Rows per chunk.

    Yields
    ------
    DataFrame
        Typed as ``read_history`` types the table; the index counts rows over the file.

    Raises
    ------
    InputFileError
        As ``read_history`` (a ``ContractError`` for cells that break the contract).
    """
    chunks = _chunks(path, model, key, rows)
    while True:
        try:
            frame = next(chunks)
        except StopIteration:
            return
        except Exception:
            _read(path, model)  # raises the whole file's message, as read_history would
            raise  # only if the file read whole passes: the chunk's own error stands
        yield frame


class _Repeated(Exception):
    """A key seen in an earlier chunk (the file read whole says which row)."""


def _chunks(
    path: Path, model: type[pa.DataFrameModel], key: str, rows: int
) -> Iterator[pd.DataFrame]:
    # The header alone first: a missing column is refused before any row is read.
    header = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], nrows=0)
    coerce(header, model, source=str(path))
    seen = np.empty(0, dtype=np.uint64)  # sorted
    reader = pd.read_csv(
        path, dtype=str, keep_default_na=False, na_values=[""], chunksize=max(1, rows)
    )
    done = 0
    with reader:
        for frame in reader:
            typed = coerce(frame, model, source=str(path))
            hashes = pd.util.hash_pandas_object(typed[key], index=False).to_numpy()
            at = np.minimum(np.searchsorted(seen, hashes), max(len(seen) - 1, 0))
            met = (seen[at] == hashes) if len(seen) else np.zeros(len(hashes), dtype=bool)
            # A hash met before is almost surely a repeated key; two keys sharing a hash are
            # told apart by reading the earlier rows' keys again (never refused for that).
            if met.any() and _in_first_rows(path, model, key, set(typed[key][met]), done, rows):
                raise _Repeated(key)
            seen = np.sort(np.concatenate([seen, hashes]))
            done += len(typed)
            yield typed


def _in_first_rows(
    path: Path, model: type[pa.DataFrameModel], key: str, values: set[object], n: int, rows: int
) -> bool:
    """Whether one of ``values`` is a key of the file's first ``n`` rows, read in chunks and
    typed as the contract types them (so a key compares as it was stored)."""
    if n == 0:
        return False
    reader = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        nrows=n,
        chunksize=max(1, rows),
    )
    with reader:
        return any(
            not values.isdisjoint(coerce(chunk, model, source=str(path))[key]) for chunk in reader
        )


def split_codes(value: object) -> tuple[str, ...]:
    """Split one ``;``-separated list cell into its codes (blank or NaN gives ``()``)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ()
    return tuple(code for code in (part.strip() for part in str(value).split(";")) if code)


def codes_to_frame(values: pd.Series, vocabulary: Iterable[str]) -> pd.DataFrame:
    """Turn a column of ``;``-separated codes into one boolean column per vocabulary code.

    The result has the same index as ``values`` and columns in vocabulary order. Codes outside
    the vocabulary are ignored here; intake validation is where they are reported.
    """
    vocab = list(vocabulary)
    text = values.fillna("").astype(str)
    padded = ";" + text.str.replace(" ", "", regex=False) + ";"
    return pd.DataFrame(
        {code: padded.str.contains(f";{code};", regex=False) for code in vocab}, index=values.index
    )
