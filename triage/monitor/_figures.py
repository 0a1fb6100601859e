"""The paper's monitoring figures (Figures 1-8) and shares by group over time, from a ``History``.

Pure pandas: each function takes typed history frames (``read_history`` / ``Registry.history``)
and returns a tidy frame that the app's Monitoring page draws.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from triage.schema import (
    IMPROVED_OUTCOMES,
    ISSUE_AREA_GROUPS,
    ISSUE_AREAS,
    OUTCOMES,
    VIOLATIONS,
    codes_to_frame,
)

__all__ = [
    "SAMPLE_ASSESSMENTS",
    "caseload_by_year",
    "code_shares",
    "communications_by_country",
    "improvement_by_country",
    "issue_area_shares",
    "outcomes_by_year",
    "shares_by_year",
    "ua_delay_by_mandates",
    "ua_delay_by_year",
    "violation_shares",
]

#: Assessments that make up the paper's impact sample (n=471).
SAMPLE_ASSESSMENTS = frozenset({"survey", "online"})


def code_shares(values: pd.Series, vocabulary: Mapping[str, str]) -> pd.DataFrame:
    """Cases per code of a ``;``-list column: columns code, label, cases, share (0-1 of all rows).

    A case with several codes counts once under each (the paper's Figures 1 and 2).
    """
    flags = codes_to_frame(values, vocabulary)
    n = max(len(values), 1)
    counts = flags.sum(axis=0).astype(int)
    return pd.DataFrame(
        {
            "code": list(vocabulary),
            "label": [vocabulary[c] for c in vocabulary],
            "cases": [int(counts[c]) for c in vocabulary],
            "share": [float(counts[c]) / n for c in vocabulary],
        }
    )


def violation_shares(cases: pd.DataFrame) -> pd.DataFrame:
    """Figure 1: share of cases per violation (code, label, cases, share 0-1)."""
    return code_shares(cases["violations"], VIOLATIONS)


def issue_area_shares(cases: pd.DataFrame, *, grouped: bool = True) -> pd.DataFrame:
    """Figure 2: code, label, cases, share (0-1) per issue category, plus the unattributable.

    With ``grouped`` (the default) the categories are the paper's six (``ISSUE_AREA_GROUPS``):
    a case counts once in a category when it has any of its areas. Otherwise each of the eight
    recorded areas (``ISSUE_AREAS``) has its own row.
    """
    if grouped:
        flags = codes_to_frame(cases["issue_areas"], ISSUE_AREAS)
        n = max(len(cases), 1)
        counts = {
            code: int(flags.loc[:, list(members)].any(axis=1).sum())
            for code, (_, members) in ISSUE_AREA_GROUPS.items()
        }
        table = pd.DataFrame(
            {
                "code": list(ISSUE_AREA_GROUPS),
                "label": [label for label, _ in ISSUE_AREA_GROUPS.values()],
                "cases": list(counts.values()),
                "share": [c / n for c in counts.values()],
            }
        )
    else:
        table = code_shares(cases["issue_areas"], ISSUE_AREAS)
    blank = int(cases["issue_areas"].fillna("").astype(str).str.strip().eq("").sum())
    extra = pd.DataFrame(
        {
            "code": ["unattributed"],
            "label": ["Not attributable"],
            "cases": [blank],
            "share": [blank / max(len(cases), 1)],
        }
    )
    return pd.concat([table, extra], ignore_index=True)


def communications_by_country(communications: pd.DataFrame) -> pd.DataFrame:
    """Figure 3: communications per addressed country (country ISO3, communications)."""
    known = communications.dropna(subset=["country"])
    out = known.groupby("country").size().rename("communications").reset_index()
    return out.sort_values(
        ["communications", "country"], ascending=[False, True], ignore_index=True
    )


def caseload_by_year(communications: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Figure 4, long format: year, series, count.

    Series: all communications (press releases included), communications on individual cases,
    urgent appeals, HRD-alone communications (press releases excluded from the last three), and
    individual cases.
    """
    comms = communications.assign(year=communications["sent_date"].dt.year)
    letters = comms[comms["type"] != "PR"]
    frames = {
        "All communications (incl. press releases)": comms,
        "Communications on individual cases": letters[letters["n_individuals"].fillna(0) > 0],
        "Urgent appeals": letters[letters["type"] == "UA"],
        "Sent by the HRD mandate alone": letters[letters["n_mandates"] == 1],
    }
    years = sorted(int(y) for y in comms["year"].dropna().unique())
    rows: list[tuple[int, str, int]] = []
    for series, frame in frames.items():
        counts = frame.groupby("year").size()
        rows.extend((y, series, int(counts.get(y, 0))) for y in years)
    case_counts = cases.groupby(cases["sent_date"].dt.year).size()
    rows.extend((y, "Individual cases", int(case_counts.get(y, 0))) for y in years)
    return pd.DataFrame(rows, columns=["year", "series", "count"])


def _urgent_appeals(communications: pd.DataFrame) -> pd.DataFrame:
    ua = communications[
        (communications["type"] == "UA") & communications["last_incident_date"].notna()
    ].copy()
    ua["delay_days"] = (ua["sent_date"] - ua["last_incident_date"]).dt.days.astype(float)
    ua["n_mandates"] = ua["n_mandates"].astype(float)
    return ua[ua["delay_days"] >= 0]


def ua_delay_by_year(communications: pd.DataFrame) -> pd.DataFrame:
    """Figure 5 by year: year, appeals, mean delay (days since last incident), mean mandates."""
    ua = _urgent_appeals(communications)
    grouped = ua.groupby(ua["sent_date"].dt.year)
    out = pd.DataFrame(
        {
            "appeals": grouped.size(),
            "mean_delay_days": grouped["delay_days"].mean(),
            "mean_mandates": grouped["n_mandates"].mean(),
        }
    )
    out.index.name = "year"
    return out.reset_index()


def ua_delay_by_mandates(communications: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Figure 5 by co-signers: mean urgent-appeal delay per number of mandates, and the slope.

    Returns
    -------
    table : DataFrame
        n_mandates, appeals, mean_delay_days, ci_low, ci_high (normal 95% interval, days).
    slope : float
        Least-squares days of extra delay per additional mandate over all urgent appeals
        (``nan`` with fewer than two distinct mandate counts).
    """
    ua = _urgent_appeals(communications)
    grouped = ua.groupby("n_mandates")["delay_days"]
    table = grouped.agg(["size", "mean", "std"]).reset_index()
    table.columns = ["n_mandates", "appeals", "mean_delay_days", "std"]
    half = 1.96 * table["std"].fillna(0.0) / np.sqrt(table["appeals"].clip(lower=1))
    table["ci_low"] = table["mean_delay_days"] - half
    table["ci_high"] = table["mean_delay_days"] + half
    table["n_mandates"] = table["n_mandates"].astype(int)
    table = table.drop(columns="std")
    if ua["n_mandates"].nunique() < 2:
        return table, float("nan")
    slope = float(np.polyfit(ua["n_mandates"], ua["delay_days"], 1)[0])
    return table, slope


def _sample(cases: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    sample = outcomes[outcomes["assessment"].isin(SAMPLE_ASSESSMENTS)]
    return sample.merge(cases[["case_id", "sent_date", "country"]], on="case_id", how="inner")


def outcomes_by_year(cases: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Figure 7: year, outcome (code), cases, share (0-1 of that year's impact-sample cases)."""
    sample = _sample(cases, outcomes).dropna(subset=["outcome"])
    sample = sample.assign(year=sample["sent_date"].dt.year)
    counts = sample.groupby(["year", "outcome"]).size().rename("cases").reset_index()
    totals = counts.groupby("year")["cases"].transform("sum")
    counts["share"] = counts["cases"] / totals
    order = {code: i for i, code in enumerate(OUTCOMES)}
    counts["order"] = counts["outcome"].map(order)
    return counts.sort_values(["year", "order"], ignore_index=True).drop(columns="order")


def improvement_by_country(cases: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Figure 8: country, cases (impact sample), improved, share_improved (0-1)."""
    sample = _sample(cases, outcomes).dropna(subset=["outcome"])
    sample = sample.assign(improved=sample["outcome"].isin(IMPROVED_OUTCOMES))
    grouped = sample.groupby("country")["improved"]
    out = pd.DataFrame({"cases": grouped.size(), "improved": grouped.sum().astype(int)})
    out["share_improved"] = out["improved"] / out["cases"]
    return out.reset_index().sort_values("country", ignore_index=True)


def shares_by_year(cases: pd.DataFrame, column: str, codes: Mapping[str, str]) -> pd.DataFrame:
    """Share of each year's cases per group: year, code, cases, share (0-1).

    ``column`` is a single-code column (``un_region``, ``gender``) or the ``violations`` list, in
    which case a case counts under each of its violations (shares then need not sum to one).
    """
    years = cases["sent_date"].dt.year
    if column == "violations":
        flags = codes_to_frame(cases["violations"], codes)
    else:
        flags = pd.DataFrame({c: cases[column].eq(c) for c in codes}, index=cases.index)
    counts = flags.groupby(years).sum().astype(int)
    totals = years.value_counts().sort_index()
    long = counts.stack().reset_index()
    long.columns = ["year", "code", "cases"]
    long["share"] = long["cases"] / long["year"].map(totals)
    return long
