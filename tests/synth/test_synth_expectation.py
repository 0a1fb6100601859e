"""The paper's statements on years, subgroups and named countries hold in expectation over seeds.

Each statement of ``triage.synth._expectation.STATEMENTS`` is estimated by Monte Carlo over 40
seeds never used to set a tolerance (improvement shares from the truth, the other outcomes from
the draws) and must hold with a margin of three Monte Carlo standard errors. 40 seeds: a named
country has about three sample cases a seed, and its expected share must be told apart from
the sample's 24 % with that margin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from triage.synth import simulate
from triage.synth._expectation import STATEMENTS, Z, _ratio, expectation_table, sample_cases

SEEDS = tuple(range(4001, 4041))


@pytest.fixture(scope="module")
def pooled() -> pd.DataFrame:
    return pd.concat([sample_cases(simulate(seed=s), s) for s in SEEDS], ignore_index=True)


@pytest.mark.slow
def test_every_statement_holds_in_expectation_over_seeds(pooled: pd.DataFrame) -> None:
    table = expectation_table(pooled)
    assert len(table) == len(STATEMENTS)
    bad = table.loc[~table["holds"], ["key", "paper", "rule", "expected", "se", "margin"]]
    assert bad.empty, "statements that fail in expectation:\n" + bad.to_string(index=False)


@pytest.mark.slow
def test_the_check_would_catch_the_opposite_finding(pooled: pd.DataFrame) -> None:
    """Swapping convicted and non-convicted cases, or 2013 and 2015, fails the statements."""
    flipped = pooled.assign(conviction=~pooled["conviction"])
    table = expectation_table(flipped).set_index("key")
    assert not table.loc["improved_conviction_gap", "holds"]
    assert not table.loc["improved_convicted", "holds"]
    years = pooled["year"].replace({2013: 2015, 2015: 2013})
    table = expectation_table(pooled.assign(year=years)).set_index("key")
    assert not table.loc["improved_2015", "holds"]
    assert not table.loc["improved_2013_low_point", "holds"]


def test_ratio_standard_error_matches_its_definition() -> None:
    cases = pd.DataFrame(
        {"seed": [1, 1, 2, 2, 2, 3], "p": [0.2, 0.4, 0.1, 0.3, 0.5, 0.6], "g": [True] * 6}
    )
    seeds = np.array([1, 2, 3])
    est = _ratio(cases, cases["g"], "p", seeds)
    tot, n = np.array([0.6, 0.9, 0.6]), np.array([2.0, 3.0, 1.0])
    r = tot.sum() / n.sum()
    assert est.value == pytest.approx(r)
    assert est.se == pytest.approx(np.sqrt(((tot - r * n) ** 2).sum() / 6) / n.mean())
    assert Z == 3.0
