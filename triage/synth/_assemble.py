"""Letters, replies, the truth, outcomes and the queue, assembled into the six history tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import gammainc

from triage.schema import (
    BOOL_COLUMNS,
    DATE_COLUMNS,
    HISTORY_FILES,
    INT_COLUMNS,
    ISSUE_AREAS,
    VIOLATIONS,
    region_of,
)
from triage.synth import _world as W
from triage.synth._simulate import (
    _GENDER_CODES,
    _V,
    _largest_remainder,
    _Run,
    _sigmoid,
    _solve_intercept,
)

__all__ = ["assemble", "to_text", "typed"]

_REPLY_SHAPE = 12.0  # spread of one state's reply times (coefficient of variation 0.29)
_END = np.datetime64(W.HISTORY_END)
#: Height of the U-shaped effect of a state's engagement on improvement (log-odds per squared
#: standard deviation of its reply propensity, capped at two sd). ASSUMPTION, see
#: ``_engagement_effect``.
_ENGAGEMENT_U = 0.7
_HIDDEN_SD = 0.55  # unobservable part of a case's chance to improve (moderate on purpose)
#: Gauss-Hermite nodes and weights (probabilists'), to average the improvement probability over
#: the hidden term exactly (40 nodes: error far below the six decimals truth.csv keeps).
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()

_SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "za", "qu", "xe", "do", "fi", "gu", "ha",
    "jo", "ku", "li", "mo", "nu", "pe", "ri", "su", "ta", "ve", "wo", "yu", "zo",
)  # fmt: skip


def _codes(matrix: np.ndarray, codes: tuple[str, ...]) -> np.ndarray:
    """Join the codes of each boolean row with ``;`` (blank when none)."""
    weights = 1 << np.arange(matrix.shape[1], dtype=np.int64)
    packed = matrix.astype(np.int64) @ weights
    uniq, inverse = np.unique(packed, return_inverse=True)
    text = np.array(
        [";".join(c for j, c in enumerate(codes) if (u >> j) & 1) or None for u in uniq],
        dtype=object,
    )
    return text[inverse]


def _dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)


def _region(iso: np.ndarray) -> np.ndarray:
    uniq, inverse = np.unique(iso.astype(str), return_inverse=True)
    return np.array([region_of(str(c)) for c in uniq], dtype=object)[inverse]


def _fake_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Clearly invented names from a syllable list, tagged as simulated."""
    syl = np.array(_SYLLABLES, dtype=object)
    given = syl[rng.integers(0, len(syl), n)] + syl[rng.integers(0, len(syl), n)]
    family = (
        syl[rng.integers(0, len(syl), n)]
        + syl[rng.integers(0, len(syl), n)]
        + syl[rng.integers(0, len(syl), n)]
    )
    return np.array(
        [
            f"{g.capitalize()} {f.capitalize()} (simulated)"
            for g, f in zip(given, family, strict=True)
        ],
        dtype=object,
    )


def _stratified(
    rng: np.random.Generator, groups: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Uniform draws, stratified within each group (rows outside ``mask`` get plain draws).

    Each draw is marginally uniform, so every row keeps its own probability; within a group
    the draws cover [0, 1) evenly, which keeps counts per group (a country's replies, a
    year's outcomes) close to their expectation instead of adding binomial noise on top.
    """
    n = len(groups)
    u = rng.random(n)
    rows = np.arange(n) if mask is None else np.flatnonzero(mask)
    if len(rows) == 0:
        return u
    g = groups[rows]
    order = rows[np.lexsort((rng.random(len(rows)), g))]
    g_sorted = groups[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    u[order] = (rank + rng.random(len(order))) / np.repeat(sizes, sizes)
    return u


def _van_der_corput(n: int) -> np.ndarray:
    """The first ``n`` points of the base-2 van der Corput sequence."""
    i = np.arange(n, dtype=np.uint64)
    out = np.zeros(n)
    scale = 0.5
    while i.any():
        out += (i & np.uint64(1)).astype(float) * scale
        i >>= np.uint64(1)
        scale /= 2
    return out


def _low_discrepancy(
    rng: np.random.Generator, keys: tuple[np.ndarray, ...], mask: np.ndarray | None = None
) -> np.ndarray:
    """Uniform draws spread evenly along the rows sorted by ``keys`` (last key first).

    A randomly shifted van der Corput sequence: each draw is marginally uniform, and every run
    of consecutive rows in the sort order (hence every group of the leading keys) gets draws
    that cover [0, 1) evenly.
    """
    n = len(keys[0])
    u = rng.random(n)
    rows = np.arange(n) if mask is None else np.flatnonzero(mask)
    if len(rows) == 0:
        return u
    tie = rng.random(len(rows))
    order = rows[np.lexsort((tie, *(np.asarray(k)[rows] for k in keys)))]
    u[order] = (_van_der_corput(len(order)) + rng.random()) % 1.0
    return u


def _systematic_draws(
    rng: np.random.Generator,
    p: np.ndarray,
    keys: tuple[np.ndarray, ...],
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Bernoulli(``p``) events by systematic sampling along the rows sorted by ``keys``.

    Rows are sorted by ``keys`` (last key first, random order within), their probabilities
    laid end to end, and a row is drawn when a point of ``r, r + 1, r + 2, ...`` (``r`` uniform)
    falls in its stretch. Each row is drawn with exactly its own probability, and every run of
    consecutive rows (hence every group of the leading keys) gets a count within one of its
    expected count. Rows outside ``mask`` get plain independent draws.
    """
    n = len(p)
    out = rng.random(n) < p
    rows = np.arange(n) if mask is None else np.flatnonzero(mask)
    if len(rows) == 0:
        return out
    tie = rng.random(len(rows))
    order = rows[np.lexsort((tie, *(np.asarray(k)[rows] for k in keys)))]
    edge = np.concatenate([[0.0], np.cumsum(np.clip(p[order], 0.0, 1.0))]) - rng.random()
    out[order] = np.ceil(edge[1:]) > np.ceil(edge[:-1])
    return out


def _observed_mean(mean: np.ndarray, left: np.ndarray, weight: np.ndarray) -> float:
    """Mean of gamma reply times (``_REPLY_SHAPE``) seen before the history ends."""
    theta = mean / _REPLY_SHAPE
    x = np.maximum(left, 0.0) / theta
    den = (weight * gammainc(_REPLY_SHAPE, x)).sum()
    if den <= 0:
        return float(mean.mean()) if len(mean) else 0.0
    return float((weight * mean * gammainc(_REPLY_SHAPE + 1, x)).sum() / den)


def _bisect(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """Solve ``f(x) == target`` for an increasing ``f`` on ``[lo, hi]``."""
    for _ in range(50):
        mid = (lo + hi) / 2
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _letter_design(
    rng: np.random.Generator, year: np.ndarray, named: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Type and number of co-signing mandates of letters sent in the given years."""
    n = len(year)
    ua = rng.random(n) < np.array([W.UA_SHARE.get(int(y), 0.44) for y in year])
    if not named:
        ua[:] = False
    other = rng.random(n) < (0.1 if named else 0.4)
    kind = np.where(ua, "UA", np.where(other, "OL", "AL")).astype(object)
    alone = rng.random(n) < np.array([W.ALONE_SHARE.get(int(y), 0.02) for y in year])
    extra = rng.poisson(np.array([W.EXTRA_MANDATES.get(int(y), 2.6) for y in year]))
    return kind, np.where(alone, 1, 2 + extra)


def _drafting_days(
    rng: np.random.Generator, kind: np.ndarray, n_mandates: np.ndarray
) -> np.ndarray:
    """Days from the last incident to sending (paper p. 12: > a week per extra mandate)."""
    n = len(kind)
    ua = kind == "UA"
    days = np.where(
        ua,
        -1.0 + 7.5 * (n_mandates - 1) + rng.gamma(2.0, 2.5, n),
        15.0 + 9.0 * (n_mandates - 1) + rng.gamma(1.5, 40.0, n),
    )
    return np.maximum(1, np.round(days)).astype(np.int64)


def _expected_drafting_days(kind: np.ndarray, n_mandates: np.ndarray) -> np.ndarray:
    return np.where(kind == "UA", 4.0 + 7.5 * (n_mandates - 1), 75.0 + 9.0 * (n_mandates - 1))


def _engagement_effect(reply_logit: np.ndarray) -> np.ndarray:
    """Country log-odds of improvement from its engagement: U-shaped, about zero on average over countries.

    p. 21-22: situations improved more often in states that engage little (Saudi Arabia,
    Pakistan, Azerbaijan) than in states that reply readily (Mexico, Honduras, Ecuador, Peru).
    ASSUMPTION: improvement is not monotone in engagement. States that reply substantively and
    states that hardly reply at all (where release comes from quiet diplomacy or pardons) both
    do better than states answering with routine replies. Unlike the additive rest of the truth,
    a linear score cannot represent this; a tree can, from the observed reply rate.
    """
    z = (reply_logit - reply_logit.mean()) / reply_logit.std()
    return _ENGAGEMENT_U * (np.minimum(z**2, 4.0) - 1.0)


def _marginal_improve(lin_without_hidden: np.ndarray) -> np.ndarray:
    """Probability of improvement with the hidden term averaged out: ``E_h sigmoid(lin + h)``.

    The hidden term is drawn once per case, independently of everything on record, and each case
    has one outcome. Its draw is therefore indistinguishable from the outcome's own luck: no
    record, however complete, could ever reveal it. truth.csv keeps the probability a perfect
    model of everything else (violations, letter, country, year) would give, which is the
    probability the case's outcome is actually drawn with, averaged over that luck.
    """
    x = np.asarray(lin_without_hidden, dtype=float)[:, None] + _HIDDEN_SD * _GH_NODES[None, :]
    return _sigmoid(x) @ _GH_WEIGHTS


@dataclass(frozen=True)
class _Effects:
    """The outcome model's effects solved on each seed's impact sample (see ``_solve_effects``)."""

    intercept: float
    detention: float
    conviction: float
    mandates: float
    professional: float
    year: Mapping[int, float]


#: Effects before solving (log-odds), also used when a breakdown has too few sample cases to
#: solve on (reduced ``scale``).
_DEFAULT_DETENTION = 0.9
_DEFAULT_CONVICTION = 0.85
_DEFAULT_MANDATES = 0.12
_DEFAULT_PROFESSIONAL = 3.8
_MIN_SOLVE_ROWS = 10


def _improve_linear(
    viol: np.ndarray,
    repeat: np.ndarray,
    n_mandates: np.ndarray,
    delay: np.ndarray,
    country_effect: np.ndarray,
    year: np.ndarray,
    hidden: np.ndarray,
    effects: _Effects | None = None,
) -> np.ndarray:
    """Linear predictor of improvement within a year, without intercept (the truth's model).

    ``effects`` holds the solved detention, conviction, professional-restriction, per-mandate and
    year effects; without it they are zero, which is how ``_solve_effects`` gets the rest.
    """
    v = viol.astype(float)
    shifts = effects.year if effects is not None else {}
    year_shift = np.array([shifts.get(int(y), 0.0) for y in year], dtype=float)
    b_det = effects.detention if effects is not None else 0.0
    b_conv = effects.conviction if effects is not None else 0.0
    b_mand = effects.mandates if effects is not None else 0.0
    b_prof = effects.professional if effects is not None else 0.0
    return (
        b_det * v[:, _V["detention"]]
        + b_conv * v[:, _V["conviction"]]
        - 1.8 * v[:, _V["administrative_harassment"]]
        + b_prof * v[:, _V["professional_restriction"]]
        - 2.0 * v[:, _V["killing"]]
        - 0.3 * v[:, _V["threats"]]
        - 0.15 * repeat
        - b_mand * (n_mandates - 1)
        - 0.006 * np.minimum(delay, 200)
        + country_effect
        + year_shift
        + hidden
    )


def _solve_effects(
    rest: np.ndarray,
    detention: np.ndarray,
    conviction: np.ndarray,
    professional: np.ndarray,
    n_mandates: np.ndarray,
    year: np.ndarray,
) -> _Effects:
    """Solve the intercept and the outcome model's paper-pinned effects on the impact sample.

    ``rest`` is the sample's linear predictor without those effects (the hidden term included,
    as the outcomes are drawn with it). Coordinate-wise, each effect is set so that its
    breakdown's expected improved share is the paper's: 24 % overall (the intercept), 15.7 %
    of cases without detention (the detention effect; detention cases then come out at about
    30 %), 36 % of convicted cases, 75 % of professional restrictions (six of eight; solved from
    3 cases on), 30 % of letters sent by the HRD mandate alone (the log-odds lost per additional
    mandate, kept at least 0.05), and ``YEAR_IMPROVED_SHARE`` by year (Figure 7). The other
    breakdowns the paper reports (23 % without conviction, under 24 % for joint letters) follow
    from these. A breakdown with fewer than ``_MIN_SOLVE_ROWS`` cases (reduced ``scale``) keeps
    its default. Solving on every seed's own sample makes these figures hold in expectation on
    every seed, not only on average over seeds.
    """
    det = detention.astype(bool)
    conv = conviction.astype(bool)
    prof = professional.astype(bool)
    # 15.7 % without detention and 24 % overall: the detention cases' share follows (p. 22).
    det_target = (0.24 * len(det) - W.NO_DETENTION_IMPROVED_SHARE * (~det).sum()) / max(
        int(det.sum()), 1
    )
    extra = (n_mandates - 1).astype(float)
    alone = extra == 0
    years = {
        y: year == y for y in W.YEAR_IMPROVED_SHARE if int((year == y).sum()) >= _MIN_SOLVE_ROWS
    }
    eff = {
        "det": _DEFAULT_DETENTION,
        "conv": _DEFAULT_CONVICTION,
        "mand": _DEFAULT_MANDATES,
        "prof": _DEFAULT_PROFESSIONAL,
    }
    shift = dict.fromkeys(years, 0.0)
    ones = np.ones(len(rest))

    def linear() -> np.ndarray:
        year_shift = np.zeros(len(rest))
        for y, rows in years.items():
            year_shift[rows] = shift[y]
        return (
            rest
            + eff["det"] * det
            + eff["conv"] * conv
            + eff["prof"] * prof
            - eff["mand"] * extra
            + year_shift
        )

    b0 = 0.0
    for _ in range(12):
        b0 = _solve_intercept(linear(), ones, 0.24)
        if det.sum() >= _MIN_SOLVE_ROWS:
            off = b0 + linear() - eff["det"] * det
            eff["det"] = _solve_intercept(off, det * 1.0, det_target)
        if conv.sum() >= _MIN_SOLVE_ROWS:
            off = b0 + linear() - eff["conv"] * conv
            eff["conv"] = _solve_intercept(off, conv * 1.0, W.CONVICTED_IMPROVED_SHARE)
        if prof.sum() >= 3:
            off = b0 + linear() - eff["prof"] * prof
            eff["prof"] = _solve_intercept(off, prof * 1.0, W.PROFESSIONAL_IMPROVED_SHARE)
        for y, rows in years.items():
            off = b0 + linear() - shift[y] * rows
            shift[y] = _solve_intercept(off, rows * 1.0, W.YEAR_IMPROVED_SHARE[y])
        if alone.sum() >= _MIN_SOLVE_ROWS and (~alone).sum() >= _MIN_SOLVE_ROWS:
            # The alone letters' share is set through the intercept, the joint letters' through
            # the slope per mandate, so that both together keep the overall 24 %.
            b0 = _solve_intercept(linear(), alone * 1.0, W.ALONE_IMPROVED_SHARE)
            base = b0 + linear() + eff["mand"] * extra

            def overall(m: float, base: np.ndarray = base) -> float:
                return float(_sigmoid(base + m * extra).mean())

            eff["mand"] = max(0.05, -_bisect(overall, 0.24, -3.0, 3.0))
    b0 = _solve_intercept(linear(), ones, 0.24)
    return _Effects(
        intercept=b0,
        detention=eff["det"],
        conviction=eff["conv"],
        mandates=eff["mand"],
        professional=eff["prof"],
        year=shift,
    )


def assemble(
    run: _Run,
    *,
    outcomes: Literal["sample", "all"],
    scale: float,
    supplements: bool = False,
    counterfactual: bool = False,
) -> dict[str, pd.DataFrame]:
    """Turn the month loop's arrays into the typed six tables (and the supplementary four, and
    the two counterfactual ones)."""
    from triage.synth._counterfactual import COUNTERFACTUAL_FILES, typed_counterfactual
    from triage.synth._supplements import SUPPLEMENT_FILES, typed_supplement

    text = to_text(
        run,
        outcomes=outcomes,
        scale=scale,
        supplements=supplements,
        counterfactual=counterfactual,
    )
    out = {}
    for name, frame in text.items():
        if name in SUPPLEMENT_FILES:
            out[name] = typed_supplement(name, frame)
        elif name in COUNTERFACTUAL_FILES:
            out[name] = typed_counterfactual(name, frame)
        else:
            out[name] = typed(frame)
    return out


def to_text(
    run: _Run,
    *,
    outcomes: Literal["sample", "all"],
    scale: float,
    supplements: bool = False,
    counterfactual: bool = False,
) -> dict[str, pd.DataFrame]:
    """Build the six tables as text, exactly as written to CSV (and the supplementary four).

    With ``supplements=True`` the result also holds ``sample_frame``, ``communication_topics``,
    ``reply_content`` and ``protester_descriptions`` (see ``triage.synth._supplements``), drawn from their own stream.
    With ``counterfactual=True`` it also holds ``submission_plans`` and ``submission_truth``
    (see ``triage.synth._counterfactual``), drawn from another stream of their own.
    """
    rng = run.rng
    cal = run.cal
    countries = run.countries
    k = len(countries)
    is_lac = np.array([region_of(str(c)) == "latin_american_caribbean" for c in countries])
    cidx = {str(c): i for i, c in enumerate(countries)}
    p = run.people

    # ------------------------------------------------------------------ named letters
    n_letters = len(run.letter_event)
    l_year = cal.year[run.letter_month]
    l_era = cal.era[run.letter_month]
    l_sent = cal.start[run.letter_month] + np.floor(
        rng.random(n_letters) * cal.days[run.letter_month]
    ).astype("timedelta64[D]")
    l_type, l_mand = _letter_design(rng, l_year, named=True)
    l_delay = _drafting_days(rng, l_type, l_mand)
    l_incident = l_sent - l_delay.astype("timedelta64[D]")
    l_addr = np.full(n_letters, "state", dtype=object)
    n_ns = min(round(W.NON_STATE_NAMED * scale), n_letters)
    l_addr[rng.choice(n_letters, size=n_ns, replace=False)] = "non_state"

    taken = np.flatnonzero(run.person_taken)
    case_letter = np.searchsorted(run.letter_event, run.person_global_event[taken])
    l_nind = np.bincount(case_letter, minlength=n_letters)

    # ------------------------------------------------------------------ other communications
    u_month = np.repeat(np.arange(len(run.unnamed)), run.unnamed)
    r_month = np.repeat(np.arange(len(run.prs)), run.prs)
    country_p = np.bincount(run.letter_country, weights=l_nind, minlength=k).astype(float)
    country_p /= country_p.sum()
    u_country = rng.choice(k, size=len(u_month), p=country_p)
    r_country = rng.choice(k, size=len(r_month), p=country_p)
    u_type, u_mand = _letter_design(rng, cal.year[u_month], named=False)
    r_mand = _letter_design(rng, cal.year[r_month], named=False)[1]
    u_addr = np.full(len(u_month), "state", dtype=object)
    n_ns_u = min(round(W.NON_STATE_UNNAMED * scale), len(u_month))
    u_addr[rng.choice(len(u_month), size=n_ns_u, replace=False)] = "non_state"

    def sent_in(month: np.ndarray) -> np.ndarray:
        return cal.start[month] + np.floor(rng.random(len(month)) * cal.days[month]).astype(
            "timedelta64[D]"
        )

    u_sent = sent_in(u_month)
    r_sent = sent_in(r_month)

    # ------------------------------------------------------------------ replies
    # Letters to states: named letters first, then unnamed ones (same behaviour).
    s_country = np.concatenate([run.letter_country, u_country])
    s_era = np.concatenate([l_era, cal.era[u_month]])
    s_sent = np.concatenate([l_sent, u_sent])
    s_state = np.concatenate([l_addr, u_addr]) == "state"
    weight = np.concatenate([l_nind, np.zeros(len(u_month))]).astype(float) * s_state
    reply_c = rng.normal(0.0, 0.7, k) + 1.2 * is_lac
    reply_c[cidx["USA"]] += 0.6
    for fast in ("OMN", "MRT", "AGO", "SAU"):  # the paper times their replies: they do reply
        reply_c[cidx[fast]] += 0.8
    reject_d = rng.normal(0.0, 0.5, k) - 0.9 * is_lac
    other_days = np.exp(rng.normal(0.0, 0.35, k))
    named_days = np.full(k, np.nan)
    for c, d in W.NAMED_REPLY_DAYS.items():
        named_days[cidx[c]] = d
    imm = W.IMMATERIAL_SHARE
    era_a = np.zeros(3)
    mean_days = np.where(np.isnan(named_days), 100.0, named_days)
    left = (_END - s_sent).astype(float)
    named = ~np.isnan(named_days)
    for _ in range(4):
        p_obs = gammainc(_REPLY_SHAPE, np.maximum(left, 0) / (mean_days[s_country] / _REPLY_SHAPE))
        for e, era_name in enumerate(("jilani", "sekaggya", "forst")):
            era_a[e] = _solve_intercept(
                reply_c[s_country],
                weight * (s_era == e),
                W.ERA_SUBSTANTIVE[era_name],
                scale=(1 - imm) * p_obs,
            )
        for c, target in W.NAMED_RESPONSE.items():
            i = cidx[c]
            reply_c[i] = _solve_intercept(
                era_a[s_era], weight * (s_country == i), target, scale=(1 - imm) * p_obs
            )
        intensity = weight * _sigmoid(era_a[s_era] + reply_c[s_country])
        # Replies after November 2016 are not seen yet: solve the means so that the *observed*
        # (truncated) means land on the paper's figures.
        for c, target in W.NAMED_REPLY_DAYS.items():
            i = cidx[c]
            rows = s_country == i

            def country_mean(m: float, rows: np.ndarray = rows, w: np.ndarray = intensity) -> float:
                return _observed_mean(np.full(int(rows.sum()), m), left[rows], w[rows])

            mean_days[i] = _bisect(country_mean, target, target, 4 * target)

        def overall(g: float, fixed: np.ndarray = mean_days, w: np.ndarray = intensity) -> float:
            m = np.where(named, fixed, g * other_days)
            return _observed_mean(m[s_country], left, w)

        g = _bisect(overall, W.MEAN_REPLY_DAYS, 10.0, 400.0)
        mean_days = np.where(named, mean_days, g * other_days)
    era_r = np.array([W.ERA_REJECTION_LOGIT[e] for e in ("jilani", "sekaggya", "forst")])
    p_sub = _sigmoid(era_a[s_era] + reply_c[s_country])
    for c, target in W.NAMED_REJECTION.items():
        i = cidx[c]
        reject_d[i] = _solve_intercept(era_r[s_era], weight * p_sub * (s_country == i), target)

    n_s = len(s_country)
    replied = (
        _stratified(rng, s_country, s_state) < _sigmoid(era_a[s_era] + reply_c[s_country])
    ) & s_state
    immaterial = replied & (_stratified(rng, s_country, replied) < imm)
    substantive = replied & ~immaterial
    unknown = substantive & (_stratified(rng, s_country, substantive) < W.CONTENT_UNKNOWN_SHARE)
    rejection = (
        substantive
        & ~unknown
        & (
            _stratified(rng, s_country, substantive & ~unknown)
            < _sigmoid(era_r[s_era] + reject_d[s_country])
        )
    )
    days = rng.gamma(_REPLY_SHAPE, mean_days[s_country] / _REPLY_SHAPE) * np.where(
        immaterial, W.IMMATERIAL_SLOWER, 1.0
    )
    days = np.maximum(1, np.round(days)).astype(np.int64)
    reply_date = s_sent + days.astype("timedelta64[D]")
    seen = replied & (reply_date <= _END)
    reply_class = np.full(n_s, "none", dtype=object)
    reply_class[seen & immaterial] = "immaterial"
    reply_class[seen & unknown] = "content_unknown"
    reply_class[seen & rejection] = "rejection"
    reply_class[seen & substantive & ~unknown & ~rejection] = "no_rejection"
    reply_class[~s_state] = None
    reply_text = _dates(reply_date)
    reply_text[~seen] = None

    # ------------------------------------------------------------------ communications table
    n_u = len(u_month)
    n_r = len(r_month)
    comm = pd.DataFrame(
        {
            "sent": np.concatenate([l_sent, u_sent, r_sent]),
            "kind": np.concatenate([np.zeros(n_letters), np.ones(n_u), np.full(n_r, 2)]),
            "type": np.concatenate([l_type, u_type, np.full(n_r, "PR", dtype=object)]),
            "addressee": np.concatenate([l_addr, u_addr, np.full(n_r, "state", dtype=object)]),
            "country": countries[np.concatenate([run.letter_country, u_country, r_country])],
            "n_mandates": np.concatenate([l_mand, u_mand, r_mand]),
            "last_incident_date": np.concatenate(
                [_dates(l_incident), np.full(n_u + n_r, None, dtype=object)]
            ),
            "reply_class": np.concatenate([reply_class, np.full(n_r, None, dtype=object)]),
            "reply_date": np.concatenate([reply_text, np.full(n_r, None, dtype=object)]),
            "n_individuals": np.concatenate([l_nind, np.zeros(n_u + n_r, dtype=np.int64)]),
        }
    )
    order = np.lexsort((np.arange(len(comm)), comm["sent"].to_numpy()))
    comm_year = comm["sent"].to_numpy().astype("datetime64[Y]").astype(int) + 1970
    seq = np.zeros(len(comm), dtype=np.int64)
    for y in np.unique(comm_year):
        rows = order[comm_year[order] == y]
        seq[rows] = np.arange(1, len(rows) + 1)
    comm_id = np.array(
        [f"COM-{y}-{s:04d}" for y, s in zip(comm_year, seq, strict=True)], dtype=object
    )
    comm["communication_id"] = comm_id
    comm["sent_date"] = _dates(comm["sent"].to_numpy())
    communications = comm.iloc[order][list(HISTORY_FILES["communications"])].reset_index(drop=True)

    # ------------------------------------------------------------------ cases
    c_letter = case_letter
    c_order = np.lexsort((taken, comm_id[c_letter]))  # by communication, then submission
    rank = np.empty(len(taken), dtype=np.int64)
    rank[c_order] = np.arange(len(taken))
    case_id = np.array([f"C-{i + 1:06d}" for i in rank], dtype=object)
    c_iso = countries[run.letter_country[c_letter]]
    c_viol = p.viol[taken]
    c_area = p.area[taken]
    cases = pd.DataFrame(
        {
            "case_id": case_id,
            "communication_id": comm_id[c_letter],
            "individual_id": np.array(
                [f"I-{i + 1:06d}" for i in p.individual[taken]], dtype=object
            ),
            "sent_date": _dates(l_sent[c_letter]),
            "country": c_iso,
            "un_region": _region(c_iso),
            "gender": _GENDER_CODES[p.gender[taken]],
            "violations": _codes(c_viol, tuple(VIOLATIONS)),
            "issue_areas": _codes(c_area, tuple(ISSUE_AREAS)),
            "protester": np.where(p.protester[taken], "true", "false"),
        }
    )

    c_year = l_year[c_letter]
    # ------------------------------------------------------------------ impact sample
    frame_letters = np.flatnonzero(
        (l_sent >= np.datetime64(W.SAMPLE_FROM))
        & (l_sent <= np.datetime64(W.SAMPLE_TO))
        & (l_nind <= W.SAMPLE_MAX_INDIVIDUALS)
        & (l_nind > 0)
        & (l_addr == "state")
    )
    drawn_target = round(W.SAMPLE_DRAWN * scale)
    found_target = round(W.SAMPLE_FOUND * scale)
    survey_target = round(W.SAMPLE_SURVEY * scale)
    # A random sample of letters, spread evenly over years and over letters sent alone or
    # jointly (systematic sampling from a sorted frame, as a survey design would do).
    order_key = _low_discrepancy(rng, (l_year[frame_letters], l_mand[frame_letters] == 1))
    shuffled = frame_letters[np.argsort(order_key, kind="stable")]
    cum = np.cumsum(l_nind[shuffled])
    n_take = int(np.searchsorted(cum, drawn_target)) + 1
    drawn_letters = shuffled[:n_take]
    letter_rank = np.full(n_letters, -1, dtype=np.int64)
    letter_rank[drawn_letters] = np.arange(len(drawn_letters))
    cand = np.flatnonzero(letter_rank[c_letter] >= 0)
    cand = cand[np.lexsort((rng.random(len(cand)), letter_rank[c_letter[cand]]))][:drawn_target]
    # Information is easier to find for detention cases and recent years (p. 17 fn 16).
    # Court rulings on lawyers' disciplinary cases are published (p. 23 fn 21).
    avail = np.exp(
        0.3 * c_viol[cand, _V["detention"]]
        + 0.9 * c_viol[cand, _V["professional_restriction"]]
        + 0.04 * (c_year[cand] - 2004)
    )
    key = np.log(rng.random(len(cand))) / avail
    found = cand[np.argsort(-key, kind="stable")[:found_target]]
    found.sort()
    surv_w = np.exp(0.08 * (c_year[found] - 2004))
    skey = np.log(rng.random(len(found))) / surv_w
    survey = found[np.argsort(-skey, kind="stable")[:survey_target]]
    survey.sort()
    # ------------------------------------------------------------------ truth
    country_eff = rng.normal(0.0, 0.3, k) + _engagement_effect(reply_c)
    for c in W.COUNTRY_IMPROVE_POSITIVE:
        country_eff[cidx[c]] = W.NAMED_POSITIVE_EFFECT
    for c in W.COUNTRY_IMPROVE_NEGATIVE:
        country_eff[cidx[c]] = W.NAMED_NEGATIVE_EFFECT
    hidden = rng.normal(0.0, _HIDDEN_SD, len(taken))
    rest = _improve_linear(
        c_viol,
        p.repeat[taken],
        l_mand[c_letter],
        l_delay[c_letter],
        country_eff[run.letter_country[c_letter]],
        c_year,
        hidden,
    )
    in_sample = np.zeros(len(taken))
    in_sample[found] = 1.0
    # The intercept and the detention, conviction and year effects are solved on the impact
    # sample so that its expected shares are the paper's, on every seed.
    eff = _solve_effects(
        rest[found],
        c_viol[found, _V["detention"]],
        c_viol[found, _V["conviction"]],
        c_viol[found, _V["professional_restriction"]],
        l_mand[c_letter][found],
        c_year[found],
    )
    b0 = eff.intercept
    lin = _improve_linear(
        c_viol,
        p.repeat[taken],
        l_mand[c_letter],
        l_delay[c_letter],
        country_eff[run.letter_country[c_letter]],
        c_year,
        hidden,
        eff,
    )
    p_draw = _sigmoid(b0 + lin)
    # The truth written out: the same probability with the per-case luck averaged over.
    p_improve = _marginal_improve(b0 + lin - hidden)

    # Outcome given the truth: improvement, otherwise worse, mixed or the same.
    v = c_viol.astype(float)
    worse_lin = (
        4.0 * v[:, _V["administrative_harassment"]]
        + 0.5 * v[:, _V["killing"]]
        + 0.4 * v[:, _V["threats"]]
        + np.array([W.YEAR_WORSEN.get(int(y), 0.0) for y in c_year])
    )
    c0 = _solve_intercept(worse_lin, in_sample * (1 - p_draw), 0.26 / 0.76)
    p_worse = _sigmoid(c0 + worse_lin)
    # Mixed developments given neither improvement nor deterioration: detention makes them
    # likely (release, then renewed detention or sentencing), solved on the sample so that 14 %
    # of its detention cases are mixed in expectation (p. 22).
    det_rows = v[:, _V["detention"]] * in_sample
    a_mixed = -0.7
    if det_rows.sum() >= _MIN_SOLVE_ROWS:
        a_mixed = _solve_intercept(
            np.zeros(len(taken)),
            det_rows,
            W.DETENTION_MIXED_SHARE,
            scale=(1 - p_draw) * (1 - p_worse),
        )
    p_mixed = np.where(v[:, _V["detention"]] > 0, _sigmoid(np.full(len(taken), a_mixed)), 0.12)
    # Outcome draws by systematic sampling along the cases sorted by the breakdowns the paper
    # reports: sample first, then letters sent alone (about 50 sample cases), the violation
    # group (professional restrictions, about 8; administrative harassment, about 14),
    # conviction (about 40), year (Figure 7: about 35 a year), detention. Each case keeps its
    # own probability, and each of these breakdowns carries at most a few cases of draw noise.
    v_group = np.where(
        c_viol[:, _V["professional_restriction"]],
        2,
        np.where(c_viol[:, _V["administrative_harassment"]], 1, 0),
    )
    keys = (
        c_viol[:, _V["detention"]],
        c_year,
        c_viol[:, _V["conviction"]],
        v_group,
        l_mand[c_letter] == 1,
        in_sample,
    )
    improved = _systematic_draws(rng, p_draw, keys)
    worse = ~improved & _systematic_draws(rng, p_worse, keys, ~improved)
    mixed = ~improved & ~worse & _systematic_draws(rng, p_mixed, keys, ~improved & ~worse)
    outcome = np.full(len(taken), "same", dtype=object)
    outcome[improved] = np.where(
        rng.random(int(improved.sum())) < 0.35, "much_better", "somewhat_better"
    )
    outcome[worse] = np.where(rng.random(int(worse.sum())) < 0.145, "much_worse", "somewhat_worse")
    outcome[mixed] = "mixed"

    assessment = np.full(len(taken), None, dtype=object)
    assessment[found] = "online"
    assessment[survey] = "survey"
    impact = np.full(len(taken), None, dtype=object)
    counts = {a: round(n * scale) for a, n in W.SURVEY_COUNTS.items()}
    dont_know = rng.choice(survey, size=min(counts["dont_know"], len(survey)), replace=False)
    answering = np.setdiff1d(survey, dont_know)
    impact[dont_know] = "dont_know"
    perceived = (
        1.5 * improved[answering] + 0.6 * (outcome[answering] == "mixed") - 0.5 * worse[answering]
    ) + rng.normal(0.0, 1.0, len(answering))
    by_rank = answering[np.argsort(-perceived, kind="stable")]
    start = 0
    answers = ("definitely", "probably", "rather_unlikely", "definitely_unlikely")
    sizes = _largest_remainder(len(by_rank), np.array([counts[a] for a in answers], dtype=float))
    for a, size in zip(answers, sizes, strict=True):
        impact[by_rank[start : start + size]] = a
        start += size
    if outcomes == "all":
        assessment[assessment == None] = "systematic"  # noqa: E711
    has = assessment != None  # noqa: E711
    out = pd.DataFrame(
        {
            "case_id": case_id[has],
            "outcome": outcome[has],
            "assessment": assessment[has],
            "survey_impact": impact[has],
        }
    )

    # ------------------------------------------------------------------ submissions
    n_people = len(p.event)
    n_events = int(run.person_global_event.max()) + 1 if n_people else 0
    ev_month = np.zeros(n_events, dtype=np.int64)
    ev_month[run.person_global_event] = run.person_month
    ev_received = cal.start[ev_month] + np.floor(rng.random(n_events) * cal.days[ev_month]).astype(
        "timedelta64[D]"
    )
    lag = np.minimum(np.round(rng.gamma(1.5, 3.0, n_letters)).astype(np.int64), l_delay - 1)
    ev_received[run.letter_event] = l_incident + lag.astype("timedelta64[D]")
    ev_received = np.maximum(ev_received, np.datetime64("2000-08-01"))
    s_recv = ev_received[run.person_global_event]
    s_order = np.lexsort((np.arange(n_people), s_recv))
    s_rank = np.empty(n_people, dtype=np.int64)
    s_rank[s_order] = np.arange(n_people)
    s_iso = countries[run.person_country]
    s_case = np.full(n_people, None, dtype=object)
    s_case[taken] = case_id
    s_id = np.array([f"S-{i + 1:06d}" for i in s_rank], dtype=object)
    submissions = pd.DataFrame(
        {
            "submission_id": s_id,
            "received_date": _dates(s_recv),
            "individual_id": np.array([f"I-{i + 1:06d}" for i in p.individual], dtype=object),
            "country": s_iso,
            "un_region": _region(s_iso),
            "gender": _GENDER_CODES[p.gender],
            "violations": _codes(p.viol, tuple(VIOLATIONS)),
            "issue_areas": _codes(p.area, tuple(ISSUE_AREAS)),
            "protester": np.where(p.protester, "true", "false"),
            "eligible": np.where(run.person_eligible, "true", "false"),
            "case_id": s_case,
        }
    ).iloc[s_order]

    # ------------------------------------------------------------------ queue
    q = run.queue
    n_q = len(q.event)
    q_ev = np.unique(run.queue_event, return_inverse=True)[1]
    n_qev = int(q_ev.max()) + 1 if n_q else 0
    qm = run.queue_month
    ev_m = np.zeros(n_qev, dtype=np.int64)
    ev_m[q_ev] = qm
    q_recv_ev = cal.start[ev_m] + np.floor(rng.random(n_qev) * cal.days[ev_m]).astype(
        "timedelta64[D]"
    )
    q_lag_ev = np.round(rng.gamma(1.5, 4.0, n_qev)).astype(np.int64)
    q_type_ev, q_mand_ev = _letter_design(rng, np.full(n_qev, 2016), named=True)
    source_ev = rng.integers(1, 400, n_qev)
    q_recv = q_recv_ev[q_ev]
    q_order = np.lexsort((np.arange(n_q), q_recv))
    q_rank = np.empty(n_q, dtype=np.int64)
    q_rank[q_order] = np.arange(n_q)
    q_id = np.array([f"Q17-{i + 1:05d}" for i in q_rank], dtype=object)
    q_iso = countries[run.queue_country]
    q_hidden = rng.normal(0.0, _HIDDEN_SD, n_q)
    q_delay = _expected_drafting_days(q_type_ev[q_ev], q_mand_ev[q_ev]) + q_lag_ev[q_ev]
    q_lin = _improve_linear(
        q.viol,
        q.repeat,
        q_mand_ev[q_ev],
        q_delay,
        country_eff[run.queue_country],
        np.full(n_q, 2017),
        q_hidden,
        eff,
    )
    q_p = _marginal_improve(b0 + q_lin - q_hidden)
    queue = pd.DataFrame(
        {
            "case_id": q_id,
            "received_date": _dates(q_recv),
            "individual_id": np.array([f"I-{i + 1:06d}" for i in q.individual], dtype=object),
            "defender_name": _fake_names(rng, n_q),
            "source_contact": np.array(
                [f"source-{s:04d}@example.org" for s in source_ev[q_ev]], dtype=object
            ),
            "country": q_iso,
            "un_region": _region(q_iso),
            "gender": _GENDER_CODES[q.gender],
            "violations": _codes(q.viol, tuple(VIOLATIONS)),
            "issue_areas": _codes(q.area, tuple(ISSUE_AREAS)),
            "protester": np.where(q.protester, "true", "false"),
            "type": q_type_ev[q_ev],
            "n_mandates": q_mand_ev[q_ev],
            "last_incident_date": _dates(q_recv - q_lag_ev[q_ev].astype("timedelta64[D]")),
        }
    ).iloc[q_order]

    truth = pd.DataFrame(
        {
            "case_id": np.concatenate([case_id, q_id]),
            "p_improve": np.concatenate([p_improve, q_p]),
        }
    )
    cases = cases.iloc[c_order].reset_index(drop=True)
    out = out.sort_values("case_id", kind="stable").reset_index(drop=True)
    truth = truth.sort_values("case_id", kind="stable").reset_index(drop=True)
    tables = {
        "communications": communications,
        "cases": cases,
        "outcomes": out,
        "truth": truth,
        "queue": queue.reset_index(drop=True),
        "submissions": submissions.reset_index(drop=True),
    }
    if supplements:
        from triage.synth._supplements import supplement_tables

        tables |= supplement_tables(
            seed=run.seed,
            comm_id=comm_id,
            n_letters=n_letters,
            unnamed_year=cal.year[u_month],
            unnamed_sent=u_sent,
            pr_year=cal.year[r_month],
            pr_sent=r_sent,
            case_id=case_id,
            case_letter=c_letter,
            sampled=cand,
            found=found,
            improved=improved,
            letter_reply=reply_class[:n_letters],
            protester=p.protester[taken],
            areas=c_area,
        )
    if counterfactual:
        from triage.synth._counterfactual import counterfactual_tables

        def truth_of(
            rows: np.ndarray, n_mandates: np.ndarray, delay: np.ndarray, sent_year: np.ndarray
        ) -> np.ndarray:
            # The truth's model for a submission taken up with this letter (see ``p_improve``).
            lin_s = _improve_linear(
                p.viol[rows],
                p.repeat[rows],
                n_mandates,
                delay,
                country_eff[run.person_country[rows]],
                sent_year,
                np.zeros(len(rows)),
                eff,
            )
            return _marginal_improve(b0 + lin_s)

        tables |= counterfactual_tables(
            seed=run.seed,
            submission_id=s_id,
            received=s_recv,
            eligible=run.person_eligible,
            taken=taken,
            case_truth=p_improve,
            case_type=l_type[c_letter],
            case_mandates=l_mand[c_letter],
            case_incident=l_incident[c_letter],
            truth_of=truth_of,
        )
    return tables


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a text table the way ``triage.schema.read_history`` types it."""
    out = frame.copy()
    for col in out.columns:
        if col in DATE_COLUMNS:
            out[col] = pd.to_datetime(out[col], format="%Y-%m-%d")
        elif col in BOOL_COLUMNS:
            out[col] = out[col].map({"true": True, "false": False}).astype("boolean")
        elif col in INT_COLUMNS:
            out[col] = pd.to_numeric(out[col]).astype("Int64")
        elif col == "p_improve":
            out[col] = out[col].astype(float).round(6)  # as written with %.6f
        else:
            out[col] = out[col].astype("str")
    return out
