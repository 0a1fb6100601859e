"""The follow-up lists on a given day: reminders due, follow-up candidates, publication due.

The lists follow the paper's recommendations: remind states that have not replied two months
after a communication was sent; follow up cases whose reply rejected the allegation and that
have no later outcome (candidates for the allocator's must-include list); publish on a
rolling basis three months after sending or when a reply arrives. Each list carries, next to
the proposed date, the date under the current fixed schedule (reports in March, June and
September) and the delay that schedule causes, in days.

Everything is computed *as of* the given day: a reply or outcome dated later is treated as
not yet received, so the same history gives the lists of any past day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from triage.followup._schedule import (
    REMINDER_MONTHS,
    fixed_report_date,
    next_session_date,
    rolling_publication_date,
)
from triage.schema import History

__all__ = ["FollowupLists", "due_lists"]

#: An outcome without its own date is observed one year after sending (the history contract).
OUTCOME_AFTER_DAYS = 365


@dataclass(frozen=True)
class FollowupLists:
    """The three follow-up lists on day ``on`` and a comparison with the fixed schedule.

    Attributes
    ----------
    on : datetime.date
        The day the lists are computed for.
    reminders : DataFrame
        Communications with no reply (or only an immaterial one) two months after sending:
        communication_id, country, type, sent_date, reply_so_far, reminder_due (date),
        days_overdue, fixed_report (date the silence becomes public under the fixed schedule),
        delay_days (fixed_report - reminder_due). Most recently due first.
    followup : DataFrame
        Cases whose communication's reply rejected the allegation and that have no outcome
        recorded after that reply: case_id, communication_id, individual_id (to find the same
        person in the queue), country, sent_date, reply_date,
        days_since_reply, fixed_report (next report after the reply), delay_days.
    publication : DataFrame
        Communications the rolling rule publishes by ``on`` but the fixed schedule has not yet
        published: communication_id, country, type, sent_date, reply_date, rolling_date,
        fixed_report, delay_days (fixed_report - rolling_date).
    schedule : DataFrame
        One row per list: list, items, proposed (rule), current (rule), mean_delay_days,
        max_delay_days (delay of the fixed schedule over the proposal, over the list's items).
    """

    on: dt.date
    reminders: pd.DataFrame
    followup: pd.DataFrame
    publication: pd.DataFrame
    schedule: pd.DataFrame = field(repr=False)

    def followup_case_ids(self) -> list[str]:
        """Return the follow-up candidates' case ids, sorted (the allocator's must-include list)."""
        return sorted(self.followup["case_id"].astype(str).unique().tolist())


def _as_timestamp(on: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    try:
        # Text must be ISO (YYYY-MM-DD): pandas would also guess 30/11/2016 or 11/12/2016.
        stamp = pd.Timestamp(dt.date.fromisoformat(on) if isinstance(on, str) else on)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"`on` must be a date (YYYY-MM-DD). Got {on!r} instead.") from exc
    if pd.isna(stamp):
        raise ValueError(f"`on` must be a date (YYYY-MM-DD). Got {on!r} instead.")
    return stamp.normalize().as_unit("ns")


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days.astype("Int64")


def _reply_as_of(comms: pd.DataFrame, on: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """Return the reply class and date known on ``on`` (later replies count as none)."""
    reply_date = pd.to_datetime(comms["reply_date"]).astype("datetime64[ns]")
    cls = comms["reply_class"].astype(object).where(comms["reply_class"].notna(), "none")
    known = reply_date.notna() & (reply_date <= on)
    # A reply class without a date cannot be placed in time; it counts as received when the
    # class says a reply exists, since the history contract leaves such dates blank only
    # when unknown.
    undated = reply_date.isna() & (cls != "none")
    cls = cls.where(known | undated, "none")
    return cls, reply_date.where(known)


def _reminders(comms: pd.DataFrame, on: pd.Timestamp) -> pd.DataFrame:
    cls, _ = _reply_as_of(comms, on)
    sent = pd.to_datetime(comms["sent_date"]).astype("datetime64[ns]")
    due_on = sent + pd.DateOffset(months=REMINDER_MONTHS)
    mask = sent.notna() & (due_on <= on) & cls.isin(["none", "immaterial"])
    out = comms.loc[mask, ["communication_id", "country", "type"]].copy()
    out["sent_date"] = sent[mask]
    out["reply_so_far"] = cls[mask].astype(str)
    out["reminder_due"] = due_on[mask]
    out["days_overdue"] = _days(pd.Series(on, index=out.index), out["reminder_due"])
    out["fixed_report"] = fixed_report_date(out["sent_date"])
    out["delay_days"] = _days(out["fixed_report"], out["reminder_due"])
    return out.sort_values(
        ["reminder_due", "communication_id"], ascending=[False, True]
    ).reset_index(drop=True)


def _followup(
    comms: pd.DataFrame, cases: pd.DataFrame, outcomes: pd.DataFrame, on: pd.Timestamp
) -> pd.DataFrame:
    cls, reply_date = _reply_as_of(comms, on)
    rejected = comms.loc[(cls == "rejection") & reply_date.notna(), ["communication_id"]].copy()
    rejected["reply_date"] = reply_date[rejected.index]
    columns = ["case_id", "communication_id", "individual_id", "country", "sent_date"]
    rows = cases.loc[:, [c for c in columns if c in cases.columns]].merge(
        rejected, on="communication_id", how="inner"
    )
    rows["sent_date"] = pd.to_datetime(rows["sent_date"]).astype("datetime64[ns]")
    if len(rows) and len(outcomes):
        outs = outcomes.loc[:, ["case_id"]].copy()
        dated = (
            pd.to_datetime(outcomes["outcome_date"]).astype("datetime64[ns]")
            if "outcome_date" in outcomes.columns
            else pd.Series(pd.NaT, index=outcomes.index, dtype="datetime64[ns]")
        )
        outs["outcome_date"] = dated
        outs = outs.merge(rows[["case_id", "sent_date", "reply_date"]], on="case_id", how="inner")
        outs["outcome_date"] = outs["outcome_date"].fillna(
            outs["sent_date"] + pd.Timedelta(days=OUTCOME_AFTER_DAYS)
        )
        later = outs.loc[
            (outs["outcome_date"] >= outs["reply_date"]) & (outs["outcome_date"] <= on), "case_id"
        ]
        rows = rows.loc[~rows["case_id"].isin(set(later))]
    rows = rows.copy()
    rows["days_since_reply"] = _days(pd.Series(on, index=rows.index), rows["reply_date"])
    rows["fixed_report"] = next_session_date(rows["reply_date"])
    rows["delay_days"] = _days(rows["fixed_report"], rows["reply_date"])
    return rows.sort_values(["reply_date", "case_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def _publication(comms: pd.DataFrame, on: pd.Timestamp) -> pd.DataFrame:
    _, reply_date = _reply_as_of(comms, on)
    sent = pd.to_datetime(comms["sent_date"]).astype("datetime64[ns]")
    rolling = rolling_publication_date(sent, reply_date)
    fixed = fixed_report_date(sent)
    mask = sent.notna() & (rolling <= on) & (fixed > on)
    out = comms.loc[mask, ["communication_id", "country", "type"]].copy()
    out["sent_date"] = sent[mask]
    out["reply_date"] = reply_date[mask]
    out["rolling_date"] = rolling[mask]
    out["fixed_report"] = fixed[mask]
    out["delay_days"] = _days(out["fixed_report"], out["rolling_date"])
    return out.sort_values(["rolling_date", "communication_id"]).reset_index(drop=True)


def _schedule(
    reminders: pd.DataFrame, followup: pd.DataFrame, publication: pd.DataFrame
) -> pd.DataFrame:
    rows = [
        (
            "reminders",
            reminders,
            "remind 2 months after sending",
            "none; silence shown in next report",
        ),
        (
            "followup",
            followup,
            "follow up when the rejection arrives",
            "none; reply shown in next report",
        ),
        (
            "publication",
            publication,
            "publish 3 months after sending or at the reply",
            "reports in March, June, September",
        ),
    ]
    return pd.DataFrame(
        [
            {
                "list": name,
                "items": len(frame),
                "proposed": proposed,
                "current": current,
                "mean_delay_days": float(frame["delay_days"].mean())
                if len(frame)
                else float("nan"),
                "max_delay_days": int(frame["delay_days"].max()) if len(frame) else 0,
            }
            for name, frame, proposed, current in rows
        ]
    )


def due_lists(history: History, *, on: dt.date | str | pd.Timestamp) -> FollowupLists:
    """Compute the reminder, follow-up and publication lists of day ``on`` from a history.

    Parameters
    ----------
    history : History
        Communications, cases and outcomes (``triage.schema.read_history`` or
        ``Registry.history()``). ``outcomes`` may carry an ``outcome_date`` column; without it
        an outcome is dated one year after sending. Press releases (``type == "PR"``) are
        public already and are left out.
    on : date or str
        The day (``YYYY-MM-DD``); events dated after it are ignored.

    Returns
    -------
    FollowupLists
    """
    stamp = _as_timestamp(on)
    comms = history.communications
    comms = comms.loc[comms["type"].astype(str) != "PR"]
    reminders = _reminders(comms, stamp)
    followup = _followup(comms, history.cases, history.outcomes, stamp)
    publication = _publication(comms, stamp)
    return FollowupLists(
        on=stamp.date(),
        reminders=reminders,
        followup=followup,
        publication=publication,
        schedule=_schedule(reminders, followup, publication),
    )
