"""`--enrollment`: dated eligibility categories and programs, one row per episode (SPEC section 2).

An episode covers the days from its start_date to its end_date, both
included; a blank end_date means it is still open. A member may be in
several categories at once (a DDD member in a waiver program), so episodes of
different enrollments may overlap; two episodes of the same member and the
same enrollment that overlap or touch are one span of days.

A row that cannot be used (a date that is not a date, an end before the
start, no enrollment) is reported and left out, but not forgotten: `left_out`
keeps the member and the days it may have covered, so that the lines
depending on it are held back with the row's problem (CM504) instead of being
judged as if the member had no such episode.

Used by the eligibility and staff rules per line (`side/per_line.py`), and by
`cmclaims compliance` per member: `Enrollment.covering` answers "which episode
of these enrollments covers this member on this day" for whole columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cmclaims.io.column_map import ColumnMap
from cmclaims.normalize.lines import MISSING
from cmclaims.schema.columns import ENROLLMENT
from cmclaims.side.common import SideFile, read_side_file
from cmclaims.side.intervals import OPEN, Intervals, left_out_spans


@dataclass
class Enrollment:
    """The usable episodes, and the rows left out with the days they may have covered."""

    frame: pd.DataFrame  # member_id, enrollment (upper case), start_day, end_day (MISSING: open), row
    left_out: pd.DataFrame  # member_id, from_day, to_day, row, problem
    file: SideFile

    def covering(self, member_id: np.ndarray, day: np.ndarray, enrollments: tuple[str, ...] | list[str]) -> np.ndarray:
        """Per (member_id, day) pair, the index in `frame` of an episode of one of `enrollments` covering it, else -1.

        `member_id` holds the ids as text, `day` int32 day numbers (MISSING
        matches nothing). Where several episodes cover the day, one of them
        is given.
        """
        codes, uniques = pd.factorize(pd.Series(np.asarray(member_id, dtype=object)), use_na_sentinel=True)
        return self.covering_codes(pd.Index(uniques), codes.astype(np.int64), np.asarray(day, dtype=np.int32),
                                   enrollments)

    def covering_codes(self, members: pd.Index, member: np.ndarray, day: np.ndarray,
                       enrollments: tuple[str, ...] | list[str]) -> np.ndarray:
        """`covering` for members given as codes into `members` (the member_id text of each code; -1: none)."""
        frame = self.frame
        found = np.full(member.size, -1, dtype=np.int64)
        wanted = np.flatnonzero(frame["enrollment"].isin([e.upper() for e in enrollments]).to_numpy())
        if wanted.size == 0 or member.size == 0:
            return found
        episode_member = members.get_indexer(frame["member_id"].to_numpy()[wanted]).astype(np.int64)
        usable = episode_member >= 0
        subset = wanted[usable]
        end = frame["end_day"].to_numpy()[subset]
        spans = Intervals(episode_member[usable], frame["start_day"].to_numpy()[subset],
                          np.where(end == MISSING, OPEN, end), overlapping=True)
        at = spans.find(member.astype(np.int64), day)
        found[at >= 0] = subset[at[at >= 0]]
        return found


def read_enrollment(path: Path, today: dt.date, column_map: ColumnMap | None = None) -> Enrollment:
    """Read and check an enrollment file; enrollments are kept upper case (`altcs_epd` is `ALTCS_EPD`)."""
    side = read_side_file(path, ENROLLMENT, {"enrollment": "upper"}, column_map)
    start = side.dates("start_date", today)
    end = side.dates("end_date", today)
    side.reject_unparsed_dates("start_date", start)
    side.reject_unparsed_dates("end_date", end)
    side.reject((start != MISSING) & (end != MISSING) & (end < start), "end_date", "is before start_date")
    member = side.values("member_id")
    keep = side.usable
    frame = pd.DataFrame(
        {
            "member_id": member[keep].astype(str) if keep.any() else np.empty(0, dtype=object),
            "enrollment": side.values("enrollment")[keep].astype(str) if keep.any() else np.empty(0, dtype=object),
            "start_day": start[keep],
            "end_day": end[keep],
            "row": side.rows[keep],
        }
    )
    return Enrollment(frame, left_out_spans(side, member, start, end), side)
