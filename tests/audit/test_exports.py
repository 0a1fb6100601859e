"""Table exports (``triage.audit.export_csv`` / ``export_xlsx``): formulas, names, labels."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.audit import ROLES, export_csv, export_frame, export_xlsx, names_allowed


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": ['=HYPERLINK("x")', "A1"],
            "reason": ["+1", "@SUM(A1)"],
            "defender_name": ["Ana Example", "Bo Example"],
            "source_contact": ["-contact", "x@example.org"],
            "score": [0.5, 0.25],
        }
    )


def test_export_bytes_guard_formulas_and_label_simulated() -> None:
    csv_bytes = export_csv(_frame(), role="staff", simulated=True)
    xlsx_bytes = export_xlsx(_frame(), role="staff", simulated=True)
    back = pd.read_csv(io.BytesIO(csv_bytes), dtype=str)
    assert back["case_id"].tolist() == ['\'=HYPERLINK("x")', "A1"]
    assert back["reason"].tolist() == ["'+1", "'@SUM(A1)"]
    assert back["score"].tolist() == ["0.5", "0.25"]
    assert set(back["data_source"]) == {"SIMULATED (not real cases)"}
    sheets = pd.read_excel(io.BytesIO(xlsx_bytes), sheet_name=None, dtype=str)
    assert sheets["Selection"]["case_id"].iloc[0].startswith("'=")
    assert "SIMULATED" in " ".join(sheets["About"]["About"])


def test_registry_data_is_not_labelled_simulated() -> None:
    back = pd.read_csv(io.BytesIO(export_csv(_frame(), role="auditor", simulated=False)))
    assert "data_source" not in back.columns
    sheets = pd.read_excel(io.BytesIO(export_xlsx(_frame(), role="auditor", simulated=False)))
    assert "data_source" not in sheets.columns


@pytest.mark.parametrize("role", ROLES)
def test_names_are_dropped_unless_the_role_may_export_them(role: str) -> None:
    out = export_frame(_frame(), role=role, simulated=False)  # type: ignore[arg-type]
    text = export_csv(_frame(), role=role, simulated=False).decode()  # type: ignore[arg-type]
    if names_allowed(role, "export"):  # type: ignore[arg-type]
        assert "defender_name" in out.columns
    else:
        assert "defender_name" not in out.columns and "source_contact" not in out.columns
        assert "Example" not in text and "example.org" not in text
    assert list(out.columns)[:2] == ["case_id", "reason"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="`simulated` must be a bool"):
        export_csv(_frame(), role="staff", simulated="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="role"):
        export_csv(_frame(), role="admin", simulated=True)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_no_exported_text_cell_can_start_a_formula(cells: list[str]) -> None:
    frame = pd.DataFrame({"case_id": [f"C{i}" for i in range(len(cells))], "note": cells})
    back = pd.read_csv(
        io.BytesIO(export_csv(frame, role="staff", simulated=False)),
        dtype=str,
        keep_default_na=False,
    )
    assert len(back) == len(cells)
    for value in back["note"]:
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))
