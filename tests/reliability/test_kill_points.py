"""Kill -9 at chosen points of an ingest: the registry is never half written.

Each run ingests a generated file in a subprocess and kills it after a chosen delay (before,
during or after the commit). Afterwards SQLite's ``PRAGMA integrity_check`` is ``ok``, the file's
rows are either all registered or none, and ingesting it again completes the registry exactly.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reliability.kill_helpers import kill_after
from triage.config import project_root

_CLI = "import sys; from triage.cli import main; main(sys.argv[1:])"
N_ROWS = 10_000


def _queue_file(path: Path) -> Path:
    lines = ["submission_id,received_date,defender_name,source_contact,country,gender"]
    countries = ("FRA", "KEN", "BRA", "IND", "RUS", "MEX")
    lines += [
        f"K-{i:06d},2015-{1 + i % 12:02d}-{1 + i % 28:02d},Name {i},c{i}@example.org,"
        f"{countries[i % len(countries)]},{('woman', 'man')[i % 2]}"
        for i in range(N_ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _ingest(file: Path, db: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRIAGE_DB_URL": f"sqlite:///{db}"}
    return subprocess.Popen(
        [sys.executable, "-c", _CLI, "ingest", str(file)],
        cwd=project_root(),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _state(db: Path) -> tuple[str, int]:
    with sqlite3.connect(db) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        try:
            n = conn.execute(
                "SELECT count(*) FROM submissions WHERE submission_id LIKE 'K-%'"
            ).fetchone()[0]
        except sqlite3.OperationalError:  # killed before the tables were created
            n = 0
    return check, int(n)


@pytest.fixture(scope="module")
def timed_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The generated file, and how long a full ingest of it takes here (so that the kill
    points fall in its phases: start-up, reading, storing, after the commit)."""
    folder = tmp_path_factory.mktemp("kill")
    file = _queue_file(folder / "queue.csv")
    started = time.perf_counter()
    assert _ingest(file, folder / "timing.db").wait(timeout=300) == 0
    return file, time.perf_counter() - started


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.2, 0.6, 0.9, 0.98])
def test_a_killed_ingest_leaves_all_or_nothing(
    tmp_path: Path, timed_file: tuple[Path, float], fraction: float
) -> None:
    file, full = timed_file
    db = tmp_path / "registry.db"
    kill_after(_ingest(file, db), full * fraction)
    if db.exists():
        check, n = _state(db)
        assert check == "ok"
        assert n in (0, N_ROWS)  # never a part of the file
    again = _ingest(file, db)
    assert again.wait(timeout=300) in (0,)
    check, n = _state(db)
    assert (check, n) == ("ok", N_ROWS)
    # The intake log is written with the rows: it accounts for every row added, by the run
    # that added it (a run killed after its commit is logged; the re-run adds 0 and says so).
    with sqlite3.connect(db) as conn:
        added = [r[0] for r in conn.execute("SELECT n_added FROM intake_files ORDER BY id")]
    assert sum(added) == N_ROWS and added[-1] in (0, N_ROWS)
