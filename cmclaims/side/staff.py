"""`--staff`: each rendering staff member's credentials, trainings and birth date (SPEC section 2).

When a staff file is given it is the one source of what a staff member holds:
it replaces the export's staff_credential column. A row that cannot be used
(an unknown credential or training, a birth date that is not a date, a
staff_id given twice with different values) is reported and left out, and
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


@dataclass
class Staff:
    """The usable staff rows, and the staff_ids whose rows were left out (with why)."""

    frame: pd.DataFrame  # staff_id, quals (bit mask over `qualifications`), birth_day (MISSING: none), row
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


def _repeated(side: SideFile, staff_id: np.ndarray, quals: np.ndarray, birth: np.ndarray) -> set[str]:
    """A staff_id on several usable rows: exact copies keep the first row; differing rows are all left out.

    Returns the staff_ids whose rows disagreed. Staff files hold a few
    thousand rows at most, so the few repeated ids are looked at one by one.
    """
    rows = np.flatnonzero(side.usable)
    frame = pd.DataFrame({"id": staff_id[rows], "quals": quals[rows], "birth": birth[rows], "at": rows})
    conflicting: set[str] = set()
    for sid, group in frame[frame["id"].duplicated(keep=False)].groupby("id", sort=False):
        at = group["at"].to_numpy()
        numbers = side.rows[at]
        same = int(group[["quals", "birth"]].nunique().max()) == 1
        if not same:
            conflicting.add(str(sid))
        for position, index in enumerate(at.tolist()):
            bad = np.zeros(side.usable.size, dtype=bool)
            bad[index] = True
            if not same:
                other = numbers[1] if position == 0 else numbers[0]
                side.reject(bad, "staff_id", f"is also in row {other} with other values; neither row is used")
            elif position:
                side.reject(bad, "staff_id", f"repeats row {numbers[0]} exactly; the copy is left out")
    return conflicting


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
    side.reject_unparsed_dates("birth_date", birth)
    side.reject((birth != MISSING) & (birth > (today - dt.date(1970, 1, 1)).days), "birth_date", "is in the future")
    staff_id = side.values("staff_id")

    # A staff_id with a row left out is not trusted on its other rows either.
    left_out = _left_out(side, staff_id, side.text["staff_id"].present & ~side.usable)
    if left_out:
        others = pd.Series(staff_id).isin(list(left_out)).to_numpy()
        side.reject(others, "staff_id", "has another row that was left out")
    conflicting = _repeated(side, staff_id, quals, birth)
    if conflicting:
        left_out.update(_left_out(side, staff_id, pd.Series(staff_id).isin(list(conflicting)).to_numpy()))
    keep = side.usable
    frame = pd.DataFrame(
        {
            "staff_id": staff_id[keep].astype(str) if keep.any() else np.empty(0, dtype=object),
            "quals": quals[keep],
            "birth_day": birth[keep],
            "row": side.rows[keep],
        }
    )
    return Staff(frame, left_out, qualifications, side)
