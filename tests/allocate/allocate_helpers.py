"""Small allocation instances for property tests, and an independent MILP to check them against."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from triage.allocate import Policy, PolicyError
from triage.allocate._synthetic import random_candidates
from triage.schema import UN_REGIONS


def reference(cands: pd.DataFrame, policy: Policy) -> float | None:
    """Solve the policy's integer program independently; return the optimum or None."""
    n = len(cands)
    k = min(policy.capacity, n)
    rows, lo, hi = [np.ones(n)], [k], [k]
    for dim, bands in policy.shares.items():
        for code, b in bands.items():
            if dim == "violations":
                member = cands["violations"].map(lambda v, c=code: c in str(v).split(";"))
            else:
                member = cands[dim] == code
            a = member.to_numpy(dtype=float)
            if b.min is not None:
                rows.append(a)
                lo.append(math.ceil(b.min * k - 1e-9))
                hi.append(np.inf)
            if b.max is not None:
                rows.append(a)
                lo.append(-np.inf)
                hi.append(math.floor(b.max * k + 1e-9))
    if policy.max_per_country is not None:
        for country in cands["country"].unique():
            rows.append((cands["country"] == country).to_numpy(dtype=float))
            lo.append(-np.inf)
            hi.append(policy.max_per_country)
    for cid in policy.must_include:
        rows.append((cands["case_id"] == cid).to_numpy(dtype=float))
        lo.append(1)
        hi.append(np.inf)
    res = milp(
        -cands["score"].to_numpy(dtype=float),
        constraints=LinearConstraint(np.array(rows), lo, hi),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0},
    )
    return None if res.status != 0 else -float(res.fun)


def small_instance(draw: st.DrawFn) -> tuple[pd.DataFrame, Policy]:
    n = draw(st.integers(5, 60))
    seed = draw(st.integers(0, 10_000))
    cands = random_candidates(n, seed=seed, n_countries=10)
    capacity = draw(st.integers(1, n + 5))
    lines = ["name = 'h'", f"capacity = {capacity}", "[share.un_region]"]
    for region in UN_REGIONS:
        if draw(st.booleans()):
            lo = draw(st.sampled_from([0.0, 0.1, 0.2, 0.3]))
            lines.append(f"{region} = {{ min = {lo} }}")
        elif draw(st.booleans()):
            hi = draw(st.sampled_from([0.1, 0.2, 0.4]))
            lines.append(f"{region} = {{ max = {hi} }}")
    lines.append("[share.gender]")
    lines.append(f"woman = {{ min = {draw(st.sampled_from([0.0, 0.2, 0.4, 0.6]))} }}")
    lines.append("[share.violations]")
    lines.append(f"threats = {{ min = {draw(st.sampled_from([0.0, 0.1, 0.3]))} }}")
    lines.append(f"detention = {{ max = {draw(st.sampled_from([0.3, 0.6, 1.0]))} }}")
    if draw(st.booleans()):
        lines.append("[limit]")
        lines.append(f"max_per_country = {draw(st.integers(1, 10))}")
    must = draw(st.lists(st.sampled_from(list(cands["case_id"])), max_size=2, unique=True))
    if must and len(must) <= capacity:
        lines.append("[must_include]")
        lines.append(f"case_ids = {json.dumps(must)}")
    try:
        policy = Policy.from_toml("\n".join(lines))
        policy.check_for(min(capacity, n))
    except PolicyError:  # bands that cannot hold for this K are rejected up front
        policy = Policy.from_toml(f"name = 'h'\ncapacity = {capacity}")
    return cands, policy


instances = st.composite(small_instance)
