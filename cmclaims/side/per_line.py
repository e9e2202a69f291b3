"""The side files joined to the lines: what the rules read per line, computed once per batch.

Per line: the member's setting on the date of service and where it came from,
the covering stay's admission and discharge days, any left-out stays row that
may have covered the date; the staff member's qualifications, birth day, and
whether the staff file knew them on that date; the member's enrollment
episodes covering the date. SPEC section 2: the line-level columns
(member_setting, staff_credential, enrollment) serve when no side file is
given.

The joins are integer work over whole columns (`side/intervals.py`): stays,
staff rows and episodes are sorted by (key, start) and each line finds the
latest start on or before its date with one `searchsorted`.

Stays that follow one another without a gap (one's discharge is the next
one's admission, or the day before) in the same kind of setting are one
continuous stay for every day count (SPEC section 2): `chained` gives each
line the whole chain's admission and discharge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import DTypeLike

from cmclaims.normalize.lines import MISSING, Lines
from cmclaims.normalize.text import Factorized
from cmclaims.side.enrollment import Enrollment
from cmclaims.side.intervals import OPEN, Intervals, left_out_cover
from cmclaims.side.staff import Staff
from cmclaims.side.stays import Stays

_EARLIEST = np.iinfo(np.int32).min + 1  # the start day of a staff row without a start_date

# Where a line's setting came from.
SETTING_UNKNOWN, FROM_STAY, FROM_LINE, NO_STAY = 0, 1, 2, 3
# What the staff file said about a line's staff member.
STAFF_ON_FILE, STAFF_NOT_ON_FILE, STAFF_LEFT_OUT, STAFF_NOT_ON_DATE = 0, 1, 2, 3
# Where a line's enrollment came from.
ENROLLMENT_FROM_FILE, ENROLLMENT_FROM_LINE = 1, 2

@dataclass
class StayMatch:
    """Per line, the stay a lookup found: its index in the stays frame (-1: none), days and row."""

    index: np.ndarray
    admit_day: np.ndarray  # MISSING where none
    discharge_day: np.ndarray  # MISSING where none, or where the stay has not ended
    row: np.ndarray  # the stays file's row number, 0 where none
    _settings: np.ndarray  # per stays-frame row, then "" for none
    rows_text: np.ndarray | None = None  # per line, "stays file row 3" or "stays file rows 3, 4 (...)"

    @property
    def found(self) -> np.ndarray:
        """Lines for which a stay was found."""
        return self.index >= 0

    def setting(self, rows: np.ndarray) -> np.ndarray:
        """The found stay's setting for these lines ("" where none)."""
        return self._settings[self.index[rows]]

    def where(self, rows: np.ndarray) -> np.ndarray:
        """Which stays file row(s) the found stay is, in words a clerk can look up."""
        if self.rows_text is not None:
            return self.rows_text[rows]
        return ("stays file row " + self.row[rows].astype(str).astype(object)).astype(object)


@dataclass
class EpisodeMatch:
    """Per line, the enrollment episode covering its date, from the enrollment file or the line itself.

    What the episode is called and where it was found are words only a flagged
    line's message needs: they are kept once per episode (`_names`, `_file_rows`)
    and written out for the rows asked for, never as a string per line.
    """

    found: np.ndarray  # bool
    start_day: np.ndarray  # int32, MISSING where none or from the line
    end_day: np.ndarray  # int32, MISSING where none, open, or from the line
    _episode: np.ndarray  # per line: index into _names (and _file_rows), -1 where none
    _names: np.ndarray  # object: each episode's enrollment
    _file_rows: np.ndarray | None  # int64: each episode's row in the enrollment file; None when from the lines

    def enrollment(self, rows: np.ndarray) -> np.ndarray:
        """The enrollment of these lines' episodes, as an object array ("" where none)."""
        return np.append(self._names, np.array([""], dtype=object))[self._episode[rows]]

    def where(self, rows: np.ndarray) -> np.ndarray:
        """Where these lines' episodes were found: "enrollment file row 4" or "enrollment on the line"."""
        found = self._episode[rows] >= 0
        if self._file_rows is None:
            return np.where(found, "enrollment on the line", "").astype(object)
        row = np.append(self._file_rows, 0)[self._episode[rows]].astype(str).astype(object)
        return np.where(found, "enrollment file row " + row, "").astype(object)


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
    staff_row: np.ndarray  # int64 index of the staff file row covering the date, -1 where none (or no file)
    enrollment_left_out: np.ndarray  # int64 index into enrollment.left_out of a left-out row covering the date, or -1
    _stays: Stays | None
    _member: np.ndarray
    _day: np.ndarray
    _stay_member: np.ndarray  # per stays-frame row: the member's code in this batch (-1: not in it)
    _staff_problem: np.ndarray  # per distinct staff_id code (+1 for none): why its row was left out
    _staff: Staff | None = None
    _staff_key: np.ndarray | None = None
    _staff_code: np.ndarray | None = None  # per staff-frame row: the staff_id's code in this batch (-1: none)
    _enrollment: Enrollment | None = None
    _member_index: pd.Index | None = None  # member_id text per member code
    _line_enrollment: Factorized | None = None
    _chains: dict[tuple[str, ...], StayMatch] = field(default_factory=dict)

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
        found = Intervals(self._stay_member[subset], admit, end).find(self._member, self._day)
        return _match(frame, _through(subset, found))

    def chained(self, settings: tuple[str, ...]) -> StayMatch:
        """Per line, the continuous stay in `settings` covering its date: first admission, last discharge.

        Stays of one member in these settings that follow one another
        without a gap (the next admission on the discharge day or the day
        after) are one stay (a transfer between detention centers, a
        hospital stay followed by a nursing facility stay). The discharge is
        MISSING while the chain's last stay is open.
        """
        key = tuple(settings)
        if key not in self._chains:
            self._chains[key] = self._chain(key)
        return self._chains[key]

    def _chain(self, settings: tuple[str, ...]) -> StayMatch:
        n = self._member.size
        if self._stays is None:
            return _no_match(n)
        frame = self._stays.frame
        kind = frame["setting"].isin(list(settings)).to_numpy()
        subset = np.flatnonzero(kind)
        size = len(frame)
        chain_admit = np.full(size + 1, MISSING, np.int32)
        chain_discharge = np.full(size + 1, MISSING, np.int32)
        chain_row = np.zeros(size + 1, np.int64)
        chain_text = np.full(size + 1, "", dtype=object)
        if subset.size:
            member = pd.factorize(frame["member_id"].to_numpy()[subset])[0]
            admit = frame["admit_day"].to_numpy()[subset].astype(np.int64)
            discharge = frame["discharge_day"].to_numpy()[subset].astype(np.int64)
            order = np.lexsort((admit, member))
            m, a, d = member[order], admit[order], discharge[order]
            previous = np.concatenate([[MISSING], d[:-1]])
            new = np.concatenate([[True], m[1:] != m[:-1]]) | (previous == MISSING) | (a - previous > 1)
            chain = np.cumsum(new) - 1
            starts = np.flatnonzero(new)
            ends = np.append(starts[1:] - 1, order.size - 1)
            rows = frame["row"].to_numpy()[subset][order]
            at = subset[order]
            chain_admit[at] = a[starts][chain]
            chain_discharge[at] = d[ends][chain]
            chain_row[at] = rows[starts][chain]
            sizes = np.bincount(chain)
            listed = pd.Series(rows.astype(str)).groupby(chain).agg(", ".join).to_numpy(dtype=object)
            text = np.where(sizes > 1, "stays file rows " + listed + " (one continuous stay)",
                            "stays file row " + listed)
            chain_text[at] = text[chain]
        index = np.where((self.stay.index >= 0) & np.append(kind, False)[self.stay.index], self.stay.index, -1)
        return StayMatch(index, chain_admit[index], chain_discharge[index], chain_row[index],
                         np.append(frame["setting"].to_numpy(dtype=object), np.array([""], dtype=object)),
                         chain_text[index])

    def enrolled(self, enrollments: tuple[str, ...] | list[str]) -> EpisodeMatch:
        """Per line, an episode of one of `enrollments` covering its date (the file's, else the line's enrollment)."""
        n = self._member.size
        names = [e.upper() for e in enrollments]
        if self._enrollment is None:
            line = self._line_enrollment
            none = np.full(n, MISSING, np.int32)
            if line is None:
                return EpisodeMatch(np.zeros(n, dtype=bool), none, none, np.full(n, -1, np.int8),
                                    np.empty(0, dtype=object), None)
            found = line.isin(names)
            # An episode per distinct enrollment on the lines: the line's own code is its episode.
            episode = np.where(found, line.codes, -1).astype(line.codes.dtype)
            return EpisodeMatch(found, none, none.copy(), episode,
                                np.asarray(line.values.to_pylist(), dtype=object), None)
        assert self._member_index is not None
        frame = self._enrollment.frame
        index = self._enrollment.covering_codes(self._member_index, self._member, self._day, names)

        def pick(column: str, none: object, dtype: DTypeLike) -> np.ndarray:
            values = frame[column].to_numpy()
            return np.append(values, np.array([none], dtype=values.dtype))[index].astype(dtype)

        return EpisodeMatch(index >= 0, pick("start_day", MISSING, np.int32), pick("end_day", MISSING, np.int32),
                            index, frame["enrollment"].to_numpy(dtype=object),
                            frame["row"].to_numpy().astype(np.int64))

    def staff_first_day_with(self, rows: np.ndarray, bits: int) -> np.ndarray:
        """Per line of `rows`, the first start_date after its date of a staff file row of its staff holding `bits`.

        MISSING where there is none (or no staff file): what a clerk needs to
        read "certified from 2026-03-01" in a message.
        """
        out = np.full(rows.size, MISSING, np.int32)
        if self._staff is None or self._staff_key is None or self._staff_code is None:
            return out
        frame = self._staff.frame
        holds = (frame["quals"].to_numpy() & bits) == bits
        start = frame["start_day"].to_numpy()
        usable = np.flatnonzero(holds & (start != MISSING) & (self._staff_code >= 0))
        if usable.size == 0:
            return out
        spans = pd.DataFrame({"staff": self._staff_code[usable], "start": start[usable]}).sort_values("start")
        key = self._staff_key[rows]
        day = self._day[rows]
        pairs = pd.DataFrame({"at": np.arange(rows.size), "staff": key, "day": day}).merge(spans, on="staff")
        later = pairs[pairs["start"] > pairs["day"]].groupby("at")["start"].min()
        out[later.index.to_numpy()] = later.to_numpy()
        return out

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
        spans = Intervals(stay_member[usable], frame["admit_day"].to_numpy()[usable],
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
        left_out = left_out_cover(stays.left_out, member_codes, member, day)

    staff: Staff | None = getattr(side, "staff", None)
    staff_key = lines.frame["staff_key"].to_numpy()
    distinct_staff = lines.text["staff_id"].values.to_pylist()
    staff_code = None
    if staff is None:
        quals = lines.frame["staff_quals"].to_numpy()
        status = np.zeros(n, np.int8)
        birth = np.full(n, MISSING, np.int32)
        staff_row = np.full(n, -1, np.int64)
        problem = np.full(len(distinct_staff) + 1, "", dtype=object)
    else:
        if staff.qualifications != lines.qualifications:
            raise ValueError("the staff file and the lines number their qualifications differently")
        frame = staff.frame
        staff_code = pd.Index(distinct_staff).get_indexer(frame["staff_id"]).astype(np.int64)
        usable = np.flatnonzero(staff_code >= 0)
        start, end = frame["start_day"].to_numpy()[usable], frame["end_day"].to_numpy()[usable]
        spans = Intervals(staff_code[usable], np.where(start == MISSING, _EARLIEST, start),
                          np.where(end == MISSING, OPEN, end), overlapping=True)
        staff_row = np.append(usable, -1)[spans.find(staff_key.astype(np.int64), day)]
        quals = np.append(frame["quals"].to_numpy(), np.int64(0))[staff_row]
        birth = np.append(frame["birth_day"].to_numpy(), np.int32(MISSING))[staff_row].astype(np.int32)
        problem = np.array([staff.left_out.get(s, "") for s in distinct_staff] + [""], dtype=object)
        on_file = np.append(np.bincount(staff_code[usable], minlength=len(distinct_staff)) > 0, False)
        by_staff = np.where(on_file, STAFF_NOT_ON_DATE,
                            np.where(problem != "", STAFF_LEFT_OUT, STAFF_NOT_ON_FILE)).astype(np.int8)
        status = np.where(staff_row >= 0, STAFF_ON_FILE, by_staff[staff_key]).astype(np.int8)

    enrollment: Enrollment | None = getattr(side, "enrollment", None)
    enrollment_left_out = (np.full(n, -1, np.int64) if enrollment is None
                           else left_out_cover(enrollment.left_out, member_codes, member, day))

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
        staff_row=staff_row,
        enrollment_left_out=enrollment_left_out,
        _stays=stays,
        _member=member,
        _day=day,
        _stay_member=stay_member,
        _staff_problem=problem,
        _staff=staff,
        _staff_key=staff_key,
        _staff_code=staff_code,
        _enrollment=enrollment,
        _member_index=member_codes,
        _line_enrollment=lines.text.get("enrollment"),
    )
