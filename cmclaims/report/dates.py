"""Dates for reports: the local calendar day of a run, and date options.

Runs record when they finished in UTC; finance closes a month on the local
calendar, so a run at 01:00 local time on the 1st belongs to the new month
even when UTC still says the 31st.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cmclaims.errors import ConfigError


def local_days(timestamps: pd.Series) -> pd.Series:
    """ISO timestamps (with offset) as the local calendar day, datetime64 at midnight."""
    local = dt.datetime.now().astimezone().tzinfo
    parsed = pd.to_datetime(timestamps, utc=True, errors="coerce", format="ISO8601")
    return parsed.dt.tz_convert(local).dt.tz_localize(None).dt.normalize()


def local_time(timestamp: str | None) -> str:
    """An ISO timestamp as local wall-clock time to the minute (2026-11-22 01:14), as finance reads it."""
    if not timestamp:
        return "?"
    try:
        return dt.datetime.fromisoformat(timestamp).astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:
        return timestamp


def parse_day(text: str | None, option: str) -> dt.date | None:
    """A YYYY-MM-DD option; a usage error (exit 2) names the option when it is not a date."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} must be a date like 2026-10-31, not '{text}'") from None


def service_days(service_date: pd.Series) -> pd.Series:
    """The exceptions' service_date (ISO text, raw text where it did not parse) as datetime64, NaT if none."""
    return pd.to_datetime(service_date, format="%Y-%m-%d", errors="coerce")
