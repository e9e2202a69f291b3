"""`--stays`: institutional stays, incarceration and detention, one row per stay (SPEC section 2).

A stay covers the days from its admission to its discharge, both included; a
blank discharge_date means the member is still there. A row that cannot be
used (unknown setting, a date that is not a date, a discharge before the
admission, a stay overlapping an earlier one of the same member) is reported
and left out, but not forgotten: `left_out` keeps the member and the days it
may have covered, so that the lines depending on it are held back with the
row's problem instead of being judged as if the member had no stay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cmclaims.io.column_map import ColumnMap
from cmclaims.normalize.lines import MISSING
from cmclaims.normalize.parsed import times_of
from cmclaims.schema.columns import STAYS
from cmclaims.side.common import SideFile, read_side_file
from cmclaims.side.intervals import OPEN, left_out_spans

__all__ = ["OPEN", "Stays", "read_stays"]

_SHIFT = 24  # bits of a row position packed under a day number


@dataclass
class Stays:
    """The usable stays, and the rows left out with the days they may have covered."""

    # member_id, setting, admit_day, discharge_day (MISSING: still there), discharge_minute (MISSING: unknown), row
    frame: pd.DataFrame
    left_out: pd.DataFrame  # member_id, from_day, to_day, row, problem
    file: SideFile


def _setting_index(side: SideFile, settings: tuple[str, ...]) -> np.ndarray:
    """Per row, the setting's index in the vocabulary; -1 where empty or unknown (and reported)."""
    factorized = side.text["setting"]
    distinct = factorized.values.to_pylist()
    index = np.array([settings.index(v) if v in settings else -1 for v in distinct], dtype=np.int16)
    per_row = factorized.mapped(index, -1)
    side.reject(factorized.present & (per_row < 0), "setting", "is not one of the settings cmclaims knows")
    return per_row


def _overlapping(side: SideFile, member: np.ndarray, admit: np.ndarray, discharge: np.ndarray) -> None:
    """Leave out a stay that begins before an earlier stay of the same member has ended.

    A member is in one place on a day; two stays claiming the same days
    cannot both be right. A transfer (one stay's discharge day is the next
    one's admission day) is not an overlap. Stays are taken in admission
    order, and each is compared with the latest end of every earlier stay.
    """
    rows = np.flatnonzero(side.usable)
    if rows.size < 2:
        return
    order = rows[np.lexsort((side.rows[rows], admit[rows], member[rows]))]
    end = np.where(discharge[order] == MISSING, OPEN, discharge[order]).astype(np.int64)
    packed = (end << _SHIFT) | np.arange(order.size)
    members = pd.Series(member[order])
    latest = pd.Series(packed).groupby(members.to_numpy()).cummax().to_numpy()
    earlier = np.concatenate([[-1], latest[:-1]])
    same_member = np.concatenate([[False], members.to_numpy()[1:] == members.to_numpy()[:-1]])
    overlaps = same_member & (admit[order].astype(np.int64) < (earlier >> _SHIFT))
    for position in np.flatnonzero(overlaps).tolist():
        other = side.rows[order[earlier[position] & ((1 << _SHIFT) - 1)]]
        bad = np.zeros(side.usable.size, dtype=bool)
        bad[order[position]] = True
        side.reject(bad, "admit_date", f"falls inside the same member's stay in row {other}")


def _discharge_minutes(side: SideFile, today: dt.date) -> np.ndarray:
    """The optional discharge_time as minutes after midnight (follow-ups due within hours need it)."""
    minutes, _ = times_of(side.text["discharge_time"], today)
    side.reject(side.text["discharge_time"].present & (minutes == MISSING), "discharge_time", "is not a time of day")
    side.reject(side.text["discharge_time"].present & ~side.text["discharge_date"].present, "discharge_time",
                "is given without a discharge_date")
    return minutes


def read_stays(
    path: Path, today: dt.date, settings: tuple[str, ...], column_map: ColumnMap | None = None
) -> Stays:
    """Read and check a stays file against the setting vocabulary."""
    side = read_side_file(path, STAYS, {"setting": "lower"}, column_map)
    admit = side.dates("admit_date", today)
    discharge = side.dates("discharge_date", today)
    setting = _setting_index(side, settings)
    side.reject_unparsed_dates("admit_date", admit)
    side.reject_unparsed_dates("discharge_date", discharge)
    side.reject((admit != MISSING) & (discharge != MISSING) & (discharge < admit), "discharge_date",
                "is before admit_date")
    discharge_minute = _discharge_minutes(side, today)
    member = side.values("member_id")
    _overlapping(side, member, admit, discharge)
    keep = side.usable
    names = np.array(settings, dtype=object)
    frame = pd.DataFrame(
        {
            "member_id": member[keep].astype(str) if keep.any() else np.empty(0, dtype=object),
            "setting": names[setting[keep]] if keep.any() else np.empty(0, dtype=object),
            "admit_day": admit[keep],
            "discharge_day": discharge[keep],
            "discharge_minute": discharge_minute[keep],  # MISSING: the time is not known
            "row": side.rows[keep],
        }
    )
    return Stays(frame, left_out_spans(side, member, admit, discharge), side)
