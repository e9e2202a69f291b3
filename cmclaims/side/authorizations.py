"""`--authorizations`: prior authorizations that extend an annual cap (SPEC sections 2 and 5)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cmclaims.io.column_map import ColumnMap
from cmclaims.normalize.lines import MISSING
from cmclaims.schema.columns import AUTHORIZATIONS
from cmclaims.side.common import SideFile, read_side_file

MAX_AUTHORIZED_UNITS = 99_999  # more is a typing error, not an authorization


@dataclass
class Authorizations:
    """The usable authorizations, one row each: who, which code, when, how many units."""

    frame: pd.DataFrame  # authorization_id, member_id, hcpcs, modifier, start_day, end_day, units
    file: SideFile | None

    @classmethod
    def empty(cls) -> Authorizations:
        """No authorizations (the run was given no --authorizations file)."""
        columns = {
            "authorization_id": pd.Series([], dtype="str"),
            "member_id": pd.Series([], dtype="str"),
            "hcpcs": pd.Series([], dtype="str"),
            "modifier": pd.Series([], dtype="str"),
            "start_day": np.empty(0, np.int32),
            "end_day": np.empty(0, np.int32),
            "units": np.empty(0, np.int64),
        }
        return cls(pd.DataFrame(columns), None)


def read_authorizations(path: Path, today: dt.date, column_map: ColumnMap | None = None) -> Authorizations:
    """Read `--authorizations`; unusable rows are reported and left out."""
    side = read_side_file(
        path, AUTHORIZATIONS, {"hcpcs": "upper", "modifier": "upper"}, column_map
    )
    start = side.dates("start_date", today)
    end = side.dates("end_date", today)
    units = side.whole_numbers("units", maximum=MAX_AUTHORIZED_UNITS)
    side.reject_unparsed_dates("start_date", start)
    side.reject_unparsed_dates("end_date", end)
    side.reject(side.text["units"].present & np.isnan(units), "units", "is not a whole number of 0 or more")
    side.reject((start != MISSING) & (end != MISSING) & (end < start), "end_date", "is before start_date")
    keep = side.usable
    frame = pd.DataFrame(
        {
            "authorization_id": side.values("authorization_id")[keep],
            "member_id": side.values("member_id")[keep],
            "hcpcs": side.values("hcpcs")[keep],
            "modifier": side.values("modifier")[keep],
            "start_day": start[keep],
            "end_day": end[keep],
            "units": np.nan_to_num(units[keep]).astype(np.int64),
        }
    )
    duplicated = frame["authorization_id"].duplicated(keep="first").to_numpy()
    if duplicated.any():
        rows = side.rows[keep][duplicated]
        bad = np.isin(side.rows, rows)
        side.reject(bad, "authorization_id", "repeats an earlier authorization's id")
        frame = frame[~duplicated].reset_index(drop=True)
    return Authorizations(frame, side)
