"""Rolling selection through the year in batches, and a backtest of a policy against the mandate.

Rolling: cases arrive all year and urgent appeals cannot wait for December. In each period the
allocator selects from the cases that arrived and have waited at most ``pacing.max_wait``
periods, so that the year-to-date count follows the pacing schedule and the year-to-date shares
stay inside the bands (pro rata: a floor of 30% means 30% of the cases due so far). When a batch
cannot meet a band (too few women have arrived yet, say), the smallest relaxation is applied to
that batch only and recorded. The year is compared with the hindsight optimum over all its cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from triage.allocate._allocation import (
    Allocation,
    _records,
    allocate,
    find_relaxation,
    group_shares,
)
from triage.allocate._engine import Engine
from triage.allocate._policy import Policy
from triage.allocate._problem import Problem, Row, build_problem, prepare_candidates
from triage.errors import TriageError

__all__ = ["BacktestResult", "RollingResult", "backtest", "rolling_selection"]


@dataclass(frozen=True)
class RollingResult:
    """A simulated year of batch selections compared with the hindsight optimum.

    Attributes
    ----------
    overall : Series
        selected, objective, hindsight_objective, ratio (rolling / hindsight), batches,
        relaxed_batches.
    by_period : DataFrame
        period, start, arrived, available, due (cumulative), selected, cumulative, objective,
        relaxed (';'-separated constraint names relaxed in that batch).
    by_group : DataFrame
        dimension, group, rolling_share, hindsight_share, min, max, inside (bool).
    selections : DataFrame
        case_id, period (index of the batch that selected it).
    """

    overall: pd.Series
    by_period: pd.DataFrame
    by_group: pd.DataFrame
    selections: pd.DataFrame


def _period_index(dates: pd.Series, start: pd.Timestamp, period: str, n_periods: int) -> np.ndarray:
    if period == "week":
        idx = (dates - start).dt.days.to_numpy() // 7
    else:
        months = (dates.dt.year - start.year) * 12 + (dates.dt.month - start.month)
        idx = months.to_numpy() // (1 if period == "month" else 3)
    return np.clip(idx, 0, n_periods - 1).astype(np.int64)


def _batch_problem(
    year: Problem, policy: Policy, avail: np.ndarray, b: int, due: int, ytd: np.ndarray
) -> Problem:
    rows: list[Row] = []
    k_year = year.k
    for r, row in enumerate(year.rows):
        if r == 0:
            rows.append(replace(row, target=b))
            continue
        if row.name.startswith("share_"):
            dim, _, code = row.group.partition("=")
            band = policy.shares[dim][code]
            if row.kind == "min":
                want = band.min_count(due) or 0
                rows.append(replace(row, target=max(want - int(ytd[r]), 0)))
            else:
                cap = band.max_count(due)
                assert cap is not None
                rows.append(replace(row, target=max(cap - int(ytd[r]), 0)))
        elif row.name.startswith("max_per_country"):
            rows.append(replace(row, target=max(row.target - int(ytd[r]), 0)))
        else:  # must-include / exploration: only while the case is waiting
            rows.append(replace(row, target=0 if row.kind == "min" else k_year))
    must = [
        r
        for r, row in enumerate(year.rows)
        if row.name.startswith("must_include") and np.isin(year.matrix[r].indices, avail).any()
    ]
    for r in must:
        rows[r] = replace(rows[r], target=1)
    matrix = year.matrix[:, avail]
    return Problem(
        candidates=year.candidates.iloc[avail].reset_index(drop=True),
        case_ids=year.case_ids[avail],
        scores=year.scores[avail],
        k=b,
        rows=rows,
        matrix=matrix.tocsr(),
        forced=np.empty(0, dtype=np.int64),
        exploration=np.empty(0, dtype=np.int64),
    )


def rolling_selection(
    candidates: pd.DataFrame,
    policy: Policy,
    *,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> RollingResult:
    """Select through one year in batches (``policy.pacing``) and compare with hindsight.

    Parameters
    ----------
    candidates : DataFrame
        As for :func:`allocate`, plus ``received_date``. The year starts at the earliest date.
    policy : Policy
        Capacity is the year's; exploration is not drawn in rolling mode.
    """
    cands = prepare_candidates(candidates)
    if "received_date" not in cands.columns:
        raise ValueError("`candidates` must have a received_date column. Got none.")
    year_policy = policy.with_changes(exploration_share=0.0)
    year = build_problem(cands, year_policy, prepared=True)
    pacing = policy.pacing
    n_periods = pacing.n_periods
    start = cands["received_date"].min().normalize()
    arrival = _period_index(cands["received_date"], start, pacing.period, n_periods)
    cumulative = pacing.cumulative()
    selected = np.zeros(year.n, dtype=bool)
    chosen_in = np.full(year.n, -1, dtype=np.int64)
    records = []
    relaxed_batches = 0
    for p in range(n_periods):
        due = min(round(cumulative[p] * year.k), year.k)
        waiting = (arrival <= p) & (p - arrival <= pacing.max_wait) & ~selected
        avail = np.flatnonzero(waiting)
        b = min(max(due - int(selected.sum()), 0), len(avail))
        relaxed_names: list[str] = []
        objective = 0.0
        if b > 0:
            ytd = year.matrix @ selected.astype(np.float64)
            batch = _batch_problem(year, year_policy, avail, b, due, ytd)
            eng = Engine(batch)
            lp = eng.solve_lp()
            mip = eng.solve_mip(lp, backend="highspy") if lp.status == "optimal" else None
            if mip is None or mip.status == "infeasible":
                relaxation = find_relaxation(batch)
                if relaxation is None:
                    raise TriageError(
                        f"rolling selection: the batch of {pacing.period} {p + 1} cannot meet "
                        "the policy even with relaxed bands (check must-include cases)."
                    )
                relaxed = {str(r.name): int(r.relaxed_to) for r in _records(relaxation.changes)}
                relaxed_names = sorted(relaxed)
                batch = replace(
                    batch,
                    rows=[
                        replace(row, target=relaxed.get(row.name, row.target)) for row in batch.rows
                    ],
                )
                eng = Engine(batch)
                lp = eng.solve_lp()
                mip = eng.solve_mip(lp, backend="highspy")
                relaxed_batches += 1
            picked = avail[mip.x]
            selected[picked] = True
            chosen_in[picked] = p
            objective = float(year.scores[picked].sum())
        records.append(
            (
                p,
                int((arrival == p).sum()),
                len(avail),
                due,
                b,
                int(selected.sum()),
                objective,
                ";".join(relaxed_names),
            )
        )
        if on_progress:
            on_progress(p + 1, n_periods, f"{pacing.period} {p + 1}")
    by_period = pd.DataFrame(
        records,
        columns=[
            "period",
            "arrived",
            "available",
            "due",
            "selected",
            "cumulative",
            "objective",
            "relaxed",
        ],
    )
    hindsight = allocate(cands, year_policy, solver="highspy")
    rolling_obj = math.fsum(year.scores[selected].tolist())
    hind_obj = float(hindsight.objective) if hindsight.objective is not None else math.nan
    shares = group_shares(cands, selected).rename(
        columns={"share": "rolling_share", "selected": "rolling_selected"}
    )
    hx = np.isin(year.case_ids, np.asarray(hindsight.selected, dtype=str))
    shares["hindsight_share"] = group_shares(cands, hx)["share"].to_numpy()
    mins, maxs = [], []
    for rec in _records(shares):
        band = policy.shares.get(rec.dimension, {}).get(rec.group)
        mins.append(np.nan if band is None or band.min is None else band.min)
        maxs.append(np.nan if band is None or band.max is None else band.max)
    shares["min"] = mins
    shares["max"] = maxs
    total = max(int(selected.sum()), 1)
    lo_ok = shares["min"].isna() | (
        shares["rolling_selected"] >= np.ceil(shares["min"] * total - 1e-9)
    )
    hi_ok = shares["max"].isna() | (
        shares["rolling_selected"] <= np.floor(shares["max"] * total + 1e-9)
    )
    shares["inside"] = lo_ok & hi_ok
    overall = pd.Series(
        {
            "selected": int(selected.sum()),
            "objective": rolling_obj,
            "hindsight_objective": hind_obj,
            "ratio": rolling_obj / hind_obj if hind_obj else math.nan,
            "batches": int((by_period["selected"] > 0).sum()),
            "relaxed_batches": relaxed_batches,
            "bands_missed": int((~shares["inside"]).sum()),
        },
        dtype=object,
    )
    selections = pd.DataFrame(
        {"case_id": year.case_ids[selected], "period": chosen_in[selected]}
    ).reset_index(drop=True)
    return RollingResult(
        overall=overall, by_period=by_period, by_group=shares, selections=selections
    )


@dataclass(frozen=True)
class BacktestResult:
    """A policy against what the mandate did, year by year.

    Attributes
    ----------
    overall : Series
        mandate_objective, policy_objective, gain (policy minus mandate), years.
    by_year : DataFrame
        year, submissions, taken, mandate_objective, policy_objective, policy_status.
    by_group : DataFrame
        year, dimension, group, mandate_share, policy_share, min, max.
    """

    overall: pd.Series
    by_year: pd.DataFrame
    by_group: pd.DataFrame


def backtest(
    submissions: pd.DataFrame,
    policy: Policy,
    *,
    capacity: str = "actual",
    on_progress: Callable[[int, int, str], None] | None = None,
) -> BacktestResult:
    """Compare, year by year, what ``policy`` would have selected with what the mandate took.

    Parameters
    ----------
    submissions : DataFrame
        One row per eligible submission: case_id (an id), score, country, un_region, gender,
        violations, received_date and taken (bool: the mandate took it up).
    policy : Policy
        The policy to replay.
    capacity : {"actual", "policy"}, default "actual"
        "actual" selects as many cases per year as the mandate took (like for like);
        "policy" uses the policy's capacity.
    """
    if capacity not in ("actual", "policy"):
        raise ValueError(f"`capacity` must be 'actual' or 'policy'. Got {capacity!r} instead.")
    if "taken" not in submissions.columns:
        raise ValueError("`submissions` must have a taken column. Got none.")
    cands = prepare_candidates(submissions)
    taken_by_id = dict(
        zip(
            submissions["case_id"].astype(str).str.strip(),
            submissions["taken"].astype(str).str.lower().isin(["true", "1"]),
            strict=True,
        )
    )
    cands["taken"] = cands["case_id"].map(taken_by_id).fillna(False).astype(bool)
    years = sorted(cands["received_date"].dt.year.unique().tolist())
    rows, groups = [], []
    for i, year in enumerate(years):
        part = cands[cands["received_date"].dt.year == year].reset_index(drop=True)
        taken = part["taken"].to_numpy()
        k = int(taken.sum()) if capacity == "actual" else policy.capacity
        if k == 0:
            continue
        pol = policy.with_changes(capacity=k, exploration_share=0.0, must_include=())
        status: str
        alloc: Allocation | None
        try:
            alloc = allocate(part, pol, solver="highspy")
            status = alloc.status
        except TriageError as exc:  # a band that cannot hold for this year's K
            status = f"rejected: {exc}"
            alloc = None
        chosen = (
            np.isin(part["case_id"].to_numpy(), np.asarray(alloc.selected, dtype=str))
            if alloc is not None and alloc.feasible
            else np.zeros(len(part), dtype=bool)
        )
        score = part["score"].to_numpy()
        rows.append(
            (
                year,
                len(part),
                int(taken.sum()),
                math.fsum(score[taken].tolist()),
                math.fsum(score[chosen].tolist()) if chosen.any() else math.nan,
                status,
            )
        )
        mandate = group_shares(part, taken)
        chosen_shares = group_shares(part, chosen)
        for rec_m, rec_p in zip(_records(mandate), _records(chosen_shares), strict=True):
            band = policy.shares.get(rec_m.dimension, {}).get(rec_m.group)
            groups.append(
                (
                    year,
                    rec_m.dimension,
                    rec_m.group,
                    rec_m.share,
                    rec_p.share if chosen.any() else math.nan,
                    np.nan if band is None or band.min is None else band.min,
                    np.nan if band is None or band.max is None else band.max,
                )
            )
        if on_progress:
            on_progress(i + 1, len(years), str(year))
    by_year = pd.DataFrame(
        rows,
        columns=[
            "year",
            "submissions",
            "taken",
            "mandate_objective",
            "policy_objective",
            "policy_status",
        ],
    )
    by_group = pd.DataFrame(
        groups,
        columns=["year", "dimension", "group", "mandate_share", "policy_share", "min", "max"],
    )
    overall = pd.Series(
        {
            "mandate_objective": math.fsum(by_year["mandate_objective"].tolist()),
            "policy_objective": math.fsum(by_year["policy_objective"].dropna().tolist()),
            "years": len(by_year),
        },
        dtype=object,
    )
    overall["gain"] = overall["policy_objective"] - overall["mandate_objective"]
    return BacktestResult(overall=overall, by_year=by_year, by_group=by_group)
