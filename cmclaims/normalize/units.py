"""Billable minutes and the units they earn (SPEC section 4).

Billable minutes are the session's length less its travel minutes. A timed
code earns units by the profile's rounding: `midpoint` counts a unit once more
than half of it has passed (8-22 minutes is one 15-minute unit, 23-37 two; 31
minutes one hourly unit, 91 two), `completed` only whole units. A per diem code
earns one unit for any billable time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmclaims.normalize.lines import MISSING, Lines
from cmclaims.normalize.services import Services
from cmclaims.tables import Profile


@dataclass
class Units:
    """Per line: billable minutes, the units they earn, and what the claim bills."""

    minutes: np.ndarray  # int32, 0 when nothing is billable or the times are unusable
    earned: np.ndarray  # int32 units the documented time earns
    billed: np.ndarray  # int32 units the export billed, or `earned` where it said nothing
    unit_minutes: np.ndarray  # int32 length of the line's unit (0 for per diem, -1 unknown code)
    per_diem: np.ndarray  # bool


def earned_units(minutes: np.ndarray, unit_minutes: np.ndarray, rounding: str) -> np.ndarray:
    """Units earned by `minutes` of billable time for timed units of `unit_minutes`."""
    unit = np.maximum(unit_minutes, 1)
    if rounding == "completed":
        return (minutes // unit).astype(np.int32)
    # More than half a unit counts: the remainder must reach unit // 2 + 1 minutes.
    return ((minutes + unit - (unit // 2 + 1)) // unit).astype(np.int32)


def compute_units(lines: Lines, services: Services, profile: Profile) -> Units:
    """Billable minutes, earned units and billed units of every line."""
    frame = lines.frame
    start = frame["start_minute"].to_numpy()
    end = frame["end_minute"].to_numpy()
    travel = np.nan_to_num(frame["travel"].to_numpy(), nan=0.0)
    usable = (start != MISSING) & (end != MISSING)
    minutes = np.where(usable, end.astype(np.int64) - start - np.ceil(travel), 0)
    minutes = np.clip(minutes, 0, None).astype(np.int32)

    per_code_minutes = np.array(
        [rule.code.unit_minutes or 0 for rule in profile.codes.values()] + [-1], dtype=np.int32
    )
    per_code_diem = np.array([rule.code.unit == "per_diem" for rule in profile.codes.values()] + [False])
    unit_minutes = per_code_minutes[services.code_index]  # index -1 picks the appended "unknown"
    per_diem = per_code_diem[services.code_index]
    earned = np.where(per_diem, (minutes > 0).astype(np.int32), earned_units(minutes, unit_minutes, profile.rounding))
    earned = np.where(unit_minutes < 0, 0, earned).astype(np.int32)
    export = frame["units_export"].to_numpy()
    billed = np.where(np.isnan(export), earned, np.nan_to_num(export, nan=0.0)).astype(np.int32)
    return Units(minutes, earned, billed, unit_minutes, per_diem)
