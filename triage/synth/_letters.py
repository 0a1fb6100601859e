"""Communications: the letters naming individuals, those naming no one and press releases.

Their type, co-signing mandates, drafting delay (paper p. 12), addressee and send date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from triage.synth import _world as W
from triage.synth._calendar import _Calendar
from triage.synth._simulate import _Run


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


def _day_in_month(rng: np.random.Generator, cal: _Calendar, month: np.ndarray) -> np.ndarray:
    """A uniformly drawn day (``datetime64[D]``) within each given month index."""
    return cal.start[month] + np.floor(rng.random(len(month)) * cal.days[month]).astype(
        "timedelta64[D]"
    )


@dataclass(frozen=True)
class NamedLetters:
    """The letters naming individuals (one row per letter) and which letter each case is in."""

    year: np.ndarray
    era: np.ndarray
    sent: np.ndarray  # datetime64[D]
    kind: np.ndarray  # UA, AL or OL
    n_mandates: np.ndarray
    drafting_days: np.ndarray  # from the last incident to sending
    last_incident: np.ndarray  # datetime64[D]
    addressee: np.ndarray  # state or non_state
    n_individuals: np.ndarray
    #: Indices of the submissions taken up (in the simulation's order), one per case.
    taken: np.ndarray
    #: Per case: the index of its letter.
    case_letter: np.ndarray

    def __len__(self) -> int:
        return len(self.year)


def draw_named_letters(run: _Run, scale: float) -> NamedLetters:
    """Send date, design, drafting delay and addressee of every letter naming individuals."""
    rng, cal, month = run.rng, run.cal, run.letter_month
    n_letters = len(run.letter_event)
    year = cal.year[month]
    sent = _day_in_month(rng, cal, month)
    kind, n_mandates = _letter_design(rng, year, named=True)
    drafting = _drafting_days(rng, kind, n_mandates)
    addressee = np.full(n_letters, "state", dtype=object)
    n_non_state = min(round(W.NON_STATE_NAMED * scale), n_letters)
    addressee[rng.choice(n_letters, size=n_non_state, replace=False)] = "non_state"
    taken = np.flatnonzero(run.person_taken)
    case_letter = np.searchsorted(run.letter_event, run.person_global_event[taken])
    return NamedLetters(
        year=year,
        era=cal.era[month],
        sent=sent,
        kind=kind,
        n_mandates=n_mandates,
        drafting_days=drafting,
        last_incident=sent - drafting.astype("timedelta64[D]"),
        addressee=addressee,
        n_individuals=np.bincount(case_letter, minlength=n_letters),
        taken=taken,
        case_letter=case_letter,
    )


@dataclass(frozen=True)
class OtherCommunications:
    """Letters naming no one and press releases: month, country index, design and send date."""

    unnamed_month: np.ndarray
    unnamed_country: np.ndarray
    unnamed_kind: np.ndarray
    unnamed_mandates: np.ndarray
    unnamed_addressee: np.ndarray
    unnamed_sent: np.ndarray
    release_month: np.ndarray
    release_country: np.ndarray
    release_mandates: np.ndarray
    release_sent: np.ndarray


def draw_other_communications(
    run: _Run, letters: NamedLetters, scale: float
) -> OtherCommunications:
    """Letters naming no one and press releases, their countries drawn like the named cases'."""
    rng, cal = run.rng, run.cal
    k = len(run.countries)
    unnamed_month = np.repeat(np.arange(len(run.unnamed)), run.unnamed)
    release_month = np.repeat(np.arange(len(run.prs)), run.prs)
    country_p = np.bincount(run.letter_country, weights=letters.n_individuals, minlength=k).astype(
        float
    )
    country_p /= country_p.sum()
    unnamed_country = rng.choice(k, size=len(unnamed_month), p=country_p)
    release_country = rng.choice(k, size=len(release_month), p=country_p)
    unnamed_kind, unnamed_mandates = _letter_design(rng, cal.year[unnamed_month], named=False)
    release_mandates = _letter_design(rng, cal.year[release_month], named=False)[1]
    unnamed_addressee = np.full(len(unnamed_month), "state", dtype=object)
    n_non_state = min(round(W.NON_STATE_UNNAMED * scale), len(unnamed_month))
    unnamed_addressee[rng.choice(len(unnamed_month), size=n_non_state, replace=False)] = "non_state"
    return OtherCommunications(
        unnamed_month=unnamed_month,
        unnamed_country=unnamed_country,
        unnamed_kind=unnamed_kind,
        unnamed_mandates=unnamed_mandates,
        unnamed_addressee=unnamed_addressee,
        unnamed_sent=_day_in_month(rng, cal, unnamed_month),
        release_month=release_month,
        release_country=release_country,
        release_mandates=release_mandates,
        release_sent=_day_in_month(rng, cal, release_month),
    )
