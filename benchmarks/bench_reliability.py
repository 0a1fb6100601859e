"""Issue 13's figures: whole CLI processes at scale, with their peak memory.

Each case runs ``triage`` in a fresh subprocess and reads its peak resident memory from
``resource.getrusage(RUSAGE_CHILDREN)`` (the figure ``/usr/bin/time -v`` prints as "Maximum
resident set size"). ``TRIAGE_BENCH_SIZES`` (comma-separated, default ``200000``) sets the
candidate counts of the ``select --reasons`` runs, e.g. ``50000,200000,1000000``.

The registry path: a default-seed history whose queue is resampled to ``TRIAGE_BENCH_QUEUE``
cases (default 100,000; generated here, never committed), loaded with ``triage db load`` and
selected with ``triage select --reasons`` (scores, reasons, chance of selection, the recorded
run), each a whole process; the selection's stages are timed through ``run_selection``'s
progress callback in the child.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CLI = "from triage.cli import console_script; console_script()"


#: In the child: print each stage of ``run_selection`` with the seconds it took.
_STAGES = (
    "import time, triage.audit as _a\n"
    "_run = _a.run_selection\n"
    "def _timed(**kw):\n"
    "    last = [time.perf_counter(), time.process_time(), 'policy and its names check']\n"
    "    def tick(done, total, what):\n"
    "        now, cpu = time.perf_counter(), time.process_time()\n"
    "        sys.stderr.write(f'\\nSTAGE {now - last[0]:.3f} {cpu - last[1]:.3f} {last[2]}\\n')\n"
    "        last[:] = [now, cpu, what]\n"
    "    return _run(on_progress=tick, **kw)\n"
    "_a.run_selection = _timed\n"
)


def _measure(
    argv: list[str], env: dict[str, str] | None = None, stages: list[str] | None = None
) -> tuple[float, float, int]:
    """Run ``triage argv`` in a child; return (seconds, peak GiB of that child, exit code).

    With ``stages``, the child's ``run_selection`` stages are appended to it as text.
    """
    code = (
        "import atexit, resource, sys\n"
        "atexit.register(lambda: sys.stderr.write("
        "f'\\nPEAK_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
        "atexit.register(lambda: sys.stderr.write(f'\\nCPU_S {sum(resource.getrusage("
        "resource.RUSAGE_SELF)[:2]):.2f}\\n'))\n" + (_STAGES if stages is not None else "") + _CLI
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - started
    cpu = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("CPU_S")]
    if stages is not None:
        if done.returncode:
            said = [
                ln for ln in done.stderr.splitlines() if ln.strip() and ln[:4] not in "PEAKCPU_"
            ]
            stages.append(f"failed: {said[-1] if said else 'no message'}")
        if cpu:
            stages.insert(0, f"CPU {float(cpu[-1]):.1f} s")
        for line in done.stderr.splitlines():
            if line.startswith("STAGE "):
                _, wall_s, cpu_s, what = line.split(" ", 3)
                stages.append(f"{what} {float(wall_s):.1f} s (CPU {float(cpu_s):.1f} s)")
    peak = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB")]
    kb = peak[-1] if peak else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, kb / 2**20, done.returncode


def large_queue_history(folder: Path, n: int, *, seed: int = 13) -> Path:
    """Write the default-seed history to ``folder`` with its queue resampled to ``n`` cases.

    Queued rows are drawn with replacement from the simulated queue, with new ids, names,
    received dates (one year), incident dates and planned mandates, so scores vary (SIMULATED).
    """
    import numpy as np
    import pandas as pd

    from triage.config import DEFAULT_SEED
    from triage.synth import generate

    generate(folder, seed=DEFAULT_SEED)
    queue = pd.read_csv(folder / "queue.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    rows = queue.iloc[rng.integers(0, len(queue), n)].reset_index(drop=True)
    received = pd.Timestamp("2016-12-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    incident = received - pd.to_timedelta(rng.integers(0, 120, n), unit="D")
    rows["case_id"] = [f"Q17-{i:07d}" for i in range(n)]
    rows["individual_id"] = [f"I-Q{i:07d}" for i in range(n)]
    rows["defender_name"] = [f"Name {i} (simulated)" for i in range(n)]
    rows["received_date"] = received.strftime("%Y-%m-%d")
    rows["last_incident_date"] = incident.strftime("%Y-%m-%d")
    rows["n_mandates"] = rng.integers(1, 6, n).astype(str)
    rows = rows.sort_values(["received_date", "case_id"])
    rows.to_csv(folder / "queue.csv", index=False, lineterminator="\n")
    return folder


def registry_path(n: int) -> list[tuple[str, float, str]]:
    """``triage db load`` and a recorded ``triage select --reasons`` on an ``n``-case queue."""
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        history = large_queue_history(folder / "history", n)
        env = {"TRIAGE_DB_URL": f"sqlite:///{folder / 'registry.db'}", "TRIAGE_VAR": tmp}
        seconds, gib, code = _measure(["db", "load", str(history)], env)
        rows.append(
            (f"db load, history + {n:,} queued (whole process)", seconds, f"peak {gib:.2f} GiB")
        )
        stages: list[str] = []
        argv = ["select", "--reasons", str(folder / "reasons.csv")]
        seconds, gib, code = _measure(argv, env, stages)
        rows.append(
            (
                f"registry select --reasons, {n:,} queued (whole process)",
                seconds,
                f"peak {gib:.2f} GiB, exit {code}; target < 20 s and < 2 GiB at 100,000; "
                + " / ".join(stages),
            )
        )
    return rows


def run() -> list[tuple[str, float, str]]:
    from triage.allocate._synthetic import random_candidates

    rows: list[tuple[str, float, str]] = registry_path(
        int(os.environ.get("TRIAGE_BENCH_QUEUE", "100000"))
    )
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
