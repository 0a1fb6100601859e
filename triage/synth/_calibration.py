"""Placeholder (being written)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from triage.schema import History

__all__ = ["CalibrationReport", "calibration_report"]


@dataclass(frozen=True)
class CalibrationReport:
    table: pd.DataFrame

    @property
    def passed(self) -> bool:
        return bool(self.table["passed"].all())


def calibration_report(history: History) -> CalibrationReport:
    raise NotImplementedError
