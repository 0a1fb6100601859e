"""Allocation benchmarks (``make bench``): yearly problem, full history, slider re-solve, 1M.

Candidates are simulated (``triage.allocate._synthetic``); the policy is ``policies/default.toml``.
Each figure is the median of a few runs on this machine, in seconds.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import median_seconds


def run() -> list[tuple[str, float, str]]:
    """Return (what, seconds, note) rows."""
    from triage.allocate import InteractiveAllocator, allocate, load_policy
    from triage.allocate._problem import prepare_candidates
    from triage.allocate._synthetic import random_candidates
    from triage.config import policies_dir

    policy = load_policy(policies_dir() / "default.toml")
    rows: list[tuple[str, float, str]] = []

    yearly = prepare_candidates(random_candidates(1650, seed=2018))
    allocate(yearly, policy)  # warm imports
    for solver in ("highs", "cbc"):
        result = allocate(yearly, policy, solver=solver)  # type: ignore[arg-type]
        t = median_seconds(lambda s=solver: allocate(yearly, policy, solver=s), 5)  # type: ignore[misc]
        rows.append(
            (
                f"allocate 550 of 1,650 (PuLP + {solver})",
                t,
                f"target < 0.1 s; {result.status}, gap {result.gap}",
            )
        )

    history = prepare_candidates(random_candidates(12_086, seed=2019))
    result = allocate(history, policy)
    rows.append(
        (
            "allocate 550 of 12,086 (PuLP + highs)",
            median_seconds(lambda: allocate(history, policy), 5),
            f"target < 0.5 s; {result.status}, gap {result.gap}",
        )
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "candidates.csv"
        random_candidates(12_086, seed=2019).to_csv(path, index=False)
        exe = Path(sys.executable).with_name("triage")
        cmd = [str(exe), "select", "--candidates", str(path), "--json"]
        env = {**os.environ}

        def cli() -> None:
            subprocess.run(cmd, check=True, capture_output=True, env=env)

        rows.append(
            (
                "triage select --candidates (12,086), whole process",
                median_seconds(cli, 3),
                "target < 2 s",
            )
        )

    inter = InteractiveAllocator(history, policy)
    steps = [0.26, 0.28, 0.30, 0.32, 0.29, 0.27, 0.25]
    times = []
    statuses = set()
    for share in steps:
        changed = policy.with_bound("gender", "woman", min=share)
        t = time.perf_counter()
        res = inter.resolve(changed)
        times.append(time.perf_counter() - t)
        statuses.add(res.status)
    rows.append(
        (
            "re-solve after one target changes (12,086, in memory)",
            statistics.median(times),
            f"target < 0.1 s; max {max(times):.3f} s over {len(steps)} moves; {sorted(statuses)}",
        )
    )

    big = random_candidates(1_000_000, seed=7, n_countries=150)
    t = time.perf_counter()
    result = allocate(big, policy)
    rows.append(
        (
            "allocate 550 of 1,000,000 (checks + sifting + PuLP core)",
            time.perf_counter() - t,
            f"target < 10 s; {result.status}, gap {result.gap}",
        )
    )
    return rows


if __name__ == "__main__":
    for what, seconds, note in run():
        print(f"{what:<60} {seconds:9.3f} s  {note}")
