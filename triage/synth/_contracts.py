"""Pandera contract of the calibration table handed to the CLI and the app, checked lazily."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

__all__ = ["CalibrationFrame", "check"]


class CalibrationFrame(pa.DataFrameModel):
    """One row per paper figure: the paper's value, the generated one, tolerance and verdict."""

    group: Series[str]
    figure: Series[str]
    paper: Series[float]
    generated: Series[float] = pa.Field(nullable=True)
    tolerance: Series[float] = pa.Field(ge=0)
    rule: Series[str]
    passed: Series[bool]
    source: Series[str] = pa.Field(str_startswith="p. ")
    key: Series[str] = pa.Field(unique=True)
    expected: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


def check(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a calibration table (all failures at once) and return it."""
    return CalibrationFrame.validate(frame, lazy=True)
