"""`--staff`: each rendering staff member's credentials, trainings and birth date (SPEC section 2).

A staff member may have several rows, each holding on its dates
(`start_date`, `end_date`, both optional and both included): a credential
earned or lapsed, a training certified on a date. A line is judged by the row
covering its date of service (`side/per_line.py`); a row without dates holds
on every date.

When a staff file is given it is the one source of what a staff member holds:
it replaces the export's staff_credential column. A row that cannot be used
(an unknown credential or training, a date that is not a date, a staff_id
on two rows whose dates overlap with different values, or with two birth
dates) is reported and left out, and
its staff_id is remembered in `left_out`: the lines that member gave are then
held back with the row's problem, never judged as if the member held nothing
or everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cmclaims.io.column_map import ColumnMap
from cmclaims.normalize.lines import MISSING
from cmclaims.normalize.parsed import qualifications_of
from cmclaims.schema.columns import STAFF
from cmclaims.side.common import SideFile, read_side_file
from cmclaims.side.intervals import OPEN

_EARLIEST = np.iinfo(np.int32).min + 1  # the start day of a row without a start_date


@dataclass
class Staff:
    """The usable staff rows, and the staff_ids whose rows were left out (with why)."""

    # staff_id, quals (bit mask over `qualifications`), birth_day (MISSING: none),
    # start_day, end_day (the days the row holds; MISSING: open on that side), row
    frame: pd.DataFrame
    left_out: dict[str, str]  # staff_id -> "row 4: credentials 'QMPH' is not ..."
    qualifications: tuple[str, ...]  # bit i of `quals` stands for qualifications[i]
    file: SideFile


def _masks(side: SideFile, column: str, qualifications: tuple[str, ...]) -> np.ndarray:
    """Per row, the bit mask of the qualifications named in `column`; rows naming an unknown one are left out.

    A training written among the credentials (or the reverse) is taken for
    what it is: both columns name qualifications of the same person. The
    unknown name is not quoted: the problem is printed, and a cell can hold anything.
    """
    masks, unknown = qualifications_of(side.text[column], qualifications)
    side.reject(unknown, column, "names a credential or training cmclaims does not know")
    return masks


def _disagree(a: pd.Series, b: pd.Series) -> str | None:
    """Why two usable rows of one staff_id cannot both hold, or None when they can.

    Rows hold on their dates: rows whose dates do not overlap say what the
    staff member held in different periods (a credential earned, a training
    certified on a date). Rows whose dates overlap must say the same thing,
    and a person has one birth date.
    """
    if a["birth"] != MISSING and b["birth"] != MISSING and a["birth"] != b["birth"]:
        return "other values"
    overlap = a["start"] <= b["end"] and b["start"] <= a["end"]
    if overlap and a["quals"] != b["quals"]:
        return "other values"
    return None


def _repeated(side: SideFile, staff_id: np.ndarray, quals: np.ndarray, birth: np.ndarray, start: np.ndarray,
              end: np.ndarray) -> set[str]:
    """A staff_id on several usable rows: rows of other dates are kept; rows that disagree are all left out.

    An exact copy of an earlier row is left out and the first is kept.
    Returns the staff_ids whose rows disagreed. Staff files hold a few
    thousand rows at most, so the few repeated ids are looked at one by one.
    """
    rows = np.flatnonzero(side.usable)
    frame = pd.DataFrame({"id": staff_id[rows], "quals": quals[rows], "birth": birth[rows],
                          "start": np.where(start[rows] == MISSING, _EARLIEST, start[rows]),
                          "end": np.where(end[rows] == MISSING, OPEN, end[rows]), "at": rows})
    conflicting: set[str] = set()
    for sid, group in frame[frame["id"].duplicated(keep=False)].groupby("id", sort=False):
        records = [row for _, row in group.iterrows()]
        numbers = side.rows[group["at"].to_numpy()]
        clash = next(((i, j) for i in range(len(records)) for j in range(len(records))
                      if i != j and _disagree(records[i], records[j])), None)
        if clash is not None:
            conflicting.add(str(sid))
            for position, record in enumerate(records):
                other = next((numbers[j] for j in range(len(records))
                              if j != position and _disagree(record, records[j])), numbers[clash[0]])
                side.reject(_one(side, int(record["at"])), "staff_id",
                            f"is also in row {other} with other values; neither row is used")
            continue
        seen: dict[tuple[int, int, int, int], int] = {}
        for record, number in zip(records, numbers.tolist(), strict=True):
            same = (int(record["quals"]), int(record["birth"]), int(record["start"]), int(record["end"]))
            if same in seen:
                side.reject(_one(side, int(record["at"])), "staff_id",
                            f"repeats row {seen[same]} exactly; the copy is left out")
            else:
                seen[same] = number
    return conflicting


def _one(side: SideFile, index: int) -> np.ndarray:
    bad = np.zeros(side.usable.size, dtype=bool)
    bad[index] = True
    return bad


def _left_out(side: SideFile, staff_id: np.ndarray, rows: np.ndarray) -> dict[str, str]:
    """staff_id -> the first problem of its first row among `rows` ("row 4: credentials ...")."""
    first: dict[int, str] = {}
    for problem in side.problems:
        first.setdefault(problem.row, f"row {problem.row}: {problem.column} {problem.problem}")
    found: dict[str, str] = {}
    for row, sid in zip(side.rows[rows].tolist(), staff_id[rows].tolist(), strict=True):
        if row in first:
            found.setdefault(sid, first[row])
    return found


def read_staff(
    path: Path, today: dt.date, qualifications: tuple[str, ...], column_map: ColumnMap | None = None
) -> Staff:
    """Read and check a staff file; `qualifications` are the credentials then the trainings."""
    side = read_side_file(path, STAFF, {"credentials": "upper", "trainings": "upper"}, column_map)
    quals = _masks(side, "credentials", qualifications) | _masks(side, "trainings", qualifications)
    birth = side.dates("birth_date", today, past=True)
    start = side.dates("start_date", today)
    end = side.dates("end_date", today)
    side.reject_unparsed_dates("birth_date", birth)
    side.reject_unparsed_dates("start_date", start)
    side.reject_unparsed_dates("end_date", end)
    side.reject((start != MISSING) & (end != MISSING) & (end < start), "end_date", "is before start_date")
    side.reject((birth != MISSING) & (birth > (today - dt.date(1970, 1, 1)).days), "birth_date", "is in the future")
    staff_id = side.values("staff_id")

    # A staff_id with a row left out is not trusted on its other rows either.
    left_out = _left_out(side, staff_id, side.text["staff_id"].present & ~side.usable)
    if left_out:
        others = pd.Series(staff_id).isin(list(left_out)).to_numpy()
        side.reject(others, "staff_id", "has another row that was left out")
    conflicting = _repeated(side, staff_id, quals, birth, start, end)
    if conflicting:
        left_out.update(_left_out(side, staff_id, pd.Series(staff_id).isin(list(conflicting)).to_numpy()))
    keep = side.usable
    frame = pd.DataFrame(
        {
            "staff_id": staff_id[keep].astype(str) if keep.any() else np.empty(0, dtype=object),
            "quals": quals[keep],
            "birth_day": birth[keep],
            "start_day": start[keep],
            "end_day": end[keep],
            "row": side.rows[keep],
        }
    )
    return Staff(frame, left_out, qualifications, side)
