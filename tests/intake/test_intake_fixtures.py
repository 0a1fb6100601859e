"""Every hand-made fixture gives its expected counts or refusal, and nothing is ever lost."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from triage.config import project_root
from triage.errors import InputFileError
from triage.intake import QUARANTINE_COLUMNS, ingest_file

FIXTURES = project_root() / "data" / "fixtures" / "intake"
TODAY = dt.date(2024, 6, 1)

#: file → (read, accepted, quarantined) for files that go in, row by row.
ROWS: dict[str, tuple[int, int, int]] = {
    "good_queue.csv": (12, 12, 0),
    "good_queue_bom.csv": (12, 12, 0),
    "good_queue_cp1252.csv": (12, 12, 0),
    "good_queue_semicolon.csv": (12, 12, 0),
    "good_queue_crlf_padded_header.csv": (12, 12, 0),
    "good_queue.json": (12, 12, 0),
    "good_queue.jsonl": (12, 12, 0),
    "good_queue.xlsx": (12, 12, 0),
    "intake_40.csv": (40, 34, 6),
    "ohchr_export.csv": (12, 10, 2),
    "ohchr_export.xlsx": (12, 10, 2),
    "row_faults.csv": (25, 1, 24),
    "xlsx_row_faults.xlsx": (12, 1, 11),
    "json_row_faults.json": (5, 2, 3),
    "stray_byte.csv": (12, 11, 1),
    "good_queue_utf16.tsv": (12, 12, 0),
    "nulls_and_timestamps.csv": (3, 2, 1),
    "ohchr_title_rows.xlsx": (10, 10, 0),
}
#: file → words the refusal message must contain.
REFUSED: dict[str, str] = {
    "empty.csv": "empty",
    "blank_lines.csv": "empty",
    "header_only.csv": "no data rows",
    "missing_column.csv": "missing required column(s) country",
    "no_header.csv": "is the first row the header",
    "duplicate_columns.csv": "appears twice",
    "binary_garbage.csv": "binary data",
    "png_named_csv.csv": "binary data",
    "utf16_no_bom.csv": "binary data",
    "old_excel.xls": "old Excel",
    "not_a_zip.xlsx": "not a ZIP file",
    "zip_not_workbook.xlsx": "not an Excel workbook",
    "truncated.xlsx": "not a readable Excel workbook",
    "invalid.json": "not valid JSON",
    "json_no_records.json": "list of records",
    "json_empty_list.json": "no records",
    "unclosed_quote.csv": "row 2 opens a quote",
    "html_saved_as.xls": "HTML",
    "compressed.csv.gz": "compressed",
}


def test_every_fixture_has_an_expectation() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.is_file()}
    assert on_disk == set(ROWS) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_counts_reconcile_and_quarantine_explains_every_row(name: str) -> None:
    result = ingest_file(FIXTURES / name, today=TODAY)
    read, accepted, quarantined = ROWS[name]
    assert (result.read, result.n_accepted, result.n_quarantined) == (read, accepted, quarantined)
    assert result.n_accepted + result.n_quarantined == result.read
    assert result.summary() == f"read {read}, accepted {accepted}, quarantined {quarantined}"
    q = result.quarantine
    assert list(q.columns) == list(QUARANTINE_COLUMNS)
    assert (q["file"] == str(FIXTURES / name)).all()
    # Each quarantine line says where, and a non-empty reason after the location.
    unit = "record" if name.endswith(".json") else "row"
    for row, reason in zip(q["row"], q["reason"], strict=True):
        assert re.match(rf"^(sheet \w+, )?{unit} {row}\b", reason), reason
        assert len(reason.split(": ", 1)[1]) > 5
    # Every row number is either accepted or quarantined, never both, never neither.
    assert q["row"].nunique() == quarantined
    assert len(result.accepted) == accepted


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_file_faults_refuse_the_whole_file_with_one_message(name: str) -> None:
    with pytest.raises(InputFileError) as info:
        ingest_file(FIXTURES / name, today=TODAY)
    message = info.value.message
    assert message.startswith(name), message
    assert REFUSED[name] in message
    assert info.value.exit_code == 2
    assert "Traceback" not in message


def test_the_issue_example_line_and_its_reasons() -> None:
    result = ingest_file(FIXTURES / "intake_40.csv", today=TODAY)
    assert result.summary() == "read 40, accepted 34, quarantined 6"
    reasons = dict(zip(result.quarantine["row"], result.quarantine["reason"], strict=True))
    assert (
        reasons[6]
        == 'row 6, column country, value "Frnace": unknown country; did you mean "France"?'
    )
    assert "impossible date: February 2017 has 28 days, not 30" in reasons[11]
    assert "date in the future (today is 2024-06-01)" in reasons[15]
    assert "reply is dated before the communication was sent (2016-07-01)" in reasons[19]
    assert "duplicate submission_id; first seen in row 22" in reasons[24]
    assert 'unknown violation code "detension" (did you mean "detention"' in reasons[31]
    assert set(reasons) == {6, 11, 15, 19, 24, 31}
    # The accepted rows are exactly the others.
    accepted = set(result.accepted["submission_id"])
    assert len(accepted) == 34 and "S0005" not in accepted and "S0021" in accepted


def test_every_row_fault_kind_is_named() -> None:
    result = ingest_file(FIXTURES / "row_faults.csv", today=TODAY)
    by_row = result.quarantine.groupby("row")["reason"].apply(" | ".join).to_dict()
    expected = {
        3: "column case_id: missing required value",
        4: "column received_date: missing required value",
        5: "column country: missing required value",
        6: "February 2017 has 28 days, not 29",
        7: "there is no month 13",
        8: "not a date; write it as YYYY-MM-DD",
        9: "date in the future",
        10: "unknown country",
        11: 'did you mean "Germany"?',
        12: "Kenya is in the African Group",
        13: "not a gender code",
        14: '"tortured" (did you mean "torture_physical_attack"',
        15: 'did you mean "womens_rights"',
        16: "not true or false",
        17: "unknown communication type; use one of UA, AL, OL, PR",
        18: "must be a whole number from 1 to 100",
        19: "too long: 269 characters, at most 200",
        20: "too long: 417 characters, at most 300",
        21: "too long: 81 characters, at most 64",
        22: "has 16 cells but the header has 14",
        23: "duplicate case_id; first seen in row 2",
        24: "implausible date (before 1945)",
        25: 'did you mean "killing"',
        26: "must be a whole number from 1 to 100",
    }
    for row, words in expected.items():
        assert words in by_row[row], (row, by_row[row])
    # A row with two faults is quarantined once but both faults are listed.
    assert (result.quarantine["row"] == 25).sum() == 2
    assert result.accepted["case_id"].tolist() == ["R01"]


def test_sensitive_values_never_appear_in_the_quarantine(tmp_path: Path) -> None:
    for name in ("row_faults.csv", "xlsx_row_faults.xlsx", "stray_byte.csv"):
        result = ingest_file(FIXTURES / name, today=TODAY)
        report = result.write_report(tmp_path / f"{name}.csv").read_text(encoding="utf-8")
        assert "Verylongname" not in report and "@example.invalid" not in report
        assert "Simulated" not in report and "Simulated" not in result.quarantine.to_string()
        sensitive = result.quarantine["column"].isin(["defender_name", "source_contact"])
        assert (result.quarantine.loc[sensitive, "value"] == "[redacted]").all()


def test_xlsx_reasons_name_the_sheet_and_real_types_are_read() -> None:
    result = ingest_file(FIXTURES / "xlsx_row_faults.xlsx", today=TODAY)
    assert result.sheet == "Cases"
    assert all(r.startswith("sheet Cases, row ") for r in result.quarantine["reason"])
    assert any("were not read: 'Notes'" in w for w in result.warnings)
    good = ingest_file(FIXTURES / "good_queue.xlsx", today=TODAY)
    csv = ingest_file(FIXTURES / "good_queue.csv", today=TODAY)
    pd.testing.assert_frame_equal(good.accepted, csv.accepted)


def test_json_reasons_give_the_record_index() -> None:
    result = ingest_file(FIXTURES / "json_row_faults.json", today=TODAY)
    reasons = result.quarantine.set_index("row")["reason"].to_dict()
    assert reasons[2].startswith("record 2")
    assert "nested structure" in reasons[3]
    assert 'value "Narnia": unknown country' in reasons[4]


def test_all_good_formats_give_the_same_rows() -> None:
    base = ingest_file(FIXTURES / "good_queue.csv", today=TODAY).accepted
    for name in (
        "good_queue_bom.csv",
        "good_queue_semicolon.csv",
        "good_queue_crlf_padded_header.csv",
        "good_queue.json",
        "good_queue.jsonl",
        "good_queue_utf16.tsv",
    ):
        pd.testing.assert_frame_equal(ingest_file(FIXTURES / name, today=TODAY).accepted, base)


def test_normalisation_of_spellings() -> None:
    rows = ingest_file(FIXTURES / "good_queue.csv", today=TODAY).accepted.set_index("case_id")
    assert rows.loc["G002", "country"] == "IND"
    assert rows.loc["G002", "un_region"] == "asia_pacific"  # derived from the country
    assert rows["un_region"].notna().all()
    assert rows.loc["G003", "received_date"] == pd.Timestamp("2017-03-08")  # day first
    assert rows.loc["G003", "gender"] == "woman"
    assert rows.loc["G003", "violations"] == "detention;threats"
    assert rows.loc["G003", "issue_areas"] == "womens_rights"
    assert rows.loc["G003", "type"] == "UA"
    assert rows.loc["G003", "un_region"] == "african"
    assert rows.loc["G004", "country"] == "TUR" and rows.loc["G004", "type"] == "UA"
    assert rows.loc["G005", "received_date"] == pd.Timestamp("2017-03-09")
    assert rows.loc["G005", "country"] == "IRN"
    assert rows.loc["G012", "country"] == "CIV"


def test_encoding_fallback_warns_and_keeps_accents() -> None:
    result = ingest_file(FIXTURES / "good_queue_cp1252.csv", today=TODAY)
    assert result.encoding == "cp1252"
    assert any("read as Windows-1252" in w for w in result.warnings)
    assert "CIV" in set(result.accepted["country"])  # "Côte d'Ivoire" decoded right
    assert ingest_file(FIXTURES / "good_queue_bom.csv", today=TODAY).encoding == "utf-8-sig"
    stray = ingest_file(FIXTURES / "stray_byte.csv", today=TODAY)
    assert stray.quarantine["row"].tolist() == [3]
    assert "could not be decoded" in stray.quarantine["reason"].iloc[0]


def test_ohchr_export_is_mapped_to_communications() -> None:
    result = ingest_file(FIXTURES / "ohchr_export.csv", today=TODAY)
    assert result.shape == "ohchr"
    comms = result.accepted.set_index("communication_id")
    first = comms.loc["UA TUR 1/2016"]
    assert first["sent_date"] == pd.Timestamp("2016-01-12")
    assert (first["country"], first["type"], first["n_mandates"]) == ("TUR", "UA", 2)
    assert (first["reply_class"], first["reply_date"]) == (
        "content_unknown",
        pd.Timestamp("2016-03-10"),
    )
    assert first["n_individuals"] == 1
    # Mandates listed one per line; a mandate name with a comma counts once.
    assert comms.loc["AL HND 2/2016", "n_mandates"] == 3
    assert comms.loc["AL HND 2/2016", "reply_class"] == "none"
    assert pd.isna(comms.loc["AL HND 2/2016", "reply_date"])
    # Two replies: the first one is the reply date.
    assert comms.loc["UA BHR 3/2016", "reply_date"] == pd.Timestamp("2016-04-20")
    assert comms.loc["UA BHR 3/2016", "type"] == "UA"  # "Urgent appeal"
    assert comms.loc["UA IRN 12/2016", "type"] == "UA"  # "JUA"
    assert comms.loc["PR GTM 1/2016", "type"] == "PR"
    # Replies count unknown but a dated reply: replied, content unknown.
    assert comms.loc["UA AZE 6/2016", "reply_date"] == pd.Timestamp("2016-10-25")
    assert pd.isna(comms.loc["AL BDI 4/2016", "reply_class"])  # nothing known about replies
    # The free-text summary is kept (sensitive) but never in the quarantine.
    assert comms["summary"].notna().all()
    reasons = result.quarantine["reason"].tolist()
    assert any('"Urgnt apeal": unknown communication type; did you mean "UA"' in r for r in reasons)
    assert any("reply is dated before the communication was sent" in r for r in reasons)


def test_title_rows_above_the_header_are_skipped_with_a_warning() -> None:
    result = ingest_file(FIXTURES / "ohchr_title_rows.xlsx", today=TODAY)
    assert result.shape == "ohchr"
    assert any("the header is row 4; 2 row(s) above it" in w for w in result.warnings)
    assert result.accepted["communication_id"].iloc[0] == "UA TUR 1/2016"


def test_null_tokens_are_blank_and_timestamps_are_dates() -> None:
    result = ingest_file(FIXTURES / "nulls_and_timestamps.csv", today=TODAY)
    rows = result.accepted.set_index("submission_id")
    assert rows.loc["N1", "received_date"] == pd.Timestamp("2017-01-05")
    assert pd.isna(rows.loc["N1", "gender"]) and pd.isna(rows.loc["N1", "n_mandates"])
    assert rows.loc["N2", "received_date"] == pd.Timestamp("2017-01-06")
    assert result.quarantine["reason"].tolist() == ["row 4, column country: missing required value"]


def test_repeated_header_and_invisible_characters(tmp_path: Path) -> None:
    joined = tmp_path / "joined.csv"
    joined.write_text(
        "\ufeffcase_id,received_date,country\n"
        "J1,2016-01-01,FRA\n"
        "case_id,received_date,country\n"
        "J2,2016-01-02,\u200bKEN\n",
        encoding="utf-8",
    )
    result = ingest_file(joined, today=TODAY)
    assert result.summary() == "read 3, accepted 2, quarantined 1"
    assert result.quarantine["reason"].tolist() == [
        "row 3: repeats the header row (were two files joined?)"
    ]
    assert result.accepted["country"].tolist() == ["FRA", "KEN"]
