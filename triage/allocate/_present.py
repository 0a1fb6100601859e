"""Allocation results in words for people: constraint names, the price table, achieved shares.

Pure pandas on an ``Allocation``, a ``Policy`` and ``price_of_balance`` output; the app's
Targets and Selection pages show these tables as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from triage.allocate._allocation import Allocation
from triage.allocate._policy import Policy

__all__ = ["achieved_vs_bands", "constraint_phrase", "constraint_words", "price_table"]

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


def _group_name(code: str) -> str:
    from triage.schema import countries, label

    found = countries()
    return found[code].name if code in found else label(code)


def constraint_phrase(name: str, *, target: int | None = None, policy: Policy | None = None) -> str:
    """Say an allocator constraint as a noun phrase for a sentence, without the raw name.

    ``share_max[violations=detention]`` → "the ceiling for Detention (45% of the selection,
    247 cases)"; ``share_min[gender=woman]`` → "the floor for Woman (at least 30% of the
    selection, 165 cases)"; ``max_per_country[country=KEN]`` → "the limit of 9 cases from
    Kenya"; ``capacity`` → "the capacity of 550 cases". The share comes from ``policy`` and the
    case count from ``target`` when given. Unknown names are returned as they are.
    """
    kind, _, rest = name.partition("[")
    dim, _, code = rest.rstrip("]").partition("=")
    cases = f"{target} cases" if target is not None else ""
    if kind in ("share_min", "share_max"):
        band = policy.shares.get(dim, {}).get(code) if policy is not None else None
        share = None if band is None else band.min if kind == "share_min" else band.max
        parts = []
        if share is not None:
            parts.append(
                f"{'at least ' if kind == 'share_min' else ''}{share:.0%} of the selection"
            )
        if cases:
            parts.append(cases)
        detail = f" ({', '.join(parts)})" if parts else ""
        word = "floor" if kind == "share_min" else "ceiling"
        return f"the {word} for {_group_name(code)}{detail}"
    if kind == "max_per_country":
        return f"the limit of {cases or 'cases'} from {_group_name(code)}"
    if kind == "capacity":
        return f"the capacity of {cases}" if cases else "the capacity"
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
            "Achieved (cases)": rows["achieved"].astype("Int64"),
            "Binding": ["● binding" if b else "no" for b in binding],
            "Cost": rows["cost"].astype(float),
            "Price per case": rows["shadow_price"].astype(float).abs(),
        }
    )
    order = np.lexsort((-out["Cost"].fillna(0).to_numpy(), (~binding).to_numpy()))
    columns = ["Target", "Binding", "Cost", "Price per case", "Bound (cases)", "Achieved (cases)"]
    return out.iloc[order].reset_index(drop=True)[columns]


def achieved_vs_bands(allocation: Allocation, policy: Policy) -> pd.DataFrame:
    """Each group's selected share against its band, with whether the band binds.

    Columns: dimension, group (code), Group (label), Candidates, Selected, share (0-1),
    Achieved (text), band_lo, band_hi (0-1, NaN without a band), Band (text), Binding, note.
    """
    from triage.schema import label

    groups = allocation.by_group.copy()
    cons = allocation.constraints
    binding = {
        str(n).partition("[")[2].rstrip("]")
        for n, b in zip(cons["name"], cons["binding"], strict=True)
        if b and str(n).startswith(("share_min[", "share_max["))
    }
    shares = policy.shares
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
