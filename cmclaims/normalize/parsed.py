"""Columns parsed value by value: each distinct text parsed once, the result spread to its lines."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from cmclaims.normalize.text import Factorized, parse_each
from cmclaims.normalize.values import MISSING, day_number, has_two_digit_year, parse_date, parse_number, parse_time

# The largest value a line may carry: beyond these a number is a typing error, not an amount.
MAX_UNITS = 9_999  # units on one line (a day holds 96 fifteen-minute units)
MAX_MINUTES = 1_440  # travel minutes in one day
MAX_CHARGE = 9_999_999.99  # dollars on one line


def dates_of(factorized: Factorized, today: dt.date, past: bool = False) -> np.ndarray:
    """Day numbers of a date column; MISSING where empty or not a date (`past`: a birth date)."""
    read = _birth_date if past else parse_date
    parsed = parse_each(factorized.values, lambda text: read(text, today))
    days = np.array([day_number(d) if d is not None else MISSING for d in parsed], dtype=np.int32)
    return factorized.mapped(days, MISSING)


def birth_days(factorized: Factorized, today: dt.date) -> np.ndarray:
    """Day numbers of birth dates; a two-digit year is read in the 1900s.

    SPEC section 2: a two-digit year is never read as a date in the future, and
    a birth date `11/11/11` is 1911 (a member of 115, not 14). Only a date the
    1900s do not have (`2/29/00`) keeps its 2000s reading. Two digits cannot tell
    a 14-year-old from a 114-year-old: the README asks exports for four.
    """
    return dates_of(factorized, today, past=True)


def _birth_date(text: str, today: dt.date) -> dt.date | None:
    date = parse_date(text, today)
    if date is None or date.year < 2000 or not has_two_digit_year(text):
        return date
    try:
        return date.replace(year=date.year - 100)
    except ValueError:  # 29 February of 2000: 1900 had none
        return date


def times_of(factorized: Factorized, today: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Minutes after midnight, and the day number when the value carried a date (else MISSING)."""
    parsed = parse_each(factorized.values, lambda text: parse_time(text, today))
    minutes = np.array([p[0] if p is not None else MISSING for p in parsed], dtype=np.int32)
    dates = np.array([day_number(p[1]) if p is not None and p[1] is not None else MISSING for p in parsed], np.int32)
    return factorized.mapped(minutes, MISSING), factorized.mapped(dates, MISSING)


def numbers_of(factorized: Factorized, *, whole: bool, maximum: float, money: bool = False) -> np.ndarray:
    """A number column; NaN where empty or not a number from 0 to `maximum`."""
    parsed = parse_each(factorized.values, lambda text: parse_number(text, whole=whole, maximum=maximum, money=money))
    values = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
    return factorized.mapped(values, np.nan)


_QUALIFICATIONS = re.compile(r"[;,|]+")


def qualifications_of(factorized: Factorized, vocabulary: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per line, the bit mask of the credentials and trainings named (`CM2;WRAP_FACILITATOR`),
    and whether it names one outside `vocabulary` (bit i stands for vocabulary[i])."""
    bit = {name: 1 << i for i, name in enumerate(vocabulary)}
    masks, unknown = [], []
    for value in factorized.values.to_pylist():
        tokens = {t.strip() for t in _QUALIFICATIONS.split(value) if t.strip()}
        masks.append(sum(bit.get(t, 0) for t in tokens))
        unknown.append(any(t not in bit for t in tokens))
    return (
        factorized.mapped(np.array(masks, dtype=np.int64), 0),
        factorized.mapped(np.array(unknown, dtype=bool), False),
    )
