"""Putting realistic mistakes into a sample, at the rates of `rates.ProblemRates`.

Each line draws at most one line problem. Problems that change who gave a
service or add lines (wrong credential, over-limit days) are applied before
the day is scheduled, so times stay consistent; the rest change values after.
Member problems (barred settings, heavy use, stays) are drawn with the members.
"""

from __future__ import annotations

import numpy as np

from cmclaims.sample.encounters import NO, Encounters, ehr_units
from cmclaims.sample.plan import ServicePlan
from cmclaims.sample.population import Staff
from cmclaims.sample.rates import LINE_PROBLEMS, ProblemRates

# What an export holds when a date went wrong: impossible dates and words.
BAD_SERVICE_DATES = ("2026-02-30", "2026-04-31", "2026-13-05", "N/A", "TBD")
BAD_BIRTH_DATES = ("1987-02-29", "unknown", "00/00/0000")
FUTURE_DAYS = 365  # a service date typed with next year's year
# Activities that are never case management, for profiles that list none of their own.
NOT_CASE_MANAGEMENT = ("transport", "shopping", "psychotherapy")
OVER_LIMIT_COPIES = 3  # extra long sessions on one member's day
OVER_LIMIT_MINUTES = (60, 121)


def kind(name: str) -> int:
    """The `problem` value of a line problem."""
    return 1 + LINE_PROBLEMS.index(name)


def _applicable(plan: ServicePlan) -> dict[str, bool]:
    """Problems that can be made in this profile's sample (a wrong credential needs credentials)."""
    has_credentials = any(s.credentials for s in plan.services) or plan.barred_pool >= 0
    return {name: name != "wrong_credential" or has_credentials for name in LINE_PROBLEMS}


def draw_problems(rng: np.random.Generator, lines: Encounters, plan: ServicePlan, rates: ProblemRates) -> None:
    """Give each line at most one line problem (its `problem`)."""
    applicable = _applicable(plan)
    shares = np.array([rate if applicable[name] else 0.0 for name, rate in rates.per_line.items()])
    p = np.concatenate([[max(0.0, 1.0 - shares.sum())], shares])
    lines.problem[:] = rng.choice(p.size, lines.size, p=p / p.sum()).astype(np.int8)


def swap_staff(rng: np.random.Generator, lines: Encounters, plan: ServicePlan, staff: Staff) -> None:
    """Wrong-credential lines go to staff who may not give the service (Arizona: a DDD case manager)."""
    rows = _rows(lines, "wrong_credential")
    candidate = rng.integers(0, staff.count, rows.size)
    if plan.barred_pool >= 0:
        barred = rng.random(rows.size) < 0.5
        pool = plan.barred_pool
        candidate[barred] = staff.start[pool] + rng.integers(0, staff.size[pool], int(barred.sum()))
    unfit = ~plan.qualifies[staff.pool[candidate], lines.service[rows]]
    lines.staff[rows[unfit]] = candidate[unfit]
    lines.problem[rows[~unfit]] = 0  # the draw found a qualified person: no problem after all


def over_limit_days(rng: np.random.Generator, lines: Encounters, plan: ServicePlan,
                    count: int) -> tuple[Encounters, np.ndarray]:
    """About `count` extra sessions on days a member already has a limited service, and their source lines.

    Three extra sessions of an hour or more on top of the day's own line cross a
    16-unit daily limit; for a per diem code one more session is a second unit of the day.
    """
    per_diem = np.array([plan.profile.codes[s.hcpcs].code.unit == "per_diem" for s in plan.services])
    daily = np.array([s.daily_units is not None for s in plan.services])
    candidates = np.flatnonzero((daily | per_diem)[lines.service] & (lines.problem == 0))
    sources = rng.permutation(candidates)
    copies = np.where(per_diem[lines.service[sources]], 1, OVER_LIMIT_COPIES)
    sources = sources[np.cumsum(copies) <= count]
    extra = lines.take(np.repeat(sources, copies[: sources.size]))
    long_sessions = ~per_diem[extra.service]
    extra.travel[long_sessions] = 0
    extra.duration[long_sessions] = rng.integers(*OVER_LIMIT_MINUTES, int(long_sessions.sum()))
    return extra, sources


def _foreign(rng: np.random.Generator, rows: np.ndarray, service: np.ndarray, plan: ServicePlan) -> np.ndarray:
    out = np.full(rows.size, NO, np.int16)
    for s, choices in enumerate(plan.foreign_modifiers):
        mine = service[rows] == s
        if choices and mine.any():
            out[mine] = np.array(choices, np.int16)[rng.integers(0, len(choices), int(mine.sum()))]
    return out


def _wrong_modifiers(rng: np.random.Generator, lines: Encounters, plan: ServicePlan) -> None:
    rows = _rows(lines, "wrong_modifier")
    level_first = (lines.modifier2[rows] != NO) & (rng.random(rows.size) < 0.5)  # `TF HE` for `HE TF`
    swapped = rows[level_first]
    lines.modifier1[swapped], lines.modifier2[swapped] = lines.modifier2[swapped], lines.modifier1[swapped].copy()
    other = rows[~level_first]  # another payer's modifier in the level's place
    foreign = _foreign(rng, other, lines.service, plan)
    target = np.where(lines.modifier1[other] != NO, 2, 1)  # replace the level, or add after the only one
    lines.modifier2[other[target == 2]] = foreign[target == 2]
    lines.modifier1[other[target == 1]] = foreign[target == 1]


def _non_billable(rng: np.random.Generator, lines: Encounters, plan: ServicePlan) -> None:
    """Activities the payer does not pay, or pays only with the member present (and the member was not)."""
    rows = _rows(lines, "non_billable_activity")
    vocabulary = plan.profile.catalog.vocabulary("activity")
    policy = plan.profile.activities
    names = policy.not_billable or NOT_CASE_MANAGEMENT
    choices = np.array([vocabulary.index(a) for a in names], np.int8)
    lines.activity[rows] = choices[rng.integers(0, choices.size, rows.size)]
    if policy.need_member_present:  # a third: paperwork the member was not there for
        absent = rows[rng.random(rows.size) < 0.33]
        needing = np.array([vocabulary.index(a) for a in policy.need_member_present], np.int8)
        lines.activity[absent] = needing[rng.integers(0, needing.size, absent.size)]
        lines.present[absent] = 0


def _rows(lines: Encounters, name: str) -> np.ndarray:
    return np.flatnonzero(lines.problem == kind(name))


def _time_problems(rng: np.random.Generator, lines: Encounters, plan: ServicePlan) -> tuple[np.ndarray, np.ndarray]:
    """Sessions of a few minutes; travel-only lines. Returns the short rows and the all-travel rows."""
    short = _rows(lines, "short_session")
    lines.duration[short] = rng.integers(5, 8, short.size)
    lines.travel[short] = 0
    travel = _rows(lines, "travel_only")
    drive = travel[rng.random(travel.size) < 0.5]  # travel covering the whole session ...
    lines.travel[drive] = lines.duration[drive] + rng.integers(0, 3, drive.size) * 5
    travel_activity = plan.profile.catalog.vocabulary("activity").index("travel")
    lines.activity[np.setdiff1d(travel, drive)] = travel_activity  # ... or a line that says it is travel
    return short, drive


def _units(rng: np.random.Generator, lines: Encounters, plan: ServicePlan, short: np.ndarray,
           drive: np.ndarray) -> None:
    """The EHR's units: right for most lines; rounded up, counting travel, or off by one for a few."""
    lines.units[:] = ehr_units(np.maximum(lines.duration - lines.travel, 0), lines.service, plan)
    lines.units[short] = 1  # the EHR rounded the few minutes up to a unit
    lines.units[drive] = ehr_units(lines.duration[drive], lines.service[drive], plan)  # it billed the drive
    differ = _rows(lines, "units_differ")
    with_travel = lines.travel[differ] > 0
    counted_travel = ehr_units(lines.duration[differ], lines.service[differ], plan)
    off_by = np.array([1, -1, 2])[rng.integers(0, 3, differ.size)]
    lines.units[differ] = np.where(
        with_travel & (counted_travel != lines.units[differ]), counted_travel,
        np.maximum(lines.units[differ] + off_by, 0),
    )


def _unknown_codes(rng: np.random.Generator, lines: Encounters, plan: ServicePlan) -> None:
    """A code another payer pays, one cmclaims does not know, or none at all."""
    unknown = _rows(lines, "unknown_code")
    codes = np.append(plan.unpaid_codes, NO).astype(np.int16)
    lines.code[unknown] = codes[rng.integers(0, codes.size, unknown.size)]


def _bad_dates(rng: np.random.Generator, lines: Encounters) -> None:
    """An impossible service date, a service date a year ahead, or a birth date that is no date."""
    dated = _rows(lines, "bad_date")
    which = rng.integers(0, 3, dated.size)
    lines.bad_date[dated[which == 0]] = rng.integers(0, len(BAD_SERVICE_DATES), int((which == 0).sum()))
    lines.day[dated[which == 1]] += FUTURE_DAYS
    lines.bad_birth_date[dated[which == 2]] = rng.integers(0, len(BAD_BIRTH_DATES), int((which == 2).sum()))


def _documentation(rng: np.random.Generator, lines: Encounters) -> None:
    """Unsigned notes; lines without a contact type or a place of service."""
    lines.signed[_rows(lines, "unsigned_note")] = 0
    missing = _rows(lines, "missing_contact")
    no_contact = rng.random(missing.size) < 0.5
    lines.contact[missing[no_contact]] = NO
    lines.place[missing[~no_contact]] = NO


def apply_problems(rng: np.random.Generator, lines: Encounters, plan: ServicePlan) -> None:
    """Compute the EHR's units, then make every drawn line problem in the values."""
    short, drive = _time_problems(rng, lines, plan)
    _units(rng, lines, plan, short, drive)
    _wrong_modifiers(rng, lines, plan)
    _unknown_codes(rng, lines, plan)
    _bad_dates(rng, lines)
    lines.no_end[_rows(lines, "missing_end_time")] = True
    _non_billable(rng, lines, plan)
    _documentation(rng, lines)


def duplicate_lines(rng: np.random.Generator, lines: Encounters, count: int) -> Encounters:
    """`count` lines entered a second time (a new claim_id, everything else the same)."""
    return lines.take(rng.integers(0, lines.size, count))


def duplicate_claim_ids(rng: np.random.Generator, lines: Encounters, count: int) -> np.ndarray:
    """Claim ids used twice: half of `count` lines exported twice whole, half given to another line by mistake.

    The second kind is made in place; returns the rows to export twice.
    """
    whole = count // 2 + count % 2
    twice = rng.integers(0, lines.size, whole)
    reused = rng.integers(0, lines.size, count - whole)
    lines.claim[reused] = lines.claim[rng.integers(0, lines.size, reused.size)]
    return twice
