"""Issue 13's figures: whole CLI processes at scale, with their peak memory.

Each case runs ``triage`` in a fresh subprocess and reads its peak resident memory from
``resource.getrusage(RUSAGE_CHILDREN)`` (the figure ``/usr/bin/time -v`` prints as "Maximum
resident set size"). ``TRIAGE_BENCH_SIZES`` (comma-separated, default ``200000``) sets the
candidate counts of the ``select --reasons`` runs, e.g. ``50000,200000,1000000``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CLI = "import sys; from triage.cli import main; main(sys.argv[1:])"


def _measure(argv: list[str]) -> tuple[float, float, int]:
    """Run ``triage argv`` in a child; return (seconds, peak GiB of that child, exit code)."""
    code = (
        "import atexit, resource, sys\n"
        "atexit.register(lambda: sys.stderr.write("
        "f'\\nPEAK_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n" + _CLI
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    peak = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB")]
    kb = peak[-1] if peak else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, kb / 2**20, done.returncode


def run() -> list[tuple[str, float, str]]:
    from triage.allocate._synthetic import random_candidates

    rows: list[tuple[str, float, str]] = []
    sizes = [int(s) for s in os.environ.get("TRIAGE_BENCH_SIZES", "200000").split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in sizes:
            path = folder / f"candidates_{n}.csv"
            random_candidates(n, seed=1).to_csv(path, index=False)
            out = folder / f"reasons_{n}.csv"
            argv = ["select", "--candidates", str(path), "--reasons", str(out)]
            seconds, gib, code = _measure(argv)
            rows.append(
                (
                    f"select --reasons, {n:,} candidates (whole process)",
                    seconds,
                    f"peak {gib:.2f} GiB, exit {code}; target < 60 s and < 2 GiB at 200,000",
                )
            )
        seconds, gib, code = _measure(["ingest", "/dev/zero", "--dry-run"])
        rows.append(
            (
                "ingest /dev/zero (refused before reading)",
                seconds,
                f"peak {gib:.2f} GiB, exit {code}",
            )
        )
    return rows
