"""How a line is named in messages: the byte-matrix path writes what the joined parts write."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.normalize.lines import MISSING
from cmclaims.rules.describe import when_text

DAYS = st.one_of(st.integers(-719_162, 2_932_896), st.just(MISSING))  # 0001-01-01 .. 9999-12-31, or missing
MINUTES = st.one_of(st.integers(0, 2 * 1440 - 1), st.just(MISSING))  # an end past midnight wraps


def _by_hand(day: int, start: int, end: int) -> str:
    """What a clerk reads, from the day number and minutes, written without the code under test."""
    date = "?" if day == MISSING else str(np.datetime64(day, "D"))
    clock = ["?" if m == MISSING else f"{m % 1440 // 60:02d}:{m % 60:02d}" for m in (start, end)]
    return f"{date} {clock[0]}-{clock[1]}"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(DAYS, MINUTES, MINUTES), max_size=30), st.booleans())
def test_when_names_each_line_as_a_clerk_reads_it(lines: list[tuple[int, int, int]], all_known: bool) -> None:
    if all_known:  # the byte-matrix path: every date and time present, years of four digits
        lines = [(d if d != MISSING else 20_000, s if s != MISSING else 540, e if e != MISSING else 600)
                 for d, s, e in lines]
    day, start, end = (np.array(column, dtype=np.int64) for column in zip(*lines, strict=True)) if lines else \
        (np.empty(0, np.int64),) * 3
    assert when_text(day, start, end).to_pylist() == [_by_hand(*line) for line in lines]
