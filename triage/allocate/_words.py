"""Words for people who are not auditors: reasons without constraint names, relaxations in the
Targets page's own units (percent of the selection, cases per country), prices in defenders'
situations improved, the decision with its override, and two policies side by side.

Pure Python and pandas; the app renders these as they are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from triage.allocate._allocation import Allocation
from triage.allocate._policy import DIMENSIONS, Bound, Policy

__all__ = [
    "BandChange",
    "changed_cases",
    "compare_policies",
    "decision_words",
    "group_explanation",
    "partition_relaxation",
    "plain_price_table",
    "relaxation_changes",
    "split_reason",
]

# A constraint name: kind, optionally [key=value] (share_min[gender=woman], capacity, ...).
_NAME = r"[a-z_]+(?:\[[^\[\]]*\])?"
_NAMES = re.compile(rf"\s*\[({_NAME}(?:;\s*{_NAME})*)\]")


def split_reason(text: object) -> tuple[str, str]:
    """Split a reason of ``explain_selection`` into (words, constraint names).

    ``"… entry bar of 41.2% [share_min[gender=woman]]."`` → ``("… entry bar of 41.2%.",
    "share_min[gender=woman]")``. Several bracketed groups are joined with "; ". A missing or
    blank reason gives ``("", "")``.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return "", ""
    s = str(text)
    names = [m.group(1) for m in _NAMES.finditer(s)]
    words = _NAMES.sub("", s).strip()
    return words, "; ".join(names)


@dataclass(frozen=True)
class BandChange:
    """One change of a Targets control that makes the targets possible.

    ``dimension``/``code``/``side`` name a share band (side "min" or "max") and ``to`` is the new
    value in whole percent of the selection; ``dimension == "max_per_country"`` names the
    per-country limit (``to`` in cases). ``words`` says it for a person.
    """

    dimension: str
    code: str
    side: str
    now: int
    to: int
    words: str


def _group(code: str) -> str:
    from triage.schema import countries, label

    found = countries()
    return found[code].name if code in found else label(code)


def partition_relaxation(
    shares: Mapping[str, Mapping[str, Bound]], moved: tuple[str, str] | None = None
) -> list[BandChange]:
    """The smallest change that makes each dimension's floors add up to at most 100% (and its
    ceilings, when every group has one, to at least 100%).

    The band being moved (``moved = (dimension, code)``) gives way first; otherwise the largest
    floor (smallest ceiling). Values are whole percents, as the sliders show them.
    """
    out: list[BandChange] = []
    for dim, bands in shares.items():
        if dim not in DIMENSIONS:
            continue
        mins = {c: round((b.min or 0.0) * 100) for c, b in bands.items() if b.min}
        excess = sum(mins.values()) - 100
        if excess > 0:
            code = (
                moved[1]
                if moved is not None and moved[0] == dim and moved[1] in mins
                else max(mins, key=lambda c: (mins[c], c))
            )
            to = max(mins[code] - excess, 0)
            out.append(
                BandChange(
                    dim,
                    code,
                    "min",
                    mins[code],
                    to,
                    f"Lower the floor for {_group(code)} from {mins[code]}% to {to}% of the "
                    f"selection: the floors then add up to 100%.",
                )
            )
        codes = list(DIMENSIONS[dim])
        if all(c in bands and bands[c].max is not None for c in codes):
            maxs = {c: round((bands[c].max or 0.0) * 100) for c in codes}
            short = 100 - sum(maxs.values())
            if short > 0:
                code = (
                    moved[1]
                    if moved is not None and moved[0] == dim and moved[1] in maxs
                    else min(maxs, key=lambda c: (maxs[c], c))
                )
                to = min(maxs[code] + short, 100)
                out.append(
                    BandChange(
                        dim,
                        code,
                        "max",
                        maxs[code],
                        to,
                        f"Raise the ceiling for {_group(code)} from {maxs[code]}% to {to}% of "
                        "the selection: the ceilings then add up to 100%.",
                    )
                )
    return out


def relaxation_changes(allocation: Allocation, policy: Policy) -> list[BandChange]:
    """An infeasible allocation's smallest relaxation in the Targets page's units and in words.

    A share floor of ``r`` cases out of ``K`` becomes the largest whole percent ``p`` with
    ``ceil(p/100*K) <= r`` (a ceiling: the smallest with ``floor(p/100*K) >= r``); a country
    limit stays in cases. Empty when the allocation is feasible or has no relaxation.
    """
    if allocation.feasible or allocation.relaxation is None:
        return []
    k = max(int(allocation.relaxation.k), 1)
    out: list[BandChange] = []
    for name, target, relaxed in zip(
        allocation.relaxation.changes["name"],
        allocation.relaxation.changes["target"],
        allocation.relaxation.changes["relaxed_to"],
        strict=True,
    ):
        kind, _, rest = str(name).partition("[")
        dim, _, code = rest.rstrip("]").partition("=")
        relaxed = int(relaxed)
        if kind in ("share_min", "share_max"):
            band = policy.shares.get(dim, {}).get(code, Bound())
            if kind == "share_min":
                now = round((band.min or 0.0) * 100)
                to = max(p for p in range(0, 101) if math.ceil(p / 100 * k - 1e-9) <= relaxed)
                to = min(to, now)
                words = (
                    f"Lower the floor for {_group(code)} from {now}% to {to}% of the selection "
                    f"(from {int(target)} to {relaxed} cases of {k})."
                )
                out.append(BandChange(dim, code, "min", now, to, words))
            else:
                now = round((band.max if band.max is not None else 1.0) * 100)
                to = min(p for p in range(0, 101) if math.floor(p / 100 * k + 1e-9) >= relaxed)
                to = max(to, now)
                words = (
                    f"Raise the ceiling for {_group(code)} from {now}% to {to}% of the selection "
                    f"(from {int(target)} to {relaxed} cases of {k})."
                )
                out.append(BandChange(dim, code, "max", now, to, words))
        elif kind == "max_per_country":
            now = int(policy.per_country.get(code, policy.max_per_country or int(target)))
            out.append(
                BandChange(
                    "max_per_country",
                    code,
                    "max",
                    now,
                    relaxed,
                    f"Allow up to {relaxed} cases per country instead of {now} "
                    f"({_group(code)} needs them).",
                )
            )
        else:
            out.append(
                BandChange(
                    kind,
                    code,
                    "max",
                    int(target),
                    relaxed,
                    f"Change the target from {int(target)} to {relaxed} cases.",
                )
            )
    return out


def plain_price_table(prices: pd.DataFrame, policy: Policy | None = None) -> pd.DataFrame:
    """``price_of_balance`` output in words for a mandate-holder, costliest first.

    Columns: Target (words, e.g. "floor for Woman (at least 25% of the selection, 138 cases)"),
    Cost (defenders' situations expected to improve that the target gives up; 0 when it costs
    nothing), What it means (words, with what one more case would cost when the target is at
    its limit).
    """
    from triage.allocate._present import constraint_phrase

    rows = prices[prices["name"] != "all targets"].reset_index(drop=True)
    binding = rows["binding"].fillna(False).astype(bool).to_numpy()
    cost = rows["cost"].astype(float).fillna(0.0).clip(lower=0.0).to_numpy()
    per_case = rows["shadow_price"].astype(float).abs().fillna(0.0).to_numpy()
    said = []
    for c, b, m in zip(cost, binding, per_case, strict=True):
        more = f"; one more case would cost {m:.2f}" if b and m >= 0.005 else ""
        if c >= 0.005:
            said.append(f"{c:.2f} fewer situations expected to improve than without it{more}")
        elif b:
            said.append(f"at its limit, at almost no cost{more}")
        else:
            said.append("costs nothing: the selection meets it anyway")
    out = pd.DataFrame(
        {
            "Target": [
                constraint_phrase(str(n), target=int(t), policy=policy).removeprefix("the ")
                for n, t in zip(rows["name"], rows["target"], strict=True)
            ],
            "Cost": np.round(cost, 2),
            "What it means": said,
        }
    )
    order = np.lexsort((~binding, -cost))
    return out.iloc[order].reset_index(drop=True)


def decision_words(selected: bool | None, override: Mapping[str, Any] | None) -> str:
    """The effective decision in words: the policy's, unless an override changed it.

    ``override`` holds action ("select"/"drop"), reason, user and time (as recorded).
    """
    if override is not None:
        verb = "Taken up" if override.get("action") == "select" else "Not taken up"
        when = str(override.get("time", ""))[:16].replace("T", " ")
        return (
            f"{verb} by override: {override.get('reason', '')} "
            f"(by {override.get('user', '?')}, {when} UTC)"
        )
    if selected is None:
        return "Not a candidate"
    return "Taken up (selected by the policy)" if selected else "Not taken up (not selected)"


def compare_policies(
    candidates: pd.DataFrame,
    a: tuple[Policy, Allocation],
    b: tuple[Policy, Allocation],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Two policies side by side: a summary and every group's share under each.

    Summary keys: in_both, only_a, only_b (counts), expected_a, expected_b (expected
    improvements), selected_a, selected_b. The table has Dimension, Group, Share under A, Band of
    A, Share under B, Band of B (text, "–" without a band) and Difference (percentage points).
    """
    from triage.schema import label, split_codes

    (pa, xa), (pb, xb) = a, b
    sa, sb = set(xa.selected), set(xb.selected)
    summary = {
        "selected_a": len(sa),
        "selected_b": len(sb),
        "in_both": len(sa & sb),
        "only_a": len(sa - sb),
        "only_b": len(sb - sa),
        "expected_a": float(xa.objective or 0.0),
        "expected_b": float(xb.objective or 0.0),
    }
    titles = {"un_region": "Region", "gender": "Gender", "violations": "Violation"}
    rows = []
    for dim, vocab in DIMENSIONS.items():
        col = dim
        for code in vocab:
            if dim == "violations":
                has = candidates[col].map(lambda v, c=code: c in split_codes(v))
            else:
                has = candidates[col] == code
            ids = set(candidates.loc[has, "case_id"].astype(str))
            share_a = len(ids & sa) / len(sa) if sa else 0.0
            share_b = len(ids & sb) / len(sb) if sb else 0.0

            def band(p: Policy, d: str = dim, c: str = code) -> str:
                bd = p.shares.get(d, {}).get(c)
                if bd is None:
                    return "–"
                parts = ([f"at least {bd.min:.0%}"] if bd.min is not None else []) + (
                    [f"at most {bd.max:.0%}"] if bd.max is not None else []
                )
                return ", ".join(parts) or "–"

            rows.append(
                {
                    "Dimension": titles[dim],
                    "Group": label(code),
                    "Share under A": f"{share_a:.1%}",
                    "Band of A": band(pa),
                    "Share under B": f"{share_b:.1%}",
                    "Band of B": band(pb),
                    "Difference (points)": f"{(share_b - share_a) * 100:+.1f}",
                }
            )
    return summary, pd.DataFrame(rows)


def _band_text(band: Bound | None) -> str:
    if band is None or (band.min is None and band.max is None):
        return "no band"
    parts = ([f"at least {band.min:.0%}"] if band.min is not None else []) + (
        [f"at most {band.max:.0%}"] if band.max is not None else []
    )
    return " and ".join(parts)


def changed_cases(
    candidates: pd.DataFrame,
    before: tuple[Policy, Allocation],
    after: tuple[Policy, Allocation],
) -> pd.DataFrame:
    """The cases that enter or leave between two selections, each with its facts and a reason.

    Columns: case_id, Change ("enters"/"leaves"), Country, Region, Gender, Score (0-1), Reason
    (words: which changed target concerns the case, else its score against the others).
    """
    from triage.schema import countries, label, split_codes

    (p0, a0), (p1, a1) = before, after
    s0, s1 = set(a0.selected), set(a1.selected)
    added, removed = sorted(s1 - s0), sorted(s0 - s1)
    changed: list[tuple[str, str, str]] = []  # (dimension, code, words)
    for dim, vocab in DIMENSIONS.items():
        for code in vocab:
            b0, b1 = p0.shares.get(dim, {}).get(code), p1.shares.get(dim, {}).get(code)
            if (b0 or Bound()) != (b1 or Bound()):
                changed.append(
                    (
                        dim,
                        code,
                        f"the band for {_group(code)} moved from {_band_text(b0)} to "
                        f"{_band_text(b1)}",
                    )
                )
    rows = candidates.set_index(candidates["case_id"].astype(str))
    found = countries()
    out = []
    for change, ids in (("enters", added), ("leaves", removed)):
        for cid in ids:
            if cid not in rows.index:
                continue
            r = rows.loc[cid]
            groups = {
                ("un_region", r["un_region"]),
                ("gender", r["gender"]),
                *(("violations", v) for v in split_codes(r["violations"])),
            }
            concerns = [w for d, c, w in changed if (d, c) in groups]
            if concerns:
                reason = f"It {change}: " + "; ".join(concerns) + "."
            elif p0.capacity != p1.capacity:
                reason = f"It {change}: capacity changed from {p0.capacity} to {p1.capacity} cases."
            elif p0.max_per_country != p1.max_per_country:
                reason = (
                    f"It {change}: the limit per country changed from "
                    f"{p0.max_per_country or 'none'} to {p1.max_per_country or 'none'}."
                )
            else:
                reason = (
                    f"It {change}: the changed targets moved other cases, and its score "
                    f"{'now' if change == 'enters' else 'no longer'} ranks among those taken up."
                )
            code = str(r["country"])
            out.append(
                {
                    "case_id": cid,
                    "Change": change,
                    "Country": found[code].name if code in found else code,
                    "Region": label(str(r["un_region"])),
                    "Gender": label(str(r["gender"])),
                    "Score": float(r["score"]),  # type: ignore[arg-type]
                    "Reason": reason,
                }
            )
    return pd.DataFrame(
        out, columns=["case_id", "Change", "Country", "Region", "Gender", "Score", "Reason"]
    )


def group_explanation(
    candidates: pd.DataFrame, allocation: Allocation, policy: Policy, dimension: str, code: str
) -> str:
    """Why a group got the cases it got, in words for the public (no names, no internal terms).

    States the group's candidates and selected cases, its scores against everyone's, and
    whether a band of the policy raised or capped it.
    """
    from triage.schema import split_codes

    if dimension not in DIMENSIONS:
        raise ValueError(
            f"`dimension` must be one of {sorted(DIMENSIONS)}. Got {dimension!r} instead."
        )
    if dimension == "violations":
        member = candidates[dimension].map(lambda v: code in split_codes(v))
    else:
        member = candidates[dimension] == code
    group = candidates[member.to_numpy(dtype=bool)]
    chosen = set(allocation.selected)
    n, k = len(group), int(group["case_id"].astype(str).isin(chosen).sum())
    total, taken = len(candidates), len(chosen)
    name = _group(code)
    if n == 0:
        return f"{name}: no case from this group awaited a decision, so none could be taken up."
    parts = [
        f"{name}: {k} of the {n} cases awaiting a decision were taken up "
        f"({k / n:.0%}), against {taken} of {total} overall ({taken / max(total, 1):.0%})."
    ]
    med_g = float(group["score"].median())
    med_all = float(candidates["score"].median())
    if med_g < med_all - 0.005:
        parts.append(
            f"Cases are taken up by their estimated chance that the defender's situation "
            f"improves within a year; this group's cases have a lower chance (median {med_g:.0%} "
            f"against {med_all:.0%} for all cases), mostly because of the states' record of "
            "replying and of improvement in earlier cases."
        )
    elif med_g > med_all + 0.005:
        parts.append(
            f"This group's cases have a higher estimated chance of improvement than the others "
            f"(median {med_g:.0%} against {med_all:.0%})."
        )
    band = policy.shares.get(dimension, {}).get(code)
    share = k / max(taken, 1)
    if band is not None and band.min is not None and share <= band.min + 0.005:
        parts.append(
            f"The policy guarantees this group at least {band.min:.0%} of the cases taken up; "
            f"it received {share:.0%}."
        )
    elif band is not None and band.max is not None and share >= band.max - 0.005:
        parts.append(
            f"The policy caps this group at {band.max:.0%} of the cases taken up, so that "
            "other groups are represented; it received that share."
        )
    elif band is not None:
        parts.append(f"Its share ({share:.0%}) lies within the policy's band for it.")
    else:
        parts.append("The policy sets no band for this group.")
    return " ".join(parts)
