"""``triage ingest``: exit codes 0/3/2, the summary line, the report, no names, no traceback."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from triage.cli import main
from triage.config import project_root

FIXTURES = project_root() / "data" / "fixtures" / "intake"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_all_accepted_exits_0_and_registers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["ingest", str(FIXTURES / "good_queue.csv")], capsys)
    assert code == 0
    assert "read 12, accepted 12, quarantined 0" in out
    assert "registry: 12 new, 0 already present" in out
    code, out, _ = _run(["ingest", str(FIXTURES / "good_queue.csv")], capsys)
    assert code == 0
    assert "registry: 0 new, 12 already present" in out  # re-ingesting adds nothing


def test_some_quarantined_exits_3_and_writes_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "out" / "quarantine.csv"
    code, out, err = _run(
        ["ingest", str(FIXTURES / "intake_40.csv"), "--report", str(report)], capsys
    )
    assert code == 3
    assert "read 40, accepted 34, quarantined 6" in out
    assert 'row 6, column country, value "Frnace": unknown country; did you mean "France"?' in err
    with report.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["file", "row", "column", "value", "reason"]
    assert sorted({int(r["row"]) for r in rows}) == [6, 11, 15, 19, 24, 31]


def test_refused_file_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["ingest", str(FIXTURES / "binary_garbage.csv")], capsys)
    assert code == 2
    assert "binary data" in err and "Traceback" not in err + out
    code, _, err = _run(["ingest", str(FIXTURES / "nope.csv")], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = _run(["ingest", str(FIXTURES)], capsys)
    assert code == 2 and "is a folder" in err


def test_names_and_contacts_are_never_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("row_faults.csv", "good_queue.csv", "stray_byte.csv", "ohchr_export.csv"):
        _, out, err = _run(
            ["ingest", str(FIXTURES / name), "--report", str(tmp_path / "r.csv")], capsys
        )
        text = out + err + (tmp_path / "r.csv").read_text(encoding="utf-8")
        assert "Simulated" not in text
        assert "example.invalid" not in text


def test_dry_run_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["ingest", "--dry-run", str(FIXTURES / "good_queue.csv")], capsys)
    assert code == 0 and "registry:" not in out
    from triage.registry import Registry

    assert Registry().init().is_empty()


def test_report_cells_cannot_become_formulas(tmp_path: Path) -> None:
    bad = tmp_path / "formula.csv"
    bad.write_text(
        'case_id,received_date,country\nF1,2016-01-01,=HYPERLINK("http://x")\n', encoding="utf-8"
    )
    from triage.intake import ingest_file

    result = ingest_file(bad)
    text = result.write_report(tmp_path / "r.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed command, in a fresh process: exit code and output as a user sees them."""
    env = {"TRIAGE_VAR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "triage.cli", "ingest", str(FIXTURES / "ohchr_export.csv")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if "No module named triage.cli.__main__" in done.stderr:
        triage = Path(sys.executable).parent / "triage"
        done = subprocess.run(
            [str(triage), "ingest", str(FIXTURES / "ohchr_export.csv")],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    assert done.returncode == 3, done.stderr
    assert "read 12, accepted 10, quarantined 2" in done.stdout
    assert "Traceback" not in done.stderr
