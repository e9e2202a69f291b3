"""The limit resolver against a plain reading of SPEC section 5.

`apply_limits` screens the batch with vectorised sums and walks only the lines
of groups that cross a limit. The reference below walks every line, in order,
with dictionaries: it is SPEC section 5 written out, not the resolver's
algorithm, and the two must agree on every line's accepted units, on which
limit held a line back, and on the authorization a line billed against.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.limits import resolver
from cmclaims.limits.resolver import AuthorizationPool, Limit, apply_limits

# Four services: 0 and 1 are two levels of one code (T1017 TF and HN, say), 2 another
# timed code, 3 a per diem code. The annual cap covers codes 0 and 1.
SERVICE_CODE = {0: 0, 1: 0, 2: 1, 3: 2}
PER_DIEM_CODES = {2}
ANNUAL_CODES = {0, 1}
# Days around a month end and a year end, so monthly and annual groups split.
DAYS = [dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 12, 31),
        dt.date(2027, 1, 1)]


@dataclass(frozen=True)
class Line:
    member: int
    day: dt.date
    start: int
    claim: str
    service: int
    units: int
    candidate: bool
    own_authorization: str | None

    @property
    def code(self) -> int:
        return SERVICE_CODE[self.service]


@dataclass(frozen=True)
class Authorization:
    id: str
    member: int
    code: int
    start: dt.date
    end: dt.date
    units: int
    used_before: int


@dataclass(frozen=True)
class Scenario:
    lines: list[Line]
    daily: dict[int, int]  # service -> daily cap (absent: none)
    monthly: dict[int, int]
    annual: int
    authorizations: list[Authorization]
    prior: dict[tuple, int]  # (kind, key) -> units billed in earlier runs
    cutback: bool


# --- the reference: SPEC section 5, one line at a time -----------------------------------------


def _limits_of(line: Line, s: Scenario) -> list[tuple[str, tuple, int]]:
    """(kind, group key, cap) of every limit the line falls under, in the order findings report them."""
    limits = []
    if line.service in s.daily:
        limits.append(("daily", (line.member, line.service, line.day), s.daily[line.service]))
    if line.service in s.monthly:
        limits.append(("monthly", (line.member, line.service, line.day.year, line.day.month),
                       s.monthly[line.service]))
    if line.code in PER_DIEM_CODES:
        limits.append(("per_diem", (line.member, line.code, line.day), 1))
    if line.code in ANNUAL_CODES:
        limits.append(("annual", (line.member, line.day.year), s.annual))
    return limits


def _covering(line: Line, s: Scenario) -> list[int]:
    """Authorizations covering the line's member, code and date: its own first, then the soonest to end."""
    found = [i for i, a in enumerate(s.authorizations)
             if a.member == line.member and a.code == line.code and a.start <= line.day <= a.end]
    return sorted(found, key=lambda i: (s.authorizations[i].id != line.own_authorization,
                                        s.authorizations[i].end, s.authorizations[i].id))


def reference(s: Scenario) -> tuple[list[int], list[str | None], list[int], list[int]]:
    """Accepted units, the limit that held each line back (None), the authorization it billed (-1), and the
    units that limit had already counted when the line came (0 for a line nothing held back)."""
    used: dict[tuple, int] = defaultdict(int, s.prior)
    left = [a.units - a.used_before for a in s.authorizations]
    allowed = [0] * len(s.lines)
    held_by: list[str | None] = [None] * len(s.lines)
    billed_against = [-1] * len(s.lines)
    used_when_held = [0] * len(s.lines)
    order = sorted((i for i, line in enumerate(s.lines) if line.candidate),
                   key=lambda i: (s.lines[i].member, s.lines[i].day, s.lines[i].start, s.lines[i].claim))
    for i in order:
        line = s.lines[i]
        need = line.units
        rooms, chosen, under_cap = [], -1, 0
        for kind, key, cap in _limits_of(line, s):
            room = max(cap - used[(kind, key)], 0)
            if kind == "annual" and room < need:
                # units beyond the cap bill against one covering authorization with room for
                # all of them; in cutback mode, failing that, the first with any room
                under_cap = room
                covering = _covering(line, s)
                with_room = [a for a in covering if left[a] >= need - room]
                if not with_room and s.cutback:
                    with_room = [a for a in covering if left[a] > 0]
                if with_room:
                    chosen = with_room[0]
                    room += left[chosen]
            rooms.append((kind, room, used[(kind, key)]))
        short = [(kind, counted) for kind, room, counted in rooms if room < need]
        take = need if not short else (min(room for _, room, _ in rooms) if s.cutback else 0)
        held_by[i], used_when_held[i] = short[0] if short else (None, 0)
        allowed[i] = take
        if take <= 0:
            continue
        for kind, key, _ in _limits_of(line, s):
            if kind == "annual" and chosen >= 0 and take > under_cap:
                left[chosen] -= take - under_cap
                billed_against[i] = chosen
            used[(kind, key)] += take
    return allowed, held_by, billed_against, used_when_held


# --- the resolver, fed the same scenario ----------------------------------------------------------


def resolve(s: Scenario) -> tuple[list[int], list[str | None], list[int], list[int]]:
    n = len(s.lines)
    kinds = ["daily", "monthly", "per_diem", "annual"]
    candidates = np.array([line.candidate for line in s.lines], dtype=bool)
    limits = []
    for kind in kinds:
        keys: dict[tuple, int] = {}
        group = np.full(n, -1, dtype=np.int64)
        caps: list[int] = []
        for i, line in enumerate(s.lines):
            for k, key, cap in _limits_of(line, s):
                if k == kind and line.candidate:
                    if key not in keys:
                        keys[key] = len(keys)
                        caps.append(cap)
                    group[i] = keys[key]
        prior = np.array([s.prior.get((kind, key), 0) for key in keys], dtype=np.int64)
        limits.append(Limit(kind, group, np.array(caps, dtype=np.int64), prior, extendable=kind == "annual"))

    def order(rows: np.ndarray) -> np.ndarray:
        return np.array(sorted(rows.tolist(), key=lambda i: (s.lines[i].member, s.lines[i].day, s.lines[i].start,
                                                             s.lines[i].claim)), dtype=np.int64)

    pool = AuthorizationPool(
        units=np.array([a.units for a in s.authorizations], dtype=np.int64),
        prior=np.array([a.used_before for a in s.authorizations], dtype=np.int64),
        covering=lambda rows: {int(r): _covering(s.lines[r], s) for r in rows.tolist()},
    )
    units = np.array([line.units for line in s.lines], dtype=np.int32)
    outcome = apply_limits(units, candidates, order, limits, pool, s.cutback)
    held_by = [kinds[b] if b >= 0 else None for b in outcome.binding.tolist()]
    return outcome.allowed.tolist(), held_by, outcome.authorization.tolist(), outcome.used.tolist()


# --- scenarios ---------------------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn, members: int = 2, most_lines: int = 25, authorized: bool = True) -> Scenario:
    count = draw(st.integers(1, most_lines))
    lines = []
    for i in range(count):
        lines.append(Line(
            member=draw(st.integers(0, members - 1)),
            day=draw(st.sampled_from(DAYS)),
            start=draw(st.sampled_from([0, 600])),  # few starts: ties decided by claim id
            claim=f"C{draw(st.integers(0, 99)):02d}-{i}",
            service=draw(st.integers(0, 3)),
            units=draw(st.integers(1, 20)),
            candidate=draw(st.booleans() | st.just(True)),
            own_authorization=draw(st.sampled_from([None, "PA0", "PA1"])),
        ))
    daily = {s: draw(st.integers(4, 30)) for s in (0, 1, 2) if draw(st.booleans())}
    monthly = {s: draw(st.integers(8, 60)) for s in (0, 1, 2) if draw(st.booleans())}
    authorizations = []
    for i in range(draw(st.integers(0, 4 if authorized else 0))):
        start, end = sorted((draw(st.sampled_from(DAYS)), draw(st.sampled_from(DAYS))))
        units = draw(st.integers(0, 30))
        authorizations.append(Authorization(f"PA{i}", draw(st.integers(0, 1)), draw(st.sampled_from([0, 0, 1, 2])),
                                            start, end, units, draw(st.integers(0, units))))
    prior: dict[tuple, int] = {}
    for line in lines:
        for kind, key, cap in _limits_of(line, Scenario(lines, daily, monthly, 1, [], {}, False)):
            if draw(st.integers(0, 3)) == 0:
                prior[(kind, key)] = draw(st.integers(0, cap + 5))
    annual = draw(st.integers(5, 60))
    for (kind, key), value in list(prior.items()):
        if kind == "annual":
            prior[(kind, key)] = min(value, annual + 5)
    return Scenario(lines, daily, monthly, annual, authorizations, prior, draw(st.booleans()))


@given(scenarios())
@settings(max_examples=50, deadline=None)
def test_resolver_matches_spec_section_5(scenario: Scenario) -> None:
    assert resolve(scenario) == reference(scenario)


@given(scenarios())
@settings(max_examples=50, deadline=None)
def test_lines_resolved_in_rounds_match_spec_section_5(scenario: Scenario) -> None:
    # Every round resolved at once, however few lines it holds (by default a round of under 16 is walked).
    with patch.object(resolver, "_ROUND_FROM", 1):
        assert resolve(scenario) == reference(scenario)


@given(scenarios(members=40, most_lines=200, authorized=False))
@settings(max_examples=30, deadline=None)
def test_many_members_past_their_caps_match_spec_section_5(scenario: Scenario) -> None:
    assert resolve(scenario) == reference(scenario)


# --- the worked examples --------------------------------------------------------------------------


def _one_day(units: list[int], cap: int, cutback: bool, prior: int = 0) -> list[int]:
    n = len(units)
    limit = Limit("daily", np.zeros(n, dtype=np.int64), np.array([cap]), np.array([prior]))
    outcome = apply_limits(np.array(units, dtype=np.int32), np.ones(n, dtype=bool), lambda rows: np.sort(rows),
                           [limit], None, cutback)
    return outcome.allowed.tolist()


def test_spec_example_reject_mode() -> None:
    assert _one_day([10, 10, 5], 16, cutback=False) == [10, 0, 5]


def test_spec_example_cutback_mode() -> None:
    assert _one_day([10, 10, 5], 16, cutback=True) == [10, 6, 0]


def test_earlier_runs_count_toward_the_limit() -> None:
    assert _one_day([4, 3], 16, cutback=False, prior=12) == [4, 0]
    assert _one_day([4, 3], 16, cutback=True, prior=14) == [2, 0]
    assert _one_day([1], 16, cutback=True, prior=20) == [0]  # already over: nothing left, never negative


def test_lines_not_yet_accepted_by_other_rules_take_no_room() -> None:
    limit = Limit("daily", np.zeros(3, dtype=np.int64), np.array([16]), np.array([0]))
    outcome = apply_limits(np.array([10, 10, 6], dtype=np.int32), np.array([True, False, True]),
                           lambda rows: np.sort(rows), [limit], None, cutback=False)
    assert outcome.allowed.tolist() == [10, 0, 6]


def _year_scenario(units: list[int], authorizations: list[tuple[str, int, int]], cutback: bool) -> Scenario:
    """Member 0, code 0, one line a day in January 2026; authorizations (id, units, used before)."""
    lines = [Line(0, dt.date(2026, 1, 5 + i), 0, f"C{i}", 0, u, True, None) for i, u in enumerate(units)]
    auths = [Authorization(a, 0, 0, dt.date(2026, 1, 1), dt.date(2026, 1, 31) + dt.timedelta(days=k), u, before)
             for k, (a, u, before) in enumerate(authorizations)]
    return Scenario(lines, {}, {}, 10, auths, {}, cutback)


def test_units_beyond_the_cap_go_to_an_authorization_with_room_for_them_all() -> None:
    # Cap 10: the second line's 6 units are all beyond it. PA0 (ending first) has 2 left,
    # PA1 has 8: the line bills against PA1 whole. The third line's 2 units then fit PA0;
    # the fourth needs 3 and neither has them (PA0 0, PA1 2).
    scenario = _year_scenario([10, 6, 2, 3], [("PA0", 2, 0), ("PA1", 8, 0)], cutback=False)
    assert resolve(scenario) == reference(scenario) == ([10, 6, 2, 0], [None, None, None, "annual"], [-1, 1, 0, -1],
                                                        [0, 0, 0, 18])


def test_cutback_takes_what_an_authorization_has_left() -> None:
    # PA0 has 3 of its 5 units left: the 6 units beyond the cap are cut to 3.
    scenario = _year_scenario([10, 6], [("PA0", 5, 2)], cutback=True)
    assert resolve(scenario) == reference(scenario) == ([10, 3], [None, "annual"], [-1, 0], [0, 10])


def test_only_lines_past_a_cap_are_walked_one_by_one() -> None:
    # Two members' days: member 0's 10+10 crosses the daily 16, member 1's 5+5 does not.
    # The screens settle member 1's group whole, and member 0's first line (its running
    # total stays under the cap): only member 0's second line is walked.
    group = np.array([0, 0, 1, 1], dtype=np.int64)
    limit = Limit("daily", group, np.array([16, 16]), np.array([0, 0]))
    outcome = apply_limits(np.array([10, 10, 5, 5], dtype=np.int32), np.ones(4, dtype=bool),
                           lambda rows: np.sort(rows), [limit], None, cutback=False)
    assert outcome.allowed.tolist() == [10, 0, 5, 5]
    assert outcome.resolved_one_by_one == 1


def test_lines_of_a_group_already_full_are_held_without_being_walked() -> None:
    # Earlier runs filled the day (16 of 16): both lines are held back whatever comes before them, so the
    # walk leaves them out, and each still names the units already counted that day.
    limit = Limit("daily", np.zeros(2, dtype=np.int64), np.array([16]), np.array([16]))
    outcome = apply_limits(np.array([3, 4], dtype=np.int32), np.ones(2, dtype=bool), lambda rows: np.sort(rows),
                           [limit], None, cutback=True)
    assert outcome.allowed.tolist() == [0, 0]
    assert outcome.binding.tolist() == [0, 0]
    assert outcome.used.tolist() == [16, 16]
    assert outcome.resolved_one_by_one == 0
