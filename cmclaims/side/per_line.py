"""The side files joined to the lines: what the rules read per line, computed once per batch.

Per line: the member's setting on the date of service and where it came from,
the covering stay's admission and discharge days, any left-out stays row that
may have covered the date; the staff member's qualifications, birth day, and
whether the staff file knew them. SPEC section 2: the line-level columns
(member_setting, staff_credential) serve when no side file is given.

The joins are integer work over whole columns: stays are sorted by (member,
admission) and each line finds the latest admission on or before its date
with one `searchsorted`; staff rows are looked up once per distinct staff_id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmclaims.normalize.lines import MISSING, Lines
from cmclaims.side.stays import OPEN, Stays

# Where a line's setting came from.
SETTING_UNKNOWN, FROM_STAY, FROM_LINE, NO_STAY = 0, 1, 2, 3
# What the staff file said about a line's staff member.
STAFF_ON_FILE, STAFF_NOT_ON_FILE, STAFF_LEFT_OUT = 0, 1, 2

_DAY_BIAS = 2**31  # day numbers (int32) made non-negative, under the member code in a 64-bit key


def _keys(member: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (member.astype(np.int64) << 32) | (day.astype(np.int64) + _DAY_BIAS)


class _Intervals:
    """Day spans per member (no two of a member overlapping), ready for date lookups."""

    def __init__(self, member: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        self.order = np.lexsort((start, member))
        self.member = member[self.order]
        self.end = end[self.order]
        self.keys = _keys(self.member, start[self.order])
        self.members = np.unique(self.member)

    def find(self, member: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Per line, the index (in the arrays given) of the span covering its member and day, else -1."""
        found = np.full(member.size, -1, dtype=np.int64)
        lines = np.flatnonzero(np.isin(member, self.members) & (day != MISSING))
        if lines.size == 0 or self.keys.size == 0:
            return found
        position = np.searchsorted(self.keys, _keys(member[lines], day[lines]), side="right") - 1
        safe = np.maximum(position, 0)
        hit = (position >= 0) & (self.member[safe] == member[lines]) & (self.end[safe] >= day[lines])
        found[lines[hit]] = self.order[safe[hit]]
        return found


@dataclass
class StayMatch:
    """Per line, the stay a lookup found: its index in the stays frame (-1: none), days and row."""

    index: np.ndarray
    admit_day: np.ndarray  # MISSING where none
    discharge_day: np.ndarray  # MISSING where none, or where the stay has not ended
    row: np.ndarray  # the stays file's row number, 0 where none
    _settings: np.ndarray  # per stays-frame row, then "" for none

    @property
    def found(self) -> np.ndarray:
        """Lines for which a stay was found."""
        return self.index >= 0

    def setting(self, rows: np.ndarray) -> np.ndarray:
        """The found stay's setting for these lines ("" where none)."""
        return self._settings[self.index[rows]]


@dataclass
class LineSide:
    """Side-file values per line (arrays aligned with the lines)."""

    settings: tuple[str, ...]  # the setting vocabulary; `setting` indexes it
    setting: np.ndarray  # int16, -1 where unknown
    setting_source: np.ndarray  # int8: SETTING_UNKNOWN, FROM_STAY, FROM_LINE or NO_STAY
    stay: StayMatch  # the stay covering the date of service
    stay_left_out: np.ndarray  # int64 index into stays.left_out of a left-out row that may cover the date, or -1
    quals: np.ndarray  # int64 bit mask over lines.qualifications
    quals_from_file: bool  # the staff file (True) or the line's staff_credential (False)
    staff_status: np.ndarray  # int8: STAFF_ON_FILE, STAFF_NOT_ON_FILE or STAFF_LEFT_OUT
    staff_birth_day: np.ndarray  # int32, MISSING where unknown
    _stays: Stays | None
    _member: np.ndarray
    _day: np.ndarray
    _stay_member: np.ndarray  # per stays-frame row: the member's code in this batch (-1: not in it)
    _staff_problem: np.ndarray  # per distinct staff_id code (+1 for none): why its row was left out

    def setting_is(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """Lines whose member lives in one of `names` on the date of service."""
        wanted = [self.settings.index(n) for n in names]
        return np.isin(self.setting, wanted)

    def setting_name(self, rows: np.ndarray) -> np.ndarray:
        """The setting of these lines as its vocabulary word ("unknown" where none)."""
        names = np.array([*self.settings, "unknown"], dtype=object)
        return names[self.setting[rows]]

    def stays_within(self, settings: tuple[str, ...], days_before_admission: int = 0) -> StayMatch:
        """Per line, a stay in one of `settings` covering its date, counted from `days_before_admission` early."""
        n = self._member.size
        if self._stays is None:
            return _no_match(n)
        frame = self._stays.frame
        subset = np.flatnonzero(frame["setting"].isin(list(settings)).to_numpy() & (self._stay_member >= 0))
        admit = frame["admit_day"].to_numpy()[subset].astype(np.int64) - days_before_admission
        discharge = frame["discharge_day"].to_numpy()[subset]
        end = np.where(discharge == MISSING, OPEN, discharge)
        found = _Intervals(self._stay_member[subset], admit, end).find(self._member, self._day)
        return _match(frame, _through(subset, found))

    def staff_problem(self, rows: np.ndarray, staff_key: np.ndarray) -> np.ndarray:
        """Why the staff file's row for these lines' staff was left out ("" where it was not)."""
        return self._staff_problem[staff_key[rows]]


def _through(subset: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Indexes into a subset of rows (-1: none) as indexes of the rows themselves."""
    return np.append(subset, -1)[found]  # found -1 picks the appended -1


def _no_match(n: int) -> StayMatch:
    return StayMatch(np.full(n, -1, np.int64), np.full(n, MISSING, np.int32), np.full(n, MISSING, np.int32),
                     np.zeros(n, np.int64), np.array([""], dtype=object))


def _match(frame: pd.DataFrame, index: np.ndarray) -> StayMatch:
    def pick(column: str, none: int) -> np.ndarray:
        values = frame[column].to_numpy()
        return np.append(values, np.array([none], dtype=values.dtype))[index]  # index -1 picks `none`

    settings = np.append(frame["setting"].to_numpy(dtype=object), np.array([""], dtype=object))
    return StayMatch(index, pick("admit_day", MISSING), pick("discharge_day", MISSING), pick("row", 0), settings)


def _line_settings(lines: Lines, settings: tuple[str, ...]) -> np.ndarray:
    factorized = lines.text["member_setting"]
    index = np.array([settings.index(v) if v in settings else -1 for v in factorized.values.to_pylist()], np.int16)
    return factorized.mapped(index, -1)


def _left_out_cover(stays: Stays, member_codes: pd.Index, member: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Per line, a left-out stays row of its member whose possible days include the date (-1: none)."""
    found = np.full(member.size, -1, dtype=np.int64)
    left = stays.left_out
    codes = member_codes.get_indexer(left["member_id"]) if len(left) else np.empty(0, np.int64)
    known = codes >= 0
    if not known.any():
        return found
    lines = np.flatnonzero(np.isin(member, codes[known]))
    pairs = pd.DataFrame({"line": lines, "member": member[lines], "day": day[lines]}).merge(
        pd.DataFrame({"member": codes[known], "from_day": left["from_day"].to_numpy()[known],
                      "to_day": left["to_day"].to_numpy()[known], "index": np.flatnonzero(known)}),
        on="member",
    )
    pairs = pairs[(pairs["from_day"] <= pairs["day"]) & (pairs["day"] <= pairs["to_day"])]
    first = pairs.sort_values(["line", "index"]).drop_duplicates("line")
    found[first["line"].to_numpy()] = first["index"].to_numpy()
    return found


def join_side(lines: Lines, side: object, settings: tuple[str, ...]) -> LineSide:
    """Join the run's stays and staff files (either may be absent) to the lines."""
    n = lines.size
    member = lines.frame["member_key"].to_numpy()
    day = lines.frame["service_day"].to_numpy()
    stays: Stays | None = getattr(side, "stays", None)
    member_codes = pd.Index(lines.text["member_id"].values.to_pandas())

    setting = _line_settings(lines, settings)
    source = np.where(setting >= 0, FROM_LINE, SETTING_UNKNOWN).astype(np.int8)
    if stays is None:
        stay_member = np.empty(0, np.int64)
        stay, left_out = _no_match(n), np.full(n, -1, np.int64)
    else:
        frame = stays.frame
        stay_member = member_codes.get_indexer(frame["member_id"]).astype(np.int64)
        discharge = frame["discharge_day"].to_numpy()
        usable = np.flatnonzero(stay_member >= 0)
        spans = _Intervals(stay_member[usable], frame["admit_day"].to_numpy()[usable],
                           np.where(discharge == MISSING, OPEN, discharge)[usable])
        found = spans.find(member, day)
        stay = _match(frame, _through(usable, found))
        stay_setting = np.append(pd.Index(settings).get_indexer(frame["setting"]), -1).astype(np.int16)
        # A stay on file decides the setting; else the line's own member_setting; else the member
        # had no recorded stay that day: living in the community.
        setting = np.where(stay.found, stay_setting[stay.index], setting).astype(np.int16)
        source = np.where(stay.found, FROM_STAY, source)
        no_stay = setting < 0
        setting[no_stay] = settings.index("community")
        source = np.where(no_stay, NO_STAY, source).astype(np.int8)
        left_out = _left_out_cover(stays, member_codes, member, day)

    staff = getattr(side, "staff", None)
    staff_key = lines.frame["staff_key"].to_numpy()
    distinct_staff = lines.text["staff_id"].values.to_pylist()
    if staff is None:
        quals = lines.frame["staff_quals"].to_numpy()
        status = np.zeros(n, np.int8)
        birth = np.full(n, MISSING, np.int32)
        problem = np.full(len(distinct_staff) + 1, "", dtype=object)
    else:
        if staff.qualifications != lines.qualifications:
            raise ValueError("the staff file and the lines number their qualifications differently")
        row_of = np.append(pd.Index(staff.frame["staff_id"]).get_indexer(distinct_staff), -1)
        per_line = row_of[staff_key]  # staff_key -1 (no staff_id) picks the appended -1
        quals = np.append(staff.frame["quals"].to_numpy(), np.int64(0))[per_line]
        birth = np.append(staff.frame["birth_day"].to_numpy(), np.int32(MISSING))[per_line].astype(np.int32)
        problem = np.array([staff.left_out.get(s, "") for s in distinct_staff] + [""], dtype=object)
        by_staff = np.where(row_of >= 0, STAFF_ON_FILE, np.where(problem != "", STAFF_LEFT_OUT, STAFF_NOT_ON_FILE))
        status = by_staff.astype(np.int8)[staff_key]

    return LineSide(
        settings=settings,
        setting=setting,
        setting_source=source,
        stay=stay,
        stay_left_out=left_out,
        quals=quals,
        quals_from_file=staff is not None,
        staff_status=status,
        staff_birth_day=birth,
        _stays=stays,
        _member=member,
        _day=day,
        _stay_member=stay_member,
        _staff_problem=problem,
    )
