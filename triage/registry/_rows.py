"""Row plumbing shared by the registry's writers and readers: pandas cells to driver values,
frames to records, one executemany per table, new-key filtering, status steps, and the
communications writer used by both a history load and intake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update

from triage.errors import TriageError
from triage.registry._models import Base, Communication, Meta, Reply
from triage.schema import BOOL_COLUMNS, DATE_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS

#: ``source`` of a communication known only from a case; a later full record replaces it.
STUB = "stub"

#: Dates of the registry's own tables (a status step, an outcome); the rest come from the
#: table contracts of ``triage.schema``.
_DATE_COLUMNS = DATE_COLUMNS | {"outcome_date", "at"}


def typed_frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Build a frame typed like ``read_history`` from database rows: dates ``datetime64``,
    booleans ``boolean``, counts ``Int64``, probabilities float, everything else text (blank →
    NaN); each column's type is its type in the table contracts (``triage.schema``).
    """
    rows = list(rows)
    return typed_columns({col: [row.get(col) for row in rows] for col in columns}, columns)


def typed_columns(values: Mapping[str, Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """:func:`typed_frame` of rows given column by column (``values[col]``, all as long).

    A query's rows turned into columns once cost a fraction of a dict per row on a
    100,000-case queue. Dates may come as ``date`` or as the driver's ``YYYY-MM-DD`` text,
    booleans as ``bool`` or 0/1: both give the same frame.
    """
    data: dict[str, Any] = {}
    for col in columns:
        cells = values[col]
        try:
            data[col] = _typed(col, cells)
        except (ValueError, TypeError, KeyError) as exc:
            raise _edited(col, cells, values) from exc
    return pd.DataFrame(data, columns=list(columns))


_TEXT_OR_NONE = frozenset({str, type(None)})
#: What a boolean cell may hold (SQLite keeps booleans as 0/1): anything else was written
#: around triage and is refused, never read as true.
_BOOLS: dict[Any, bool] = {True: True, False: False}


def _typed(col: str, cells: Sequence[Any]) -> Any:
    """One column's cells, typed as :func:`typed_columns` says; raises on a cell that is not
    of its column's type."""
    if col in _DATE_COLUMNS:
        text = pd.Series([None if v is None else str(v)[:10] for v in cells], dtype="str")
        return pd.to_datetime(text, format="%Y-%m-%d", errors="raise")
    if col in BOOL_COLUMNS:
        return pd.array([None if v is None else _BOOLS[v] for v in cells], dtype="boolean")
    if col in INT_COLUMNS:
        return pd.array([None if v is None else int(v) for v in cells], dtype="Int64")
    if col in FLOAT_COLUMNS:
        return pd.array([float("nan") if v is None else float(v) for v in cells], dtype=float)
    if _TEXT_OR_NONE.issuperset(map(type, cells)):
        # A text column as the driver gives it: the cells are already what str() makes.
        return pd.Series(cells, dtype="str")
    return pd.Series([None if v is None else str(v) for v in cells], dtype="str")


def _edited(col: str, cells: Sequence[Any], values: Mapping[str, Sequence[Any]]) -> TriageError:
    """The one line for a registry cell that is not of its column's type (the database was
    written around triage); names the row by its id, never repeats the value."""
    kind, ok = _check_of(col)
    bad = [i for i, v in enumerate(cells) if v is not None and not ok(v)]
    key = next((k for k in ("case_id", "submission_id", "communication_id") if k in values), None)
    first = bad[0] if bad else 0
    where = f"{key} {values[key][first]}" if key is not None else f"row {first + 1}"
    count = f"{len(bad)} cells" if len(bad) > 1 else "1 cell"
    return TriageError(
        f"the registry's column {col} holds a value that is not {kind} ({count}, the first at "
        f"{where}); the database was changed outside triage: restore it from a backup."
    )


def _check_of(col: str) -> tuple[str, Callable[[Any], bool]]:
    """What ``col``'s cells must be, in words, and a test of one cell."""

    def parses(convert: Callable[[Any], Any]) -> Callable[[Any], bool]:
        def ok(value: Any) -> bool:
            try:
                convert(value)
            except (ValueError, TypeError):
                return False
            return True

        return ok

    if col in _DATE_COLUMNS:
        return "a date (YYYY-MM-DD)", parses(lambda v: dt.date.fromisoformat(str(v)[:10]))
    if col in BOOL_COLUMNS:
        return "true or false", lambda v: v in _BOOLS
    if col in INT_COLUMNS:
        return "a whole number", parses(int)
    return "a number", parses(float)


_PLAIN = (str, int, bool, float, dt.date)


def db_value(value: Any) -> Any:
    """Turn one pandas cell into what the database driver expects (NaN/NA → None)."""
    if value is None:
        return None
    if type(value) in _PLAIN:
        return None if value != value else value  # NaN is the only value unequal to itself
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The frame's rows as dicts of plain Python values (dates as ``date``, NA as None)."""
    cols = [c for c in columns if c in frame.columns]
    lists: list[list[Any]] = []
    for c in cols:
        series = frame[c]
        if pd.api.types.is_datetime64_any_dtype(series):
            values = [None if v is pd.NaT else v.date() for v in series.tolist()]
        else:
            values = series.astype(object).where(series.notna(), None).tolist()
        lists.append(values)
    return [dict(zip(cols, row, strict=True)) for row in zip(*lists, strict=True)]


def as_date(value: Any) -> dt.date | None:
    value = db_value(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def bulk_insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one executemany. Every row gets every key, because an executemany
    takes its columns from the first row and would silently drop the others' extra keys."""
    if not rows:
        return
    keys: dict[str, None] = dict.fromkeys(rows[0])
    if any(len(r) != len(keys) or r.keys() != keys.keys() for r in rows):
        for r in rows:
            keys.update(dict.fromkeys(r))
        rows = [{k: r.get(k) for k in keys} for r in rows]
    conn.execute(insert(table), rows)


def insert_new(
    conn: Any,
    table: type[Base],
    key: str,
    rows: list[dict[str, Any]],
    added: dict[str, int],
    skipped: dict[str, int],
    *,
    extra: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Insert the rows whose ``key`` is new (one executemany); count added and skipped rows
    per table into ``added`` and ``skipped``; return the rows inserted."""
    name = table.__tablename__  # type: ignore[attr-defined]
    new = [{**r, **(extra or {})} for r in new_rows(conn, table, key, rows)]
    if new:
        bulk_insert(conn, table, new)
    added[name] = added.get(name, 0) + len(new)
    skipped[name] = skipped.get(name, 0) + len(rows) - len(new)
    return new


def new_rows(
    conn: Any, table: type[Base], key: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows whose key is not in the table yet (a key repeated in ``rows`` counts once)."""
    existing = set(conn.execute(select(getattr(table, key))).scalars())
    new: list[dict[str, Any]] = []
    for r in rows:
        if r[key] in existing:
            continue
        existing.add(r[key])
        new.append(r)
    return new


def set_meta(conn: Any, key: str, value: str) -> None:
    """Set one ``meta`` key (insert or update)."""
    if conn.execute(select(Meta.value).where(Meta.key == key)).first() is None:
        conn.execute(insert(Meta), [{"key": key, "value": value}])
    else:
        conn.execute(update(Meta).where(Meta.key == key).values(value=value))


def step(
    submission_id: str,
    status: str,
    at: dt.date | None,
    now: dt.datetime,
    run_id: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    return {
        "submission_id": submission_id,
        "status": status,
        "at": at,
        "run_id": run_id,
        "note": note,
        "recorded_at": now,
    }


def store_communications(
    conn: Any, rows: Sequence[Mapping[str, Any]], *, source: str
) -> list[dict[str, Any]]:
    """Insert communications not yet present, complete minimal ones (known only from a case),
    and record their replies; return the rows inserted or completed."""
    columns = {c.name for c in Communication.__table__.columns} - {"id"}
    clean = [
        {**{k: db_value(v) for k, v in r.items() if k in columns}, "source": source} for r in rows
    ]
    stubs = set(
        conn.execute(
            select(Communication.communication_id).where(Communication.source == STUB)
        ).scalars()
    )
    upgrades: list[dict[str, Any]] = []
    for r in clean:
        if r.get("communication_id") in stubs:
            conn.execute(
                update(Communication)
                .where(Communication.communication_id == r["communication_id"])
                .values(**{k: v for k, v in r.items() if k != "communication_id"})
            )
            stubs.discard(r["communication_id"])
            upgrades.append(r)
    new = upgrades + insert_new(conn, Communication, "communication_id", clean, {}, {})
    dated = {str(r["communication_id"]): r.get("reply_dates") for r in rows}
    replies: list[dict[str, Any]] = []
    for r in new:
        cid, reply_class = r["communication_id"], r.get("reply_class")
        listed = dated.get(cid) or []
        if listed:
            # Every dated reply is a row; the class is the communication's.
            replies += [
                {"communication_id": cid, "reply_date": d, "reply_class": reply_class}
                for d in listed
            ]
        elif r.get("reply_date") is not None or reply_class not in (None, "none"):
            replies.append(
                {
                    "communication_id": cid,
                    "reply_date": r.get("reply_date"),
                    "reply_class": reply_class,
                }
            )
    bulk_insert(conn, Reply, replies)
    return new
