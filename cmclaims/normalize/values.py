"""Parsing the text of one value: a date, a time of day, a number.

These functions see each distinct value once (the columns are factorized first),
so they may be plain Python: a night's 5 million lines hold a few hundred
service dates, a few thousand times and birth dates.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from decimal import Decimal, InvalidOperation

import numpy as np
from dateutil import parser as dateutil_parser

EPOCH = dt.date(1970, 1, 1)
MISSING = np.iinfo(np.int32).min  # in a typed column: no value, or a value that did not parse

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4}|\d{2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp])?\.?\s*(?:[Mm]\.?)?")
_MILITARY = re.compile(r"(\d{2})(\d{2})")
_DATE_TIME_SPLIT = re.compile(r"^(.*?\d)(?:T|\s+)(\d{1,2}:\d{2}.*)$")


def month_of(days: np.ndarray | list[int]) -> np.ndarray:
    """Months since 1970-01 of day numbers (the month a limit and a ledger block belong to)."""
    return _calendar(days, "datetime64[M]")


def year_of(days: np.ndarray | list[int]) -> np.ndarray:
    """The calendar year of day numbers (the year an annual cap belongs to)."""
    return _calendar(days, "datetime64[Y]") + 1970


_CALENDAR_SPAN = 1 << 16  # days (180 years): a night's dates, or a ledger's, span far fewer


def _calendar(days: np.ndarray | list[int], unit: str) -> np.ndarray:
    """Day numbers in a coarser numpy calendar unit, as int64.

    numpy works out the calendar for every element; a night's million lines
    fall on a few hundred days, so each day of their span is worked out once
    and the lines look theirs up (about three times faster).
    """
    days = np.asarray(days, dtype=np.int64)
    if days.size < 4096:
        return days.astype("datetime64[D]").astype(unit).astype(np.int64)
    first, last = int(days.min()), int(days.max())
    if last - first >= _CALENDAR_SPAN:
        return days.astype("datetime64[D]").astype(unit).astype(np.int64)
    span = np.arange(first, last + 1, dtype=np.int64).astype("datetime64[D]").astype(unit).astype(np.int64)
    return span[days - first]


def day_number(value: dt.date) -> int:
    """Days since 1970-01-01: the integer every date column is kept as."""
    return (value - EPOCH).days


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _two_digit_year(year: int, month: int, day: int, latest: dt.date) -> dt.date | None:
    """A two-digit year is never read into the future: 20yy when that is not after `latest`, else 19yy."""
    recent = _make_date(2000 + year, month, day)
    if recent is not None and recent <= latest:
        return recent
    return _make_date(1900 + year, month, day)


def has_two_digit_year(text: str) -> bool:
    """Whether a date's text gives its year in two digits (`11/11/11`, `3/4/26 9:15`)."""
    text = text.strip()
    if (match := _DATE_TIME_SPLIT.match(text)) is not None:
        text = match[1].strip()
    match = _US.fullmatch(text)
    return match is not None and len(match[3]) == 2


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """A calendar date in the formats EHR exports use; None when it is not one.

    A two-digit year is the most recent reading not after today: `3/4/27` read
    on 2026-12-01 is 1927. A birth date's two-digit year is read in the 1900s
    (`parsed.birth_days`, SPEC section 2: `11/11/11` is 1911).
    """
    text = text.strip()
    if match := _ISO.fullmatch(text):
        return _make_date(int(match[1]), int(match[2]), int(match[3]))
    if match := _US.fullmatch(text):
        if len(match[3]) == 2:
            return _two_digit_year(int(match[3]), int(match[1]), int(match[2]), today)
        return _make_date(int(match[3]), int(match[1]), int(match[2]))
    if match := _COMPACT.fullmatch(text):
        return _make_date(int(match[1]), int(match[2]), int(match[3]))
    if (match := _DATE_TIME_SPLIT.match(text)) and parse_time(match[2], today) is not None:
        # A date-time in a date column (a Parquet timestamp, `2026-03-04 00:00:00`): its date.
        return parse_date(match[1], today)
    if not any(c.isalpha() for c in text) or len(text) > 40:
        return None
    # Text months ("Mar 4, 2026", "04-Mar-2026"): parse twice with different
    # defaults, so a date missing its day, month or year is refused, not guessed.
    # dateutil warns about words it takes for time zones, quoting them: silenced,
    # because those words may be a member's name.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = dateutil_parser.parse(text, default=dt.datetime(2001, 1, 1), ignoretz=True)
            second = dateutil_parser.parse(text, default=dt.datetime(2002, 2, 2), ignoretz=True)
    except (ValueError, OverflowError):
        return None
    if first.date() != second.date() or first.time() != dt.time(0) or second.time() != dt.time(0):
        return None
    return first.date()


def _minutes(hour: int, minute: int, meridiem: str | None) -> int | None:
    if minute > 59:
        return None
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.lower() == "p" else 0)
    elif hour > 23:
        return 24 * 60 if hour == 24 and minute == 0 else None  # 24:00, the end of the day
    return hour * 60 + minute


def parse_time(text: str, today: dt.date) -> tuple[int, dt.date | None] | None:
    """Minutes after midnight, and the date when the value is a full date-time; None when invalid.

    Accepts `HH:MM`, `H:MM AM`, `HH:MM:SS`, `HHMM`, and a date followed by any of
    these (`2026-03-04 09:15`, `2026-03-04T09:15:00`, `3/4/2026 9:15 AM`).
    """
    text = text.strip()
    date = None
    if match := _DATE_TIME_SPLIT.match(text):
        date = parse_date(match[1], today)
        if date is None:
            return None
        text = match[2].strip()
    if match := _TIME.fullmatch(text):
        minutes = _minutes(int(match[1]), int(match[2]), match[4])
    elif date is None and (match := _MILITARY.fullmatch(text)):
        minutes = _minutes(int(match[1]), int(match[2]), None)
    else:
        return None
    return None if minutes is None else (minutes, date)


def parse_number(text: str, *, whole: bool, maximum: float, money: bool = False) -> float | None:
    """A number from 0 to `maximum` (`$1,234.50` when `money`); None when it is not one.

    `whole` refuses fractions other than `.0`: units and minutes are counts.
    Exponents (`1e3`) are refused: no export writes amounts that way, and a
    typo must not become a huge number.
    """
    cleaned = text.strip()
    if money:
        cleaned = cleaned.replace("$", "").replace(",", "").strip()
    if "e" in cleaned.lower():
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or not 0 <= value <= maximum or (whole and value != value.to_integral_value()):
        return None
    return float(value)
