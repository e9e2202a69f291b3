"""Spans of days per key (a member's stays or episodes, a staff member's rows), looked up by date.

Integer work over whole columns: spans are sorted once by (key, start), and
each (key, day) finds the latest start on or before its day with one
`searchsorted`. Where spans of a key may overlap (enrollment episodes), the
running latest end of the key's earlier spans finds a longer span that began
before and still covers the day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cmclaims.normalize.lines import MISSING
from cmclaims.side.common import SideFile

OPEN = np.iinfo(np.int32).max  # the end day of a span that has not ended, for comparisons
_DAY_BIAS = 2**31  # day numbers (int32) made non-negative, under the key in a 64-bit key
_SHIFT = 24  # bits of a position packed under a day number


def _keys(key: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (key.astype(np.int64) << 32) | (day.astype(np.int64) + _DAY_BIAS)


class Intervals:
    """Day spans per key (int codes >= 0), ready for date lookups.

    `overlapping=False` (stays, staff rows): no two spans of a key overlap,
    so the latest start on or before a day is the only candidate.
    """

    def __init__(self, key: np.ndarray, start: np.ndarray, end: np.ndarray, *, overlapping: bool = False) -> None:
        self.order = np.lexsort((start, key))
        self.key = key[self.order].astype(np.int64)
        self.end = end[self.order].astype(np.int64)
        self.keys = _keys(self.key, start[self.order])
        self.distinct = np.unique(self.key)
        self.reach: np.ndarray | None = None  # per sorted span: (latest end so far << _SHIFT) | its position
        if overlapping and self.key.size:
            packed = (self.end << _SHIFT) | np.arange(self.key.size, dtype=np.int64)
            self.reach = pd.Series(packed).groupby(self.key).cummax().to_numpy()

    def find(self, key: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Per (key, day), the index (in the arrays given) of a span covering it, else -1."""
        found = np.full(key.size, -1, dtype=np.int64)
        lines = np.flatnonzero(np.isin(key, self.distinct) & (day != MISSING))
        if lines.size == 0 or self.keys.size == 0:
            return found
        position = np.searchsorted(self.keys, _keys(key[lines], day[lines]), side="right") - 1
        safe = np.maximum(position, 0)
        same = (position >= 0) & (self.key[safe] == key[lines])
        at = day[lines].astype(np.int64)
        hit = same & (self.end[safe] >= at)
        pick = safe.copy()
        if self.reach is not None:
            reach = self.reach[safe]
            longer = same & ~hit & ((reach >> _SHIFT) >= at)
            pick = np.where(longer, reach & ((1 << _SHIFT) - 1), safe)
            hit |= longer
        found[lines[hit]] = self.order[pick[hit]]
        return found


def left_out_spans(side: SideFile, member: np.ndarray, start: np.ndarray, end: np.ndarray) -> pd.DataFrame:
    """The rows left out that name a member, and the widest span of days each may have covered.

    A date that did not parse may have been any date: the span then runs
    open on that side.
    """
    rows = np.flatnonzero(~side.usable & side.text["member_id"].present)
    low = np.where(start[rows] == MISSING, np.iinfo(np.int32).min + 1, start[rows])
    high = np.where(end[rows] == MISSING, OPEN, end[rows])
    first_problem: dict[int, str] = {}
    for problem in side.problems:
        first_problem.setdefault(problem.row, f"{problem.column} {problem.problem}")
    numbers = side.rows[rows]
    return pd.DataFrame(
        {
            "member_id": member[rows].astype(str) if rows.size else np.empty(0, dtype=object),
            "from_day": np.minimum(low, high).astype(np.int32),
            "to_day": np.maximum(low, high).astype(np.int32),
            "row": numbers,
            "problem": [first_problem.get(r, "") for r in numbers.tolist()],
        }
    )


def left_out_cover(left: pd.DataFrame, member_codes: pd.Index, member: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Per line, the index in `left` of a left-out row of its member whose possible days include the date (-1: none).

    Left-out rows are few (each one is a problem the user is told about), so
    the lines of their members are paired with them in one merge.
    """
    found = np.full(member.size, -1, dtype=np.int64)
    codes = member_codes.get_indexer(left["member_id"]) if len(left) else np.empty(0, np.int64)
    known = codes >= 0
    if not known.any():
        return found
    lines = np.flatnonzero(np.isin(member, codes[known]))
    pairs = pd.DataFrame({"line": lines, "member": member[lines], "day": day[lines]}).merge(
        pd.DataFrame({"member": codes[known], "from_day": left["from_day"].to_numpy()[known],
                      "to_day": left["to_day"].to_numpy()[known], "index": np.flatnonzero(known)}),
        on="member",
    )
    pairs = pairs[(pairs["from_day"] <= pairs["day"]) & (pairs["day"] <= pairs["to_day"])]
    first = pairs.sort_values(["line", "index"]).drop_duplicates("line")
    found[first["line"].to_numpy()] = first["index"].to_numpy()
    return found
