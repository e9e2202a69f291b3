"""The side files of a sample: authorizations, stays and staff (SPEC section 2).

They describe the same members and staff as the export: authorizations cover
part of the units some members bill beyond an annual cap, stays are the ones
the lines' member_setting follows, and the staff file holds the credentials
the lines' staff_credential shows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from cmclaims.sample.calendar import Calendar, day_of
from cmclaims.sample.encounters import Encounters
from cmclaims.sample.plan import ServicePlan
from cmclaims.sample.population import Members, Staff, a_share
from cmclaims.sample.rates import ProblemRates
from cmclaims.sample.stays import NONE, OPEN, Stays
from cmclaims.sample.table import fixed_ids

ROUTINE_AUTHORIZATIONS = 0.01  # share of members with an ordinary authorization for their main service
YEAR_END = dt.date(2026, 12, 31)


def iso_dates(days: np.ndarray) -> pa.Array:
    """ISO text of day numbers; null where the day is OPEN."""
    text = np.where(days == OPEN, 0, days).astype("datetime64[D]").astype(str)
    return pa.array(text.tolist(), type=pa.string(), mask=days == OPEN)


def authorizations_table(rng: np.random.Generator, lines: Encounters, plan: ServicePlan, members: Members,
                         calendar: Calendar, rates: ProblemRates) -> pa.Table:
    """Authorizations covering part of the excess of members over an annual cap, and a few routine ones."""
    member_rows: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    modifiers: list[np.ndarray] = []
    units: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    primary_code = np.array([s.hcpcs for s in plan.services], dtype=object)[members.primary_service]
    for cap in plan.profile.annual_caps:
        capped = np.isin(lines.code, [plan.codes.index(c) for c in cap.codes])
        used = np.bincount(lines.member, weights=np.where(capped, lines.units, 0), minlength=members.count)
        over = np.flatnonzero(a_share(rng, used > cap.units, rates.authorized_over_cap))
        excess = used[over] - cap.units
        member_rows.append(over)
        codes.append(np.where(np.isin(primary_code[over], cap.codes), primary_code[over], cap.codes[0]))
        modifiers.append(np.full(over.size, None, dtype=object))
        units.append(np.ceil(excess * rng.uniform(0.3, 1.1, over.size)).astype(np.int64))
        starts.append(calendar.first + rng.integers(60, 180, over.size))
    routine = np.flatnonzero(a_share(rng, np.ones(members.count, dtype=bool), ROUTINE_AUTHORIZATIONS))
    levels = np.array([s.level or None for s in plan.services], dtype=object)
    member_rows.append(routine)
    codes.append(primary_code[routine])
    modifiers.append(levels[members.primary_service[routine]])
    units.append(rng.integers(50, 301, routine.size))
    starts.append(np.full(routine.size, calendar.first))
    member = np.concatenate(member_rows).astype(np.int64)
    start = np.concatenate(starts).astype(np.int32)
    count = member.size
    return pa.table({
        "authorization_id": fixed_ids("PA", 1 + np.arange(count), 8),
        "member_id": fixed_ids("M", members.number[member], 7),
        "hcpcs": pa.array(np.concatenate(codes).tolist(), type=pa.string()),
        "modifier": pa.array(np.concatenate(modifiers).tolist(), type=pa.string()),
        "start_date": iso_dates(start),
        "end_date": iso_dates(np.full(count, day_of(YEAR_END), np.int32)),
        "units": pa.array(np.concatenate(units).astype(np.int64)),
    })


def stays_table(stays: Stays, members: Members) -> pa.Table:
    """One row per stay, in admission order; a blank discharge date when the member is still there."""
    rows = np.flatnonzero(stays.kind != NONE)
    rows = rows[np.lexsort((members.number[rows], stays.admit[rows]))]
    return pa.table({
        "member_id": fixed_ids("M", members.number[rows], 7),
        "setting": pa.array([members.settings[s] for s in stays.setting[rows].tolist()], type=pa.string()),
        "admit_date": iso_dates(stays.admit[rows]),
        "discharge_date": iso_dates(stays.discharge[rows]),
    })


def staff_table(staff: Staff) -> pa.Table:
    """One row per staff member with credentials, trainings and birth date."""
    return pa.table({
        "staff_id": fixed_ids("S", staff.number, 6),
        "credentials": pa.array(staff.credentials, type=pa.string()),
        "trainings": pa.array([t or None for t in staff.trainings], type=pa.string()),
        "birth_date": iso_dates(staff.birth_day),
    })
