"""Kill -9 at chosen points of ``triage db load`` and of a recorded ``triage select``.

Each command runs in a subprocess and is killed after a chosen share of the time a full run
takes here (start-up, reading, scoring or storing, around the commit). Afterwards the registry
passes ``PRAGMA integrity_check`` (SQLite), its counts are all or nothing, ``triage audit
verify`` passes, a killed selection left either a whole recorded run (record and every case's
new status) or nothing, and running the command again completes the registry exactly.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from suite_settings import postgres_url_or_skip

from reliability.kill_helpers import kill_after
from triage.config import project_root

_CLI = "import sys; from triage.cli import main; main(sys.argv[1:])"
_DECIDED = "('selected', 'not_selected')"


def _env(url: str, var: Path) -> dict[str, str]:
    return {**os.environ, "TRIAGE_DB_URL": url, "TRIAGE_VAR": str(var)}


def _start(args: list[str], url: str, var: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _CLI, *args],
        cwd=project_root(),
        env=_env(url, var),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _run(args: list[str], url: str, var: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CLI, *args],
        cwd=project_root(),
        env=_env(url, var),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _timed(args: list[str], url: str, var: Path) -> float:
    started = time.perf_counter()
    done = _run(args, url, var)
    assert done.returncode == 0, done.stderr[-2000:]
    return time.perf_counter() - started


def _sqlite(db: Path, query: str) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute(query).fetchone()[0])
        except sqlite3.OperationalError:  # killed before the tables were created
            return 0


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default-seed simulated history (about 40,000 submissions and 1,650 queued)."""
    from triage.synth import generate

    return generate(tmp_path_factory.mktemp("history") / "history")


@pytest.fixture(scope="module")
def load_time(history: Path, tmp_path_factory: pytest.TempPathFactory) -> float:
    folder = tmp_path_factory.mktemp("load-timing")
    return _timed(["db", "load", str(history)], f"sqlite:///{folder / 'r.db'}", folder)


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.3, 0.7, 0.95])
def test_a_killed_db_load_leaves_all_or_nothing(
    tmp_path: Path, history: Path, load_time: float, fraction: float
) -> None:
    db = tmp_path / "registry.db"
    url = f"sqlite:///{db}"
    kill_after(_start(["db", "load", str(history)], url, tmp_path), load_time * fraction)
    expected = sum(1 for _ in (history / "submissions.csv").open()) - 1
    if db.exists():
        assert _integrity(db) == "ok"
        n = _sqlite(db, "SELECT count(*) FROM submissions WHERE origin = 'history'")
        assert n in (0, expected)  # never a part of the history
    done = _run(["db", "load", str(history)], url, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _integrity(db) == "ok"
    assert _sqlite(db, "SELECT count(*) FROM submissions WHERE origin = 'history'") == expected
    queued = sum(1 for _ in (history / "queue.csv").open()) - 1
    assert _sqlite(db, "SELECT count(*) FROM submissions WHERE origin = 'queue'") == queued
    verify = _run(["audit", "verify"], url, tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.fixture(scope="module")
def loaded(history: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A registry with the history loaded, and how long a recorded selection on it takes."""
    folder = tmp_path_factory.mktemp("loaded")
    db = folder / "registry.db"
    _timed(["db", "load", str(history)], f"sqlite:///{db}", folder)
    trial = folder / "trial.db"
    shutil.copy(db, trial)
    return db, _timed(["select", "--json"], f"sqlite:///{trial}", folder)


def _runs(db: Path) -> int:
    return _sqlite(db, "SELECT count(*) FROM audit_records WHERE kind = 'run'")


def _decided(db: Path) -> int:
    return _sqlite(
        db, f"SELECT count(*) FROM submissions WHERE origin = 'queue' AND status IN {_DECIDED}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.4, 0.8, 0.93, 0.99])
def test_a_killed_selection_records_a_whole_run_or_nothing(
    tmp_path: Path, loaded: tuple[Path, float], fraction: float
) -> None:
    source, full = loaded
    db = tmp_path / "registry.db"
    shutil.copy(source, db)
    url = f"sqlite:///{db}"
    queued = _sqlite(db, "SELECT count(*) FROM submissions WHERE origin = 'queue'")
    events = _sqlite(db, "SELECT count(*) FROM status_history")
    kill_after(_start(["select", "--json"], url, tmp_path), full * fraction)
    assert _integrity(db) == "ok"
    runs = _runs(db)
    assert runs in (0, 1)
    # No half-recorded decision: the record and every case's new status, or neither.
    assert _decided(db) == (queued if runs else 0)
    moved = _sqlite(db, "SELECT count(*) FROM status_history WHERE run_id IS NOT NULL")
    assert moved == (queued if runs else 0)
    if not runs:
        assert _sqlite(db, "SELECT count(*) FROM status_history") == events
    verify = _run(["audit", "verify"], url, tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    again = _run(["select", "--json"], url, tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _runs(db) == runs + 1 and _decided(db) == queued
    assert _integrity(db) == "ok"
    verify = _run(["audit", "verify"], url, tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.slow
@pytest.mark.postgres
def test_a_killed_selection_on_postgresql_records_a_whole_run_or_nothing(
    tmp_path: Path, history: Path
) -> None:
    url = postgres_url_or_skip("PostgreSQL kill test")
    from sqlalchemy import text

    from triage.registry import Base, Registry

    def fresh() -> None:
        registry = Registry(url)
        registry.init()
        Base.metadata.drop_all(registry.engine)
        registry.dispose()

    def count(query: str) -> int:
        registry = Registry(url)
        try:
            with registry.engine.connect() as conn:
                return int(conn.execute(text(query)).scalar_one())
        finally:
            registry.dispose()

    fresh()
    try:
        assert _run(["db", "load", str(history)], url, tmp_path).returncode == 0
        queued = count("SELECT count(*) FROM submissions WHERE origin = 'queue'")
        full = _timed(["select", "--json"], url, tmp_path)  # run-000001, whole
        kill_after(_start(["select", "--json"], url, tmp_path), full * 0.9)
        time.sleep(1.0)  # the server notices the dead connection and rolls back
        runs = count("SELECT count(*) FROM audit_records WHERE kind = 'run'")
        assert runs in (1, 2)
        # No half-recorded decision: the second run moved every case, or none.
        second = count("SELECT count(*) FROM status_history WHERE run_id = 'run-000002'")
        assert second == (queued if runs == 2 else 0)
        verify = _run(["audit", "verify"], url, tmp_path)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        again = _run(["select", "--json"], url, tmp_path)
        assert again.returncode == 0, again.stderr[-2000:]
        assert count("SELECT count(*) FROM audit_records WHERE kind = 'run'") == runs + 1
    finally:
        fresh()
