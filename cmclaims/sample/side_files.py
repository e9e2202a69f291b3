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
TRAINED_DURING_PERIOD = 0.25  # of staff holding a training: certified in it during the period (two dated rows)
LATE_EPISODE_SHARE = 0.5  # of members in a barred category: the episode begins inside the period
WAIVER_SHARE = 0.3  # of members with IDD, where the payer has waiver programs: enrolled in one
_STAFF_DATES_STREAM, _ENROLLMENT_STREAM = 0x57AFF, 0xE7801  # random streams of their own (seeded with the sample's)
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


def staff_table(staff: Staff, seed: int, calendar: Calendar) -> pa.Table:
    """One row per staff member with credentials, trainings and birth date; some trained during the period.

    A staff member certified in a training during the period (a share of those
    holding one) has two dated rows: without the training until the day
    before, with it from the certification date (SPEC section 2, dated
    --staff rows). Their lines before that date that need the training are
    the ones the validator refuses. Drawn from a stream of its own, so the
    export is the same with or without the dates.
    """
    rng = np.random.default_rng([seed, _STAFF_DATES_STREAM])
    trainings = [t or "" for t in staff.trainings]
    trained = np.array([bool(t) for t in trainings]) & (rng.random(len(trainings)) < TRAINED_DURING_PERIOD)
    certified = calendar.first + rng.integers(30, max(31, calendar.last - calendar.first - 30), len(trainings))
    ids = fixed_ids("S", staff.number, 6).to_pylist()
    rows: list[tuple[str, str, str, int, int, int]] = []  # id, credentials, trainings, birth, start, end
    for i, sid in enumerate(ids):
        if trained[i]:
            before = ";".join(trainings[i].split(";")[:-1])  # the last training is the new one
            rows.append((sid, staff.credentials[i], before, int(staff.birth_day[i]), OPEN, int(certified[i]) - 1))
            rows.append((sid, staff.credentials[i], trainings[i], int(staff.birth_day[i]), int(certified[i]), OPEN))
        else:
            rows.append((sid, staff.credentials[i], trainings[i], int(staff.birth_day[i]), OPEN, OPEN))
    column: list[tuple] = list(zip(*rows, strict=True)) if rows else [()] * 6
    return pa.table({
        "staff_id": pa.array(column[0], type=pa.string()),
        "credentials": pa.array(column[1], type=pa.string()),
        "trainings": pa.array([t or None for t in column[2]], type=pa.string()),
        "birth_date": iso_dates(np.array(column[3], dtype=np.int32)),
        "start_date": iso_dates(np.array(column[4], dtype=np.int32)),
        "end_date": iso_dates(np.array(column[5], dtype=np.int32)),
    })


def enrollment_table(seed: int, members: Members, plan: ServicePlan, calendar: Calendar) -> pa.Table:
    """Each member's enrollment as a dated episode (--enrollment), and Michigan's waiver programs.

    The episode of a member's category begins before the period and is still
    open, except for some members in a category the payer bars: theirs begins
    inside the period, so their earlier lines are billable and the later ones
    are not. Members with IDD get a waiver episode (children CWP, adults HSW)
    where the profile requires a credential for a program (Michigan). Drawn
    from a stream of its own, so the export is the same with or without it.
    """
    rng = np.random.default_rng([seed, _ENROLLMENT_STREAM])
    profile = plan.profile
    n = members.count
    names = np.array(members.enrollments, dtype=object)[members.enrollment]
    start = calendar.first - rng.integers(30, 400, n)
    barred = np.isin(names, list(profile.eligibility.barred_enrollments))
    late = barred & (rng.random(n) < LATE_EPISODE_SHARE)
    start[late] = calendar.first + rng.integers(0, calendar.last - calendar.first + 1, int(late.sum()))
    member = [np.arange(n)]
    enrollment = [names]
    starts = [start]
    ends = [np.full(n, OPEN)]
    idd = members.population == members.populations.index("IDD") if "IDD" in members.populations else np.zeros(n, bool)
    for policy in profile.staff.by_enrollment:
        chosen = np.flatnonzero(idd & (rng.random(n) < WAIVER_SHARE))
        child = members.age[chosen] < 18
        member.append(chosen)
        # The last program of the list is the children's (Michigan: HSW, CWP).
        enrollment.append(np.where(child, policy.enrollments[-1], policy.enrollments[0]).astype(object))
        starts.append(calendar.first + rng.integers(-200, 200, chosen.size))
        ends.append(np.full(chosen.size, OPEN))
    rows = np.concatenate(member)
    start_days = np.concatenate(starts).astype(np.int32)
    order = np.lexsort((start_days, members.number[rows]))
    return pa.table({
        "member_id": fixed_ids("M", members.number[rows][order], 7),
        "enrollment": pa.array(np.concatenate(enrollment)[order].tolist(), type=pa.string()),
        "start_date": iso_dates(start_days[order]),
        "end_date": iso_dates(np.concatenate(ends).astype(np.int32)[order]),
    })
