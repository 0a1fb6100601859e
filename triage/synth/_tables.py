"""The history tables as text, exactly as written to CSV: communications, cases, submissions, queue."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from triage.schema import HISTORY_FILES, ISSUE_AREAS, VIOLATIONS
from triage.synth._columns import _codes, _dates, _fake_names, _region
from triage.synth._improvement import _HIDDEN_SD
from triage.synth._letters import (
    NamedLetters,
    OtherCommunications,
    _day_in_month,
    _expected_drafting_days,
    _letter_design,
)
from triage.synth._outcomes import TruthModel
from triage.synth._people import _GENDER_CODES
from triage.synth._replies import Replies
from triage.synth._simulate import _Run


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Text ids ``{prefix}{n + 1}`` zero-padded to ``width`` digits."""
    return np.array([f"{prefix}{i + 1:0{width}d}" for i in numbers], dtype=object)


def _person_columns(
    iso: np.ndarray,
    gender: np.ndarray,
    violations: np.ndarray,
    areas: np.ndarray,
    protester: np.ndarray,
) -> dict[str, np.ndarray]:
    """The text columns that describe a person: country to protester, in the files' order."""
    return {
        "country": iso,
        "un_region": _region(iso),
        "gender": _GENDER_CODES[gender],
        "violations": _codes(violations, tuple(VIOLATIONS)),
        "issue_areas": _codes(areas, tuple(ISSUE_AREAS)),
        "protester": np.where(protester, "true", "false"),
    }


def _rank(order: np.ndarray) -> np.ndarray:
    """Position of each row in ``order`` (the inverse permutation)."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def communications_table(
    run: _Run, letters: NamedLetters, other: OtherCommunications, replies: Replies
) -> tuple[pd.DataFrame, np.ndarray]:
    """communications.csv (sorted by send date) and each communication's id in build order.

    Build order: the named letters, the unnamed letters, then the press releases; ids count
    the communications of each year by send date (``COM-2005-0042``).
    """
    n_unnamed = len(other.unnamed_month)
    n_releases = len(other.release_month)
    comm = pd.DataFrame(
        {
            "sent": np.concatenate([letters.sent, other.unnamed_sent, other.release_sent]),
            "type": np.concatenate(
                [letters.kind, other.unnamed_kind, np.full(n_releases, "PR", dtype=object)]
            ),
            "addressee": np.concatenate(
                [
                    letters.addressee,
                    other.unnamed_addressee,
                    np.full(n_releases, "state", dtype=object),
                ]
            ),
            "country": run.countries[
                np.concatenate([run.letter_country, other.unnamed_country, other.release_country])
            ],
            "n_mandates": np.concatenate(
                [letters.n_mandates, other.unnamed_mandates, other.release_mandates]
            ),
            "last_incident_date": np.concatenate(
                [
                    _dates(letters.last_incident),
                    np.full(n_unnamed + n_releases, None, dtype=object),
                ]
            ),
            "reply_class": np.concatenate(
                [replies.reply_class, np.full(n_releases, None, dtype=object)]
            ),
            "reply_date": np.concatenate(
                [replies.reply_date, np.full(n_releases, None, dtype=object)]
            ),
            "n_individuals": np.concatenate(
                [
                    letters.n_individuals,
                    np.zeros(n_unnamed + n_releases, dtype=np.int64),
                ]
            ),
        }
    )
    order = np.lexsort((np.arange(len(comm)), comm["sent"].to_numpy()))
    year = comm["sent"].to_numpy().astype("datetime64[Y]").astype(int) + 1970
    number_in_year = np.zeros(len(comm), dtype=np.int64)
    for y in np.unique(year):
        rows = order[year[order] == y]
        number_in_year[rows] = np.arange(1, len(rows) + 1)
    comm_id = np.array(
        [f"COM-{y}-{s:04d}" for y, s in zip(year, number_in_year, strict=True)], dtype=object
    )
    comm["communication_id"] = comm_id
    comm["sent_date"] = _dates(comm["sent"].to_numpy())
    table = comm.iloc[order][list(HISTORY_FILES["communications"])].reset_index(drop=True)
    return table, comm_id


@dataclass(frozen=True)
class Cases:
    """cases.csv (sorted by case_id) and each case's id in the simulation's case order."""

    table: pd.DataFrame
    case_id: np.ndarray


def cases_table(run: _Run, letters: NamedLetters, comm_id: np.ndarray) -> Cases:
    """cases.csv: one row per individual named in a letter, numbered by communication."""
    taken, case_letter = letters.taken, letters.case_letter
    people = run.people
    order = np.lexsort((taken, comm_id[case_letter]))  # by communication, then submission
    case_id = _ids("C-", _rank(order), 6)
    iso = run.countries[run.letter_country[case_letter]]
    table = pd.DataFrame(
        {
            "case_id": case_id,
            "communication_id": comm_id[case_letter],
            "individual_id": _ids("I-", people.individual[taken], 6),
            "sent_date": _dates(letters.sent[case_letter]),
            **_person_columns(
                iso,
                people.gender[taken],
                people.viol[taken],
                people.area[taken],
                people.protester[taken],
            ),
        }
    )
    return Cases(table=table.iloc[order].reset_index(drop=True), case_id=case_id)


@dataclass(frozen=True)
class Submissions:
    """submissions.csv (by receipt date) and, per submitted person, its id and receipt date."""

    table: pd.DataFrame
    submission_id: np.ndarray
    received: np.ndarray  # datetime64[D]


def submissions_table(run: _Run, letters: NamedLetters, case_id: np.ndarray) -> Submissions:
    """submissions.csv: every person submitted, with the case it became, if any.

    A submission taken up is received a few days after its last incident; the others on a day
    of their month.
    """
    rng, cal, people = run.rng, run.cal, run.people
    n_people = len(people.event)
    n_events = int(run.person_global_event.max()) + 1 if n_people else 0
    event_month = np.zeros(n_events, dtype=np.int64)
    event_month[run.person_global_event] = run.person_month
    event_received = _day_in_month(rng, cal, event_month)
    lag = np.minimum(
        np.round(rng.gamma(1.5, 3.0, len(letters))).astype(np.int64), letters.drafting_days - 1
    )
    event_received[run.letter_event] = letters.last_incident + lag.astype("timedelta64[D]")
    event_received = np.maximum(event_received, np.datetime64("2000-08-01"))
    received = event_received[run.person_global_event]
    order = np.lexsort((np.arange(n_people), received))
    iso = run.countries[run.person_country]
    case_of = np.full(n_people, None, dtype=object)
    case_of[letters.taken] = case_id
    submission_id = _ids("S-", _rank(order), 6)
    table = pd.DataFrame(
        {
            "submission_id": submission_id,
            "received_date": _dates(received),
            "individual_id": _ids("I-", people.individual, 6),
            **_person_columns(iso, people.gender, people.viol, people.area, people.protester),
            "eligible": np.where(run.person_eligible, "true", "false"),
            "case_id": case_of,
        }
    ).iloc[order]
    return Submissions(
        table=table.reset_index(drop=True), submission_id=submission_id, received=received
    )


@dataclass(frozen=True)
class Queue:
    """queue.csv (by receipt date) with each queued case's id and truth, in simulation order."""

    table: pd.DataFrame
    case_id: np.ndarray
    p_improve: np.ndarray


def queue_table(run: _Run, truth: TruthModel) -> Queue:
    """queue.csv: the next year's submissions with their planned letter and invented contacts."""
    rng, cal, queued = run.rng, run.cal, run.queue
    n_queued = len(queued.event)
    event = np.unique(run.queue_event, return_inverse=True)[1]
    n_events = int(event.max()) + 1 if n_queued else 0
    event_month = np.zeros(n_events, dtype=np.int64)
    event_month[event] = run.queue_month
    event_received = _day_in_month(rng, cal, event_month)
    event_lag = np.round(rng.gamma(1.5, 4.0, n_events)).astype(np.int64)
    event_kind, event_mandates = _letter_design(rng, np.full(n_events, 2016), named=True)
    event_source = rng.integers(1, 400, n_events)
    received = event_received[event]
    order = np.lexsort((np.arange(n_queued), received))
    case_id = _ids("Q17-", _rank(order), 5)
    iso = run.countries[run.queue_country]
    hidden = rng.normal(0.0, _HIDDEN_SD, n_queued)
    p_improve = truth.p_improve(
        queued.viol,
        queued.repeat,
        n_mandates=event_mandates[event],
        delay=_expected_drafting_days(event_kind[event], event_mandates[event]) + event_lag[event],
        country=run.queue_country,
        year=np.full(n_queued, 2017),
        hidden=hidden,
    )
    table = pd.DataFrame(
        {
            "case_id": case_id,
            "received_date": _dates(received),
            "individual_id": _ids("I-", queued.individual, 6),
            "defender_name": _fake_names(rng, n_queued),
            "source_contact": np.array(
                [f"source-{s:04d}@example.org" for s in event_source[event]], dtype=object
            ),
            **_person_columns(iso, queued.gender, queued.viol, queued.area, queued.protester),
            "type": event_kind[event],
            "n_mandates": event_mandates[event],
            "last_incident_date": _dates(received - event_lag[event].astype("timedelta64[D]")),
        }
    ).iloc[order]
    return Queue(table=table.reset_index(drop=True), case_id=case_id, p_improve=p_improve)
