"""CM1: time and units (SPEC section 4)."""

from __future__ import annotations

import numpy as np

from cmclaims.rules.context import Context
from cmclaims.rules.registry import Flags, rule
from cmclaims.rules.words import as_text, clock, counted, per_distinct


@rule(
    "CM101",
    "units.no_billable_time",
    severity="error",
    message="no billable time: {detail}",
)
def no_billable_time(ctx: Context) -> Flags:
    """A line whose documented time earns no unit.

    What it checks:
        Billable minutes are the session (end - start) less its travel minutes.
        A session that ends at or before it starts, travel that takes the whole
        session, or too few minutes for one unit earns nothing. With 15-minute
        units and midpoint rounding a unit needs 8 minutes; an hourly unit 31.
    Why it matters:
        Payers pay only for time that earns a unit under their rounding; a
        claim for 0 units is denied, and billing travel is duplicate billing
        (Oklahoma: the rate already includes windshield time).
    Example:
        09:00 to 09:07, or 09:00 to 09:30 with 30 travel minutes.
    How to fix:
        Check the times in the note. If they are right, the contact is not
        billable; if the session was longer, correct the end time.
    Source:
        SPEC section 4; seeds/002 (Case Manager Travel Time).
    """
    units = ctx.units
    start, end = ctx.column("start_minute"), ctx.column("end_minute")
    travel = np.nan_to_num(ctx.column("travel"), nan=0.0)
    rows = np.flatnonzero(ctx.checkable & (units.earned == 0))
    per_diem = units.per_diem[rows]
    completed = ctx.profile.rounding == "completed"

    def explain(e: np.ndarray, s: np.ndarray, travel_bits: np.ndarray, m: np.ndarray, unit: np.ndarray,
                per_diem: np.ndarray) -> np.ndarray:
        t = travel_bits.view(np.float64)
        needed = np.where(completed, unit, unit // 2 + 1)
        length = e.astype(np.int64) - s
        return np.where(
            e <= s,
            "it ends at " + as_text(clock(e)) + ", not after its start at " + as_text(clock(s)),
            np.where(
                t >= length,
                "its travel (" + counted(np.ceil(t).astype(np.int64), "minute") + ") fills the whole "
                + as_text(length) + "-minute session",
                np.where(
                    per_diem.astype(bool),
                    "its travel minutes leave no billable minute for the day's unit",
                    "only " + counted(m, "billable minute") + ", and a " + as_text(unit)
                    + "-minute unit needs " + counted(needed, "minute"),
                ),
            ),
        )

    # The explanation depends only on these numbers: written once per distinct combination.
    detail = per_distinct(explain, end[rows], start[rows], travel[rows].view(np.int64), units.minutes[rows],
                          units.unit_minutes[rows], per_diem)
    return Flags(rows, {"detail": detail})


@rule(
    "CM102",
    "units.differ_from_time",
    severity="warning",
    effect="adjust",
    message="the export bills {billed} but {minutes} billable minutes earn {earned}; the clean file bills "
    "{clean_units}",
)
def units_differ(ctx: Context) -> Flags:
    """Units on the export that differ from what the documented time earns.

    What it checks:
        The export's units against the units the billable minutes earn under
        the payer's rounding (and one a day for a per diem code).
    Why it matters:
        Billing more units than the documented time supports is recouped in an
        audit; billing fewer leaves money owed unclaimed. The clean file bills
        the earned units; the line is marked adjusted.
    Example:
        units 4 on a 09:00-09:50 session with 5 travel minutes: 45 billable
        minutes earn 3 units.
    How to fix:
        Nothing, if the times are right: the clean file already bills the
        earned units. Otherwise correct the times in the note.
    Source:
        SPEC section 4.
    """
    units = ctx.units
    export = ctx.column("units_export")
    flagged = ctx.checkable & ~np.isnan(export) & (units.earned > 0) & (units.billed != units.earned)
    rows = np.flatnonzero(flagged)
    return Flags(
        rows,
        {"billed": counted(units.billed[rows], "unit"), "minutes": units.minutes[rows],
         "earned": counted(units.earned[rows], "unit")},
        units=units.earned[rows],
    )
