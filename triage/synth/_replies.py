"""States' replies to letters: who replies, how fast, and what the reply says.

Reply propensities are solved so that the paper's figures hold: each era's substantive reply
share, the named countries' response shares and reply times, the mean reply time overall and the
named countries' rejection shares. Replies that would arrive after the history ends are not seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammainc

from triage.schema import region_of
from triage.synth import _world as W
from triage.synth._columns import _dates
from triage.synth._draws import _stratified
from triage.synth._letters import NamedLetters, OtherCommunications
from triage.synth._roots import solve_increasing, solve_intercept
from triage.synth._simulate import _Run

_REPLY_SHAPE = 12.0  # spread of one state's reply times (coefficient of variation 0.29)
_END = np.datetime64(W.HISTORY_END)
_ERAS = ("jilani", "sekaggya", "forst")


def _observed_mean(mean: np.ndarray, left: np.ndarray, weight: np.ndarray) -> float:
    """Mean of gamma reply times (``_REPLY_SHAPE``) seen before the history ends."""
    theta = mean / _REPLY_SHAPE
    x = np.maximum(left, 0.0) / theta
    den = (weight * gammainc(_REPLY_SHAPE, x)).sum()
    if den <= 0:
        return float(mean.mean()) if len(mean) else 0.0
    return float((weight * mean * gammainc(_REPLY_SHAPE + 1, x)).sum() / den)


@dataclass(frozen=True)
class _StateLetters:
    """Every letter that could be sent to a state: the named letters first, then the unnamed."""

    country: np.ndarray  # country index
    era: np.ndarray
    sent: np.ndarray  # datetime64[D]
    to_state: np.ndarray  # bool
    #: Individuals named (zero for unnamed letters and letters to non-state actors): the weight
    #: of a letter in the paper's per-case reply figures.
    weight: np.ndarray


@dataclass(frozen=True)
class Replies:
    """The reply to each letter to a state (named letters first, then the unnamed ones)."""

    reply_class: np.ndarray  # none, immaterial, content_unknown, rejection, no_rejection; None
    reply_date: np.ndarray  # YYYY-MM-DD text, None when no reply is seen
    #: Per country: the log-odds of replying (the state's engagement).
    reply_logit: np.ndarray


def _state_letters(run: _Run, letters: NamedLetters, other: OtherCommunications) -> _StateLetters:
    to_state = np.concatenate([letters.addressee, other.unnamed_addressee]) == "state"
    n_unnamed = len(other.unnamed_month)
    return _StateLetters(
        country=np.concatenate([run.letter_country, other.unnamed_country]),
        era=np.concatenate([letters.era, run.cal.era[other.unnamed_month]]),
        sent=np.concatenate([letters.sent, other.unnamed_sent]),
        to_state=to_state,
        weight=np.concatenate([letters.n_individuals, np.zeros(n_unnamed)]).astype(float)
        * to_state,
    )


def _solve_reply_propensity(
    s: _StateLetters,
    reply_logit: np.ndarray,
    other_days: np.ndarray,
    country_index: dict[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Solve each era's reply log-odds and the reply times (per country mean days).

    Updates ``reply_logit`` of the named countries in place; returns the era log-odds and the
    per-country mean reply days. Replies after the history ends are not seen yet, so the means
    are solved such that the *observed* (truncated) means land on the paper's figures.
    """
    k = len(reply_logit)
    named_days = np.full(k, np.nan)
    for c, d in W.NAMED_REPLY_DAYS.items():
        named_days[country_index[c]] = d
    immaterial = W.IMMATERIAL_SHARE
    era_logit = np.zeros(3)
    mean_days = np.where(np.isnan(named_days), 100.0, named_days)
    days_left = (_END - s.sent).astype(float)
    named = ~np.isnan(named_days)
    for _ in range(4):
        seen_share = gammainc(
            _REPLY_SHAPE, np.maximum(days_left, 0) / (mean_days[s.country] / _REPLY_SHAPE)
        )
        for e, era_name in enumerate(_ERAS):
            era_logit[e] = solve_intercept(
                reply_logit[s.country],
                s.weight * (s.era == e),
                W.ERA_SUBSTANTIVE[era_name],
                scale=(1 - immaterial) * seen_share,
            )
        for c, target in W.NAMED_RESPONSE.items():
            i = country_index[c]
            reply_logit[i] = solve_intercept(
                era_logit[s.era],
                s.weight * (s.country == i),
                target,
                scale=(1 - immaterial) * seen_share,
            )
        intensity = s.weight * expit(era_logit[s.era] + reply_logit[s.country])
        for c, target in W.NAMED_REPLY_DAYS.items():
            i = country_index[c]
            rows = s.country == i

            def country_mean(m: float, rows: np.ndarray = rows, w: np.ndarray = intensity) -> float:
                return _observed_mean(np.full(int(rows.sum()), m), days_left[rows], w[rows])

            mean_days[i] = solve_increasing(
                country_mean, target, target, 4 * target, what=f"the mean reply days of {c}"
            )

        def overall(g: float, fixed: np.ndarray = mean_days, w: np.ndarray = intensity) -> float:
            m = np.where(named, fixed, g * other_days)
            return _observed_mean(m[s.country], days_left, w)

        g = solve_increasing(overall, W.MEAN_REPLY_DAYS, 10.0, 400.0, what="the mean reply days")
        mean_days = np.where(named, mean_days, g * other_days)
    return era_logit, mean_days


def draw_replies(run: _Run, letters: NamedLetters, other: OtherCommunications) -> Replies:
    """Draw whether, when and how each state replies, calibrated to the paper's figures."""
    rng = run.rng
    countries = run.countries
    k = len(countries)
    is_lac = np.array([region_of(str(c)) == "latin_american_caribbean" for c in countries])
    country_index = {str(c): i for i, c in enumerate(countries)}
    s = _state_letters(run, letters, other)
    reply_logit = rng.normal(0.0, 0.7, k) + 1.2 * is_lac
    reply_logit[country_index["USA"]] += 0.6
    for fast in ("OMN", "MRT", "AGO", "SAU"):  # the paper times their replies: they do reply
        reply_logit[country_index[fast]] += 0.8
    rejection_logit = rng.normal(0.0, 0.5, k) - 0.9 * is_lac
    other_days = np.exp(rng.normal(0.0, 0.35, k))
    era_logit, mean_days = _solve_reply_propensity(s, reply_logit, other_days, country_index)
    era_rejection = np.array([W.ERA_REJECTION_LOGIT[e] for e in _ERAS])
    p_reply = expit(era_logit[s.era] + reply_logit[s.country])
    for c, target in W.NAMED_REJECTION.items():
        i = country_index[c]
        rejection_logit[i] = solve_intercept(
            era_rejection[s.era], s.weight * p_reply * (s.country == i), target
        )

    replied = (
        _stratified(rng, s.country, s.to_state) < expit(era_logit[s.era] + reply_logit[s.country])
    ) & s.to_state
    immaterial = replied & (_stratified(rng, s.country, replied) < W.IMMATERIAL_SHARE)
    substantive = replied & ~immaterial
    unknown = substantive & (_stratified(rng, s.country, substantive) < W.CONTENT_UNKNOWN_SHARE)
    rejection = (
        substantive
        & ~unknown
        & (
            _stratified(rng, s.country, substantive & ~unknown)
            < expit(era_rejection[s.era] + rejection_logit[s.country])
        )
    )
    days = rng.gamma(_REPLY_SHAPE, mean_days[s.country] / _REPLY_SHAPE) * np.where(
        immaterial, W.IMMATERIAL_SLOWER, 1.0
    )
    days = np.maximum(1, np.round(days)).astype(np.int64)
    reply_date = s.sent + days.astype("timedelta64[D]")
    seen = replied & (reply_date <= _END)
    reply_class = np.full(len(s.country), "none", dtype=object)
    reply_class[seen & immaterial] = "immaterial"
    reply_class[seen & unknown] = "content_unknown"
    reply_class[seen & rejection] = "rejection"
    reply_class[seen & substantive & ~unknown & ~rejection] = "no_rejection"
    reply_class[~s.to_state] = None
    reply_text = _dates(reply_date)
    reply_text[~seen] = None
    return Replies(reply_class=reply_class, reply_date=reply_text, reply_logit=reply_logit)
