"""Aggregations of a ``History`` that the Monitoring page draws (the paper's Figures 1-8).

Pure pandas functions with no Streamlit: each takes typed history frames and returns a tidy
frame. They belong under ``triage/`` (reported to the lead engineer); they live here until an
engine module offers them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from triage.schema import IMPROVED_OUTCOMES, ISSUE_AREAS, OUTCOMES, VIOLATIONS, codes_to_frame

__all__ = [
    "SAMPLE_ASSESSMENTS",
    "achieved_vs_bands",
    "caseload_by_year",
    "code_shares",
    "communications_by_country",
    "constraint_words",
    "export_csv",
    "export_xlsx",
    "improvement_by_country",
    "issue_area_shares",
    "outcomes_by_year",
    "price_table",
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


def issue_area_shares(cases: pd.DataFrame) -> pd.DataFrame:
    """Figure 2: share of cases per issue area, plus the share with no attributable area."""
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
    rows = []
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
    long = counts.stack().rename("cases").reset_index()
    long.columns = ["year", "code", "cases"]
    long["share"] = long["cases"] / long["year"].map(totals)
    return long


# -- allocation views ------------------------------------------------------------------------

_KIND_WORDS = {
    "share_min": "at least",
    "share_max": "at most",
}
_DIM_WORDS = {"un_region": "", "gender": "", "violations": "cases of "}


def constraint_words(name: str) -> str:
    """Say an allocator constraint name in words: ``share_min[gender=woman]`` → "Women: at least"."""
    from triage.schema import countries, label

    kind, _, rest = name.partition("[")
    code = rest.rstrip("]").partition("=")[2]
    if kind == "capacity":
        return "Capacity (cases selected)"
    if kind in _KIND_WORDS:
        return f"{label(code)}: {_KIND_WORDS[kind]} (share of selected)"
    if kind == "max_per_country":
        return f"{countries()[code].name if code in countries() else code}: at most (cases)"
    if kind == "must_include":
        return f"Must include case {code}"
    if kind == "exploration":
        return f"Exploration draw: case {code}"
    return name


def price_table(prices: pd.DataFrame) -> pd.DataFrame:
    """``price_of_balance`` output as a readable table, binding targets first, costliest first.

    Columns: Target (words), Bound (cases), Achieved (cases), Binding ("● binding" / "no"),
    Cost (expected improvements gained by dropping the target), Price per case (LP dual).
    """
    rows = prices[prices["name"] != "all targets"].reset_index(drop=True)
    binding = rows["binding"].fillna(False).astype(bool)
    out = pd.DataFrame(
        {
            "Target": [constraint_words(n) for n in rows["name"]],
            "Bound (cases)": [
                f"{'=' if n == 'capacity' else '≥' if k == 'min' else '≤'} {int(t)}"
                for n, k, t in zip(rows["name"], rows["kind"], rows["target"], strict=True)
            ],
            "Achieved (cases)": pd.array(rows["achieved"], dtype="Int64"),
            "Binding": ["● binding" if b else "no" for b in binding],
            "Cost": rows["cost"].astype(float),
            "Price per case": rows["shadow_price"].astype(float).abs(),
        }
    )
    order = np.lexsort((-out["Cost"].fillna(0).to_numpy(), (~binding).to_numpy()))
    columns = ["Target", "Binding", "Cost", "Price per case", "Bound (cases)", "Achieved (cases)"]
    return out.iloc[order].reset_index(drop=True)[columns]


def achieved_vs_bands(allocation: object, policy: object) -> pd.DataFrame:
    """Each group's selected share against its band, with whether the band binds.

    Columns: dimension, group (code), Group (label), Candidates, Selected, share (0-1),
    Achieved (text), band_lo, band_hi (0-1, NaN without a band), Band (text), Binding, note.
    """
    from triage.schema import label

    groups = allocation.by_group.copy()  # type: ignore[attr-defined]
    cons = allocation.constraints  # type: ignore[attr-defined]
    binding = {
        str(n).partition("[")[2].rstrip("]")
        for n, b in zip(cons["name"], cons["binding"], strict=True)
        if b and str(n).startswith(("share_min[", "share_max["))
    }
    shares = policy.shares  # type: ignore[attr-defined]
    lo, hi, band_text, state = [], [], [], []
    for dim, code in zip(groups["dimension"], groups["group"], strict=True):
        b = shares.get(dim, {}).get(code)
        if b is None:
            lo.append(np.nan)
            hi.append(np.nan)
            band_text.append("no band")
            state.append("no band")
            continue
        lo.append(b.min if b.min is not None else 0.0)
        hi.append(b.max if b.max is not None else 1.0)
        parts = ([f"at least {b.min:.0%}"] if b.min is not None else []) + (
            [f"at most {b.max:.0%}"] if b.max is not None else []
        )
        band_text.append(", ".join(parts))
        state.append("● binding" if f"{dim}={code}" in binding else "not binding")
    groups["Group"] = groups["group"].map(label)
    groups["Candidates"] = groups["candidates"]
    groups["Selected"] = groups["selected"]
    groups["Achieved"] = groups["share"].map(lambda s: f"{s:.1%}")
    groups["band_lo"], groups["band_hi"] = lo, hi
    groups["Band"], groups["Binding"] = band_text, state
    groups["note"] = [
        f"{s:.0%} · binding" if b == "● binding" else f"{s:.0%}"
        for s, b in zip(groups["share"], groups["Binding"], strict=True)
    ]
    return groups


def _export_frame(frame: pd.DataFrame, *, simulated: bool) -> pd.DataFrame:
    from triage.audit import safe_frame

    out = frame.copy()
    if simulated:
        out["data_source"] = "SIMULATED (not real cases)"
    return safe_frame(out)


def export_csv(frame: pd.DataFrame, *, simulated: bool) -> bytes:
    """CSV bytes of an export table, every text cell guarded against formula injection.

    Simulated data is labelled in a ``data_source`` column.
    """
    safe = _export_frame(frame, simulated=simulated)
    return safe.to_csv(index=False, lineterminator="\n").encode("utf-8")


def export_xlsx(frame: pd.DataFrame, *, simulated: bool) -> bytes:
    """XLSX bytes of an export table (sheet ``Selection``, plus an ``About`` sheet that says
    whether the data is simulated), every text cell guarded against formula injection."""
    import io

    safe = _export_frame(frame, simulated=simulated)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe.to_excel(writer, sheet_name="Selection", index=False)
        about = pd.DataFrame(
            {
                "About": [
                    "Selection exported from triage.",
                    "SIMULATED data: not real cases." if simulated else "Registry data.",
                    "Cells starting with = + - @ are prefixed with ' so no formula runs.",
                ]
            }
        )
        about.to_excel(writer, sheet_name="About", index=False)
    return buffer.getvalue()
