"""The side files of a sample: authorizations, stays, staff, enrollment and plans (SPEC section 2).

They describe the same members and staff as the export: authorizations cover
part of the units some members bill beyond an annual cap, stays are the ones
the lines' member_setting follows, and the staff file holds the credentials
the lines' staff_credential shows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from cmclaims.sample.calendar import Calendar, day_of
from cmclaims.sample.encounters import Encounters
from cmclaims.sample.plan import ServicePlan
from cmclaims.sample.population import Members, Staff, a_share
from cmclaims.sample.problems import kind
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


LATE_PLAN_SHARE = 0.08  # of members served: their plan is signed a few weeks into their service
NO_PLAN_SHARE = 0.02  # of members served: no plan on file at all
MISSED_REVIEW_SHARE = 0.15  # of members whose plan is reviewed periodically: a review comes late or never
FOLLOWUP_STAY_SHARE = 0.04  # of members served, where the payer requires follow-up: a stay to follow up
_PLANS_STREAM, _FOLLOWUP_STREAM = 0x91A45, 0xF0110


def _first_and_last_days(lines: Encounters, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The members with lines, and each one's first and last service day.

    A line whose date was mistyped (next year's year: problems.FUTURE_DAYS) is no real service: plans and
    follow-ups are never dated after the export's real last day, which would be in the future.
    """
    real = lines.problem != kind("bad_date")
    frame = pd.DataFrame({"member": lines.member[real], "day": lines.day[real]}).groupby("member")["day"] \
        .agg(["min", "max"])
    return frame.index.to_numpy(), frame["min"].to_numpy().astype(np.int64), frame["max"].to_numpy().astype(np.int64)


def plans_table(seed: int, lines: Encounters, plan: ServicePlan, members: Members) -> pa.Table:
    """The plans the profile requires (--plans), signed for the members served: most before their first
    service, a share late, a few never; periodic reviews, a share of them missed.

    Drawn from a stream of its own, so the export is the same with or without it.
    """
    requirements = plan.profile.compliance.plans
    empty = {"member_id": pa.array([], pa.string()), "plan_type": pa.array([], pa.string()),
             "signed_date": pa.array([], pa.string())}
    if not requirements or lines.size == 0:
        return pa.table(empty)
    required = requirements[0]
    rng = np.random.default_rng([seed, _PLANS_STREAM])
    served, first, last = _first_and_last_days(lines, members.count)
    n = served.size
    late = rng.random(n) < LATE_PLAN_SHARE
    signed = np.where(late, first + rng.integers(5, 45, n), first - rng.integers(0, 20, n))
    if required.review_months is not None:
        signed = np.where(late, signed, first - rng.integers(30, 330, n))  # the plan in force from the year before
    keep = rng.random(n) >= NO_PLAN_SHARE
    member_rows, days = [served[keep]], [signed[keep]]
    if required.reviewed:
        missed = rng.random(n) < MISSED_REVIEW_SHARE
        previous = signed.copy()
        for _ in range(8):  # a review every interval until the member's last service
            if required.review_days is not None:
                step = np.where(missed, required.review_days + rng.integers(5, 40, n),
                                required.review_days - rng.integers(0, 15, n))
                following = previous + step
            else:
                months = required.review_months or 12
                following = np.where(missed, previous + 400, previous + months * 30 - rng.integers(0, 20, n))
            due = keep & (following <= last)
            if not due.any():
                break
            member_rows.append(served[due])
            days.append(following[due])
            previous = np.where(due, following, previous)
            missed = missed & (rng.random(n) < 0.5)
    member = np.concatenate(member_rows)
    day = np.concatenate(days).astype(np.int32)
    order = np.lexsort((day, members.number[member]))
    return pa.table({
        "member_id": fixed_ids("M", members.number[member][order], 7),
        "plan_type": pa.array([required.plan_type] * member.size, pa.string()),
        "signed_date": iso_dates(day[order]),
    })


def followup_stays_table(seed: int, lines: Encounters, plan: ServicePlan, members: Members, stays: pa.Table,
                         calendar: Calendar) -> pa.Table:
    """Short stays in the settings whose discharge the payer wants followed up (crisis, inpatient, php),
    for members with no other stay, so that `cmclaims compliance` has discharges to check.

    Drawn from a stream of its own: the export is the same with or without them.
    """
    followups = plan.profile.compliance.followups
    columns = ["member_id", "setting", "admit_date", "discharge_date", "discharge_time"]
    if not followups or lines.size == 0:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    rng = np.random.default_rng([seed, _FOLLOWUP_STREAM])
    served, first, last = _first_and_last_days(lines, members.count)
    ids = np.char.add("M", np.char.zfill(members.number[served].astype(str), 7))
    taken = np.isin(ids, np.asarray(stays.column("member_id").to_pylist(), dtype=object).astype(str))
    chosen = np.flatnonzero(~taken & (rng.random(served.size) < FOLLOWUP_STAY_SHARE) & (last - first > 20))
    if chosen.size == 0:  # a small night: no member to follow up (numpy's zfill fails on no value)
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    settings = np.array([s for f in followups for s in f.settings], dtype=object)
    setting = settings[rng.integers(0, settings.size, chosen.size)]
    admit = first[chosen] + rng.integers(0, np.maximum(last[chosen] - first[chosen] - 10, 1))
    discharge = np.minimum(admit + rng.integers(1, 9, chosen.size), calendar.last)
    hours = rng.integers(8, 18, chosen.size)
    timed = np.isin(setting, [s for f in followups if f.within_hours is not None for s in f.settings])
    clock = np.char.add(np.char.zfill(hours.astype(str), 2), ":00")
    order = np.lexsort((admit, members.number[served[chosen]]))
    return pa.table({
        "member_id": pa.array(ids[chosen][order].tolist(), pa.string()),
        "setting": pa.array(setting[order].tolist(), pa.string()),
        "admit_date": iso_dates(admit[order].astype(np.int32)),
        "discharge_date": iso_dates(discharge[order].astype(np.int32)),
        "discharge_time": pa.array(np.where(timed, clock, "")[order].tolist(), pa.string(),
                                   mask=~timed[order]),
    })
