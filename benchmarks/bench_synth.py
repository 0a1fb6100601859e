"""Timings of the simulated history: the full default-seed build (target < 30 s) and its check."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def run() -> list[tuple[str, float, str]]:
    from triage.config import DEFAULT_SEED
    from triage.schema import read_history
    from triage.synth import calibration_report, generate, read_supplements, simulate

    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "history"
        start = time.perf_counter()
        generate(out, seed=DEFAULT_SEED)
        rows.append(
            (
                "synth: generate full history to CSV (default seed)",
                time.perf_counter() - start,
                "target < 30 s; 4,511 comms, 12,086 cases, ~40k submissions",
            )
        )

        start = time.perf_counter()
        generate(Path(tmp) / "all", seed=DEFAULT_SEED, outcomes="all")
        rows.append(
            ("synth: generate with --outcomes all", time.perf_counter() - start, "12,086 outcomes")
        )

        start = time.perf_counter()
        history = read_history(out)
        report = calibration_report(history, supplements=read_supplements(out))
        rows.append(
            (
                "synth: read history + calibration report",
                time.perf_counter() - start,
                f"{len(report.table)} figures, passed={report.passed}",
            )
        )

    start = time.perf_counter()
    simulate(seed=7, scale=0.1)
    rows.append(
        ("synth: simulate in memory at scale 0.1", time.perf_counter() - start, "test fixture size")
    )
    return rows
