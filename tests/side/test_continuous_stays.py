"""Continuous stays against a plain model: stays that follow one another without a gap are one stay.

SPEC section 2: "Stays that follow one another without a gap (one's
discharge date is the next one's admit date, or the day before) in the same
kind of setting are one continuous stay for every day count." The model
below is written from that sentence and CM-040 1.4.2.2 (the first 35 days of
a detention placement, the admission day being day 1), not from the code.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import run_lines

BASE = dt.date(2026, 1, 1)
LINE = {"member_dob": "2010-01-01", "hcpcs": "T1017", "staff_id": "S1", "place_of_service": "11"}


def _placement_day(stays: list[tuple[str, int, int | None]], day: int) -> int | None:
    """The model: the day of the detention placement on `day` (1 = its first admission), None outside one.

    The stay covering a day is the latest admitted on or before it that has
    not ended before it (on a transfer day, the stay the member moved to).
    """
    covering = [k for k, (_, admit, end) in enumerate(stays) if admit <= day and (end is None or day <= end)]
    if not covering or stays[covering[-1]][0] != "juvenile_detention":
        return None
    k = covering[-1]
    while k > 0:
        setting, _, end = stays[k - 1]
        if setting != "juvenile_detention" or end is None or stays[k][1] - end > 1:
            break
        k -= 1
    return day - stays[k][1] + 1


@st.composite
def _stays(draw: st.DrawFn) -> list[tuple[str, int, int | None]]:
    """One member's stays in admission order: each begins on, a day after, or some days after the last one ends."""
    stays = []
    day = draw(st.integers(0, 5))
    for position in range(draw(st.integers(1, 4))):
        setting = draw(st.sampled_from(["juvenile_detention"] * 4 + ["shelter"]))
        length = draw(st.integers(5, 30))
        last = position == 3 or (draw(st.booleans()) and position > 0)
        discharge = None if last and draw(st.booleans()) else day + length
        stays.append((setting, day, discharge))
        if discharge is None:
            break
        day = discharge + draw(st.sampled_from([0, 1, 2]))
    return stays


@settings(max_examples=30, deadline=None)
@given(_stays(), st.lists(st.integers(25, 110), min_size=2, max_size=8, unique=True))
def test_detention_days_count_from_the_first_admission_of_a_continuous_placement(stays: list, days: list) -> None:
    rows = [{"member_id": "M1", "setting": s, "admit_date": (BASE + dt.timedelta(a)).isoformat(),
             "discharge_date": "" if d is None else (BASE + dt.timedelta(d)).isoformat()} for s, a, d in stays]
    lines = [{**LINE, "claim_id": f"L{i}", "member_id": "M1", "service_date": (BASE + dt.timedelta(day)).isoformat(),
              "start_time": f"{8 + i}:00", "end_time": f"{8 + i}:30"} for i, day in enumerate(sorted(days))]
    with tempfile.TemporaryDirectory() as folder:
        run = run_lines(Path(folder), lines, "pa-performcare", side={"stays": rows})
        flagged = run.flagged("CM522")
    for i, day in enumerate(sorted(days)):
        nth = _placement_day(stays, day)
        expected = nth is not None and nth > 35
        assert (f"L{i}" in flagged) == expected, (stays, day, nth)
