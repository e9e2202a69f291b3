"""The small pieces every rule relies on: parsing dates, times and numbers, units from minutes, ages."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.normalize.lines import MISSING, age_in_years
from cmclaims.normalize.units import earned_units
from cmclaims.normalize.values import day_number, parse_date, parse_number, parse_time

TODAY = dt.date(2026, 11, 22)


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2026-03-04", "2026-3-4", "03/04/2026", "3/4/2026", "3-4-2026", "3/4/26", "20260304", "Mar 4, 2026",
     "March 4 2026", "04-Mar-2026", "4 March 2026", "  2026-03-04  ",
     # a date-time in a date column (a Parquet timestamp, a DOS with its time) is its date
     "2026-03-04 00:00:00", "2026-03-04T00:00:00.000000", "2026-03-04 09:00", "3/4/2026 9:15 AM"],
)
def test_dates_exports_write_are_all_the_same_day(text: str) -> None:
    assert parse_date(text, TODAY) == dt.date(2026, 3, 4)


@pytest.mark.parametrize(
    "text",
    ["", "2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "13/01/2026", "March 2026", "Mar 2026",
     "March 4", "yesterday", "2026", "04/03", "2026-03-04 25:00", "2026-02-30 00:00", "31.12.2026", "N/A"],
)
def test_what_is_not_a_whole_date_is_refused(text: str) -> None:
    assert parse_date(text, TODAY) is None


def test_leap_day_only_in_leap_years() -> None:
    assert parse_date("2024-02-29", TODAY) == dt.date(2024, 2, 29)
    assert parse_date("02/29/2000", TODAY) == dt.date(2000, 2, 29)
    assert parse_date("02/29/1900", TODAY) is None  # 1900 was not a leap year
    assert parse_date("2025-02-29", TODAY) is None


def test_two_digit_years_are_never_read_into_the_future() -> None:
    # Run on 2026-11-22 (SPEC section 2): the most recent reading not after today.
    assert parse_date("3/4/26", TODAY) == dt.date(2026, 3, 4)
    assert parse_date("11/22/26", TODAY) == dt.date(2026, 11, 22)
    assert parse_date("11/23/26", TODAY) == dt.date(1926, 11, 23)  # tomorrow is a century ago
    assert parse_date("3/4/27", TODAY) == dt.date(1927, 3, 4)
    assert parse_date("3/4/61", TODAY) == dt.date(1961, 3, 4)
    assert parse_date("3/4/00", TODAY) == dt.date(2000, 3, 4)
    assert parse_date("2/29/00", TODAY) == dt.date(2000, 2, 29)


def test_a_two_digit_birth_year_is_read_in_the_1900s() -> None:
    # SPEC section 2: "a birth date 11/11/11 is 1911", whatever the service date.
    from cmclaims.normalize.parsed import birth_days
    from cmclaims.normalize.text import factorize

    births = factorize(pa.chunked_array([["11/11/11", "5/6/26", "3/4/27", "2011-11-11", "11/11/2011", "2/29/00"]]), 6)
    born = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in birth_days(births, TODAY)]
    assert born == [dt.date(1911, 11, 11), dt.date(1926, 5, 6), dt.date(1927, 3, 4),
                    dt.date(2011, 11, 11), dt.date(2011, 11, 11),  # four digits: never moved
                    dt.date(2000, 2, 29)]  # 1900 had no 29 February: its only reading


def test_day_numbers_count_from_1970() -> None:
    assert day_number(dt.date(1970, 1, 1)) == 0
    assert day_number(dt.date(1970, 1, 2)) == 1
    assert day_number(dt.date(1969, 12, 31)) == -1
    assert day_number(dt.date(2026, 3, 4)) == (dt.date(2026, 3, 4) - dt.date(1970, 1, 1)).days


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
@settings(max_examples=50, deadline=None)
def test_iso_and_us_forms_of_any_date_round_trip(day: dt.date) -> None:
    assert parse_date(day.isoformat(), TODAY) == day
    assert parse_date(f"{day.month}/{day.day}/{day.year}", TODAY) == day
    assert parse_date(day.strftime("%Y%m%d"), TODAY) == day


# --- times -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("00:00", 0),
        ("09:15", 555),
        ("9:15", 555),
        ("0915", 555),
        ("09:15:59", 555),  # seconds do not make a minute
        ("23:59", 1439),
        ("24:00", 1440),  # the end of the day, as an end time
        ("9:15 AM", 555),
        ("9:15AM", 555),
        ("9:15 am", 555),
        ("9:15 a.m.", 555),
        ("12:00 AM", 0),  # midnight
        ("12:30 AM", 30),
        ("12:00 PM", 720),  # noon
        ("12:45 pm", 765),
        ("1:05 PM", 785),
        ("11:59 PM", 1439),
    ],
)
def test_times_of_day(text: str, minutes: int) -> None:
    assert parse_time(text, TODAY) == (minutes, None)


@pytest.mark.parametrize(
    ("text", "minutes", "day"),
    [
        ("2026-03-04 09:15", 555, dt.date(2026, 3, 4)),
        ("2026-03-04T09:15:00", 555, dt.date(2026, 3, 4)),
        ("3/4/2026 9:15 PM", 1275, dt.date(2026, 3, 4)),
        ("03/05/2026 00:30", 30, dt.date(2026, 3, 5)),
    ],
)
def test_date_times_carry_their_date(text: str, minutes: int, day: dt.date) -> None:
    assert parse_time(text, TODAY) == (minutes, day)


@pytest.mark.parametrize(
    "text",
    ["", "25:00", "24:01", "9:60", "13:00 PM", "0:30 AM", "noon", "9", "915", "09-15", "2026-02-30 09:00",
     "2026-03-04 0915", "9:15 XM"],
)
def test_what_is_not_a_time_is_refused(text: str) -> None:
    assert parse_time(text, TODAY) is None


@given(st.integers(0, 23), st.integers(0, 59))
@settings(max_examples=50, deadline=None)
def test_twelve_and_twenty_four_hour_clocks_agree(hour: int, minute: int) -> None:
    twelve = f"{hour % 12 or 12}:{minute:02d} {'PM' if hour >= 12 else 'AM'}"
    assert parse_time(f"{hour:02d}:{minute:02d}", TODAY) == (hour * 60 + minute, None)
    assert parse_time(twelve, TODAY) == (hour * 60 + minute, None)
    assert parse_time(f"{hour:02d}{minute:02d}", TODAY) == (hour * 60 + minute, None)


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "whole", "money", "value"),
    [
        ("4", True, False, 4.0),
        (" 4 ", True, False, 4.0),
        ("4.0", True, False, 4.0),
        ("0", True, False, 0.0),
        ("4.5", True, False, None),
        ("-1", True, False, None),
        ("four", True, False, None),
        ("nan", True, False, None),
        ("inf", False, False, None),
        ("", True, False, None),
        ("7.5", False, False, 7.5),
        ("$1,234.50", False, True, 1234.5),
        ("1,234.50", False, False, None),  # thousands separators only in money
        ("-12.50", False, True, None),
        ("$", False, True, None),
        ("9999", True, False, 9999.0),  # the largest number of units a line may carry
        ("10000", True, False, None),
        ("99999999999", True, False, None),  # a typo must not wrap around into a negative count
        ("1e3", True, False, None),  # no export writes exponents
        ("1e400", False, True, None),
    ],
)
def test_numbers(text: str, whole: bool, money: bool, value: float | None) -> None:
    assert parse_number(text, whole=whole, maximum=9999, money=money) == value


# --- units -------------------------------------------------------------------------------------


def _units(minutes: list[int], unit: int, rounding: str) -> list[int]:
    return earned_units(np.array(minutes), np.full(len(minutes), unit), rounding).tolist()


def test_fifteen_minute_units_as_spec_section_4_lists_them() -> None:
    expected = {range(0, 8): 0, range(8, 23): 1, range(23, 38): 2, range(38, 53): 3, range(53, 68): 4}
    for minutes, units in expected.items():
        assert _units(list(minutes), 15, "midpoint") == [units] * len(minutes), minutes


def test_hourly_units_as_spec_section_4_lists_them() -> None:
    assert _units([0, 30, 31, 60, 90, 91, 150, 151], 60, "midpoint") == [0, 0, 1, 1, 1, 2, 2, 3]


def test_completed_rounding_counts_whole_units_only() -> None:
    assert _units([0, 7, 8, 14, 15, 29, 30, 44, 45], 15, "completed") == [0, 0, 0, 0, 1, 1, 2, 2, 3]
    assert _units([59, 60, 119, 120], 60, "completed") == [0, 1, 1, 2]


@given(st.lists(st.integers(0, 3000), min_size=1, max_size=20), st.integers(1, 120))
@settings(max_examples=50, deadline=None)
def test_a_unit_is_earned_once_more_than_half_of_it_has_passed(minutes: list[int], unit: int) -> None:
    whole, rest = [m // unit for m in minutes], [m % unit for m in minutes]
    assert _units(minutes, unit, "midpoint") == [w + (2 * r > unit) for w, r in zip(whole, rest, strict=True)]
    assert _units(minutes, unit, "completed") == whole


# --- ages --------------------------------------------------------------------------------------


def _ages(pairs: list[tuple[dt.date | None, dt.date | None]]) -> list[int]:
    def days(values: list[dt.date | None]) -> np.ndarray:
        return np.array([MISSING if v is None else day_number(v) for v in values], dtype=np.int32)

    return age_in_years(days([p[0] for p in pairs]), days([p[1] for p in pairs])).tolist()


def test_age_turns_on_the_birthday_itself() -> None:
    born = dt.date(2008, 3, 4)
    assert _ages([(born, dt.date(2026, 3, 3)), (born, dt.date(2026, 3, 4)), (born, dt.date(2026, 3, 5))]) == [
        17, 18, 18]


def test_age_on_the_day_of_birth_and_across_new_year() -> None:
    assert _ages([(dt.date(2026, 3, 4), dt.date(2026, 3, 4))]) == [0]
    assert _ages([(dt.date(2000, 12, 31), dt.date(2026, 1, 1)), (dt.date(2001, 1, 1), dt.date(2025, 12, 31))]) == [
        25, 24]


def test_a_29_february_birthday_is_reached_on_1_march_in_other_years() -> None:
    born = dt.date(2008, 2, 29)
    assert _ages([
        (born, dt.date(2026, 2, 28)),
        (born, dt.date(2026, 3, 1)),
        (born, dt.date(2028, 2, 28)),
        (born, dt.date(2028, 2, 29)),
    ]) == [17, 18, 19, 20]


def test_age_is_minus_one_when_a_date_is_missing() -> None:
    assert _ages([(None, dt.date(2026, 3, 4)), (dt.date(2000, 1, 1), None), (None, None)]) == [-1, -1, -1]
    # and known pairs beside missing ones are unaffected
    assert _ages([(None, dt.date(2026, 3, 4)), (dt.date(2000, 1, 1), dt.date(2026, 3, 4))]) == [-1, 26]


@given(
    st.lists(
        st.tuples(st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)), st.dates(dt.date(1900, 1, 1),
                                                                                   dt.date(2030, 12, 31))),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=50, deadline=None)
def test_age_matches_counting_birthdays(pairs: list[tuple[dt.date, dt.date]]) -> None:
    pairs = [(min(a, b), max(a, b)) for a, b in pairs]
    expected = [on.year - born.year - ((on.month, on.day) < (born.month, born.day)) for born, on in pairs]
    assert _ages(pairs) == expected  # type: ignore[arg-type]
