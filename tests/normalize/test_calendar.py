"""The month and year of day numbers: the limits' periods and the ledger's blocks depend on them."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cmclaims.normalize.values import month_of, year_of

EPOCH = dt.date(1970, 1, 1)


def _month_and_year(day: int) -> tuple[int, int]:
    """A day number's month since 1970-01 and its year, by the standard library's calendar."""
    date = EPOCH + dt.timedelta(days=day)
    return (date.year - 1970) * 12 + date.month - 1, date.year


@st.composite
def day_numbers(draw: st.DrawFn) -> np.ndarray:
    """Large arrays (the looked-up path) over a narrow or wide span of days, small ones (the direct path)."""
    first = draw(st.integers(-700_000, 700_000))
    span = draw(st.sampled_from([1, 31, 366, 5000, 70_000, 600_000]))
    size = draw(st.sampled_from([0, 3, 5000]))
    return draw(hnp.arrays(np.int64, size, elements=st.integers(first, min(first + span, 2_900_000))))


@given(day_numbers())
@settings(max_examples=60, deadline=None)
def test_month_and_year_match_the_calendar(days: np.ndarray) -> None:
    expected = [_month_and_year(int(day)) for day in days]
    assert month_of(days).tolist() == [month for month, _ in expected]
    assert year_of(days).tolist() == [year for _, year in expected]


def test_a_leap_day_and_a_year_end() -> None:
    days = np.array([(dt.date(2024, 2, 29) - EPOCH).days, (dt.date(2026, 12, 31) - EPOCH).days,
                     (dt.date(2027, 1, 1) - EPOCH).days] * 2000)
    assert year_of(days)[:3].tolist() == [2024, 2026, 2027]
    assert month_of(days)[:3].tolist() == [(2024 - 1970) * 12 + 1, (2026 - 1970) * 12 + 11, (2027 - 1970) * 12]
