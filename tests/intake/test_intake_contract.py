"""The second step of intake: the table contract (pandera, lazy) over what the parsers accepted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from triage.config import project_root
from triage.intake import _check, ingest_file

FIXTURES = project_root() / "data" / "fixtures" / "intake"
TODAY = dt.date(2024, 6, 1)


def _lenient(real: Any, columns: set[str]) -> Any:
    """A parser that lets text it should refuse through, for the given columns (a parser bug)."""

    def parse(text: str, spec: Any, **kwargs: Any) -> Any:
        value, why = real(text, spec, **kwargs)
        if why and columns & {spec.kind, spec.vocabulary}:
            return text.strip(), None
        return value, why

    return parse


def test_cells_the_parsers_miss_are_quarantined_by_the_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (FIXTURES / "good_queue.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    gender, violations = header.index("gender"), header.index("violations")
    rows[1][gender] = "robot"
    rows[3][violations] = "detention;teleportation"
    rows[3][gender] = "martian"
    path = tmp_path / "queue.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    monkeypatch.setattr(_check, "parse_cell", _lenient(_check.parse_cell, {"gender", "VIOLATIONS"}))

    result = ingest_file(path, today=TODAY)

    assert result.read == len(rows) == result.n_accepted + result.n_quarantined
    assert result.n_quarantined == 2
    lines_of = {(r.row, r.column): r.reason for r in result.quarantine.itertuples()}
    # One pass reports every bad cell, row 3 and row 5 (the header is row 1).
    assert set(lines_of) == {(3, "gender"), (5, "gender"), (5, "violations")}
    assert lines_of[(3, "gender")] == (
        'row 3, column gender, value "robot": expected a gender code (the submissions contract)'
    )
    assert "violations codes separated by ;" in lines_of[(5, "violations")]
    accepted = set(result.accepted["case_id"])
    assert rows[1][0] not in accepted and rows[3][0] not in accepted
    assert len(accepted) == result.n_accepted


def test_personal_values_are_never_echoed_by_the_contract_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (FIXTURES / "good_queue.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("gender")] = "someone@example.invalid"
    path = tmp_path / "queue.csv"
    path.write_text("\n".join([lines[0], ",".join(row)]) + "\n", encoding="utf-8")
    monkeypatch.setattr(_check, "parse_cell", _lenient(_check.parse_cell, {"gender"}))

    result = ingest_file(path, today=TODAY)

    assert result.n_quarantined == 1
    line = result.quarantine.iloc[0]
    assert "example.invalid" not in line["reason"] and "example.invalid" not in line["value"]
