"""Random candidate tables for the allocation tests and benchmarks (simulated, not real cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from triage.schema import VIOLATIONS, countries

REGION_WEIGHTS = {
    "african": 0.22,
    "asia_pacific": 0.33,
    "eastern_european": 0.12,
    "latin_american_caribbean": 0.22,
    "weog": 0.11,
}


def random_candidates(n: int, *, seed: int, n_countries: int = 60) -> pd.DataFrame:
    """Return ``n`` simulated candidates: case_id, score, country, un_region, gender, violations."""
    rng = np.random.default_rng(seed)
    table = countries()
    by_region: dict[str, list[str]] = {}
    for iso3, c in sorted(table.items()):
        by_region.setdefault(c.un_region, []).append(iso3)
    regions = list(REGION_WEIGHTS)
    region = rng.choice(regions, size=n, p=list(REGION_WEIGHTS.values()))
    pool = {
        r: rng.choice(
            by_region[r], size=min(len(by_region[r]), max(2, n_countries // 5)), replace=False
        )
        for r in regions
    }
    country = np.empty(n, dtype=object)
    for r in regions:
        idx = np.flatnonzero(region == r)
        weights = rng.dirichlet(np.ones(len(pool[r])) * 0.7)
        country[idx] = rng.choice(pool[r], size=len(idx), p=weights)
    gender = rng.choice(["woman", "man", "unknown"], size=n, p=[0.23, 0.72, 0.05])
    codes = list(VIOLATIONS)
    probs = np.array(
        [
            0.5,
            0.25,
            0.07,
            0.05,
            0.03,
            0.25,
            0.05,
            0.04,
            0.07,
            0.17,
            0.09,
            0.05,
            0.04,
            0.04,
            0.03,
            0.01,
            0.01,
        ]
    )
    flags = rng.random((n, len(codes))) < probs
    violations = [";".join(c for c, f in zip(codes, row, strict=True) if f) for row in flags]
    score = 1 / (1 + np.exp(-(rng.normal(-1.0, 0.8, n) + 0.4 * flags[:, 0])))
    return pd.DataFrame(
        {
            "case_id": [f"C{seed}-{i:07d}" for i in range(n)],
            "score": np.round(score, 6),
            "country": country,
            "un_region": region,
            "gender": gender,
            "violations": violations,
        }
    )
