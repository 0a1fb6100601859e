"""Property tests: whatever the bytes or cell values, intake never crashes and always reconciles."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.errors import InputFileError
from triage.intake import ingest_file
from triage.schema import QUEUE_COLUMNS

TODAY = dt.date(2024, 6, 1)
HEADER = list(QUEUE_COLUMNS)


def _good_row(i: int) -> list[str]:
    values = {
        "case_id": f"C{i:04d}",
        "received_date": (dt.date(2016, 1, 1) + dt.timedelta(days=i)).isoformat(),
        "individual_id": f"P{i}",
        "defender_name": f"Secret Name {i}",
        "source_contact": f"secret{i}@example.invalid",
        "country": ["FRA", "KEN", "MEX", "IND"][i % 4],
        "gender": ["woman", "man", "unknown"][i % 3],
        "violations": ["detention", "threats;killing", ""][i % 3],
        "protester": ["true", "false", ""][i % 3],
        "type": "UA",
        "n_mandates": "2",
    }
    return [values.get(c, "") for c in HEADER]


def _write(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # quotes \r and \n inside cells, as spreadsheets do
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _ingest(data: bytes, suffix: str = ".csv"):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        return ingest_file(path, today=TODAY)


def _check_reconciles(result, n_rows: int | None = None) -> None:  # type: ignore[no-untyped-def]
    assert result.n_accepted + result.n_quarantined == result.read
    if n_rows is not None:
        assert result.read == n_rows
    assert result.quarantine["reason"].str.len().min() > 0 if len(result.quarantine) else True
    assert result.summary() == (
        f"read {result.read}, accepted {result.n_accepted}, quarantined {result.n_quarantined}"
    )


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=3000),
    suffix=st.sampled_from([".csv", ".xlsx", ".json", ".txt", ""]),
)
def test_random_bytes_never_crash(data: bytes, suffix: str) -> None:
    try:
        result = _ingest(data, suffix)
    except InputFileError as exc:
        assert exc.message.startswith("input")
        return
    _check_reconciles(result)


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=600))
def test_random_text_never_crashes(text: str) -> None:
    body = "case_id,received_date,country\n" + text
    try:
        result = _ingest(body.encode("utf-8"))
    except InputFileError:
        return
    _check_reconciles(result)


cell_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "2017-02-30",
            "2099-01-01",
            "Frnace",
            "detension",
            "x" * 500,
            "=cmd|' /C calc'!A0",
            "\x00\x01",
            "yes",
            "-1",
            "weog",
            "1890-01-01",
            "C0001",
        ]
    ),
)


@settings(max_examples=80, deadline=None)
@given(
    corruptions=st.lists(
        st.tuples(st.integers(0, 19), st.integers(0, len(HEADER) - 1), cell_values), max_size=8
    )
)
def test_random_cell_corruption_reconciles_and_explains(
    corruptions: list[tuple[int, int, str]],
) -> None:
    rows = [_good_row(i) for i in range(20)]
    for r, c, value in corruptions:
        rows[r][c] = value
    data = _write(rows)
    try:
        result = _ingest(data)
    except InputFileError as exc:
        # Only a file that is mostly control characters may be refused as binary.
        text = data.decode("utf-8")
        control = sum(
            1
            for ch in text
            if (ord(ch) < 32 and ch not in "\t\n\r") or 0x7F <= ord(ch) < 0xA0 or ch == "\ufffd"
        )
        assert "binary data" in exc.message and control > len(text) // 20
        return
    _check_reconciles(result, n_rows=20)
    quarantined = set(result.quarantine["row"])
    assert quarantined <= set(range(2, 22))
    accepted_ids = list(result.accepted["case_id"])
    assert len(accepted_ids) == len(set(accepted_ids))  # no duplicate ever accepted
    # Untouched rows are accepted unless they share an id with an earlier row.
    touched = {r for r, _, _ in corruptions}
    ids = [row[0].strip() for row in rows]
    for r in range(20):
        if r not in touched and ids[r] not in ids[:r]:
            assert r + 2 not in quarantined
    # Names and contacts never leak into the quarantine.
    text = result.quarantine.to_csv()
    assert "Secret Name" not in text and "example.invalid" not in text


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(list(range(16))))
def test_row_order_does_not_change_what_is_accepted(order: list[int]) -> None:
    rows = [_good_row(i) for i in range(12)]
    rows += [
        [*_good_row(12)[:5], "Atlantis", *_good_row(12)[6:]],
        [*_good_row(13)[:1], "2017-02-30", *_good_row(13)[2:]],
        [*_good_row(14)[:1], "", *_good_row(14)[2:]],
        [*_good_row(15)[:8], "torture", *_good_row(15)[9:]],
    ]
    base = _ingest(_write(rows))
    shuffled = _ingest(_write([rows[i] for i in order]))
    key = ["case_id"]
    pd.testing.assert_frame_equal(
        base.accepted.sort_values(key).reset_index(drop=True),
        shuffled.accepted.sort_values(key).reset_index(drop=True),
    )
    strip = lambda q: sorted(r.split(", ", 1)[1] for r in q["reason"])  # noqa: E731
    assert strip(base.quarantine) == strip(shuffled.quarantine)


def test_same_file_gives_identical_results(tmp_path: Path) -> None:
    rows = [_good_row(i) for i in range(30)]
    rows[3][5] = "Frnace"
    path = tmp_path / "same.csv"
    path.write_bytes(_write(rows))
    first, second = ingest_file(path, today=TODAY), ingest_file(path, today=TODAY)
    pd.testing.assert_frame_equal(first.accepted, second.accepted)
    pd.testing.assert_frame_equal(first.quarantine, second.quarantine)
    one = first.write_report(tmp_path / "one.csv").read_bytes()
    assert one == second.write_report(tmp_path / "two.csv").read_bytes()
    assert first.sha256 == second.sha256


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)
json_keys = st.sampled_from(
    ["case_id", "received_date", "country", "violations", "gender", "n_mandates", "Ref. no.", "x"]
)


@settings(max_examples=80, deadline=None)
@given(
    document=st.one_of(
        json_values,
        st.lists(st.dictionaries(json_keys, json_values, max_size=6), max_size=6),
    )
)
def test_random_json_never_crashes(document: object) -> None:
    import json

    try:
        result = _ingest(json.dumps(document).encode("utf-8"), ".json")
    except InputFileError:
        return
    _check_reconciles(result)


FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "intake"


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(p.name for p in FIXTURES.iterdir() if p.stat().st_size)),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=30),
)
def test_flipped_bytes_in_real_files_never_crash(name: str, flips: list[tuple[float, int]]) -> None:
    data = bytearray((FIXTURES / name).read_bytes())
    for where, byte in flips:
        data[int(where * len(data))] = byte
    try:
        result = _ingest(bytes(data), Path(name).suffix)
    except InputFileError:
        return
    _check_reconciles(result)
