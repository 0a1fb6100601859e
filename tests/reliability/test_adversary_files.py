"""The adversary's files, generated: encodings, sheets, formulas, ids, dates and shifted rows.

Each either stores every accepted row exactly as given, or holds rows back with a reason (exit 3)
or refuses the file (exit 2); read = accepted + quarantined always; no contact or name is echoed.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.cli import main
from triage.errors import InputFileError
from triage.intake import ingest_file
from triage.registry import Registry

TODAY = dt.date(2024, 6, 1)
HEADER = "submission_id,received_date,defender_name,source_contact,country\n"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def _reconciles(result) -> None:  # type: ignore[no-untyped-def]
    assert result.read == result.n_accepted + result.n_quarantined


# -- encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("utf8_rows", [1, 3])
def test_mixed_encodings_never_store_mojibake(tmp_path: Path, utf8_rows: int) -> None:
    body = b"".join(
        f"U{i},2015-01-0{i + 1},Zo\u00eb Name,c{i},FRA\n".encode() for i in range(utf8_rows)
    )
    body += "W1,2015-02-01,Zo\u00eb Name,w1,KEN\nW2,2015-02-02,Jos\u00e9,w2,KEN\n".encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(HEADER.encode() + body)
    registry = Registry(f"sqlite:///{tmp_path / 'r.db'}").init()
    result = ingest_file(path, registry=registry, today=TODAY)
    _reconciles(result)
    names = set(result.accepted["defender_name"])
    assert names == {"Zo\u00eb Name"}  # the UTF-8 rows, exactly as written
    assert result.n_quarantined == 2
    assert set(result.quarantine["value"]) == {"[redacted]"}  # a name is never echoed
    assert "Ã" not in json.dumps(registry.queue().astype(str).to_dict(), ensure_ascii=False)
    registry.dispose()


def test_a_whole_windows_1252_file_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "cp.csv"
    path.write_bytes((HEADER + "W1,2015-02-01,Jos\u00e9,w1,KEN\n").encode("cp1252"))
    result = ingest_file(path, today=TODAY)
    assert result.accepted["defender_name"].tolist() == ["Jos\u00e9"]


# -- workbooks -----------------------------------------------------------------------------------


def _book(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


ROWS = [["submission_id", "received_date", "country"]] + [
    [f"S{i}", f"2015-01-{i + 1:02d}", "FRA"] for i in range(10)
]


def test_two_data_sheets_are_refused_not_half_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    more = [ROWS[0]] + [[f"T{i}", "2015-02-01", "KEN"] for i in range(10)]
    path = _book(tmp_path / "two.xlsx", {"First": ROWS, "Second": more})
    with pytest.raises(InputFileError, match="sheets 'First', 'Second' all hold data rows"):
        ingest_file(path, today=TODAY)
    code, out, err = _run(["ingest", str(path)], capsys)
    assert (code, out, err.count("\n")) == (2, "", 1)


def test_a_notes_sheet_first_does_not_hide_the_data_sheet(tmp_path: Path) -> None:
    notes = [["How to fill this file"], ["Dates as YYYY-MM-DD"], ["Ask the secretariat"]]
    path = _book(tmp_path / "notes.xlsx", {"Notes": notes, "Data": ROWS})
    result = ingest_file(path, today=TODAY)
    assert (result.sheet, result.read, result.n_accepted) == ("Data", 10, 10)
    assert any("were not read: 'Notes'" in w for w in result.warnings)


def test_a_formula_without_a_saved_value_is_quarantined_not_stored_blank(tmp_path: Path) -> None:
    rows = [
        ["submission_id", "received_date", "country", "n_mandates"],
        ["S1", "2015-01-01", "FRA", 2],
        ["S2", "2015-01-02", "FRA", "=D2+1"],  # openpyxl saves formulas without a value
        ["S3", "2015-01-03", '=IF(1,"KEN","FRA")', 1],
    ]
    result = ingest_file(_book(tmp_path / "f.xlsx", {"Data": rows}), today=TODAY)
    _reconciles(result)
    assert result.accepted["submission_id"].tolist() == ["S1"]
    reasons = result.quarantine.set_index("row")["reason"]
    assert "column n_mandates: a formula whose value was never saved" in reasons[3]
    assert "column country: a formula whose value was never saved" in reasons[4]


def test_typed_ids_in_a_workbook_are_not_read_as_text(tmp_path: Path) -> None:
    rows = [
        ROWS[0],
        [True, "2015-01-01", "FRA"],
        [1.5, "2015-01-01", "FRA"],
        [7, "2015-01-01", "FRA"],
    ]
    result = ingest_file(_book(tmp_path / "ids.xlsx", {"Data": rows}), today=TODAY)
    assert result.accepted["submission_id"].tolist() == ["7"]
    assert result.n_quarantined == 2


# -- ids -----------------------------------------------------------------------------------------


def test_nfc_and_nfd_spellings_are_one_id(tmp_path: Path) -> None:
    nfc, nfd = unicodedata.normalize("NFC", "A41-é"), unicodedata.normalize("NFD", "A41-é")
    assert nfc != nfd
    path = tmp_path / "ids.csv"
    path.write_text(
        f"submission_id,received_date,country\n{nfc},2015-01-01,FRA\n{nfd},2015-01-01,FRA\n",
        "utf-8",
    )
    registry = Registry(f"sqlite:///{tmp_path / 'r.db'}").init()
    result = ingest_file(path, registry=registry, today=TODAY)
    assert (result.n_accepted, result.n_quarantined, result.added) == (1, 1, 1)
    assert "duplicate submission_id" in result.quarantine["reason"].iloc[0]
    again = tmp_path / "again.csv"
    again.write_text(f"submission_id,received_date,country\n{nfd},2015-01-01,FRA\n", "utf-8")
    second = ingest_file(again, registry=registry, today=TODAY)
    assert (second.added, second.already_present) == (0, 1)
    registry.dispose()


def test_json_ids_that_are_not_text_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "ids.json"
    path.write_text(
        '[{"submission_id": Infinity, "received_date": "2015-01-01", "country": "FRA"},'
        ' {"submission_id": true, "received_date": "2015-01-01", "country": "FRA"},'
        ' {"submission_id": 1e400, "received_date": "2015-01-01", "country": "FRA"},'
        ' {"submission_id": 12, "received_date": "2015-01-01", "country": "FRA"},'
        ' {"submission_id": "inf", "received_date": "2015-01-01", "country": "FRA"}]',
        "utf-8",
    )
    result = ingest_file(path, today=TODAY)
    _reconciles(result)
    assert result.accepted["submission_id"].tolist() == ["12", "inf"]
    assert result.quarantine["row"].tolist() == [1, 2, 3]


# -- dates ---------------------------------------------------------------------------------------


def test_the_day_month_order_is_settled_for_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "mdy.csv"
    path.write_text(
        "submission_id,received_date,country\nS1,02/03/2015,FRA\nS2,02/13/2015,FRA\n", "utf-8"
    )
    result = ingest_file(path, today=TODAY)
    got = dict(zip(result.accepted["submission_id"], result.accepted["received_date"], strict=True))
    assert got == {"S1": dt.date(2015, 2, 3), "S2": dt.date(2015, 2, 13)} or {
        k: v.date() for k, v in got.items()
    } == {"S1": dt.date(2015, 2, 3), "S2": dt.date(2015, 2, 13)}
    assert any("month first" in w and "row 3" in w for w in result.warnings)


def test_a_file_with_both_orders_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "both.csv"
    path.write_text(
        "submission_id,received_date,country\nS1,25/03/2015,FRA\nS2,02/13/2015,FRA\n", "utf-8"
    )
    with pytest.raises(InputFileError, match=r"day first in row 2 .* month first in row 3"):
        ingest_file(path, today=TODAY)


# -- shifted rows and secrets --------------------------------------------------------------------


def test_a_shifted_row_never_echoes_a_contact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shifted.csv"
    path.write_text(
        HEADER
        + "S1,2015-01-01,Maria Lopez,maria.lopez@example.org,FRA\n"
        + "S2,2015-01-01,Lopez, Maria,maria.lopez@example.org,FRA\n"  # unquoted comma
        + "S3,2015-01-01,Ana,+44 20 7946 0958,Mars\n"
        + "S4,2015-01-01,maria.lopez@example.org\n",  # too few cells
        "utf-8",
    )
    report = tmp_path / "q.csv"
    code, out, err = _run(["ingest", str(path), "--report", str(report)], capsys)
    assert code == 3
    assert "read 4, accepted 1, quarantined 3" in out
    shown = out + err + report.read_text("utf-8")
    for secret in ("maria", "Maria", "Lopez", "7946", "example.org"):
        assert secret not in shown
    assert "row 3, column" in err and "unknown country" in err


def test_a_history_with_a_name_in_a_date_column_is_refused_without_the_name(
    tmp_path: Path, mini_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    history = tmp_path / "h"
    shutil.copytree(mini_history, history)
    queue = history / "queue.csv"
    lines = queue.read_text("utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("received_date")] = "Zoe Secretname"
    lines[1] = ",".join(cells)
    queue.write_text("\n".join(lines) + "\n", "utf-8")
    code, out, err = _run(["db", "load", str(history)], capsys)
    assert code == 2 and "Secretname" not in out + err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "row 2, column received_date: expected a date" in line


# -- the invariant, over generated files ----------------------------------------------------------

_CELLS = st.sampled_from(
    [
        "S1", "A41-é", unicodedata.normalize("NFD", "A41-é"), "inf", "true", "", "nan",
        "2015-01-01", "02/03/2015", "02/13/2015", "25/03/2015", "FRA", "Mars",
        "x@y.org", "Zoë", '"a,b"', "=1+1", "\ufeffS2", "S1 ",
    ]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(_CELLS, min_size=2, max_size=7), min_size=1, max_size=12))
def test_read_is_accepted_plus_quarantined_on_any_file(
    rows: list[list[str]], tmp_path: Path
) -> None:
    path = tmp_path / "any.csv"
    path.write_text(HEADER + "".join(",".join(r) + "\n" for r in rows), "utf-8")
    try:
        result = ingest_file(path, today=TODAY)
    except InputFileError as exc:
        assert "\n" not in exc.message and "x@y.org" not in exc.message
        return
    _reconciles(result)
    assert not result.quarantine["reason"].str.contains("x@y.org", regex=False).any()
