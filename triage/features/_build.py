"""One feature table for training and scoring: the case itself plus the country's point-in-time record.

The same function serves both, so a feature can never mean one thing in training and another in
scoring. Every history-derived number only uses what was known strictly before the case date:

- the **case date** is ``sent_date`` for a historical case and ``received_date`` for a queue case;
- a communication enters the reply-rate denominator ``REPLY_WINDOW_DAYS`` after it was sent (states
  get time to answer) and a reply counts once its ``reply_date`` is before the case date;
- an outcome is observed one year after its case's ``sent_date`` and counts only once that
  observation date is before the case date;
- "raised before" looks at cases sent strictly earlier.

**Days since the last incident.** For a historical case it is ``sent_date − last_incident_date``
(the delay the defender actually waited). A queue case has not been sent yet, so it is the days
already elapsed at ``received_date`` plus the *expected drafting delay* for the planned number of
mandates, ``a + b·n_mandates``, a least-squares line fitted on what was known before the case
date: ``sent_date − received_date`` of earlier submissions that became cases (when
``submissions.csv`` is available), else ``sent_date − last_incident_date`` of earlier
communications (then the expected total delay, never less than the days already elapsed). This is
what makes the what-if "HRD alone vs N mandates" move the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from triage.errors import InputFileError
from triage.features._pit import PointInTime, day_numbers
from triage.features._validate import case_dates, flags, validate_cases
from triage.schema import (
    COMM_TYPES,
    GENDERS,
    IMPROVED_OUTCOMES,
    ISSUE_AREAS,
    UN_REGIONS,
    VIOLATIONS,
    History,
    codes_to_frame,
    countries,
    label,
    region_of,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURE_COLUMNS",
    "FEATURE_LABELS",
    "MONOTONE",
    "REPLY_WINDOW_DAYS",
    "SHRINK",
    "START_FEATURES",
    "build_features",
    "case_dates",
    "drafting_delay",
    "prepare_cases",
    "validate_cases",
]

#: Days a state gets to answer before a communication counts as unanswered in the reply rate.
REPLY_WINDOW_DAYS: Final = 90
#: Observation lag of an outcome after ``sent_date`` (the paper's one-year window).
OUTCOME_LAG_DAYS: Final = 365
#: Pseudo-counts pulling each country rate toward the global rate known at the same date.
SHRINK: Final[Mapping[str, float]] = {"reply": 10.0, "response": 5.0, "improve": 20.0}

_SUBSTANTIVE: Final = frozenset({"rejection", "no_rejection", "content_unknown"})
_CONTENT_KNOWN: Final = frozenset({"rejection", "no_rejection"})
_REPLIED: Final = frozenset({"immaterial", "rejection", "no_rejection", "content_unknown"})

_VIOLATION_FEATURES: Final = tuple(f"v_{c}" for c in VIOLATIONS)
_ISSUE_FEATURES: Final = tuple(f"ia_{c}" for c in ISSUE_AREAS)
_GENDER_FEATURES: Final = tuple(f"gender_{c}" for c in GENDERS if c != "unknown")
_REGION_FEATURES: Final = tuple(f"region_{c}" for c in UN_REGIONS)
_TYPE_FEATURES: Final = tuple(f"type_{c}" for c in COMM_TYPES)
_COUNTRY_FEATURES: Final = (
    "country_reply_rate",
    "country_rejection_rate",
    "country_response_days",
    "country_improve_rate",
)

#: Every model feature, in the order the model sees them.
FEATURE_COLUMNS: Final[tuple[str, ...]] = (
    *_VIOLATION_FEATURES,
    *_ISSUE_FEATURES,
    *_GENDER_FEATURES,
    "protester",
    *_REGION_FEATURES,
    "country",
    *_TYPE_FEATURES,
    "n_mandates",
    "days_since_incident",
    "raised_before",
    *_COUNTRY_FEATURES,
)
#: Features the model treats as unordered categories (ISO3 as its index in the countries table).
CATEGORICAL_FEATURES: Final = ("country",)
#: Monotone constraints, each backed by *Chasing Shadows*: a longer wait since the incident and
#: more co-signing mandates never raise the score (p. 9-10: 30 % improved when the HRD mandate
#: wrote alone, under 24 % for joint letters, each mandate adds more than a week); detention and
#: conviction never lower it (p. 22: 30 % vs 16 %, 36 % vs 23 %); administrative harassment
#: never raises it (p. 23: more than half deteriorated); a killed defender's situation cannot
#: improve; a better earlier improvement record of the country never lowers it. Professional
#: restriction (6 of 8 improved) is left free: the paper calls the number too small.
MONOTONE: Final[Mapping[str, int]] = {
    "days_since_incident": -1,
    "n_mandates": -1,
    "v_detention": 1,
    "v_conviction": 1,
    "v_administrative_harassment": -1,
    "v_killing": -1,
    "country_improve_rate": 1,
}

#: Features of the model's additive start (``triage.scoring``): the ones *Chasing Shadows* ties to
#: how a case develops. Its impact study breaks improvement down by the violation suffered
#: (p. 22-23), by the letter (the HRD mandate alone or joint, and the delay that co-signing
#: costs; p. 9-10) and by the state (p. 21-22); following up on individuals raised before is one of
#: the selection rationales it weighs. The defender's profile (gender, issue
#: areas, protester, region) and the letter type are not reported to change outcomes: they stay
#: available to the trees, which use them only where validation supports a split. With a few
#: hundred outcomes, every extra linear coefficient costs more in variance than it can return.
START_FEATURES: Final[tuple[str, ...]] = (
    *_VIOLATION_FEATURES,
    "n_mandates",
    "days_since_incident",
    "raised_before",
    *_COUNTRY_FEATURES,
)

#: Plain-language name of each feature (codes come from the schema vocabulary).
FEATURE_LABELS: Final[Mapping[str, str]] = {
    **{f"v_{c}": label(c).lower() for c in VIOLATIONS},
    **{f"ia_{c}": f"works on {label(c).lower()}" for c in ISSUE_AREAS},
    "gender_woman": "woman defender",
    "gender_man": "man defender",
    "protester": "protester",
    **{f"region_{c}": label(c) for c in UN_REGIONS},
    "country": "country",
    **{f"type_{c}": label(c).lower() for c in COMM_TYPES},
    "n_mandates": "co-signing mandates",
    "days_since_incident": "days since last incident",
    "raised_before": "raised before",
    "country_reply_rate": "country's substantive-reply rate",
    "country_rejection_rate": "country's rejection rate",
    "country_response_days": "country's mean response time",
    "country_improve_rate": "country's earlier improvement rate",
}


def _country_index() -> dict[str, int]:
    return {iso3: i for i, iso3 in enumerate(sorted(countries()))}


def prepare_cases(cases: pd.DataFrame, history: History) -> pd.DataFrame:
    """Complete a cases frame with its communication: ``type``, ``n_mandates``, ``last_incident_date``.

    Rows in the shape of ``cases.csv`` carry a ``communication_id``; the planned communication of a
    queue row is already in the row. Values present in ``cases`` win over the history.
    """
    out = cases.copy()
    wanted = ("type", "n_mandates", "last_incident_date")
    if "communication_id" in out.columns and len(history.communications):
        comms = history.communications.drop_duplicates("communication_id").set_index(
            "communication_id"
        )
        ids = out["communication_id"]
        for col in wanted:
            looked_up = ids.map(comms[col]) if col in comms.columns else None
            if looked_up is None:
                continue
            out[col] = (
                looked_up if col not in out.columns else out[col].where(out[col].notna(), looked_up)
            )
    for col in wanted:
        if col not in out.columns:
            out[col] = pd.NA
    return out


def _delay_fit(history: History) -> tuple[PointInTime, bool]:
    """Events for the drafting-delay line: (1, n, delay, n·delay, n²) known at ``sent_date``."""
    comms = history.communications
    if history.submissions is not None and "case_id" in history.submissions.columns:
        subs = history.submissions.dropna(subset=["case_id"])
        linked = subs.merge(
            history.cases[["case_id", "communication_id", "sent_date"]], on="case_id", how="inner"
        ).merge(comms[["communication_id", "n_mandates"]], on="communication_id", how="left")
        if len(linked) >= 10:
            sent = day_numbers(linked["sent_date"])
            delay = sent - day_numbers(linked["received_date"])
            n = pd.to_numeric(linked["n_mandates"], errors="coerce").to_numpy(dtype=float)
            return _line_events(sent, n, delay), True
    sent = day_numbers(comms["sent_date"])
    delay = sent - day_numbers(comms["last_incident_date"])
    n = pd.to_numeric(comms["n_mandates"], errors="coerce").to_numpy(dtype=float)
    return _line_events(sent, n, delay), False


def _line_events(day: np.ndarray, n: np.ndarray, delay: np.ndarray) -> PointInTime:
    ok = ~np.isnan(n) & ~np.isnan(delay) & (delay >= 0)
    day = np.where(ok, day, np.nan)
    n0, d0 = np.nan_to_num(n), np.nan_to_num(delay)
    values = np.column_stack([np.ones_like(n0), n0, d0, n0 * d0, n0 * n0])
    return PointInTime(np.zeros(len(day), dtype=np.int64), day, values)


def drafting_delay(
    history: History, dates: pd.Series, n_mandates: pd.Series | np.ndarray
) -> tuple[np.ndarray, bool]:
    """Expected days from receipt to sending, ``a + b·n_mandates``, fitted on history before each date.

    Returns
    -------
    delay : ndarray of float
        Expected delay in days per row (NaN when ``n_mandates`` is missing or nothing is known yet).
    from_submissions : bool
        ``True`` when fitted on submission-to-sending delays; ``False`` when on the total delay
        since the last incident (no ``submissions.csv``).
    """
    events, from_submissions = _delay_fit(history)
    day = day_numbers(pd.Series(dates))
    s = events.before(np.zeros(len(day), dtype=np.int64), day)
    cnt, sx, sy, sxy, sxx = s.T
    with np.errstate(invalid="ignore", divide="ignore"):
        var = cnt * sxx - sx * sx
        slope = np.where(var > 0, (cnt * sxy - sx * sy) / np.where(var > 0, var, 1.0), 0.0)
        intercept = np.where(cnt > 0, (sy - slope * sx) / np.where(cnt > 0, cnt, 1.0), np.nan)
    n = pd.to_numeric(pd.Series(np.asarray(n_mandates)), errors="coerce").to_numpy(dtype=float)
    return np.maximum(intercept + slope * n, 0.0), from_submissions


def _rate(num: np.ndarray, den: np.ndarray, prior: np.ndarray, k: float) -> np.ndarray:
    """Empirical-Bayes rate ``(num + k·prior) / (den + k)``; NaN when the prior is unknown."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (num + k * prior) / (den + k)


def _global(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _country_record(history: History, keys: np.ndarray, day: np.ndarray) -> dict[str, np.ndarray]:
    """The country's record with the mandate known strictly before each day."""
    index = _country_index()
    comms = history.communications
    ckey = comms["country"].map(index).fillna(-1).to_numpy(dtype=np.int64)
    sent = day_numbers(comms["sent_date"])
    replied = day_numbers(comms["reply_date"])
    cls = comms["reply_class"].astype("string").fillna("none")
    substantive = cls.isin(_SUBSTANTIVE).to_numpy() & ~np.isnan(replied)
    known = cls.isin(_CONTENT_KNOWN).to_numpy() & ~np.isnan(replied)
    rejected = (cls == "rejection").to_numpy() & ~np.isnan(replied)
    any_reply = cls.isin(_REPLIED).to_numpy() & ~np.isnan(replied)

    due = sent + REPLY_WINDOW_DAYS
    # A reply counts in the numerator once the communication is due and the reply has arrived.
    reply_known = np.fmax(due, replied)
    events = [
        (due, np.ones(len(sent)), np.ones(len(sent), dtype=bool)),
        (reply_known, np.ones(len(sent)), substantive),
        (replied, np.ones(len(sent)), known),
        (replied, np.ones(len(sent)), rejected),
        (replied, replied - sent, any_reply),
    ]
    names = ("due", "substantive", "known", "rejected", "response_days")
    per_country: dict[str, np.ndarray] = {}
    overall: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    zeros_q = np.zeros(len(day), dtype=np.int64)
    for name, (when, value, mask) in zip(names, events, strict=True):
        when = np.where(mask, when, np.nan)
        vals = np.column_stack([np.ones(len(when)), np.nan_to_num(value)])
        pit = PointInTime(ckey, when, vals)
        glob = PointInTime(np.zeros(len(when), dtype=np.int64), when, vals)
        c = pit.before(keys, day)
        g = glob.before(zeros_q, day)
        counts[name], per_country[name] = c[:, 0], c[:, 1]
        overall[name] = g
    out: dict[str, np.ndarray] = {}
    out["country_reply_rate"] = _rate(
        counts["substantive"],
        counts["due"],
        _global(overall["substantive"][:, 0], overall["due"][:, 0]),
        SHRINK["reply"],
    )
    out["country_rejection_rate"] = _rate(
        counts["rejected"],
        counts["known"],
        _global(overall["rejected"][:, 0], overall["known"][:, 0]),
        SHRINK["reply"],
    )
    out["country_response_days"] = _rate(
        per_country["response_days"],
        counts["response_days"],
        _global(overall["response_days"][:, 1], overall["response_days"][:, 0]),
        SHRINK["response"],
    )

    # Outcomes: known one year after their case was sent.
    labelled = history.outcomes.merge(
        history.cases[["case_id", "country", "sent_date"]], on="case_id", how="inner"
    )
    okey = labelled["country"].map(index).fillna(-1).to_numpy(dtype=np.int64)
    observed = day_numbers(labelled["sent_date"]) + OUTCOME_LAG_DAYS
    improved = labelled["outcome"].isin(IMPROVED_OUTCOMES).to_numpy(dtype=float)
    has_outcome = labelled["outcome"].notna().to_numpy()
    observed = np.where(has_outcome, observed, np.nan)
    values = np.column_stack([np.ones(len(observed)), improved])
    c = PointInTime(okey, observed, values).before(keys, day)
    g = PointInTime(np.zeros(len(observed), dtype=np.int64), observed, values).before(zeros_q, day)
    out["country_improve_rate"] = _rate(
        c[:, 1], c[:, 0], _global(g[:, 1], g[:, 0]), SHRINK["improve"]
    )
    return out


def _raised_before(history: History, individual: pd.Series, day: np.ndarray) -> np.ndarray:
    ids = history.cases["individual_id"].astype("string")
    codes = {v: i for i, v in enumerate(sorted(ids.dropna().unique()))}
    ev_key = ids.map(codes).fillna(-1).to_numpy(dtype=np.int64)
    ev_day = day_numbers(history.cases["sent_date"])
    q_text = individual.astype("string")
    q_key = q_text.map(codes).fillna(-1).to_numpy(dtype=np.int64)
    n = PointInTime(ev_key, ev_day, np.ones(len(ev_day))).before(q_key, day)[:, 0]
    out = (n > 0).astype(float)
    out[q_text.isna().to_numpy()] = np.nan
    return out


def build_features(cases: pd.DataFrame, history: History) -> pd.DataFrame:
    """Build the model's features (``FEATURE_COLUMNS``: flags 0/1, counts, days, rates in [0, 1]).

    One row per case, indexed like ``cases``. Only information dated strictly before each case's
    date (``sent_date``, else ``received_date``) is used; the generator's truth never is.

    Parameters
    ----------
    cases : DataFrame
        Rows in the vocabulary of ``cases.csv`` (with ``communication_id``) or ``queue.csv`` (with
        the planned ``type``, ``n_mandates`` and ``last_incident_date``).
    history : History
        What the mandate knows: communications, cases and outcomes (``read_history`` or
        ``Registry.history()``).

    Returns
    -------
    DataFrame
        Float columns in ``FEATURE_COLUMNS`` order; unknown values are NaN.

    Raises
    ------
    InputFileError
        If a case lacks an id or a date, or a date is malformed.
    """
    if "case_id" not in cases.columns:
        raise InputFileError("cases: missing required column `case_id`.")
    if "country" not in cases.columns:
        raise InputFileError("cases: missing required column `country`.")
    validate_cases(cases)
    date = case_dates(cases)
    day = day_numbers(date)
    full = prepare_cases(cases, history)
    index = _country_index()
    country = full["country"].astype("string").str.strip().str.upper()
    keys = country.map(index).fillna(-1).to_numpy(dtype=np.int64)

    cols: dict[str, np.ndarray] = {}
    violations = codes_to_frame(
        full.get("violations", pd.Series(pd.NA, index=full.index)).astype("string"), VIOLATIONS
    )
    for code in VIOLATIONS:
        cols[f"v_{code}"] = violations[code].to_numpy(dtype=float)
    issues = codes_to_frame(
        full.get("issue_areas", pd.Series(pd.NA, index=full.index)).astype("string"), ISSUE_AREAS
    )
    for code in ISSUE_AREAS:
        cols[f"ia_{code}"] = issues[code].to_numpy(dtype=float)
    gender = (
        full.get("gender", pd.Series(pd.NA, index=full.index)).astype("string").fillna("unknown")
    )
    for feat in _GENDER_FEATURES:
        cols[feat] = (gender == feat.removeprefix("gender_")).to_numpy(dtype=float)
    cols["protester"] = (
        flags(full["protester"]) if "protester" in full.columns else np.full(len(full), np.nan)
    )
    region = (
        full["un_region"].astype("string")
        if "un_region" in full.columns
        else pd.Series(pd.NA, index=full.index, dtype="string")
    )
    derived = country.map(lambda c: region_of(c) if isinstance(c, str) and c in index else pd.NA)
    region = region.fillna(derived.astype("string"))
    for code in UN_REGIONS:
        cols[f"region_{code}"] = (region == code).fillna(False).to_numpy(dtype=float)
    cols["country"] = np.where(keys >= 0, keys, np.nan).astype(float)
    ctype = full["type"].astype("string")
    for code in COMM_TYPES:
        cols[f"type_{code}"] = np.where(
            ctype.isna().to_numpy(), np.nan, (ctype == code).fillna(False).to_numpy(dtype=float)
        )
    n_mandates = pd.to_numeric(full["n_mandates"], errors="coerce").to_numpy(dtype=float)
    cols["n_mandates"] = n_mandates

    incident = day_numbers(full["last_incident_date"])
    historical = (
        full["sent_date"].notna().to_numpy()
        if "sent_date" in full.columns
        else np.zeros(len(full), dtype=bool)
    )
    elapsed = np.clip(day - incident, 0, None)
    days = elapsed.copy()
    planned = ~historical
    if planned.any():
        delay, from_submissions = drafting_delay(history, date[planned], n_mandates[planned])
        if from_submissions:
            days[planned] = elapsed[planned] + delay
        else:
            days[planned] = np.fmax(elapsed[planned], delay)
    cols["days_since_incident"] = days
    cols["raised_before"] = (
        _raised_before(history, full["individual_id"], day)
        if "individual_id" in full.columns
        else np.full(len(full), np.nan)
    )
    cols.update(_country_record(history, keys, day))
    frame = pd.DataFrame({c: cols[c] for c in FEATURE_COLUMNS}, index=cases.index)
    return frame.astype(float)
