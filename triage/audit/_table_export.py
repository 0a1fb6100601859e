"""Table exports for people (CSV and XLSX bytes): names dropped unless the role allows them,
every text cell guarded against formula injection, simulated data labelled."""

from __future__ import annotations

import io

import pandas as pd

from triage._validation import check_params, instance_of
from triage.audit._privacy import Role, names_allowed, safe_frame
from triage.schema import SENSITIVE_COLUMNS

_CONSTRAINTS = {"simulated": instance_of(bool, "a bool", show="repr")}

__all__ = ["export_csv", "export_frame", "export_xlsx"]


def export_frame(frame: pd.DataFrame, *, role: Role, simulated: bool) -> pd.DataFrame:
    """The table as exported: the same columns minus names, plus ``data_source`` when simulated.

    Sensitive columns (``SENSITIVE_COLUMNS``: defender and submitter names, source contacts) are
    dropped unless ``names_allowed(role, "export")``; every text cell and column name goes
    through ``safe_cell`` so no spreadsheet formula can run.

    Parameters
    ----------
    frame : DataFrame
        Any table to export.
    role : {"staff", "mandate_holder", "auditor"}
        The role of the session asking for the file.
    simulated : bool
        Whether the rows come from simulated data; adds a ``data_source`` column saying so.
    """
    check_params(_CONSTRAINTS, simulated=simulated)
    out = frame.copy()
    if not names_allowed(role, "export"):
        out = out.drop(columns=[c for c in out.columns if c in SENSITIVE_COLUMNS])
    if simulated:
        out["data_source"] = "SIMULATED (not real cases)"
    return safe_frame(out)


def export_csv(frame: pd.DataFrame, *, role: Role, simulated: bool) -> bytes:
    """UTF-8 CSV bytes of ``export_frame(frame, role=role, simulated=simulated)``.

    Lines end in CRLF (RFC 4180): the csv writer then quotes every cell holding a line break,
    a lone carriage return included, so no cell can spill into a new row.
    """
    safe = export_frame(frame, role=role, simulated=simulated)
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def export_xlsx(frame: pd.DataFrame, *, role: Role, simulated: bool) -> bytes:
    """XLSX bytes of ``export_frame(...)``: sheet ``Selection`` plus an ``About`` sheet saying
    whether the data is simulated and how formulas are neutralised."""
    safe = export_frame(frame, role=role, simulated=simulated)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe.to_excel(writer, sheet_name="Selection", index=False)
        about = pd.DataFrame(
            {
                "About": [
                    "Selection exported from triage.",
                    "SIMULATED data: not real cases." if simulated else "Registry data.",
                    "Cells starting with = + - @ are prefixed with ' so no formula runs.",
                ]
            }
        )
        about.to_excel(writer, sheet_name="About", index=False)
    return buffer.getvalue()
