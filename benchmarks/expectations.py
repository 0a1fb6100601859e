"""The paper's statements on years, subgroups and named countries: expected value over seeds.

``python -m benchmarks.expectations [FIRST LAST]`` (default 1 40) simulates each seed's history
in memory and prints, as a Markdown table, every statement of
``triage.synth._expectation.STATEMENTS``: the paper's page and value, the expected value over
the seeds with its Monte Carlo standard error, whether it holds (three standard errors), and the
default seed's value (the same figure on the default seed's drawn outcomes). Improvement shares
over seeds are means of the truth; the default seed's are shares of its outcomes. About 1 s per
seed. data/README.md's table is this output for seeds 1-40.
"""

from __future__ import annotations

import sys

import pandas as pd

from triage.config import DEFAULT_SEED
from triage.synth import simulate
from triage.synth._expectation import expectation_table, sample_cases


def _default_values() -> pd.Series:
    cases = sample_cases(simulate(seed=DEFAULT_SEED), DEFAULT_SEED)
    drawn = cases.assign(p=cases["better"].astype(float))
    # One seed twice: the estimator needs two seeds; the value is the seed's own share.
    table = expectation_table(pd.concat([drawn, drawn.assign(seed=DEFAULT_SEED + 1)]))
    return table.set_index("key")["expected"]


def _cell(value: float) -> str:
    return "no case" if value != value else f"{value:.3f}"


def main(argv: list[str]) -> None:
    first, last = (int(argv[0]), int(argv[1])) if len(argv) >= 2 else (1, 40)
    cases = [sample_cases(simulate(seed=s), s) for s in range(first, last + 1)]
    table = expectation_table(cases)
    default = _default_values()
    print(
        f"| statement | page | paper | rule | expected, seeds {first}-{last} (se) | holds "
        f"| default seed |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in table.itertuples(index=False):
        print(
            f"| {row.statement} | {row.page} | {row.paper:.3g} | {row.rule} "
            f"| {row.expected:.3f} ({row.se:.3f}) | {'yes' if row.holds else 'NO'} "
            f"| {_cell(default[row.key])} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
