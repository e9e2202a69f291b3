"""Bench-only nights: a year of a large Michigan agency's export, realistic or terrible (`make bench`).

The shape (issue 13): per 5M lines about 125,000 members with about 40 lines a
year each, and about 5,000 staff with about four sessions a working day. Each
staff member has a caseload of about 25 members that fits the staff member's
role (the code they bill and the credential they hold), so an untouched line
is clean; then about 15% of lines get one problem each (units that disagree
with the time, travel or escort, an unsigned note, no contact type, a
credential that does not fit, an unknown modifier, a line exported twice, no
billable time, a date that does not parse).

- realistic: a staff member's sessions of a day follow one another from the
  morning on, with short gaps, so overlaps are rare.
- terrible: the same lines, but each session starts at a random time between
  08:00 and 12:00, so most lines overlap another of the same staff member.

Staff members are independent of one another (each has their own caseload), so
the export is generated and written a block of staff at a time: memory stays
flat whatever the size. The same seed and size give the same bytes.

    .venv/bin/python scripts/bench_nights.py --rows 5000000 --kind terrible --out night.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

PROFILE = "mi-dwihn"
KINDS = ("realistic", "terrible")
LINES_PER_MEMBER = 40  # a year
LINES_PER_STAFF = 1_000  # about four sessions on each of about 250 working days
PROBLEM_SHARE = 0.15
STAFF_PER_BLOCK = 250  # about 250,000 lines generated and written at a time
YEAR = 2025  # a whole year before any run of the bench (a later date is CM011's finding)

COLUMNS = (
    "claim_id", "member_id", "member_dob", "service_date", "start_time", "end_time", "hcpcs", "modifier1",
    "modifier2", "units", "travel_minutes", "activity", "contact_type", "member_present", "place_of_service",
    "member_setting", "member_population", "program", "enrollment", "staff_id", "staff_credential",
    "note_signed", "charge",
)


@dataclass(frozen=True)
class Role:
    """What a staff member bills, with what credential, for whom."""

    hcpcs: str
    modifier: str
    credential: str
    unit_minutes: int  # 0: one unit a day
    population: str  # the caseload's population
    ages: tuple[int, int]  # the caseload's ages
    rate: float  # dollars a unit
    share: float  # of all staff


ROLES = (
    Role("T1017", "", "QMHP", 15, "SMI", (18, 85), 18.50, 0.36),
    Role("T1016", "", "SC", 15, "IDD", (18, 80), 17.25, 0.20),
    Role("T1017", "", "QMHP;CMHP;CAFAS;PECFAS;DECA", 15, "SED", (4, 17), 18.50, 0.14),
    Role("T1016", "", "QIDP", 15, "IDD", (5, 17), 17.25, 0.04),
    Role("H0038", "", "PEER_SPECIALIST", 15, "SMI", (18, 75), 12.00, 0.12),
    Role("H0038", "HF", "RECOVERY_COACH", 15, "SUD", (18, 70), 12.00, 0.06),
    Role("H0046", "", "PEER_MENTOR", 15, "IDD", (18, 70), 11.00, 0.03),
    Role("H2035", "", "SATS", 60, "SUD", (18, 70), 60.00, 0.03),
    Role("H0023", "", "", 0, "SMI", (18, 80), 40.00, 0.02),
)
ACTIVITIES = ("monitoring", "planning", "linkage", "coordination", "referral", "assessment", "advocacy",
              "collateral", "outreach", "crisis_diversion", "transition")
ACTIVITY_WEIGHTS = (0.26, 0.15, 0.13, 0.12, 0.08, 0.07, 0.05, 0.04, 0.04, 0.03, 0.03)
CONTACTS = ("face_to_face", "telephone", "video")
CONTACT_WEIGHTS = (0.7, 0.2, 0.1)
PLACES = {"face_to_face": ("12", "11", "99", "53"), "telephone": ("02",), "video": ("10",)}
# The problems a night has, with their share of the problem lines.
PROBLEMS = {
    "units": 0.25,  # the export's units disagree with the documented time (CM1, adjusted)
    "travel": 0.12,  # the line is travel time (CM3)
    "escort": 0.08,  # an activity case management may not bill (CM3)
    "unsigned": 0.10,  # note not signed (CM7)
    "no_contact": 0.08,  # contact type missing (CM7)
    "credential": 0.08,  # the staff credential does not fit the code (CM6)
    "modifier": 0.07,  # a modifier the payer does not know (CM0)
    "duplicate": 0.10,  # the line exported twice (CM4)
    "no_time": 0.07,  # end before start (CM1)
    "bad_date": 0.05,  # a service date that does not parse (CM0)
}


def _days_of_year() -> tuple[np.ndarray, np.ndarray]:
    """The year's working days (Monday to Friday) as ISO text and as day numbers."""
    first = dt.date(YEAR, 1, 1)
    days = [first + dt.timedelta(d) for d in range((dt.date(YEAR + 1, 1, 1) - first).days)]
    working = [d for d in days if d.weekday() < 5]
    return np.array([d.isoformat() for d in working]), np.array([d.toordinal() for d in working])


WORKING_DAYS, _ = _days_of_year()
CLOCK = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)])


def _text(values: np.ndarray | list[str], index: np.ndarray) -> pa.Array:
    """Text column from a small table of values and an index per line (a dictionary, decoded)."""
    dictionary = pa.array(np.asarray(values, dtype=object), pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), dictionary).cast(pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`M0001234`-style ids without a Python string per line."""
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _block(rng: np.random.Generator, kind: str, first_staff: int, staff_count: int, lines: int,
           first_member: int, first_claim: int) -> pa.Table:
    """`lines` lines of `staff_count` staff members (numbered from `first_staff`), sorted by date and staff."""
    role_of_staff = rng.choice(len(ROLES), staff_count, p=np.array([r.share for r in ROLES]) / 1.0)
    caseload = max(1, round(LINES_PER_STAFF / LINES_PER_MEMBER))
    members = staff_count * caseload
    member_staff = np.repeat(np.arange(staff_count), caseload)
    member_role = role_of_staff[member_staff]
    low = np.array([r.ages[0] for r in ROLES])[member_role]
    high = np.array([r.ages[1] for r in ROLES])[member_role]
    age = low + (rng.random(members) * (high - low + 1)).astype(np.int64)
    # Born in YEAR - age - 1: `age` on the first of January, never younger during the year.
    year_starts = np.array([dt.date(y, 1, 1).toordinal() for y in range(YEAR - 130, YEAR + 1)])
    birth = year_starts[130 - age - 1] + rng.integers(0, 365, members)
    dob_text = np.array([dt.date.fromordinal(int(o)).isoformat() for o in birth])

    # Lines: each one a session of a staff member with one of their members.
    staff = np.sort(rng.integers(0, staff_count, lines))
    member = staff * caseload + rng.integers(0, caseload, lines)
    day = rng.integers(0, WORKING_DAYS.size, lines)
    minutes = rng.choice(np.array([20, 30, 30, 45, 45, 50, 60, 75, 90]), lines)
    order = np.lexsort((rng.random(lines), day, staff))
    staff, member, day, minutes = staff[order], member[order], day[order], minutes[order]
    # Both kinds draw the same numbers, so they differ only in the start times.
    gap = rng.integers(5, 31, lines)
    morning = rng.integers(0, 46, lines)
    anytime = rng.integers(0, 4 * 60, lines)
    if kind == "realistic":
        # Sessions of a staff member's day follow one another from 08:00-08:45, 5-30 minutes apart.
        busy = np.cumsum(minutes + gap)
        new_day = np.ones(lines, dtype=bool)
        new_day[1:] = (staff[1:] != staff[:-1]) | (day[1:] != day[:-1])
        day_start = np.maximum.accumulate(np.where(new_day, np.arange(lines), 0))
        before = busy - (minutes + gap)  # what came before this line, from the block's start
        start = 8 * 60 + morning[day_start] + before - before[day_start]
    else:
        start = 8 * 60 + anytime
    start = np.minimum(start, 22 * 60)
    end = np.minimum(start + minutes, 24 * 60 - 1)
    role = role_of_staff[staff]
    unit_minutes = np.array([r.unit_minutes for r in ROLES])[role]
    billable = end - start
    units = np.where(unit_minutes > 0, (billable + np.maximum(unit_minutes, 1) // 2) // np.maximum(unit_minutes, 1), 1)
    travel = np.zeros(lines, dtype=np.int64)
    activity = rng.choice(len(ACTIVITIES), lines, p=ACTIVITY_WEIGHTS)
    contact = rng.choice(len(CONTACTS), lines, p=CONTACT_WEIGHTS)
    contact_names = list(CONTACTS)
    place_table = sorted({p for places in PLACES.values() for p in places})
    place_choice = rng.integers(0, 4, lines)
    place = np.array([[place_table.index(PLACES[c][i % len(PLACES[c])]) for i in range(4)] for c in CONTACTS])[
        contact, place_choice]
    present = (contact == 0).astype(np.int64)  # Y face to face
    signed = np.ones(lines, dtype=np.int64)
    credential_table = [r.credential for r in ROLES] + ["SATS"]
    credential = role.copy()
    modifier_table = ["", "HF", "U1"]
    modifier = np.array([modifier_table.index(r.modifier) for r in ROLES])[role]
    service_day = day.copy()
    bad_day = np.zeros(lines, dtype=bool)

    # One problem for about 15% of lines.
    problem_line = rng.random(lines) < PROBLEM_SHARE
    names = list(PROBLEMS)
    problem = np.full(lines, -1)
    problem[problem_line] = rng.choice(len(names), int(problem_line.sum()), p=np.array(list(PROBLEMS.values())))

    def hit(name: str) -> np.ndarray:
        return problem == names.index(name)

    units = np.where(hit("units"), units + 1, units)
    activity_names = [*ACTIVITIES, "travel", "escort"]
    activity = np.where(hit("travel"), len(ACTIVITIES), activity)
    activity = np.where(hit("escort"), len(ACTIVITIES) + 1, activity)
    travel = np.where(hit("travel"), minutes, travel)  # all of it: no billable time either
    signed = np.where(hit("unsigned"), 0, signed)
    contact_names.append("")
    contact = np.where(hit("no_contact"), len(CONTACTS), contact)
    credential = np.where(hit("credential"), len(ROLES), credential)  # SATS bills no case management
    modifier = np.where(hit("modifier"), 2, modifier)
    end = np.where(hit("no_time"), start - 5, end)
    bad_day = hit("bad_date")
    charge = np.round(np.maximum(units, 0) * np.array([r.rate for r in ROLES])[role], 2)

    # A line exported twice: the copy right after its original.
    twice = np.flatnonzero(hit("duplicate"))
    keep = np.ones(lines, dtype=bool)
    keep[twice[twice + 1 < lines] + 1] = False  # the copy takes the next line's place
    take = np.sort(np.concatenate([np.flatnonzero(keep), twice[twice + 1 < lines]]))[:lines]

    date_text = WORKING_DAYS[service_day].astype(object)
    date_text[bad_day] = "2026-13-45"
    code_table = [r.hcpcs for r in ROLES]
    setting = np.zeros(lines, dtype=np.int64)
    population_table = ["SMI", "SED", "IDD", "SUD"]
    population = np.array([population_table.index(r.population) for r in ROLES])[member_role[member]]
    columns = {
        "member_id": _ids("M", first_member + member, 8),
        "member_dob": pa.array(dob_text[member].astype(object), pa.string()),
        "service_date": pa.array(date_text, pa.string()),
        "start_time": _text(CLOCK, start),
        "end_time": _text(CLOCK, np.maximum(end, 0)),
        "hcpcs": _text(code_table, role),
        "modifier1": _text(modifier_table, modifier),
        "modifier2": _text([""], np.zeros(lines, dtype=np.int64)),
        "units": pa.array(units).cast(pa.string()),
        "travel_minutes": pa.array(travel).cast(pa.string()),
        "activity": _text(activity_names, activity),
        "contact_type": _text(contact_names, contact),
        "member_present": _text(["N", "Y"], present),
        "place_of_service": _text(place_table, place),
        "member_setting": _text(["community"], setting),
        "member_population": _text(population_table, population),
        "program": _text([""], np.zeros(lines, dtype=np.int64)),
        "enrollment": _text(["TXIX", "TXXI"], (rng.random(lines) < 0.1).astype(np.int64)),
        "staff_id": _ids("S", first_staff + staff, 6),
        "staff_credential": _text(credential_table, credential),
        "note_signed": _text(["N", "Y"], signed),
        "charge": pa.array(charge).cast(pa.string()),
    }
    table = pa.table(columns)
    # A copy right after its original: half of them keep its claim id (an EHR exporting a
    # line twice, CM010), half were entered again under a new one (CM401).
    table = table.take(pa.array(take))
    copy = np.zeros(lines, dtype=bool)
    copy[1:] = take[1:] == take[:-1]
    renumbered = copy & (rng.random(lines) < 0.5)
    claims = first_claim + take
    claims[renumbered] = 9_000_000_000 + first_claim + np.flatnonzero(renumbered)  # a range no original uses
    table = pa.table({"claim_id": _ids("C", claims, 10), **{c: table[c] for c in table.column_names}})
    # The export lists the lines by date, then staff, as the EHR's report does.
    return table.take(pa.array(np.lexsort((np.arange(lines), staff[take], day[take]))))


def write_night(path: Path, rows: int, kind: str, seed: int) -> None:
    """Write a night of `rows` lines of `kind` to `path` (CSV), a block of staff at a time."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    staff_total = max(1, round(rows / LINES_PER_STAFF))
    blocks = range(0, staff_total, STAFF_PER_BLOCK)
    caseload = round(LINES_PER_STAFF / LINES_PER_MEMBER)
    temporary = path.with_name(f".{path.name}.tmp")
    written = 0
    with pa.OSFile(str(temporary), "wb") as sink:
        sink.write((",".join(COLUMNS) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)
        for number, first in enumerate(blocks):
            count = min(STAFF_PER_BLOCK, staff_total - first)
            lines = round(rows * (first + count) / staff_total) - written
            # The realistic and the terrible night draw the same lines: only the start times differ.
            rng = np.random.default_rng([seed, number])
            table = _block(rng, kind, first, count, lines, first * caseload, written)
            pacsv.write_csv(table, sink, options)
            written += lines
    temporary.replace(path)


def main(argv: list[str] | None = None) -> int:
    """Write one night."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--kind", choices=KINDS, default="realistic")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    write_night(args.out, args.rows, args.kind, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
