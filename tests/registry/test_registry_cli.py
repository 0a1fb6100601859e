"""``triage db init|load|status``: one line per outcome, clear errors, idempotent loads."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import run_cli as _run


def test_init_load_status(
    capsys: pytest.CaptureFixture[str], mini_history: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code, out, _ = _run(["db", "init", "--url", url], capsys)
    assert code == 0 and "registry ready" in out
    code, out, _ = _run(["db", "load", str(mini_history), "--url", url], capsys)
    assert code == 0
    assert "added 4 communications" in out and "SIMULATED" in out
    code, out, _ = _run(["db", "load", str(mini_history), "--url", url], capsys)
    assert "added 0 communications" in out
    code, _, _ = _run(["ingest", str(mini_history / "queue.csv"), "--url", url], capsys)
    assert code == 0
    code, out, _ = _run(["db", "status", "--url", url], capsys)
    assert code == 0
    assert "submissions" in out and "Eligible, not taken up" in out
    assert "queue.csv: read 3, accepted 3, quarantined 0, new 0" in out
    assert "Simulated Person" not in out


def test_default_registry_follows_triage_db_url(
    capsys: pytest.CaptureFixture[str],
    mini_history: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIAGE_DB_URL", f"sqlite:///{tmp_path / 'env.db'}")
    code, _, _ = _run(["db", "load", str(mini_history)], capsys)
    assert code == 0
    assert (tmp_path / "env.db").exists()


def test_load_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(["db", "load", str(tmp_path / "missing")], capsys)
    assert code == 2
    assert "no such history folder" in err and "Traceback" not in err + out
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "communications.csv").write_text("communication_id\nC1\n", encoding="utf-8")
    code, _, err = _run(["db", "load", str(broken)], capsys)
    assert code == 2 and "missing required column" in err


def test_help_is_useful(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["db", "--help"], capsys)
    assert code == 0 and "init" in out and "load" in out and "status" in out
    code, out, _ = _run(["ingest", "--help"], capsys)
    assert code == 0 and "--report" in out and "OHCHR" in out


def test_inconsistent_history_is_refused_with_one_line(
    capsys: pytest.CaptureFixture[str], mini_history: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in mini_history.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    cases = (bad / "cases.csv").read_text(encoding="utf-8").replace("K00005,C0004", "K00005,C0099")
    (bad / "cases.csv").write_text(cases, encoding="utf-8")
    code, _, err = _run(["db", "load", str(bad)], capsys)
    assert code == 2 and "C0099" in err and "not in communications.csv" in err
    comms = (mini_history / "communications.csv").read_text(encoding="utf-8")
    (bad / "communications.csv").write_text(comms.replace("2010-03-04", "2010-02-30"), "utf-8")
    code, out, err = _run(["db", "load", str(bad)], capsys)
    assert code == 2 and "Traceback" not in out + err
    assert "column sent_date: expected a date" in err  # the value itself is never echoed
