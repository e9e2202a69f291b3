"""Applying unit limits in order, accepting only what fits (SPEC section 5).

Lines are taken in the order member, service date, start time, claim id, and a
line is accepted only if every limit it falls under still has room; a rejected
line's units never count, so a later, smaller line may still fit. That policy
is sequential by nature, but almost every group of lines is far below its
limit. So the whole batch is screened with vectorised sums, twice:

1. A group whose total (with the units billed in earlier runs) is within its
   limit cannot bind any of its lines: only lines of crossing groups are "hot".
2. In a crossing group, taken in order, the lines before the running total
   first passes the limit fit even if every earlier line was accepted: a hot
   line within that prefix of every crossing group it belongs to is "safe" and
   keeps all its units.

Only the remaining lines, a few at the end of each crossing group, are resolved
one by one, each seeing the units of the safe lines before it in its groups.
The result is exactly the sequential policy's: accepting fewer earlier units
can only leave more room. Lines of different members never share a group, so
"one by one" is per member: the first such line of every member is resolved
at once, then the second, and so on (`_walk_in_rounds`); a night against a
year of earlier use walks 14,000 lines so in 7 ms instead of 40.

A replacement (claim_frequency 7) changes what counts only if it is accepted
(SPEC section 5): its original's units count until then, and are released from
the original's groups at the moment the pass accepts the replacement; a
rejected replacement releases nothing. Releases only ever add room, so the
screens stay exact; replacements and the batch originals they name are always
resolved one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Limit:
    """One kind of limit: each line's group (-1: not under this limit), each group's cap and prior use."""

    code: str  # the rule that reports it: CM201 daily, CM202 monthly, ...
    group: np.ndarray  # per line
    cap: np.ndarray  # per group, in units
    prior: np.ndarray  # per group: units accepted in earlier runs
    extendable: bool = False  # an annual cap: authorizations may add units beyond it


@dataclass
class AuthorizationPool:
    """Authorizations that extend an annual cap: units granted, units used before this run,
    and for a line, the authorizations that cover it, best first."""

    units: np.ndarray
    prior: np.ndarray
    covering: Callable[[np.ndarray], dict[int, list[int]]]


@dataclass
class Releases:
    """What accepting a replacement frees: per entry, the replacement's line and, per limit, the group its
    original's units sit in (-1: none of this batch's groups), the original's units (an original in the
    ledger), or the original's line in this batch (-1: in the ledger), whose accepted units are freed."""

    line: np.ndarray
    groups: list[np.ndarray]
    units: np.ndarray
    original: np.ndarray

    @classmethod
    def none(cls, limits: int) -> Releases:
        """Nothing released."""
        empty = np.empty(0, np.int64)
        return cls(empty, [empty] * limits, empty, empty)


@dataclass
class Outcome:
    """Per line: units accepted, and for lines a limit touched, which one and how."""

    allowed: np.ndarray  # int32
    binding: np.ndarray  # index into the limits list of the limit that cut or rejected the line, -1 none
    used: np.ndarray  # units already accepted in that limit's group when the line came
    authorization: np.ndarray  # authorization billed for units beyond an annual cap, -1 none
    authorized_units: np.ndarray  # units of the line billed against that authorization
    authorization_room: np.ndarray  # units left on the covering authorization when it fell short, -1 none
    resolved_one_by_one: int  # lines the screens could not settle (a measure of how well they work)


def crossing_groups(limit: Limit, units: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Per group: whether its candidate lines, all accepted, would pass the cap."""
    applies = candidates & (limit.group >= 0)
    total = np.bincount(limit.group[applies], weights=units[applies], minlength=limit.cap.size)
    return total + limit.prior > limit.cap


def apply_limits(
    units: np.ndarray,
    candidates: np.ndarray,
    order: Callable[[np.ndarray], np.ndarray],
    limits: list[Limit],
    authorizations: AuthorizationPool | None,
    cutback: bool,
    releases: Releases | None = None,
) -> Outcome:
    """Accept each candidate line's units under every limit, in `order`.

    `order(rows)` returns `rows` sorted by member, service date, start and claim id.
    In reject mode a line that would pass any limit is rejected whole (allowed 0);
    in cutback mode it keeps the units that remain.
    """
    n = units.size
    allowed = np.where(candidates, units, 0).astype(np.int32)
    binding = np.full(n, -1, dtype=np.int16)
    used_at = np.zeros(n, dtype=np.int64)
    auth_of = np.full(n, -1, dtype=np.int32)
    auth_units_of = np.zeros(n, dtype=np.int32)
    auth_room_at = np.full(n, -1, dtype=np.int64)
    # Per limit and line: whether the line's group crosses (group -1 picks the appended False).
    crossing_group = [crossing_groups(limit, units, candidates) for limit in limits]
    crossing = [np.append(crosses, False)[limit.group] for limit, crosses in zip(limits, crossing_group, strict=True)]
    hot = candidates & np.logical_or.reduce(crossing) if limits else np.zeros(n, dtype=bool)
    releases = releases if releases is not None else Releases.none(len(limits))
    # A release matters only in a crossing group (elsewhere every line fits anyway).
    release_groups = [_crossing_only(group, crosses) for group, crosses in zip(releases.groups, crossing_group,
                                                                                strict=True)]
    releasing = np.zeros(n, dtype=bool)
    if releases.line.size and limits:
        live = np.logical_or.reduce([g >= 0 for g in release_groups])
        releasing[releases.line[live]] = True
        originals = releases.original[live]
        releasing[originals[originals >= 0]] = True  # resolved in order: freed only once accepted before
    forced = candidates & releasing
    hot |= forced
    rows = order(np.flatnonzero(hot))
    if rows.size == 0:
        return Outcome(allowed, binding, used_at, auth_of, auth_units_of, auth_room_at, 0)

    # Per hot line and limit: the group, or -1 where that limit does not cross.
    groups = [np.where(crosses[rows], limit.group[rows], -1) for limit, crosses in zip(limits, crossing, strict=True)]
    need = units[rows].astype(np.int64)
    safe = np.ones(rows.size, dtype=bool)
    for limit, group in zip(limits, groups, strict=True):
        inside = group >= 0
        running = pd.Series(need[inside]).groupby(group[inside]).cumsum().to_numpy()
        safe[inside] &= running + limit.prior[group[inside]] <= limit.cap[group[inside]]
    safe &= ~forced[rows]  # replacements and their batch originals are resolved in order, one by one
    # Units of the safe lines before each line in each of its crossing groups (they are all accepted).
    safe_before = []
    for group in groups:
        inside = group >= 0
        taken = pd.Series(np.where(safe, need, 0)[inside]).groupby(group[inside]).cumsum().to_numpy()
        before = np.zeros(rows.size, dtype=np.int64)
        before[inside] = taken - np.where(safe, need, 0)[inside]
        safe_before.append(before)

    sequential = np.flatnonzero(~safe)
    used = [limit.prior.astype(np.int64) for limit in limits]  # plus the accepted units of sequential lines
    covering = authorizations.covering(rows[sequential]) if authorizations is not None else {}
    held = _held_whatever_comes_before(rows[sequential], need[sequential], [g[sequential] for g in groups],
                                       [b[sequential] for b in safe_before], limits, release_groups, covering)
    allowed[rows[sequential[held]]] = 0
    walked, sequential = sequential, sequential[~held]
    auth_used = authorizations.prior.astype(np.int64) if authorizations is not None else np.zeros(0, np.int64)
    auth_units = authorizations.units if authorizations is not None else np.zeros(0, np.int64)
    extendable = [limit.extendable for limit in limits]
    caps = [limit.cap for limit in limits]
    need_of = need[sequential].tolist()
    line_groups = list(zip(*[g[sequential].tolist() for g in groups], strict=True))
    line_before = list(zip(*[b[sequential].tolist() for b in safe_before], strict=True))
    frees = _release_table(releases, release_groups)
    released: set[int] = set()  # entries of `releases` already applied
    done: set[int] = set()  # lines resolved so far, in order
    lines = rows[sequential]
    left = np.arange(sequential.size)
    if not frees and not any(covering.values()):
        left = _walk_in_rounds(lines, need[sequential], [g[sequential] for g in groups],
                               [b[sequential] for b in safe_before], caps, used, cutback, allowed, binding, used_at)
    line_of = lines.tolist()

    for position in left.tolist():
        line = line_of[position]
        wanted = need_of[position]
        room_here, first_short, auth, auth_room = wanted, -1, -1, -1
        usage = [0] * len(limits)
        mine = [(entry, _freed(entry, releases, allowed, done)) for entry in frees.get(line, ())
                if entry not in released]
        for k, group in enumerate(line_groups[position]):
            if group < 0:
                continue
            usage[k] = int(used[k][group]) + line_before[position][k]
            usage[k] -= sum(units for entry, units in mine if release_groups[k][entry] == group)
            room = max(int(caps[k][group]) - usage[k], 0)
            if extendable[k] and room < wanted:
                auth, auth_room, extra = _authorization(
                    covering.get(line, []), auth_units, auth_used, wanted - room, cutback
                )
                room += extra
            if room < wanted and first_short < 0:
                first_short = k
            room_here = min(room_here, room)
        take = wanted if first_short < 0 else (room_here if cutback else 0)
        if first_short >= 0:
            binding[line] = first_short
            used_at[line] = usage[first_short]
            auth_room_at[line] = auth_room
        allowed[line] = take
        done.add(line)
        if take <= 0:
            continue
        for entry, units_freed in mine:  # the replacement is accepted: its original stops counting
            released.add(entry)
            for k in range(len(limits)):
                if release_groups[k][entry] >= 0:
                    used[k][release_groups[k][entry]] -= units_freed
        for k, group in enumerate(line_groups[position]):
            if group < 0:
                continue
            beyond_cap = take - max(int(caps[k][group]) - usage[k], 0)
            if extendable[k] and auth >= 0 and beyond_cap > 0:
                auth_used[auth] += beyond_cap
                auth_of[line] = auth
                auth_units_of[line] = beyond_cap
            used[k][group] += take
    _bind_held(rows[walked], need[walked], held, [g[walked] for g in groups], [b[walked] for b in safe_before],
               limits, allowed, binding, used_at)
    return Outcome(allowed, binding, used_at, auth_of, auth_units_of, auth_room_at, int(sequential.size))


_ROUND_FROM = 16  # lines a round must hold to be resolved at once; fewer are walked one by one


def _walk_in_rounds(lines: np.ndarray, need: np.ndarray, groups: list[np.ndarray], before: list[np.ndarray],
                    caps: list[np.ndarray], used: list[np.ndarray], cutback: bool, allowed: np.ndarray,
                    binding: np.ndarray, used_at: np.ndarray) -> np.ndarray:
    """Resolve lines left to walk (in order) many at a time; return the positions still to walk one by one.

    Only lines that share a group depend on each other's outcome. The lines
    are split into chains (lines linked through any shared group: in practice
    one member's lines), and round r resolves the r-th line of every chain at
    once: no two of them share a group, so each sees exactly the units the
    walk would have shown it. Once a round holds fewer than `_ROUND_FROM`
    lines, the rest are left to the walk, in order (a chain's earlier lines are
    all resolved by then). For lines no replacement releases units for and no
    authorization covers (the caller checks): the walk's arithmetic without
    those two.
    """
    count = lines.size
    chain = np.arange(count)
    while True:  # each line takes the lowest position it is linked to, until none changes
        lowest = chain.copy()
        for group, cap in zip(groups, caps, strict=True):
            inside = group >= 0
            first = np.full(cap.size, count, dtype=np.int64)
            np.minimum.at(first, group[inside], lowest[inside])
            lowest[inside] = np.minimum(lowest[inside], first[group[inside]])
        if np.array_equal(lowest, chain):
            break
        chain = lowest
    by_chain = np.argsort(chain, kind="stable")  # each chain's lines together, in order
    starts = np.flatnonzero(np.r_[True, chain[by_chain][1:] != chain[by_chain][:-1]])
    rank = np.empty(count, dtype=np.int64)
    rank[by_chain] = np.arange(count) - np.repeat(starts, np.diff(np.r_[starts, count]))
    per_round = np.bincount(rank) if count else np.zeros(0, np.int64)
    rounds = int(np.argmax(per_round < _ROUND_FROM)) if (per_round < _ROUND_FROM).any() else per_round.size
    in_order = np.argsort(rank, kind="stable")
    ends = np.cumsum(per_round)
    for r in range(rounds):
        at = in_order[ends[r] - per_round[r]:ends[r]]
        wanted = need[at]
        room_here = wanted.copy()
        first_short = np.full(at.size, -1, dtype=np.int64)
        usage_short = np.zeros(at.size, dtype=np.int64)
        for k, (group, cap) in enumerate(zip(groups, caps, strict=True)):
            g = group[at]
            inside = g >= 0
            usage = np.zeros(at.size, dtype=np.int64)
            usage[inside] = used[k][g[inside]] + before[k][at[inside]]
            room = wanted.copy()
            room[inside] = np.maximum(cap[g[inside]] - usage[inside], 0)
            short = inside & (room < wanted) & (first_short < 0)
            first_short[short], usage_short[short] = k, usage[short]
            room_here = np.minimum(room_here, room)
        take = np.where(first_short < 0, wanted, room_here if cutback else 0)
        short = first_short >= 0
        binding[lines[at[short]]] = first_short[short]
        used_at[lines[at[short]]] = usage_short[short]
        allowed[lines[at]] = take
        for k, group in enumerate(groups):
            g = group[at]
            inside = (g >= 0) & (take > 0)
            used[k][g[inside]] += take[inside]  # one line per group in a round
    return np.sort(in_order[ends[rounds - 1]:]) if rounds else np.arange(count)


def _held_whatever_comes_before(lines: np.ndarray, need: np.ndarray, groups: list[np.ndarray],
                                before: list[np.ndarray], limits: list[Limit], release_groups: list[np.ndarray],
                                covering: dict[int, list[int]]) -> np.ndarray:
    """Per line left to walk (in order): whether it is held back whatever the lines before it do.

    A group whose earlier runs and safe lines already fill its cap has no room
    for any later line: accepted units only ever add to it. Nothing can free
    room there unless a replacement releases units in one of the line's
    groups, and an authorization could add room beyond an annual cap, so lines
    with either are walked. Such a line takes nothing and changes nothing, so
    the walk leaves it out (a night against a year of earlier use has tens of
    thousands of them: members already at their cap); `_bind_held` then says
    which limit held it, as the walk would have.
    """
    full = np.zeros(lines.size, dtype=bool)
    releasing = np.zeros(lines.size, dtype=bool)
    for limit, group, taken, freed in zip(limits, groups, before, release_groups, strict=True):
        inside = group >= 0
        at = group[inside]
        full[inside] |= limit.prior[at] + taken[inside] >= limit.cap[at]
        if freed.size:
            freeing = np.zeros(limit.cap.size, dtype=bool)
            freeing[freed[freed >= 0]] = True
            releasing[inside] |= freeing[at]
    covered = np.isin(lines, np.array([line for line, found in covering.items() if found], dtype=np.int64))
    return full & (need > 0) & ~releasing & ~covered


def _bind_held(lines: np.ndarray, need: np.ndarray, held: np.ndarray, groups: list[np.ndarray],
               before: list[np.ndarray], limits: list[Limit], allowed: np.ndarray, binding: np.ndarray,
               used_at: np.ndarray) -> None:
    """The binding limit and its used units for the lines `_held_whatever_comes_before` left out of the walk:
    each group's prior use, plus what the walked lines before it accepted in that group, plus its safe lines."""
    if not held.any():
        return
    first_short = np.full(lines.size, -1, dtype=np.int64)
    usage_at_short = np.zeros(lines.size, dtype=np.int64)
    taken = allowed[lines].astype(np.int64)  # the walked lines' accepted units; 0 for the held ones
    for k, (limit, group, safe) in enumerate(zip(limits, groups, before, strict=True)):
        inside = group >= 0
        at = group[inside]
        accepted_before = pd.Series(taken[inside]).groupby(at).cumsum().to_numpy() - taken[inside]
        usage = np.zeros(lines.size, dtype=np.int64)
        usage[inside] = limit.prior[at] + accepted_before + safe[inside]
        room = np.zeros(lines.size, dtype=np.int64)
        room[inside] = np.maximum(limit.cap[at] - usage[inside], 0)
        short = inside & (room < need) & (first_short < 0)
        first_short[short], usage_at_short[short] = k, usage[short]
    lines, first_short, usage_at_short = lines[held], first_short[held], usage_at_short[held]
    binding[lines] = first_short
    used_at[lines] = usage_at_short


def _crossing_only(group: np.ndarray, crosses: np.ndarray) -> np.ndarray:
    """`group` where that group crosses its cap, -1 elsewhere."""
    out = np.full(group.size, -1, dtype=np.int64)
    inside = group >= 0
    out[inside] = np.where(crosses[group[inside]], group[inside], -1)
    return out


def _release_table(releases: Releases, groups: list[np.ndarray]) -> dict[int, list[int]]:
    """Replacement line -> its entries in `releases` that free units in some crossing group."""
    table: dict[int, list[int]] = {}
    if not releases.line.size or not groups:
        return table
    live = np.flatnonzero(np.logical_or.reduce([g >= 0 for g in groups]))
    for entry, line in zip(live.tolist(), releases.line[live].tolist(), strict=True):
        table.setdefault(line, []).append(entry)
    return table


def _freed(entry: int, releases: Releases, allowed: np.ndarray, done: set[int]) -> int:
    """Units accepting the replacement frees: the ledger original's, or the batch original's accepted
    units if it was resolved before (taken in order); a batch original after its replacement counts."""
    original = int(releases.original[entry])
    if original < 0:
        return int(releases.units[entry])
    return int(allowed[original]) if original in done else 0


def _authorization(
    covering: list[int], units: np.ndarray, used: np.ndarray, excess: int, cutback: bool
) -> tuple[int, int, int]:
    """(authorization, its units left, units it adds) for `excess` units beyond an annual cap.

    A claim line bills against one authorization: the first covering one with
    room for the whole excess, or, in cutback mode, the first with any room.
    With none, the units left is the most any covering one has (-1: none covers).
    """
    if not covering:
        return -1, -1, 0
    left = [int(units[a] - used[a]) for a in covering]
    for a, room in zip(covering, left, strict=True):
        if room >= excess:
            return a, room, room
    if cutback:
        for a, room in zip(covering, left, strict=True):
            if room > 0:
                return a, room, room
    return -1, max(max(left), 0), 0
