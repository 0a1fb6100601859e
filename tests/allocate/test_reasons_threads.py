"""The reasons' pattern programs run on two engines, one per thread: the answer must not
depend on which thread runs first, how they interleave, or how long each solve takes."""

from __future__ import annotations

import random
import sys
import threading
import time
from typing import Any

import pandas as pd
import pytest

import triage.allocate._reasons as reasons_module
from triage.allocate import Policy, allocate, explain_selection
from triage.allocate._synthetic import random_candidates

#: Country caps make this draw's LP fractional, so integer programs run in both threads.
_CAPPED = (
    "name = 'p'\ncapacity = 120\n[share.gender]\nwoman = { min = 0.45 }\n"
    "[share.violations]\nthreats = { min = 0.35 }\n[limit]\nmax_per_country = 4\n"
)


def test_reasons_do_not_depend_on_the_threads_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    cands = random_candidates(2_000, seed=0)
    cands["score"] = cands["score"].round(3)  # ties: many equally good exchanges to pick from
    policy = Policy.from_toml(_CAPPED)
    allocation = allocate(cands, policy, seed=0)
    plain = explain_selection(cands, policy, allocation)

    solve = reasons_module._solve_pattern
    threads: set[str] = set()
    jitter = random.Random(7)

    def jittered(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        # The second engine's thread starts late and both stall at random between solves.
        time.sleep(jitter.choice([0.0, 0.0, 0.001, 0.005]))
        return solve(*args, **kwargs)

    monkeypatch.setattr(reasons_module, "_solve_pattern", jittered)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        shaken = explain_selection(cands, policy, allocation)
    finally:
        sys.setswitchinterval(interval)
    assert len(threads) == 2  # both engines solved patterns
    assert shaken["score_to_enter"].notna().sum() > 100
    pd.testing.assert_frame_equal(plain, shaken, check_exact=True)
