"""Publication dates: the current fixed schedule (March, June, September) and the rolling rule.

Since 2011 communications are published in the collective report at the Human Rights
Council's sessions in March, June and September, at least three months after sending; a
communication sent after May 31st is only published in the following March (the paper: a
delay "anywhere between three and nine months"). We date each report on the first day of
its session month, and include a communication sent in month ``m`` in the first report whose
month is at least ``m + 4``: sent on May 31st gives September 1st (3 months), sent on June 1st
gives March 1st (9 months). The paper's proposal: publish three months after sending, or as
soon as a reply arrives if that is earlier.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "PUBLICATION_MONTHS",
    "REMINDER_MONTHS",
    "ROLLING_MONTHS",
    "fixed_report_date",
    "next_session_date",
    "rolling_publication_date",
]

#: Months of the Human Rights Council sessions that carry the communications report.
PUBLICATION_MONTHS: Final = (3, 6, 9)
#: A reminder is due this many months after sending when no reply has arrived.
REMINDER_MONTHS: Final = 2
#: The rolling rule publishes this many months after sending (or at the reply, if earlier).
ROLLING_MONTHS: Final = 3
# Months between sending and the first report that may carry a communication (see above).
_REPORT_LAG_MONTHS: Final = 4


def _as_series(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).astype("datetime64[ns]")


def _first_session_from(month_index: pd.Series) -> pd.Series:
    # month_index counts months as year * 12 + (month - 1); returns the session month index.
    year = month_index // 12
    month = month_index % 12 + 1
    out = pd.Series(np.nan, index=month_index.index, dtype=float)
    remaining = month_index.notna()
    for session in PUBLICATION_MONTHS:
        hit = remaining & (month <= session)
        out[hit] = year[hit] * 12 + (session - 1)
        remaining &= ~hit
    out[remaining] = (year[remaining] + 1) * 12 + (PUBLICATION_MONTHS[0] - 1)
    return out


def _month_index_to_date(index: pd.Series) -> pd.Series:
    valid = index.notna()
    result = pd.Series(pd.NaT, index=index.index, dtype="datetime64[ns]")
    if valid.any():
        idx = index[valid].astype(int)
        result[valid] = pd.to_datetime({"year": idx // 12, "month": idx % 12 + 1, "day": 1}).astype(
            "datetime64[ns]"
        )
    return result


def fixed_report_date(sent: pd.Series) -> pd.Series:
    """Return the date (first day of the session month) of the report that publishes each communication.

    Parameters
    ----------
    sent : Series of datetime64
        Sending dates; missing dates give ``NaT``.
    """
    sent = _as_series(sent)
    month_index = (sent.dt.year * 12 + sent.dt.month - 1 + _REPORT_LAG_MONTHS).astype(float)
    return _month_index_to_date(_first_session_from(month_index))


def next_session_date(after: pd.Series) -> pd.Series:
    """Return the first report date (1 March, 1 June or 1 September) strictly after each date."""
    after = _as_series(after)
    # A date that is itself the 1st of a session month is not "after"; move to the next month.
    month_index = (after.dt.year * 12 + after.dt.month - 1).astype(float) + 1
    return _month_index_to_date(_first_session_from(month_index))


def rolling_publication_date(sent: pd.Series, reply_date: pd.Series) -> pd.Series:
    """Return the rolling publication date: ``sent + 3 months``, or the reply date if earlier.

    A reply dated before its sending date is ignored (it cannot be a reply to it).
    """
    sent = _as_series(sent)
    reply = _as_series(reply_date)
    three = sent + pd.DateOffset(months=ROLLING_MONTHS)
    reply = reply.where(reply >= sent)
    return three.where(~(reply < three), reply)
