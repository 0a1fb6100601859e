"""State engagement per country: reply rates, rejection rate, response time, Figure 6 class.

Definitions follow the paper (Spannagel 2018, pp. 10-11, footnotes 12-15), counted per
individual case (a communication's reply applies to every case it raises):

- ``reply_rate``: cases with any reply, immaterial ones included, over all cases.
- ``substantive_reply_rate`` (the paper's *response rate*): immaterial replies (e.g.
  acknowledgements of receipt) do not count; replies whose content is unknown (in
  translation, inaccessible) do (footnote 15).
- ``rejection_rate``: rejections over substantive replies whose content is known (rejection
  or no rejection); replies with unknown content are left out. Undefined without any.
- ``mean_response_days``: mean days from sending to a substantive reply (footnote 14:
  immaterial replies are not counted).

Figure 6 maps constructive engagement on a scale from "no response" (-100) to "full response,
no rejection" (+100). We compute that scale as ``engagement_index = substantive_reply_rate -
rejection_rate`` (from -1 to +1). When no reply content is known, the state is classified by
its response rate alone (footnote 13), scaled to the same range: ``2 * substantive_reply_rate -
1``, so a state that never responds sits at -1. Classes cut the scale at a quarter of its
range either side of zero:

- ``cooperative`` (green): index >= +0.25, response clearly above rejection;
- ``uncooperative`` (red): index <= -0.25, rejection clearly above response (or silence);
- ``responds_but_rejects`` (yellow): in between, rejection rate similar to response rate.

With the paper's own figures, India (28% response, 82% rejection: index -0.54) is red and
Argentina (42% response, 4% rejection: +0.38) is green.

Only communications addressed to states count; communications to non-state actors are not
the state's engagement.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from triage.schema import History, countries, country_name

__all__ = [
    "ENGAGEMENT_CLASSES",
    "ENGAGEMENT_THRESHOLD",
    "engagement_class",
    "engagement_overall",
    "state_engagement",
]

#: Index at or above which a state is cooperative, and at or below minus which uncooperative.
ENGAGEMENT_THRESHOLD: Final = 0.25
#: Class code -> (label, colour of Figure 6).
ENGAGEMENT_CLASSES: Final = {
    "cooperative": ("Cooperative: high response, low rejection", "green"),
    "responds_but_rejects": ("Responds but rejects: rejection similar to response", "yellow"),
    "uncooperative": ("Uncooperative: low response, high rejection", "red"),
}
_SUBSTANTIVE: Final = ("rejection", "no_rejection", "content_unknown")

_COLUMNS: Final = [
    "country",
    "country_name",
    "un_region",
    "cases",
    "replies",
    "reply_rate",
    "substantive_replies",
    "substantive_reply_rate",
    "rejections",
    "known_content_replies",
    "rejection_rate",
    "mean_response_days",
    "engagement_index",
    "engagement",
    "colour",
]


def engagement_class(index: float) -> str:
    """Return the Figure 6 class of an engagement index in [-1, 1] (see the module docstring)."""
    if index != index:  # NaN
        raise ValueError(f"`index` must be a number in [-1, 1]. Got {index!r} instead.")
    if index >= ENGAGEMENT_THRESHOLD:
        return "cooperative"
    if index <= -ENGAGEMENT_THRESHOLD:
        return "uncooperative"
    return "responds_but_rejects"


def _case_replies(history: History, since: int | None) -> pd.DataFrame:
    comms = history.communications
    if "addressee" in comms.columns:
        comms = comms.loc[comms["addressee"].astype(object).fillna("state") == "state"]
    comms = comms.loc[:, ["communication_id", "sent_date", "reply_class", "reply_date"]]
    cases = history.cases.loc[:, ["case_id", "communication_id", "country"]]
    rows = cases.merge(comms, on="communication_id", how="inner")
    rows["sent_date"] = pd.to_datetime(rows["sent_date"]).astype("datetime64[ns]")
    rows["reply_date"] = pd.to_datetime(rows["reply_date"]).astype("datetime64[ns]")
    if since is not None:
        rows = rows.loc[rows["sent_date"].dt.year >= since]
    rows["reply_class"] = (
        rows["reply_class"].astype(object).where(rows["reply_class"].notna(), "none")
    )
    return rows


def _aggregate(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    cls = rows["reply_class"]
    substantive = cls.isin(_SUBSTANTIVE)
    days = (rows["reply_date"] - rows["sent_date"]).dt.days.astype(float)
    frame = pd.DataFrame(
        {
            **{k: rows[k] for k in keys},
            "cases": 1,
            "replies": (cls != "none").astype(int),
            "substantive_replies": substantive.astype(int),
            "rejections": (cls == "rejection").astype(int),
            "known_content_replies": cls.isin(["rejection", "no_rejection"]).astype(int),
            "_days": days.where(substantive & rows["reply_date"].notna()),
        }
    )
    if keys:
        grouped = frame.groupby(keys, sort=True)
        out = grouped[
            ["cases", "replies", "substantive_replies", "rejections", "known_content_replies"]
        ].sum()
        out["mean_response_days"] = grouped["_days"].mean()
        out = out.reset_index()
    else:
        sums = frame[
            ["cases", "replies", "substantive_replies", "rejections", "known_content_replies"]
        ].sum()
        out = pd.DataFrame([sums.to_dict()])
        out["mean_response_days"] = frame["_days"].mean()
    out["reply_rate"] = out["replies"] / out["cases"]
    out["substantive_reply_rate"] = out["substantive_replies"] / out["cases"]
    known = out["known_content_replies"]
    out["rejection_rate"] = (out["rejections"] / known.where(known > 0)).astype(float)
    out["engagement_index"] = np.where(
        known > 0,
        out["substantive_reply_rate"] - out["rejection_rate"].fillna(0.0),
        2 * out["substantive_reply_rate"] - 1,
    )
    out["engagement"] = [engagement_class(float(v)) for v in out["engagement_index"]]
    out["colour"] = [ENGAGEMENT_CLASSES[c][1] for c in out["engagement"]]
    return out


def state_engagement(history: History, since: int | None = None) -> pd.DataFrame:
    """Return one row per country: cases, reply rates (0-1), rejection rate (0-1), mean days, class.

    Parameters
    ----------
    history : History
        Communications (``reply_class``, ``reply_date``, ``addressee``) and cases.
    since : int, optional
        Count only cases sent in this year or later.

    Returns
    -------
    DataFrame
        Columns country (ISO3), country_name, un_region, cases, replies, reply_rate,
        substantive_replies, substantive_reply_rate, rejections, known_content_replies,
        rejection_rate (NaN when no reply content is known), mean_response_days (NaN without
        a dated substantive reply), engagement_index (-1 to +1), engagement (class code) and
        colour; sorted by cases (most first), then country.
    """
    if since is not None and (isinstance(since, bool) or not isinstance(since, int | np.integer)):
        raise ValueError(f"`since` must be a year (int) or None. Got {since!r} instead.")
    rows = _case_replies(history, since)
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _COLUMNS})
    out = _aggregate(rows, ["country"])
    known = countries()
    out["country_name"] = [country_name(c) if c in known else str(c) for c in out["country"]]
    out["un_region"] = [known[c].un_region if c in known else "" for c in out["country"]]
    out = out.sort_values(["cases", "country"], ascending=[False, True]).reset_index(drop=True)
    return out.loc[:, _COLUMNS]


def engagement_overall(history: History, since: int | None = None) -> dict[str, float]:
    """Return the same rates over all cases: cases, reply_rate, substantive_reply_rate, rejection_rate, mean_response_days."""
    rows = _case_replies(history, since)
    if rows.empty:
        return {"cases": 0.0}
    out = _aggregate(rows, []).iloc[0]
    return {
        k: float(out[k])
        for k in (
            "cases",
            "reply_rate",
            "substantive_reply_rate",
            "rejection_rate",
            "mean_response_days",
        )
    }
