"""The encounter lines of a sample: who was served, when, by whom, for how long, how it was billed.

Lines are columns of small integers (indices into the plan's and the
vocabularies' lists) until the export table is built, so a million lines are
a few arrays and every step is a handful of numpy operations.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from cmclaims.sample import flavour
from cmclaims.sample.calendar import Calendar
from cmclaims.sample.plan import ServicePlan
from cmclaims.sample.population import Members, Staff
from cmclaims.sample.stays import DETENTION, INSTITUTION, JAIL, NONE, Stays

PLACE_CODES = tuple(sorted({p for places in flavour.PLACES.values() for p in places} | {flavour.CORRECTIONAL_PLACE}))
DAY_MINUTES = 24 * 60
NO = -1  # an empty value in any index column
STAY_FOCUS_SHARE = 0.5  # share of a stay member's lines near the stay's discharge or admission


@dataclass
class Encounters:
    """The lines, one array per column; text columns hold indices (NO for an empty value)."""

    member: np.ndarray  # int32 into members
    service: np.ndarray  # int16 into plan.services
    staff: np.ndarray  # int32 into staff
    day: np.ndarray  # int32 day number of the service
    start: np.ndarray  # int32 minutes after midnight
    duration: np.ndarray  # int32 minutes from start to end, travel included
    travel: np.ndarray  # int32 minutes
    activity: np.ndarray  # int8 into the activity vocabulary
    contact: np.ndarray  # int8 into the contact_type vocabulary
    present: np.ndarray  # int8: 1 Y, 0 N
    place: np.ndarray  # int8 into PLACE_CODES
    signed: np.ndarray  # int8: 1 Y, 0 N
    setting: np.ndarray  # int8 into the setting vocabulary
    program: np.ndarray  # int8 into plan.programs
    code: np.ndarray  # int16 into plan.codes
    modifier1: np.ndarray  # int16 into plan.modifiers
    modifier2: np.ndarray  # int16 into plan.modifiers
    problem: np.ndarray  # int8: 0 none, else 1 + index into rates.LINE_PROBLEMS
    units: np.ndarray  # int32: units as the EHR computed them
    bad_date: np.ndarray  # int8: NO, or index into problems.BAD_SERVICE_DATES (the text replaces the date)
    bad_birth_date: np.ndarray  # int8: NO, or index into problems.BAD_BIRTH_DATES
    no_end: np.ndarray  # bool: the end time is missing
    claim: np.ndarray  # int64: the number in claim_id

    @property
    def size(self) -> int:
        """Number of lines."""
        return int(self.member.size)

    def take(self, rows: np.ndarray) -> Encounters:
        """The lines `rows` (an index or a mask), as a new set of lines."""
        return Encounters(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Encounters]) -> Encounters:
        """The lines of every part, in order."""
        return Encounters(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Encounters)})


def packed_order(*keys: np.ndarray) -> np.ndarray:
    """Row order sorting by `keys` (first = most significant), each a non-negative integer column.

    The keys are packed into one uint64 and sorted once, several times faster than
    np.lexsort on millions of rows; raises if they do not fit in 64 bits.
    """
    packed = np.zeros(keys[0].size, dtype=np.uint64)
    bits_used = 0
    for key in keys:
        low = int(key.min()) if key.size else 0
        width = max(int(key.max()) - low, 0).bit_length() if key.size else 0
        bits_used += width
        packed = (packed << np.uint64(width)) | (key.astype(np.int64) - low).astype(np.uint64)
    if bits_used > 64:
        raise ValueError(f"sort keys need {bits_used} bits")
    return np.argsort(packed, kind="stable")


def _tie_breaker(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random integers that order equal keys by chance, reproducibly."""
    return rng.integers(0, 1 << 20, n)


def _weighted(rng: np.random.Generator, shares: dict[str, float], vocabulary: tuple[str, ...], n: int) -> np.ndarray:
    names = list(shares)
    weights = np.array([shares[k] for k in names], dtype=np.float64)
    codes = np.array([vocabulary.index(k) for k in names], dtype=np.int8)
    return codes[rng.choice(len(names), n, p=weights / weights.sum())]


def _days(rng: np.random.Generator, n: int, member: np.ndarray, members: Members, stays: Stays,
          calendar: Calendar) -> np.ndarray:
    """Service days: most across the period, heavy members' in their busy month, stays' near their dates."""
    low = np.full(n, calendar.first, np.int64)
    high = np.full(n, calendar.last, np.int64)
    busy = members.heavy[member] & (rng.random(n) < flavour.BUSY_MONTH_SHARE)
    low[busy] = members.busy_month[member[busy]]
    high[busy] = low[busy] + 27  # within the month, February included: monthly limits count calendar months
    # Half of a stay member's lines fall in the stay's focus window; less when the window runs
    # out of the period, so that a clipped window does not pile them onto a few days.
    focus_low, focus_high = stays.focus_low[member], stays.focus_high[member]
    inside = np.minimum(focus_high, calendar.last) - np.maximum(focus_low, calendar.first) + 1
    share = STAY_FOCUS_SHARE * np.clip(inside, 0, None) / (focus_high - focus_low + 1)
    focus = np.isin(stays.kind[member], [INSTITUTION, JAIL, DETENTION]) & (rng.random(n) < share)
    low[focus] = stays.focus_low[member[focus]]
    high[focus] = stays.focus_high[member[focus]]
    return calendar.draw(rng, n, low, high)


def _staff(rng: np.random.Generator, n: int, member: np.ndarray, service: np.ndarray, plan: ServicePlan,
           members: Members, staff: Staff) -> np.ndarray:
    """Each line's staff member: mostly the member's own case manager in the pool that gives the service."""
    pool = plan.pool_of_service[service].astype(np.int64)
    child = members.age[member] <= plan.child_max_age
    for population, child_pool in plan.child_pools.items():  # Michigan: children by specialised staff
        code = members.populations.index(population)
        pool[child & plan.child_service[service] & (members.population[member] == code)] = child_pool
    size = staff.size[pool]
    own = (members.staff_seed[member] + pool * 7919) % size  # a prime step: other pools, other people
    other = rng.integers(0, size)
    return (staff.start[pool] + np.where(rng.random(n) < flavour.PRIMARY_STAFF_SHARE, own, other)).astype(np.int32)


def _one_staff_a_day(staff_row: np.ndarray, member: np.ndarray, day: np.ndarray, service: np.ndarray,
                     plan: ServicePlan, staff: Staff) -> None:
    """A member seen twice in a day is seen by the same person, when that person may give both services.

    Two staff serving one member at the same hour is a finding (CM404); an
    agency rarely does it, so the sample should not do it by chance.
    """
    order = packed_order(day, member)
    same = np.zeros(order.size, dtype=bool)
    same[1:] = (member[order][1:] == member[order][:-1]) & (day[order][1:] == day[order][:-1])
    first = order[np.maximum.accumulate(np.where(~same, np.arange(order.size), 0))]  # the day's first line
    rows = order[same]
    fits = plan.qualifies[staff.pool[staff_row[first[same]]], service[rows]]
    staff_row[rows[fits]] = staff_row[first[same][fits]]


def _durations(rng: np.random.Generator, n: int, service: np.ndarray, plan: ServicePlan) -> np.ndarray:
    """Minutes of contact: mostly 15-75 for 15-minute codes, longer for hourly and per diem programs."""
    unit = np.array([plan.profile.codes[s.hcpcs].code.unit_minutes or 0 for s in plan.services])[service]
    low, high = flavour.SESSION_RANGE
    session = np.exp(rng.normal(np.log(flavour.SESSION_MEDIAN_MINUTES), flavour.SESSION_SPREAD, n))
    minutes = np.clip(np.rint(session), low, high).astype(np.int32)
    hourly_low, hourly_high = flavour.HOURLY_SESSION_RANGE
    diem_low, diem_high = flavour.PER_DIEM_SESSION_RANGE
    minutes = np.where(unit == 60, rng.integers(hourly_low, hourly_high + 1, n), minutes)
    return np.where(unit == 0, rng.integers(diem_low, diem_high + 1, n), minutes).astype(np.int32)


def _modifiers(n: int, member: np.ndarray, service: np.ndarray, plan: ServicePlan,
               members: Members) -> tuple[np.ndarray, np.ndarray]:
    """modifier1 and modifier2: the code's first modifier (Oklahoma HE/HF/HV) then the level, or the level alone."""
    modifier1 = np.full(n, NO, np.int16)
    modifier2 = np.full(n, NO, np.int16)
    for s, firsts in enumerate(plan.first_modifiers):
        rows = service == s
        level = plan.level_modifier[s]
        if firsts:
            choice = np.array(firsts, dtype=np.int16)
            modifier1[rows] = choice[np.minimum(members.first_modifier[member[rows]], len(firsts) - 1)]
            modifier2[rows] = level
        else:
            modifier1[rows] = level
    return modifier1, modifier2


def _programs(n: int, member: np.ndarray, service: np.ndarray, plan: ServicePlan, members: Members) -> np.ndarray:
    program = np.full(n, NO, np.int8)
    for s, choices in enumerate(plan.service_programs):
        if choices:
            rows = service == s
            program[rows] = np.array(choices, np.int8)[members.staff_seed[member[rows]] % len(choices)]
    return program


def _contacts(rng: np.random.Generator, n: int, activity: np.ndarray, vocabulary: dict[str, tuple[str, ...]]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contact type, member present and place of service, which go together."""
    contacts = vocabulary["contact_type"]
    contact = _weighted(rng, flavour.CONTACT_TYPES, contacts, n)
    present_share = np.array([flavour.MEMBER_PRESENT.get(c, 0.0) for c in contacts])[contact]
    present = (rng.random(n) < present_share).astype(np.int8)
    activities = vocabulary["activity"]
    present[activity == activities.index("collateral")] = 0  # collateral contacts are with others
    present[activity == activities.index("form_filling")] = 1  # forms are filled with the member
    place = np.full(n, NO, np.int8)
    for c, name in enumerate(contacts):
        rows = contact == c
        if name in flavour.PLACES and rows.any():
            place[rows] = _weighted(rng, flavour.PLACES[name], PLACE_CODES, int(rows.sum()))
    return contact, present, place


def draw_encounters(rng: np.random.Generator, n: int, plan: ServicePlan, members: Members, staff: Staff,
                    stays: Stays, calendar: Calendar) -> Encounters:
    """`n` ordinary lines, times not yet scheduled and units not yet computed."""
    catalog = plan.profile.catalog
    vocabulary = {name: catalog.vocabulary(name) for name in ("activity", "contact_type")}
    member = rng.choice(members.count, n, p=members.weight).astype(np.int32)
    day = _days(rng, n, member, members, stays, calendar)
    service = np.where(
        rng.random(n) < flavour.PRIMARY_SERVICE_SHARE, members.primary_service[member],
        members.secondary_service[member],
    ).astype(np.int16)
    staff_row = _staff(rng, n, member, service, plan, members, staff)
    _one_staff_a_day(staff_row, member, day, service, plan, staff)
    contact_minutes = _durations(rng, n, service, plan)
    travel = np.where(rng.random(n) < flavour.TRAVEL_SHARE, rng.integers(1, 7, n) * 5, 0).astype(np.int32)

    activity = _weighted(rng, flavour.ACTIVITIES, vocabulary["activity"], n)
    soar = plan.profile.activities.soar
    if soar is not None:  # SOAR work, mostly by staff trained in it
        trained = staff.soar_trained[staff_row] | (rng.random(n) < 0.1)
        activity[(rng.random(n) < flavour.SOAR_SHARE) & trained] = vocabulary["activity"].index(soar.activity)
    contact, present, place = _contacts(rng, n, activity, vocabulary)

    setting = members.setting[member].copy()
    in_stay = stays.covers(member, day)
    setting[in_stay] = stays.setting[member[in_stay]]
    kind = np.where(in_stay, stays.kind[member], NONE)
    # Held members are seen where they are held: always in jail, often in detention.
    onsite = (kind == JAIL) | ((kind == DETENTION) & (rng.random(n) < 0.4))
    place[onsite] = PLACE_CODES.index(flavour.CORRECTIONAL_PLACE)
    contact[onsite] = vocabulary["contact_type"].index("face_to_face")
    present[onsite] = 1

    modifier1, modifier2 = _modifiers(n, member, service, plan, members)
    return Encounters(
        member=member,
        service=service,
        staff=staff_row,
        day=day,
        start=np.zeros(n, np.int32),
        duration=(contact_minutes + travel).astype(np.int32),
        travel=travel,
        activity=activity,
        contact=contact,
        present=present,
        place=place,
        signed=np.ones(n, np.int8),
        setting=setting,
        program=_programs(n, member, service, plan, members),
        code=plan.service_code[service].copy(),
        modifier1=modifier1,
        modifier2=modifier2,
        problem=np.zeros(n, np.int8),
        units=np.zeros(n, np.int32),
        bad_date=np.full(n, NO, np.int8),
        bad_birth_date=np.full(n, NO, np.int8),
        no_end=np.zeros(n, bool),
        claim=np.zeros(n, np.int64),
    )


def schedule(rng: np.random.Generator, lines: Encounters) -> None:
    """Start times: each case manager's sessions of a day one after another, from 8:00-9:30.

    Sessions of the same staff member never overlap unless a problem makes them:
    the lines of each (staff, day) are laid end to end with short gaps.
    """
    order = packed_order(lines.staff, lines.day, _tie_breaker(rng, lines.size))
    staff, day = lines.staff[order], lines.day[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (staff[1:] != staff[:-1]) | (day[1:] != day[:-1])
    group = np.cumsum(first) - 1
    low, high = flavour.DAY_STARTS
    day_start = low + rng.integers(0, (high - low) // 5 + 1, int(first.sum())) * 5
    gap_low, gap_high = flavour.GAP_MINUTES
    step = lines.duration[order] + rng.integers(gap_low // 5, gap_high // 5 + 1, order.size) * 5
    elapsed = np.cumsum(step) - step
    start = day_start[group] + elapsed - elapsed[first][group]
    # The rare day that runs past midnight ends at 23:59 instead.
    start = np.minimum(start, DAY_MINUTES - 1 - lines.duration[order])
    lines.start[order] = start


def ehr_units(minutes: np.ndarray, service: np.ndarray, plan: ServicePlan) -> np.ndarray:
    """Units the way an EHR computes them from minutes: the profile's rounding; one a day for per diem codes."""
    unit = np.array([plan.profile.codes[s.hcpcs].code.unit_minutes or 0 for s in plan.services])[service]
    size = np.maximum(unit, 1)
    whole = minutes // size
    more_than_half = (minutes + size - (size // 2 + 1)) // size
    timed = whole if plan.profile.rounding == "completed" else more_than_half
    return np.where(unit == 0, (minutes > 0).astype(np.int64), timed).astype(np.int32)


def number_claims(rng: np.random.Generator, lines: Encounters) -> Encounters:
    """The lines in export order (service date, staff, start time), numbered 1.. as claim ids."""
    order = packed_order(lines.day, lines.staff, lines.start, _tie_breaker(rng, lines.size))
    ordered = lines.take(order)
    ordered.claim = np.arange(1, ordered.size + 1, dtype=np.int64)
    return ordered
