"""A seeded structural simulation of the mandate's casework, September 2000 to November 2017.

Each month: incidents are submitted (clusters of individuals, country mix by advocacy
intensity, some individuals raised before), the mandate checks eligibility and takes up the
month's capacity by priority (severity, prior attention, noise), names some or all individuals
of each incident in one letter, drafts it (a delay that grows with every co-signing mandate),
sends it, and the state replies (or not) according to its latent propensities. One year later
each case has improved with the generator's own probability ``p_improve`` (the truth). The
paper's impact sample is drawn by its own frame. The twelve months after the history form the
queue of incoming submissions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import ndtri

from triage._validation import Constraint, check_params, integer, one_of
from triage.config import DEFAULT_SEED
from triage.schema import region_of
from triage.synth import _world as W
from triage.synth._calendar import _Calendar, _calendar, _largest_remainder, _systematic, _volumes
from triage.synth._people import (
    _ELIGIBLE,
    _EVENTS_PER_LETTER,
    _concat,
    _new_people,
    _People,
    _Pool,
    _severity,
    _Streams,
)

_CONSTRAINTS = {
    "seed": integer("a non-negative integer", minimum=0),
    "outcomes": one_of(("sample", "all"), words="'sample' or 'all'"),
    "scale": Constraint(
        lambda s: (
            not isinstance(s, bool)
            and isinstance(s, int | float)
            and math.isfinite(s)
            and 0.01 <= s <= 10
        ),
        "a number between 0.01 and 10",
    ),
}

__all__ = ["ProgressCallback", "simulate"]

ProgressCallback = Callable[[int, int, str], None]
Outcomes = Literal["sample", "all"]


@dataclass
class _Month:
    """One month of incidents: event-level arrays and their people."""

    country: np.ndarray
    eligible: np.ndarray
    lgbti: np.ndarray
    selected: np.ndarray  # bool per event
    people: _People
    taken: np.ndarray  # bool per person


def _month(
    rng: np.random.Generator,
    *,
    year: int,
    n_letters: int,
    n_cases: int,
    country_p: np.ndarray,
    pool: _Pool,
    next_id: list[int],
    individual_focus: np.ndarray,
    n_lgbti: int,
    streams: tuple[_Streams, _Streams],
    queue_quota: int = 0,
) -> _Month:
    mu = n_cases / n_letters if n_letters else 2.5
    if queue_quota:
        n_events = max(1, int(queue_quota / 1.5) + 5)
    else:
        n_events = max(n_letters + 1, round(n_letters * _EVENTS_PER_LETTER))
    r = 0.8
    extra = max(mu * 1.2 - 1.0, 0.3)
    sizes = 1 + rng.negative_binomial(r, r / (r + extra), size=n_events)
    lgbti = np.arange(n_events) < n_lgbti  # incidents are exchangeable: flag the first ones
    country = _systematic(rng, n_events, country_p)
    # LGBTI incidents and the countries whose reply figures the paper quotes concern one or
    # two individuals at a time (ASSUMPTION; keeps their case counts stable across seeds).
    small = np.isin(country, individual_focus)
    sizes[small] = 1 + rng.poisson(0.8, size=int(small.sum()))
    sizes[lgbti] = 1 + rng.poisson(0.65, size=int(lgbti.sum()))
    eligible = streams[0].draw(country) < _ELIGIBLE
    if queue_quota:
        eligible[:] = True
    short = n_letters - int(eligible.sum())
    if short > 0:  # only at tiny scales: a month always has enough eligible incidents
        eligible[np.flatnonzero(~eligible)[:short]] = True
    event = np.repeat(np.arange(n_events), sizes)
    people = _new_people(rng, year, event, country, lgbti, pool, next_id)
    selected = np.zeros(n_events, dtype=bool)
    taken = np.zeros(len(event), dtype=bool)
    if queue_quota or n_letters == 0:
        return _Month(country, eligible, lgbti, selected, people, taken)

    sev = _severity(people)
    ev_sev = np.bincount(event, weights=sev, minlength=n_events) / sizes
    ev_rep = np.bincount(event, weights=people.repeat, minlength=n_events) > 0
    # p. 8: a consistent level of LGBTI cases since 2012/13 points to deliberate attention.
    noise = ndtri(np.clip(streams[1].draw(country), 1e-9, 1 - 1e-9))
    priority = 0.9 * ev_sev + 0.6 * ev_rep + 3.0 * lgbti + noise
    priority[~eligible] = -np.inf
    chosen = np.argsort(-priority, kind="stable")[:n_letters]
    chosen = chosen[np.isfinite(priority[chosen])]
    selected[chosen] = True

    total = int(sizes[chosen].sum())
    if total < n_cases:
        # The letters name more people of the same incidents than first submitted.
        add = rng.multinomial(n_cases - total, sizes[chosen] / total)
        extra_event = np.repeat(chosen, add)
        more = _new_people(rng, year, extra_event, country, lgbti, pool, next_id)
        people = _concat([people, more])
        taken = np.concatenate([taken, np.zeros(len(extra_event), dtype=bool)])
        event = people.event
        sizes = np.bincount(event, minlength=n_events)
    keep = sizes.copy()
    keep[~selected] = 0
    if int(keep.sum()) > n_cases:
        # Cap the largest letters: the mandate names only the most pressing individuals.
        cap_sizes = np.sort(keep[selected])[::-1]
        cap = int(cap_sizes[0])
        while cap > 1 and int(np.minimum(keep, cap - 1).sum()) >= n_cases:
            cap -= 1
        keep = np.minimum(keep, cap)
        excess = int(keep.sum()) - n_cases
        at_cap = np.flatnonzero(keep == cap)
        if excess > 0:
            keep[rng.choice(at_cap, size=excess, replace=False)] -= 1
    # Within each taken-up incident keep the individuals of highest priority.
    person_priority = _severity(people) + rng.normal(0.0, 0.7, len(event))
    order = np.lexsort((-person_priority, event))
    rank = np.empty(len(event), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(np.bincount(event, minlength=n_events))[:-1]])
    rank[order] = np.arange(len(event)) - starts[event[order]]
    taken = rank < keep[event]
    return _Month(country, eligible, lgbti, selected, people, taken)


def simulate(
    *,
    seed: int = DEFAULT_SEED,
    outcomes: Outcomes = "sample",
    scale: float = 1.0,
    on_progress: ProgressCallback | None = None,
    supplements: bool = False,
    counterfactual: bool = False,
) -> dict[str, pd.DataFrame]:
    """Simulate the history and the queue; return the six tables in memory.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same tables.
    outcomes : {"sample", "all"}
        ``"sample"``: outcomes only for the paper's impact sample (471 cases, survey and
        online). ``"all"``: in addition, a ``systematic`` outcome for every other case taken up.
    scale : float
        Multiplies every volume (0.1 gives a tenth of the paper's scale, for tests).
        Calibration is enforced at scale 1 only.
    on_progress : callable, optional
        ``on_progress(done, total, what)``, called as the months are simulated.
    supplements : bool
        Also return ``sample_frame``, ``communication_topics``, ``reply_content`` and
        ``protester_descriptions`` (the supplementary files, typed as ``read_supplements`` types them); the six tables are
        the same either way.
    counterfactual : bool
        Also return ``submission_plans`` and ``submission_truth`` (every eligible submission's
        planned letter and its chance of improvement had it been taken up; see
        ``triage.synth.read_counterfactual``); the other tables are the same either way.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``communications``, ``cases``, ``outcomes``, ``truth``, ``queue``, ``submissions`` with
        the columns of ``triage.schema.HISTORY_FILES``, typed as ``read_history`` types them.
    """
    _check(seed, outcomes, scale)
    from triage.synth._assemble import to_text, typed_tables

    text = to_text(
        _run(int(seed), float(scale), on_progress),
        outcomes=outcomes,
        scale=float(scale),
        supplements=bool(supplements),
        counterfactual=bool(counterfactual),
    )
    return typed_tables(text)


def _check(seed: object, outcomes: object, scale: object) -> None:
    """Raise ``ValueError`` for a bad seed, outcomes option or scale."""
    check_params(_CONSTRAINTS, seed=seed, outcomes=outcomes, scale=scale)


@dataclass
class _Run:
    """Everything the month loop produced, before tables are assembled."""

    rng: np.random.Generator
    countries: np.ndarray  # ISO3 per country index
    cal: _Calendar
    prs: np.ndarray
    unnamed: np.ndarray
    # per submitted person
    people: _People
    person_month: np.ndarray
    person_country: np.ndarray
    person_eligible: np.ndarray
    person_taken: np.ndarray
    person_global_event: np.ndarray
    # per taken-up incident (letter)
    letter_event: np.ndarray  # global event id
    letter_month: np.ndarray
    letter_country: np.ndarray
    # queue people
    queue: _People
    queue_month: np.ndarray
    queue_country: np.ndarray
    queue_event: np.ndarray
    seed: int = 0  # seeds the supplements' own stream


def _country_probabilities() -> tuple[np.ndarray, np.ndarray]:
    iso = np.array(sorted(set(W.COUNTRY_WEIGHTS) | set(W.PINNED_COUNTRY_SHARES)), dtype=object)
    weights = np.array([W.COUNTRY_WEIGHTS.get(c, 0.0) for c in iso], dtype=float)
    free = 1.0 - sum(W.PINNED_COUNTRY_SHARES.values())
    p = weights / weights.sum() * free
    for c, share in W.PINNED_COUNTRY_SHARES.items():
        p[iso == c] = share
    for c in iso:
        region_of(str(c))  # every simulated country must be in data/countries.csv
    return iso, p / p.sum()


def _run(seed: int, scale: float, on_progress: ProgressCallback | None) -> _Run:
    rng = np.random.default_rng(seed)
    countries, country_p = _country_probabilities()
    cal = _calendar(W.HISTORY_START, W.QUEUE_END)
    hist = cal.era < 3
    letters, cases, prs, unnamed = _volumes(
        _Calendar(cal.start[hist], cal.days[hist], cal.year[hist], cal.era[hist]), scale
    )
    pool = _Pool(len(countries))
    streams = (_Streams(rng, len(countries)), _Streams(rng, len(countries)))
    focus = np.flatnonzero(np.isin(countries, list(W.INDIVIDUAL_FOCUS)))
    next_id = [0]
    parts: list[_People] = []
    months: list[np.ndarray] = []
    ctry: list[np.ndarray] = []
    elig: list[np.ndarray] = []
    taken: list[np.ndarray] = []
    gevent: list[np.ndarray] = []
    l_event: list[np.ndarray] = []
    l_month: list[np.ndarray] = []
    l_country: list[np.ndarray] = []
    q_parts: list[_People] = []
    q_month: list[np.ndarray] = []
    q_country: list[np.ndarray] = []
    q_event: list[np.ndarray] = []
    n_months = len(cal.start)
    n_hist = int(hist.sum())
    queue_total = max(1, round(W.QUEUE_SIZE * scale))
    queue_quota = _largest_remainder(queue_total, np.ones(n_months - n_hist))
    event_offset = 0
    # LGBTI incidents by systematic sampling over the months (counts stay near expectation).
    months_in_year = np.bincount(cal.year - cal.year.min())[cal.year - cal.year.min()]
    lgbti_rate = (
        np.array([W.LGBTI_INCIDENTS_PER_YEAR.get(int(y), 9.6) for y in cal.year])
        / np.where(cal.year == W.FIRST_YEAR, months_in_year, 12)
        * scale
    )
    lgbti_cum = np.floor(np.cumsum(lgbti_rate) + rng.random()).astype(np.int64)
    lgbti_n = np.diff(np.r_[0, lgbti_cum])
    for m in range(n_months):
        year = int(cal.year[m])
        in_history = m < n_hist
        quota = 0 if in_history else int(queue_quota[m - n_hist])
        mon = _month(
            rng,
            year=year,
            n_letters=int(letters[m]) if in_history else 0,
            n_cases=int(cases[m]) if in_history else 0,
            country_p=country_p,
            pool=pool,
            next_id=next_id,
            individual_focus=focus,
            n_lgbti=int(lgbti_n[m]),
            streams=streams,
            queue_quota=quota,
        )
        if in_history:
            p = mon.people
            n = len(p.event)
            parts.append(p)
            months.append(np.full(n, m))
            ctry.append(mon.country[p.event])
            elig.append(mon.eligible[p.event])
            taken.append(mon.taken)
            gevent.append(p.event + event_offset)
            sel = np.flatnonzero(mon.selected)
            l_event.append(sel + event_offset)
            l_month.append(np.full(len(sel), m))
            l_country.append(mon.country[sel])
            for i in np.flatnonzero(mon.taken):
                pool.add(int(p.individual[i]), int(mon.country[p.event[i]]), int(p.gender[i]))
            event_offset += len(mon.country)
        else:
            p = mon.people
            idx = np.arange(min(quota, len(p.event)))
            q = p.take(idx)
            q_parts.append(q)
            q_month.append(np.full(len(idx), m))
            q_country.append(mon.country[q.event])
            q_event.append(q.event + event_offset)
            event_offset += len(mon.country)
        if on_progress is not None:
            on_progress(m + 1, n_months, f"simulated {cal.start[m]!s:.7}")
    return _Run(
        rng=rng,
        countries=countries,
        cal=cal,
        prs=prs,
        unnamed=unnamed,
        people=_concat(parts),
        person_month=np.concatenate(months),
        person_country=np.concatenate(ctry),
        person_eligible=np.concatenate(elig),
        person_taken=np.concatenate(taken),
        person_global_event=np.concatenate(gevent),
        letter_event=np.concatenate(l_event),
        letter_month=np.concatenate(l_month),
        letter_country=np.concatenate(l_country),
        queue=_concat(q_parts),
        queue_month=np.concatenate(q_month),
        queue_country=np.concatenate(q_country),
        queue_event=np.concatenate(q_event),
        seed=seed,
    )
