"""Days, months and business days as the requirements count them.

Dates are day numbers (days since 1970-01-01, as every date column of cmclaims)
and months are months since 1970-01 (as the ledger's blocks). Business days
skip weekends and the US federal holidays on the days they are observed (a
Saturday holiday on the Friday before, a Sunday one on the Monday after),
from pandas' `USFederalHolidayCalendar`: a maintained calendar (Juneteenth was
added when it became law), not a hand-written list, as SPEC section 10 asks.
The `holidays` package was the first choice, but every release of it requires
python-dateutil < 3, which conflicts with the project's pin.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
from pandas.tseries.holiday import USFederalHolidayCalendar

from cmclaims.normalize.values import EPOCH

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@lru_cache(maxsize=8)
def federal_holidays(first_year: int, last_year: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """The US federal holidays of the years, on the days they are observed, as sorted day numbers and names."""
    observed = USFederalHolidayCalendar().holidays(f"{first_year}-01-01", f"{last_year}-12-31", return_name=True)
    observed = observed.sort_index()
    numbers = np.array([(day.date() - EPOCH).days for day in observed.index], dtype=np.int64)
    return numbers, tuple(str(name) for name in observed.to_numpy())


def _holiday_dates(days: np.ndarray) -> np.ndarray:
    """The holidays of every year the day numbers (and a year after them) fall in, as datetime64[D]."""
    if days.size == 0:
        return np.empty(0, dtype="datetime64[D]")
    years = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    numbers, _ = federal_holidays(int(years.min()) - 1, int(years.max()) + 1)
    return numbers.astype("datetime64[D]")


def add_business_days(days: np.ndarray, count: int) -> np.ndarray:
    """The `count`-th business day after each day (a weekend or holiday day counts from the one before it).

    Discharged on a Saturday, the first business day after is Monday (or
    Tuesday after a Monday holiday), as after the Friday before.
    """
    days = np.asarray(days, dtype=np.int64)
    dates = days.astype("datetime64[D]")
    moved = np.busday_offset(dates, count, roll="backward", holidays=_holiday_dates(days))
    return moved.astype(np.int64)


def business_days_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Business days in (start, end]: how many business days after `start` the day `end` is."""
    start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    held = _holiday_dates(np.concatenate([start, end]))
    return np.busday_count((start + 1).astype("datetime64[D]"), (end + 1).astype("datetime64[D]"), holidays=held)


def holidays_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Per pair, the first weekday federal holiday in (start, end], in words ('' when none).

    Only holidays on weekdays are named: they are the ones that moved a deadline.
    """
    start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    out = np.full(start.size, "", dtype=object)
    if start.size == 0:
        return out
    years = np.concatenate([start, end]).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    numbers, names = federal_holidays(int(years.min()) - 1, int(years.max()) + 1)
    weekday = np.isin((numbers + 3) % 7, [0, 1, 2, 3, 4])  # 1970-01-01 was a Thursday
    numbers, names_array = numbers[weekday], np.array(names, dtype=object)[weekday]
    first = np.searchsorted(numbers, start, side="right")
    inside = (first < numbers.size) & (numbers[np.minimum(first, max(numbers.size - 1, 0))] <= end)
    for i in np.flatnonzero(inside).tolist():  # only the few pairs a holiday falls in
        day = int(numbers[first[i]])
        out[i] = f"{day_text(day, weekday=True)} is a federal holiday, {names_array[first[i]]}"
    return out


def day_text(day: int, weekday: bool = False) -> str:
    """2026-07-06, or with `weekday` Mon 2026-07-06."""
    date = EPOCH + dt.timedelta(days=int(day))
    return f"{WEEKDAYS[date.weekday()]} {date.isoformat()}" if weekday else date.isoformat()


def days_text(days: np.ndarray, weekday: bool = False) -> np.ndarray:
    """day_text of many days, as an object array (each distinct day formatted once)."""
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return np.empty(0, dtype=object)
    low = int(days.min())
    span = np.arange(low, int(days.max()) + 1)  # every day between: findings span a few years at most
    texts = np.asarray(span.astype("datetime64[D]").astype(str), dtype=object)
    if weekday:
        texts = np.asarray(WEEKDAYS, dtype=object)[(span + 3) % 7] + " " + texts  # 1970-01-01 was a Thursday
    return texts[days - low]


def month_text(months: np.ndarray) -> np.ndarray:
    """2026-02 for months since 1970-01."""
    months = np.asarray(months, dtype=np.int64)
    return np.asarray(months.astype("datetime64[M]").astype(str), dtype=object)


def month_start(months: np.ndarray) -> np.ndarray:
    """The day number of each month's first day."""
    return np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_end(months: np.ndarray) -> np.ndarray:
    """The day number of each month's last day."""
    return month_start(np.asarray(months, dtype=np.int64) + 1) - 1


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """The same day `months` later (the month's last day when it is shorter: 01-31 + 1 month is 02-28)."""
    days = np.asarray(days, dtype=np.int64)
    dates = days.astype("datetime64[D]")
    month = dates.astype("datetime64[M]")
    offset = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    last = ((target + 1).astype("datetime64[D]") - 1).astype(np.int64)
    return np.minimum(target.astype("datetime64[D]").astype(np.int64) + offset, last)
