"""Pandera contracts of the frames intake hands to other modules, checked lazily."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing.pandas import Series

__all__ = ["QuarantineFrame"]


class QuarantineFrame(pa.DataFrameModel):
    """One line per fault: file, row (spreadsheet row or 1-based JSON record), column (as
    written in the file, blank for a whole-row fault), value (``[redacted]`` when sensitive) and
    a reason that starts with where the row is."""

    file: Series[str] = pa.Field(nullable=False)
    row: Series[int] = pa.Field(ge=1)
    column: Series[str] = pa.Field(nullable=False)
    value: Series[str] = pa.Field(nullable=False)
    reason: Series[str] = pa.Field(str_matches=r"^(sheet .+, )?(row|record) \d+[,:]")

    class Config:
        strict = True
        ordered = True
