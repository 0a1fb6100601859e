"""The integer program of a fractional LP starts on the columns near the LP bound.

``Engine._near_core`` starts the program on the LP's own columns and those whose reduced cost is
within ``_NEAR`` of the score range; ``solve_mip`` widens the core whenever the final gap lets
an outside column in. Whatever that starting share, the optimum and the (canonical) selection
must be those of the independent MILP and of the core the LP priced in.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import triage.allocate._engine as engine_module
from tests.allocate.allocate_helpers import instances, reference
from tests.suite_settings import slow_property_settings
from triage.allocate import allocate


def _allocate_with_near(cands, policy, near: float):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine_module, "_NEAR", near)
        return allocate(cands, policy, seed=0)


@slow_property_settings(40)
@given(instances(), st.sampled_from([None, 1, 2]))
def test_any_starting_core_gives_the_proven_optimum_and_the_same_selection(
    instance, decimals: int | None
) -> None:
    cands, policy = instance
    if decimals is not None:
        # Rounded scores tie in blocks: fractional LPs and many equal optima.
        cands = cands.assign(score=cands["score"].round(decimals))
    expected = reference(cands, policy)
    results = [_allocate_with_near(cands, policy, near) for near in (0.0, 0.01, math.inf)]
    for result in results:
        if expected is None:
            assert not result.feasible
            continue
        assert result.feasible
        assert result.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert results[0].selected == results[1].selected == results[2].selected


_CAPPED = (
    "name = 'p'\ncapacity = 120\n[share.gender]\nwoman = { min = 0.45 }\n"
    "[share.violations]\nthreats = { min = 0.35 }\n[limit]\nmax_per_country = 4\n"
)


@pytest.mark.parametrize("seed", [0, 4])
def test_a_fractional_queue_starts_small_and_ends_at_the_optimum(seed: int) -> None:
    from triage.allocate import Policy
    from triage.allocate._problem import build_problem
    from triage.allocate._synthetic import random_candidates

    # Country caps make the LP fractional on these draws (checked below, not assumed).
    cands = random_candidates(2_000, seed=seed)
    policy = Policy.from_toml(_CAPPED)
    eng = engine_module.Engine(build_problem(cands, policy))
    lp = eng.solve_lp()
    assert lp.status == "optimal" and not lp.integral
    near = eng._near_core(lp, eng.core)
    assert len(near) < len(eng.core)
    # It holds every column the LP uses and every column the LP prices at no cost.
    assert np.all(np.isin(np.flatnonzero(lp.x > 1e-9), near))
    assert np.all(np.isin(np.flatnonzero(lp.reduced <= 0), near))
    expected = reference(cands, policy)
    results = [_allocate_with_near(cands, policy, near) for near in (0.0, 0.01, math.inf)]
    assert expected is not None
    for result in results:
        assert result.objective == pytest.approx(expected, rel=1e-12)
    assert results[0].selected == results[1].selected == results[2].selected
