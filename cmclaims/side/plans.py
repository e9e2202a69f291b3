"""`--plans`: the plans signed for each member (SPEC section 2), what the CM8xx requirements read.

One row per signature: `member_id, plan_type, signed_date`, optionally
`signed_by` (credentials, `;`-separated). A review is a new row with the
review's date: the latest signature on or before a day is the plan in force.
A row that cannot be used (an unknown plan type, a date that is not a date or
lies after today) is reported and left out; the lines it would have covered are
then judged without it, so a damaged plans file errs towards a finding, which
the compliance officer sees, rather than towards silence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cmclaims.io.column_map import ColumnMap
from cmclaims.normalize.values import MISSING, day_number
from cmclaims.schema.columns import PLANS
from cmclaims.side.common import SideFile, read_side_file


@dataclass
class Plans:
    """The usable signatures, sorted by member, plan type and date."""

    frame: pd.DataFrame  # member_id, plan_type, signed_day, signed_by (None when not given), row
    file: SideFile

    def of_type(self, plan_type: str) -> pd.DataFrame:
        """The signatures of one plan type, sorted by member and date."""
        return self.frame[self.frame["plan_type"] == plan_type]


def read_plans(path: Path, today: dt.date, plan_types: tuple[str, ...], column_map: ColumnMap | None = None) -> Plans:
    """Read and check a plans file against the plan-type vocabulary."""
    side = read_side_file(path, PLANS, {"plan_type": "lower", "signed_by": "upper"}, column_map)
    kind = side.text["plan_type"]
    known = np.array([v in plan_types for v in kind.values.to_pylist()], dtype=bool)
    side.reject(kind.present & ~kind.mapped(known, False), "plan_type",
                f"is not a plan type cmclaims knows ({', '.join(plan_types)})")
    signed = side.dates("signed_date", today)
    side.reject_unparsed_dates("signed_date", signed)
    side.reject((signed != MISSING) & (signed > day_number(today)), "signed_date", "is in the future")
    keep = side.usable
    frame = pd.DataFrame(
        {
            "member_id": side.values("member_id")[keep].astype(str) if keep.any() else np.empty(0, dtype=object),
            "plan_type": side.values("plan_type")[keep],
            "signed_day": signed[keep].astype(np.int64),
            "signed_by": side.values("signed_by")[keep] if side.has("signed_by") else None,
            "row": side.rows[keep],
        }
    )
    frame = frame.sort_values(["member_id", "plan_type", "signed_day"], kind="stable").reset_index(drop=True)
    return Plans(frame, side)
