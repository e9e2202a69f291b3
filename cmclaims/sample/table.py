"""From integer columns to the export's text: Arrow columns built without a Python loop over lines.

Ids are fixed-width digits written straight into a byte matrix; every other
text column is dictionary-encoded (the line's index into a short list of
strings), so each distinct date, time or code is formatted once.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cmclaims.sample import flavour
from cmclaims.sample.calendar import date_texts, time_texts
from cmclaims.sample.encounters import NO, PLACE_CODES, Encounters
from cmclaims.sample.plan import ServicePlan
from cmclaims.sample.population import Members, Staff
from cmclaims.sample.problems import BAD_BIRTH_DATES, BAD_SERVICE_DATES

EXPORT_COLUMNS = (
    "claim_id", "member_id", "member_dob", "service_date", "start_time", "end_time", "hcpcs",
    "modifier1", "modifier2", "units", "travel_minutes", "activity", "contact_type", "member_present",
    "place_of_service", "member_setting", "member_population", "program", "enrollment", "staff_id",
    "staff_credential", "note_signed", "charge",
)
YES_NO = ("N", "Y")


def fixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + `numbers` zero-padded to `width` digits, as a string array."""
    digits = np.empty((numbers.size, len(prefix) + width), dtype=np.uint8)
    digits[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    rest = numbers.astype(np.int64)
    for position in range(len(prefix) + width - 1, len(prefix) - 1, -1):
        digits[:, position] = 48 + rest % 10
        rest = rest // 10
    fixed = digits.view(f"S{digits.shape[1]}").ravel()
    return pa.array(fixed, type=pa.binary()).cast(pa.string())


def coded(indices: np.ndarray, values: list[str] | tuple[str, ...] | pa.Array) -> pa.DictionaryArray:
    """A dictionary column: line i has values[indices[i]], empty (null) where the index is NO."""
    dictionary = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    codes = pa.array(indices.astype(np.int32), mask=indices == NO)
    return pa.DictionaryArray.from_arrays(codes, dictionary)


def date_column(days: np.ndarray, first: int, last: int, bad: np.ndarray, bad_texts: tuple[str, ...]) -> pa.Array:
    """ISO dates of day numbers first..last; lines with a `bad` index show that text instead."""
    values = [*date_texts(first, last), *bad_texts]
    index = np.where(bad == NO, days.astype(np.int64) - first, last - first + 1 + bad.astype(np.int64))
    return coded(index, values)


def _charges(units: np.ndarray, code: np.ndarray, rates: np.ndarray) -> pa.DictionaryArray:
    """units x the code's rate, as dollars and cents; each (code, units) pair is formatted once."""
    most = int(units.max()) + 1 if units.size else 1
    pair = np.maximum(code, 0).astype(np.int64) * most + units
    cents = np.rint(np.arange(most)[None, :] * rates[:, None] * 100).astype(np.int64).ravel()
    return coded(pair, [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()])


def export_table(lines: Encounters, plan: ServicePlan, members: Members, staff: Staff) -> pa.Table:
    """The encounter export as an Arrow table, columns in EXPORT_COLUMNS order."""
    catalog = plan.profile.catalog
    first_day = int(lines.day.min()) if lines.size else 0
    last_day = max(int(lines.day.max()), first_day) if lines.size else 0
    dob_first = int(members.birth_day.min())
    end = np.where(lines.no_end, NO, lines.start + lines.duration)
    rates = np.array([flavour.RATE_PER_UNIT.get(c, flavour.DEFAULT_RATE) for c in plan.codes])
    times = time_texts()
    width = max(9, len(str(lines.size)))
    member_ids = fixed_ids("M", members.number, 7)
    staff_ids = fixed_ids("S", staff.number, 6)
    columns = {
        "claim_id": fixed_ids("C", lines.claim, width),
        "member_id": coded(lines.member, member_ids),
        "member_dob": date_column(
            members.birth_day[lines.member], dob_first, int(members.birth_day.max()), lines.bad_birth_date,
            BAD_BIRTH_DATES,
        ),
        "service_date": date_column(lines.day, first_day, last_day, lines.bad_date, BAD_SERVICE_DATES),
        "start_time": coded(lines.start, times),
        "end_time": coded(end, times),
        "hcpcs": coded(lines.code, plan.codes),
        "modifier1": coded(lines.modifier1, plan.modifiers),
        "modifier2": coded(lines.modifier2, plan.modifiers),
        "units": pa.array(lines.units),
        "travel_minutes": pa.array(lines.travel),
        "activity": coded(lines.activity, catalog.vocabulary("activity")),
        "contact_type": coded(lines.contact, catalog.vocabulary("contact_type")),
        "member_present": coded(lines.present, YES_NO),
        "place_of_service": coded(lines.place, PLACE_CODES),
        "member_setting": coded(lines.setting, members.settings),
        "member_population": coded(members.population[lines.member], members.populations),
        "program": coded(lines.program, plan.programs),
        "enrollment": coded(members.enrollment[lines.member], members.enrollments),
        "staff_id": coded(lines.staff, staff_ids),
        "staff_credential": coded(lines.staff, _qualification_texts(staff)),
        "note_signed": coded(lines.signed, YES_NO),
        "charge": _charges(lines.units, lines.code, rates),
    }
    return pa.table(columns)


def _qualification_texts(staff: Staff) -> list[str]:
    """What the EHR writes in staff_credential: credentials, then trainings, `;`-separated."""
    return [";".join(x for x in (c, t) if x) for c, t in zip(staff.credentials, staff.trainings, strict=True)]
