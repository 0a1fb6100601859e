"""Pandera contracts of the frames allocation hands to the app and the CLI, checked lazily.

Imported only where such a frame is produced (explanations, prices, curves, rolling, backtest),
so ``triage select`` without ``--reasons`` never pays for pandera.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

__all__ = ["ConstraintsFrame", "PriceFrame", "ReasonsFrame", "TradeoffFrame", "check"]


class ReasonsFrame(pa.DataFrameModel):
    """One row per candidate: why it is in or out, the exact score to enter, who it displaces."""

    case_id: Series[str] = pa.Field(unique=True)
    selected: Series[bool]
    reason: Series[str] = pa.Field(str_matches=r"^(Selected|Not selected)")
    score_to_enter: Series[float] = pa.Field(nullable=True)
    displaced_by: Series[str]

    class Config:
        strict = True
        ordered = True


class ConstraintsFrame(pa.DataFrameModel):
    """One row per named constraint, with its count target, what was achieved and its price."""

    name: Series[str] = pa.Field(unique=True)
    kind: Series[str] = pa.Field(isin=["min", "max"])
    target: Series[int] = pa.Field(ge=0)
    achieved: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    binding: Series[bool]
    shadow_price: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


class PriceFrame(ConstraintsFrame):
    """A constraints frame plus what each target costs when it is dropped."""

    name: Series[str] = pa.Field(unique=True)
    kind: Series[str] = pa.Field(isin=["min", "max", ""])
    target: Series[float] = pa.Field(nullable=True, ge=0)
    objective_without: Series[float]
    cost: Series[float] = pa.Field(ge=0)


class TradeoffFrame(pa.DataFrameModel):
    """The objective at each step of one target (share as a fraction, target as a count)."""

    share: Series[float] = pa.Field(ge=0, le=1)
    target: Series[float] = pa.Field(nullable=True, ge=0)
    status: Series[str] = pa.Field(isin=["optimal", "infeasible", "time_limit"])
    objective: Series[float] = pa.Field(nullable=True)
    achieved: Series[float] = pa.Field(nullable=True)
    objective_loss: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


def check(frame: pd.DataFrame, model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """Validate ``frame`` against ``model`` (all failures at once) and return it."""
    return model.validate(frame, lazy=True)
