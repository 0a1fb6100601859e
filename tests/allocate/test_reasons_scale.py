"""Reasons at scale: pricing by constraint pattern gives the same answers as pricing every
candidate, and 200,000 candidates with --reasons stay under 2 GB (their time is a benchmark:
``TRIAGE_BENCH_SIZES=200000 make bench ONLY=reliability``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from triage.allocate import _engine as engine_module
from triage.allocate import allocate, explain_selection, load_policy
from triage.allocate._synthetic import random_candidates
from triage.config import policies_dir, project_root


@pytest.mark.parametrize(
    ("n", "seed", "decimals"), [(2500, 4, None), (6000, 5, None), (4000, 6, 2)]
)
def test_pattern_pricing_gives_the_exact_reasons(
    n: int, seed: int, decimals: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_policy(policies_dir() / "default.toml")
    candidates = random_candidates(n, seed=seed)
    if decimals is not None:  # many exact ties: twins share one solve
        candidates["score"] = candidates["score"].round(decimals)
    allocation = allocate(candidates, policy)
    fast = explain_selection(candidates, policy, allocation)
    original = engine_module.Engine.__init__

    def price_everyone(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self._patterns_ok = False  # the reference: every candidate priced on every solve

    monkeypatch.setattr(engine_module.Engine, "__init__", price_everyone)
    reference = explain_selection(candidates, policy, allocate(candidates, policy))
    pd.testing.assert_frame_equal(fast, reference)
    assert fast["score_to_enter"].notna().sum() > 0.9 * (n - 550)


@pytest.mark.slow
def test_200k_candidates_with_reasons_fit_in_2_gb(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    random_candidates(200_000, seed=1).to_csv(path, index=False)
    reasons = tmp_path / "reasons.csv"
    code = "import sys; from triage.cli import main; main(sys.argv[1:])"
    argv = [sys.executable, "-c", code, "select", "--candidates", str(path)]
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        child = subprocess.Popen(
            [*argv, "--reasons", str(reasons)],
            cwd=project_root(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        # wait4 gives this child's own peak, not the worker's other children's (xdist, servers).
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    peak_gb = usage.ru_maxrss / 2**20
    assert child.returncode == 0, log.read_text()
    assert peak_gb < 2.0, peak_gb
    frame = pd.read_csv(reasons)
    assert len(frame) == 200_000 and frame["selected"].sum() == 550
