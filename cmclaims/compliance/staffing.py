"""CM820 and CM821: a staff member's annual hours and monthly caseload (ok-soonercare, seeds/002).

Each staff member's classification comes from the staff file's credentials,
the profile's `[[compliance.staff_classes]]` taken in order (most specific
first: a wraparound facilitator is also a CM II). Hours are the billed units
times the code's unit length; a caseload is the members a staff member billed
in a month. Sums are bincounts over (staff, year) and (staff, month) indices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cmclaims.compliance.calendar import month_end, month_start, month_text
from cmclaims.compliance.findings import Outcome, findings_frame, text
from cmclaims.compliance.history import History
from cmclaims.compliance.window import Window
from cmclaims.normalize.values import MISSING, day_number, month_of, year_of
from cmclaims.tables.compliance import StaffClass

HOURS, HOURS_NAME = "CM820", "compliance.staff_annual_hours"
CASELOAD, CASELOAD_NAME = "CM821", "compliance.staff_caseload"


def staff_classes(staff: pd.DataFrame, qualifications: tuple[str, ...], classes: tuple[StaffClass, ...],
                  staff_ids: pd.Index, as_of: int) -> np.ndarray:
    """Per staff id of the history, the index of their classification in `classes`; -1 when none.

    With dated staff rows (start_day/end_day), the row in force on `as_of`, else the latest one.
    """
    frame = staff
    if "start_day" in frame.columns:
        start = frame["start_day"].to_numpy().astype(np.int64)
        end = frame["end_day"].to_numpy().astype(np.int64) if "end_day" in frame.columns \
            else np.full(len(frame), MISSING)
        covers = ((start == MISSING) | (start <= as_of)) & ((end == MISSING) | (end >= as_of))
        frame = frame.assign(_covers=covers, _start=np.where(start == MISSING, -(2**40), start))
        frame = frame.sort_values(["staff_id", "_covers", "_start"]).drop_duplicates("staff_id", keep="last")
    bit = {name: 1 << i for i, name in enumerate(qualifications)}
    quals = frame["quals"].to_numpy().astype(np.int64)
    found = np.full(len(frame), -1, dtype=np.int64)
    for index in range(len(classes) - 1, -1, -1):  # the first class that fits wins
        mask = sum(bit.get(c, 0) for c in classes[index].credentials)
        found = np.where(quals & mask, index, found)
    per_id = pd.Series(found, index=frame["staff_id"].astype(str).to_numpy())
    per_id = per_id[~per_id.index.duplicated(keep="last")]
    return per_id.reindex(staff_ids.astype(str)).fillna(-1).to_numpy().astype(np.int64)


def check_annual_hours(history: History, window: Window, classes: tuple[StaffClass, ...],
                       staff_class: np.ndarray) -> Outcome:
    """Staff members whose billed hours in a calendar year exceed their classification's figure."""
    source = "; ".join(dict.fromkeys(c.source for c in classes if c.annual_hours))
    outcome = Outcome(HOURS, HOURS_NAME, source, checked_what="staff-years")
    staff = history.texts["staff_id"]
    first_year, last_year = window.years
    year = year_of(history.day)
    # Each year is counted whole up to --as-of, also before --from: the limit is the year's.
    use = (staff.codes >= 0) & (year >= first_year) & (year <= last_year)
    years = last_year - first_year + 1
    index = staff.codes[use].astype(np.int64) * years + (year[use] - first_year)
    minutes = np.bincount(index, weights=history.minutes[use], minlength=len(staff.values) * years)
    billed = np.bincount(index, minlength=len(staff.values) * years) > 0
    limit = np.array([(c.annual_hours or 0) * 60 for c in classes] + [0], dtype=np.int64)
    klass = np.repeat(staff_class, years)
    limited = billed & (klass >= 0) & (limit[klass] > 0)
    outcome.checked = int(limited.sum())
    over = np.flatnonzero(limited & (minutes > limit[klass]))
    if over.size == 0:
        return outcome
    who, offset = np.divmod(over, years)
    hours = minutes[over] / 60
    names = np.array([c.name for c in classes], dtype=object)[klass[over]]
    limits = limit[klass[over]] // 60
    year_of_finding = first_year + offset
    first_day = np.array([day_number(pd.Timestamp(int(y), 1, 1).date()) for y in year_of_finding])
    last_day = np.minimum(np.array([day_number(pd.Timestamp(int(y), 12, 31).date()) for y in year_of_finding]),
                          window.last)
    hours_text = np.char.mod("%g", np.round(hours, 2)).astype(object)
    message = (hours_text + " hours billed in " + text(year_of_finding) + " (to " + _iso(last_day) + ") by a "
               + names + ", over the classification's " + text(limits) + " annual hours")
    outcome.findings = findings_frame(
        HOURS, HOURS_NAME, source, subject="staff", staff_id=staff.values.to_numpy(dtype=object)[who],
        start=first_day, end=last_day, observed=hours_text, expected=text(limits), message=message,
    )
    return outcome


def _iso(days: np.ndarray) -> np.ndarray:
    return np.asarray(np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype(str), dtype=object)


def check_caseload(history: History, window: Window, classes: tuple[StaffClass, ...],
                   staff_class: np.ndarray) -> Outcome:
    """Staff members who billed more members in a calendar month than their classification's caseload."""
    source = "; ".join(dict.fromkeys(c.source for c in classes if c.caseload))
    outcome = Outcome(CASELOAD, CASELOAD_NAME, source, checked_what="staff-months")
    staff = history.texts["staff_id"]
    low, high = window.months
    month = month_of(history.day)
    use = (staff.codes >= 0) & (month >= low) & (month <= high) & (history.day >= window.first)
    months = high - low + 1
    cell = staff.codes[use].astype(np.int64) * months + (month[use] - low)
    # Distinct members per (staff, month): (cell, member) keys sorted once, the first of each run counted.
    keys = np.sort((cell << 32) | history.member[use].astype(np.int64))
    first = np.r_[True, keys[1:] != keys[:-1]] if keys.size else np.empty(0, dtype=bool)
    caseload = np.bincount(keys[first] >> 32, minlength=len(staff.values) * months)
    limit = np.array([c.caseload or 0 for c in classes] + [0], dtype=np.int64)
    klass = np.repeat(staff_class, months)
    limited = (caseload > 0) & (klass >= 0) & (limit[klass] > 0)
    outcome.checked = int(limited.sum())
    over = np.flatnonzero(limited & (caseload > limit[klass]))
    if over.size == 0:
        return outcome
    who, offset = np.divmod(over, months)
    names = np.array([c.name for c in classes], dtype=object)[klass[over]]
    the_month = low + offset
    message = ("caseload of " + text(caseload[over]) + " members in " + month_text(the_month) + " for a " + names
               + ", over the classification's " + text(limit[klass[over]]))
    outcome.findings = findings_frame(
        CASELOAD, CASELOAD_NAME, source, subject="staff", staff_id=staff.values.to_numpy(dtype=object)[who],
        start=np.maximum(month_start(the_month), window.first), end=np.minimum(month_end(the_month), window.last),
        observed=text(caseload[over]), expected=text(limit[klass[over]]), message=message,
    )
    return outcome
