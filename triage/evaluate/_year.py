"""One evaluated year: refit on what was known, score the year's pool, select four ways."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from triage.allocate import Allocation, Policy, allocate
from triage.errors import TriageError
from triage.evaluate._data import Prepared, known_at
from triage.scoring import fit_model

__all__ = ["evaluate_year", "n_known_outcomes"]

_CANDIDATE_COLUMNS = ("case_id", "score", "country", "un_region", "gender", "violations")


def n_known_outcomes(prepared: Prepared, year: int) -> int:
    """Outcomes observed before 1 January of ``year``."""
    known = known_at(prepared.history, pd.Timestamp(year=year, month=1, day=1))
    return int(known.outcomes["outcome"].notna().sum())


def _select(pool: pd.DataFrame, scores: np.ndarray, policy: Policy) -> Allocation:
    cands = pool.loc[:, [c for c in _CANDIDATE_COLUMNS if c != "score"]].copy()
    cands["score"] = np.asarray(scores, dtype=float)
    return allocate(cands, policy, solver="highspy")


def _chosen(pool: pd.DataFrame, allocation: Allocation) -> np.ndarray:
    if not allocation.feasible:  # pragma: no cover - every arm runs a feasible policy
        raise TriageError(f"{allocation.policy_name}: {allocation.message}")
    return pool["case_id"].isin(list(allocation.selected)).to_numpy()


def _year_policy(pool: pd.DataFrame, policy: Policy, k: int) -> tuple[Policy, list[str]]:
    """The policy at capacity ``k``; relaxed (the allocator's smallest fix) if infeasible.

    Feasibility does not depend on scores, so every arm of the year gets the same policy.
    """
    pol = policy.with_changes(capacity=k, exploration_share=0.0, must_include=())
    try:
        probe = _select(pool, np.zeros(len(pool)), pol)
    except TriageError as exc:  # a band that cannot hold for this year's K
        raise TriageError(f"{int(pool['year'].iloc[0])}, {k} cases: {exc.message}") from exc
    if probe.feasible:
        return pol, []
    if probe.relaxation is None:
        raise TriageError(
            f"{int(pool['year'].iloc[0])}: the policy cannot be met with this year's "
            f"{len(pool)} eligible submissions and no change of its targets repairs it."
        )
    relaxed = probe.relaxation.apply(pol)
    names = [str(n) for n in probe.relaxation.changes["name"]]
    return relaxed, names


def _mandate_balance(pool: pd.DataFrame, taken: np.ndarray, k: int) -> Policy:
    """A policy that holds a selection of ``k`` to the mandate's own balance that year.

    Exactly as many cases of each UN regional group, gender and violation as the mandate took
    up (its own selection meets it, so it is always feasible); no other limit.
    """
    from triage.schema import GENDERS, UN_REGIONS, VIOLATIONS, codes_to_frame

    pol = Policy(name="mandate's balance", capacity=k)
    chosen = pool[taken]
    dimensions = {"un_region": UN_REGIONS, "gender": GENDERS, "violations": VIOLATIONS}
    for dim, vocab in dimensions.items():
        if dim == "violations":
            counts = codes_to_frame(chosen["violations"], vocab).sum(axis=0)
        else:
            counts = chosen[dim].value_counts()
        for code in vocab:
            share = int(counts.get(code, 0)) / k
            pol = pol.with_bound(dim, code, min=share, max=share)
    return pol


def evaluate_year(
    prepared: Prepared, year: int, policy: Policy, *, n_random: int = 5
) -> dict[str, Any]:
    """Evaluate one received year (see ``triage.evaluate.evaluate``).

    Returns
    -------
    dict
        seed, year, capacity, candidates, n_train (outcomes observed before the year), mandate,
        triage, random, oracle (sums of the counterfactual truth), triage_equal (triage's
        selection held to the mandate's own numbers of each region, gender and violation) and
        relaxed (the constraint names the year's policy had to relax, ``;``-separated, blank
        when none).
    """
    start = pd.Timestamp(year=year, month=1, day=1)
    pool = prepared.pool[prepared.pool["year"] == year].reset_index(drop=True)
    truth = pool["truth"].to_numpy(dtype=float)
    taken = pool["taken"].to_numpy(dtype=bool)
    k = int(taken.sum())
    known = known_at(prepared.history, start)
    n_train = int(known.outcomes["outcome"].notna().sum())
    row: dict[str, Any] = {
        "seed": prepared.seed,
        "year": int(year),
        "capacity": k,
        "candidates": len(pool),
        "n_train": n_train,
        "mandate": float(truth[taken].sum()),
    }
    if k == 0:
        return {
            **row,
            **{arm: 0.0 for arm in ("triage", "random", "oracle", "triage_equal")},
            "relaxed": "",
        }
    # The evaluation's own random steps use fixed seeds: a folder and the same history
    # simulated in memory give the same figures.
    try:
        model = fit_model(known, seed=0)
    except TriageError as exc:
        raise TriageError(
            f"seed {prepared.seed}, {year}: the refit on {n_train} outcomes failed: "
            f"{exc.message} Choose a later --from-year."
        ) from exc
    cases = pool.loc[:, [c for c in pool.columns if c not in ("year", "taken", "truth")]]
    score = model.predict(cases, known)["score"].to_numpy(dtype=float)
    pol, relaxed = _year_policy(pool, policy, k)
    triage_sel = _chosen(pool, _select(pool, score, pol))
    oracle_sel = _chosen(pool, _select(pool, truth, pol))
    equal_sel = _chosen(pool, _select(pool, score, _mandate_balance(pool, taken, k)))
    draws = []
    for i in range(n_random):
        rng = np.random.default_rng([int(year), i, 7])
        draws.append(float(truth[_chosen(pool, _select(pool, rng.random(len(pool)), pol))].sum()))
    return {
        **row,
        "triage": float(truth[triage_sel].sum()),
        "random": float(np.mean(draws)),
        "oracle": float(truth[oracle_sel].sum()),
        "triage_equal": float(truth[equal_sel].sum()),
        "relaxed": ";".join(relaxed),
    }
