"""Three ingests of overlapping files at once: every process ends with a one-line outcome, and
the registry holds each row once (SQLite, and PostgreSQL when TRIAGE_TEST_PG_URL is set)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.config import project_root
from triage.registry import Registry

_CLI = "import sys; from triage.cli import main; main(sys.argv[1:])"


@pytest.fixture
def url(registry_url: str) -> str:
    """SQLite, then PostgreSQL when TRIAGE_TEST_PG_URL is set (tests/conftest.py)."""
    return registry_url


@pytest.mark.slow
def test_three_concurrent_ingests_store_every_row_once(url: str, tmp_path: Path) -> None:
    Registry(url).init().dispose()
    files = []
    for k in range(3):  # overlapping ids: each file shares 2/3 of its rows with another
        rows = [f"C-{i:05d},2015-01-{1 + i % 28:02d},FRA" for i in range(k * 1000, k * 1000 + 3000)]
        path = tmp_path / f"part{k}.csv"
        path.write_text("submission_id,received_date,country\n" + "\n".join(rows) + "\n", "utf-8")
        files.append(path)
    env = {**os.environ, "TRIAGE_DB_URL": url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CLI, "ingest", str(f)],
            cwd=project_root(),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    for code, out, err in outcomes:
        assert "Traceback" not in err and "internal error" not in err
        if code == 0:
            assert "read 3000, accepted 3000, quarantined 0" in out
        else:  # retried and still refused: one line saying so
            assert code == 2 and len([ln for ln in err.splitlines() if ln.strip()]) == 1
    registry = Registry(url)
    try:
        assert registry.counts()["submissions"] == 5000
        log = registry.intake_log()
        assert log["n_added"].sum() == 5000
    finally:
        registry.dispose()
