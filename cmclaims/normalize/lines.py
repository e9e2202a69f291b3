"""The lines: every input line with its values cleaned, parsed and typed.

One line per input row, in batch order (parsed rows, then the rows the parser
could not take). Text columns are factorized once (`Lines.text`: integer codes
and cleaned distinct values); `Lines.frame` holds the numbers every rule reads:
dates as int32 day numbers, times as int32 minutes after the service date's
midnight, keys as integer codes, with `MISSING` where a value is absent or did
not parse. Judging absent or unparseable values is the CM0 rules' job; this
module only parses.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from cmclaims.io.batch import NEARLY_UNIQUE, Batch
from cmclaims.io.column_map import ValueMaps
from cmclaims.normalize.parsed import (
    MAX_CHARGE,
    MAX_MINUTES,
    MAX_UNITS,
    birth_days,
    dates_of,
    numbers_of,
    qualifications_of,
    times_of,
)
from cmclaims.normalize.text import Case, Factorized, encode, factorize_codes
from cmclaims.normalize.value_maps import ValueMapReport, apply_value_maps
from cmclaims.normalize.values import MISSING
from cmclaims.schema.columns import ENCOUNTER, MODIFIER_COLUMNS
from cmclaims.tables import Catalog

# How each text column is cleaned before it is compared with a vocabulary.
TEXT_CASE: dict[str, Case] = {
    "claim_id": None,
    "member_id": None,
    "staff_id": None,
    "hcpcs": "upper",
    "activity": "lower",
    "contact_type": "lower",
    "member_present": "upper",
    "place_of_service": None,
    "member_setting": "lower",
    "member_population": "upper",
    "program": None,
    "enrollment": "upper",
    "staff_credential": "upper",
    "note_signed": "upper",
    "authorization_id": None,
    "claim_frequency": None,
    "original_claim_id": None,
    # parsed below, and kept as text so a finding can quote what the export said
    "member_dob": None,
    "service_date": None,
    "start_time": None,
    "end_time": None,
    "units": None,
    "travel_minutes": None,
    "duration_minutes": None,
    "charge": None,
}

_YES = {"Y", "YES", "TRUE", "T", "1"}
_NO = {"N", "NO", "FALSE", "F", "0"}
_MODIFIER_SPLIT = re.compile(r"[\s:;,|/]+")


@dataclass
class Lines:
    """The normalised batch, ready for the rules."""

    frame: pd.DataFrame
    text: dict[str, Factorized]
    present: frozenset[str]  # canonical columns the batch has (in at least one file)
    qualifications: tuple[str, ...]  # bit i of `staff_quals` stands for qualifications[i]
    files: list[str]  # input file names; the frame's `file` column indexes this
    bad_problems: list[str]  # why each unparseable row (the lines after the parsed ones) failed
    value_maps: ValueMapReport | None = None  # what the column map's [values.*] tables did

    @property
    def size(self) -> int:
        """The number of lines."""
        return len(self.frame)

    def qualification_bits(self, names: tuple[str, ...] | list[str]) -> int:
        """The bit mask of the named credentials and trainings, to test staff_quals against."""
        return sum(1 << self.qualifications.index(name) for name in names)


def yes_no(value: str) -> str | None:
    """Y or N from the ways exports write them; anything else is kept for CM0 to report."""
    upper = value.upper()
    return "Y" if upper in _YES else "N" if upper in _NO else value


def _place_of_service(value: str) -> str:
    return value.zfill(2) if value.isdigit() and len(value) == 1 else value


def _frequency(value: str) -> str:
    return (value.lstrip("0") or "0") if value.isdigit() else value


def _place_times(
    service_day: np.ndarray, start: tuple[np.ndarray, np.ndarray], end: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end as minutes after the service date's midnight.

    A dated start must fall on the service date; a dated end may fall on the next
    day (a session past midnight). Anything else cannot be placed: MISSING.
    """
    start_minute, start_date = start
    end_minute, end_date = end
    known_day = service_day != MISSING
    start_ok = (start_minute != MISSING) & ((start_date == MISSING) | (known_day & (start_date == service_day)))
    offset = np.where((end_date == MISSING) | ~known_day, 0, end_date.astype(np.int64) - service_day)
    end_ok = (end_minute != MISSING) & ((end_date == MISSING) | (known_day & ((offset == 0) | (offset == 1))))
    placed_start = np.where(start_ok, start_minute, MISSING).astype(np.int32)
    placed_end = np.where(end_ok, end_minute + offset * 1440, MISSING).astype(np.int32)
    return placed_start, placed_end


def _end_minutes(
    placed_end: np.ndarray, start_minute: np.ndarray, end_given: np.ndarray, duration: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The end of each line: its end_time, or start + duration_minutes where it has no end_time.

    Many EHRs export a session's length instead of its end (SPEC section 2).
    Fractions of a minute are dropped: only documented time is billed. Also
    returns the end the duration gives (MISSING without one), which CM012
    compares with an end_time the line has too.
    """
    usable = (start_minute != MISSING) & ~np.isnan(duration)
    whole = np.floor(np.where(usable, duration, 0)).astype(np.int64)
    from_duration = np.where(usable, start_minute.astype(np.int64) + whole, MISSING).astype(np.int32)
    return np.where(end_given, placed_end, from_duration).astype(np.int32), from_duration


def _split_modifiers(combined: Factorized) -> dict[str, Factorized]:
    """modifier1..modifier4 from a single `modifiers` column (`HE:TF`, `HE TF`)."""
    split = [[m for m in _MODIFIER_SPLIT.split(v) if m] for v in combined.values.to_pylist()]
    result = {}
    for position, column in enumerate(MODIFIER_COLUMNS):
        per_value = [parts[position] if position < len(parts) else None for parts in split]
        distinct = sorted({v for v in per_value if v is not None})
        lookup = np.array([distinct.index(v) if v is not None else -1 for v in per_value] + [-1], dtype=np.int32)
        result[column] = Factorized(lookup[combined.codes], pa.array(distinct, type=pa.string()))
    return result


def _either(first: Factorized, second: Factorized, use_second: np.ndarray) -> Factorized:
    """Per line, `second`'s value where `use_second` holds and `first`'s elsewhere, factorized together."""
    values = sorted(set(first.values.to_pylist()) | set(second.values.to_pylist()))
    position = {v: i for i, v in enumerate(values)}
    lookup_first = np.array([position[v] for v in first.values.to_pylist()] + [-1], dtype=np.int32)
    lookup_second = np.array([position[v] for v in second.values.to_pylist()] + [-1], dtype=np.int32)
    codes = np.where(use_second, lookup_second[second.codes], lookup_first[first.codes]).astype(np.int32)
    return Factorized(codes, pa.array(values, type=pa.string()))


def age_in_years(birth_day: np.ndarray, on_day: np.ndarray) -> np.ndarray:
    """Whole years of age on a date, birthdays exact; -1 where either date is missing.

    Day numbers are turned into (year, month*100+day) through a lookup table over
    the days that occur, so the work is a few integer gathers. A 29 February
    birthday is reached on 1 March in other years.
    """
    known = (birth_day != MISSING) & (on_day != MISSING)
    if not known.any():
        return np.full(birth_day.shape, -1, dtype=np.int32)
    low = int(min(birth_day[known].min(), on_day[known].min()))
    high = int(max(birth_day[known].max(), on_day[known].max()))
    days = np.arange(low, high + 1).astype("datetime64[D]")
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year_of = years.astype(np.int64) + 1970
    month_day_of = ((months - years.astype("datetime64[M]")).astype(np.int64) + 1) * 100 + (
        (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    )
    b = np.where(known, birth_day, low) - low
    o = np.where(known, on_day, low) - low
    age = year_of[o] - year_of[b] - (month_day_of[o] < month_day_of[b])
    return np.where(known, age, -1).astype(np.int32)


def build_lines(batch: Batch, catalog: Catalog, today: dt.date, value_maps: ValueMaps | None = None) -> Lines:
    """Normalise the whole batch into factorized text and typed columns.

    `value_maps` (a column map's [values.*] tables) rewrite the export's own
    spellings before anything reads them.
    """
    n = batch.line_count
    present = frozenset(c for c in ENCOUNTER.known if batch.has_column(c))
    jobs: dict[str, Case] = dict(TEXT_CASE)
    # Each file gives its modifiers either as modifier1..4 or as one `modifiers` column;
    # a batch may mix exports of both kinds.
    combined_files = np.array(
        [("modifiers" in f.columns and not any(c in f.columns for c in MODIFIER_COLUMNS)) for f in batch.files],
        dtype=bool,
    )
    split_modifiers = bool(combined_files.any())
    jobs.update(dict.fromkeys(MODIFIER_COLUMNS, "upper"))
    if split_modifiers:
        jobs["modifiers"] = "upper"
    def factorized(name: str, case: Case) -> Factorized:
        codes, raw = encode(batch.text_column(name), name in NEARLY_UNIQUE)
        batch.keep_encoded(name, codes, raw)  # the batch's text, from now on held as these codes
        return factorize_codes(codes, raw, n, case, name in NEARLY_UNIQUE)

    maps = value_maps or {}
    # Arrow's hashing releases the GIL: factorize the columns on every core. The near-unique
    # columns (claim ids) take longest: this thread parses the other columns meanwhile and
    # waits for them only to build the frame (or at once, when a value map rewrites them).
    later = frozenset(NEARLY_UNIQUE - set(maps))
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    try:
        futures = {name: pool.submit(factorized, name, case) for name, case in jobs.items()}
        text = {name: future.result() for name, future in futures.items() if name not in later}
        report = ValueMapReport()
        if "modifiers" in maps and split_modifiers:
            report = apply_value_maps(text, {"modifiers": maps["modifiers"]}, jobs, present)
        if split_modifiers:
            split = _split_modifiers(text.pop("modifiers"))
            from_combined = combined_files[batch.file_index]
            for column in MODIFIER_COLUMNS:
                text[column] = _either(text[column], split[column], from_combined)
        others = {c: spellings for c, spellings in maps.items() if c != "modifiers" or not split_modifiers}
        modifier_present = present | (frozenset(MODIFIER_COLUMNS) if "modifiers" in present else frozenset())
        rest = apply_value_maps(text, others, jobs, modifier_present)
        report = ValueMapReport(report.applied + rest.applied, report.not_in_export + rest.not_in_export)
        text["member_present"] = text["member_present"].recoded(yes_no)
        text["note_signed"] = text["note_signed"].recoded(yes_no)
        text["place_of_service"] = text["place_of_service"].recoded(_place_of_service)
        text["claim_frequency"] = text["claim_frequency"].recoded(_frequency)

        service_day = dates_of(text["service_date"], today)
        dob_day = birth_days(text["member_dob"], today)
        start, placed_end = _place_times(
            service_day, times_of(text["start_time"], today), times_of(text["end_time"], today)
        )
        duration = numbers_of(text["duration_minutes"], whole=False, maximum=MAX_MINUTES)
        end, end_from_duration = _end_minutes(placed_end, start, text["end_time"].present, duration)
        qualifications = catalog.vocabulary("credential") + catalog.vocabulary("training")
        staff_quals, staff_quals_unknown = qualifications_of(text["staff_credential"], qualifications)
        age = age_in_years(dob_day, service_day)
        units_export = numbers_of(text["units"], whole=True, maximum=MAX_UNITS)
        travel = numbers_of(text["travel_minutes"], whole=False, maximum=MAX_MINUTES)
        charge_amount = numbers_of(text["charge"], whole=False, maximum=MAX_CHARGE, money=True)
        text.update({name: future.result() for name, future in futures.items() if name in later})
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    text = {name: text[name] for name in jobs if name in text}  # the columns in their usual order
    frame = pd.DataFrame(
        {
            "file": batch.file_index,
            "source_row": batch.source_row,
            "parsed": np.arange(n) < batch.parsed_count,
            "member_key": text["member_id"].codes,
            "staff_key": text["staff_id"].codes,
            "claim_key": text["claim_id"].codes,
            "service_day": service_day,
            "dob_day": dob_day,
            "age": age,
            "start_minute": start,
            "end_minute": end,
            "duration": duration,
            "end_from_duration": end_from_duration,
            "units_export": units_export,
            "travel": travel,
            "charge_amount": charge_amount,
            "staff_quals": staff_quals,
            "staff_quals_unknown": staff_quals_unknown,
        },
        copy=False,
    )
    if "modifiers" in present:
        present |= frozenset(MODIFIER_COLUMNS)
    files = [f.name for f in batch.files]
    return Lines(frame, text, present, qualifications, files, batch.bad_problems, report if maps else None)
