"""CM4 overlaps and exact copies: the vectorised search against a brute-force pairwise reference.

The engine (`Timeline`) is checked on random small batches against an O(n²)
comparison of every pair; the whole pipeline is checked the same way, and for
shuffle invariance: the order of the export's rows must not change any finding
or disposition.
"""

from __future__ import annotations

import itertools
import random
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.rules.duplicates import Timeline
from tests.helpers import run_lines

# --- the engine ------------------------------------------------------------------------------------

intervals = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 200), st.integers(-10, 60)),  # group, start, length
    max_size=30,
)


def _arrays(batch: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    group = np.array([g for g, _, _ in batch], dtype=np.int64)
    start = np.array([s for _, s, _ in batch], dtype=np.int64)
    end = np.array([s + length for _, s, length in batch], dtype=np.int64)
    return group, start, end


def _brute_pairs(group: np.ndarray, start: np.ndarray, end: np.ndarray, among: np.ndarray) -> set[frozenset]:
    pairs = set()
    for i, j in itertools.combinations(range(group.size), 2):
        if not (among[i] and among[j]) or group[i] != group[j]:
            continue
        if start[i] < end[i] and start[j] < end[j] and start[i] < end[j] and start[j] < end[i]:
            pairs.add(frozenset((i, j)))
    return pairs


def _engine_pairs(timeline: Timeline, among: np.ndarray | None = None) -> list[frozenset]:
    a, b = timeline.overlapping_pairs(among)
    return [frozenset((int(x), int(y))) for x, y in zip(a, b, strict=True)]


@settings(max_examples=300)
@given(intervals, st.data())
def test_overlapping_pairs_match_brute_force(batch: list[tuple[int, int, int]], data: st.DataObject) -> None:
    group, start, end = _arrays(batch)
    n = group.size
    among = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    timeline = Timeline.build(np.arange(n), group, start, end)
    for mask in (None, among):
        found = _engine_pairs(timeline, mask)
        expected = _brute_pairs(group, start, end, np.ones(n, bool) if mask is None else mask)
        assert len(found) == len(set(found)), "a pair was reported twice"
        assert all(len(p) == 2 for p in found), "a line was paired with itself"
        assert set(found) == expected


@settings(max_examples=200)
@given(intervals, st.randoms(use_true_random=False))
def test_overlapping_pairs_do_not_depend_on_row_order(batch: list[tuple[int, int, int]], rnd: random.Random) -> None:
    group, start, end = _arrays(batch)
    n = group.size
    shuffle = np.array(rnd.sample(range(n), n), dtype=np.int64)  # new position -> old line
    before = set(_engine_pairs(Timeline.build(np.arange(n), group, start, end)))
    moved = Timeline.build(np.arange(n), group[shuffle], start[shuffle], end[shuffle])
    after = {frozenset(int(shuffle[i]) for i in pair) for pair in _engine_pairs(moved)}
    assert after == before


@settings(max_examples=200)
@given(intervals)
def test_same_start_matches_brute_force(batch: list[tuple[int, int, int]]) -> None:
    group, start, end = _arrays(batch)
    n = group.size
    found = Timeline.build(np.arange(n), group, start, end).same_start()
    expected = {i for i, j in itertools.permutations(range(n), 2) if group[i] == group[j] and start[i] == start[j]}
    assert sorted(found.tolist()) == sorted(expected)


def test_a_subset_of_lines_and_large_group_numbers() -> None:
    """Only `rows` take part, and group numbers too large for the key are renumbered."""
    group = np.array([2**40, 2**40, 5, 2**40], dtype=np.int64)
    start = np.array([0, 30, 0, 10], dtype=np.int64) + 40_000_000
    end = np.array([60, 90, 60, 20], dtype=np.int64) + 40_000_000
    timeline = Timeline.build(np.array([0, 1, 2]), group, start, end)
    assert set(_engine_pairs(timeline)) == {frozenset((0, 1))}


# --- the whole pipeline ----------------------------------------------------------------------------

line_specs = st.lists(
    st.tuples(
        st.sampled_from(["M1", "M2", "M3"]),
        st.sampled_from(["S1", "S2", "S3"]),
        st.sampled_from(["T1016", "T1017"]),
        st.integers(0, 1),  # day
        st.integers(0, 18).map(lambda q: 1300 + q * 5),  # start minute, near midnight so some cross it
        st.integers(-10, 90),  # length
    ),
    min_size=1,
    max_size=12,
)


@st.composite
def lines_strategy(draw: st.DrawFn) -> list[tuple]:
    """Random lines, some of them entered again (exact copies under a new claim_id)."""
    spec = draw(line_specs)
    copies = draw(st.lists(st.integers(0, len(spec) - 1), max_size=4))
    return spec + [spec[i] for i in copies]


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _export(spec: list[tuple]) -> list[dict]:
    rows = []
    for index, (member, staff, code, day, start, length) in enumerate(spec):
        end = start + length
        end_text = _clock(end) if end < 1440 else f"2026-03-{5 + day:02d} {_clock(end - 1440)}"
        rows.append({
            "claim_id": f"C{index:03d}", "member_id": member, "member_dob": "1980-01-01",
            "service_date": f"2026-03-{4 + day:02d}", "start_time": _clock(start), "end_time": end_text,
            "hcpcs": code, "staff_id": staff,
        })  # fmt: skip
    return rows


def _expected(spec: list[tuple]) -> dict[str, set[str]]:
    """claim_id -> the CM4 rules that must flag it, pair by pair."""
    claims = [f"C{i:03d}" for i in range(len(spec))]
    absolute = [(day * 1440 + start, day * 1440 + start + length) for _, _, _, day, start, length in spec]
    found: dict[str, set[str]] = {c: set() for c in claims}
    copies = set()
    for i, j in itertools.combinations(range(len(spec)), 2):  # i < j: claim i is the smaller claim_id
        if spec[i] == spec[j] and i not in copies:
            copies.add(j)
            found[claims[j]].add("CM401")
    for i, j in itertools.combinations(range(len(spec)), 2):
        if i in copies or j in copies:
            continue
        (si, ei), (sj, ej) = absolute[i], absolute[j]
        if not (si < ei and sj < ej and si < ej and sj < ei):
            continue
        member_i, staff_i, code_i = spec[i][:3]
        member_j, staff_j, code_j = spec[j][:3]
        rule = None
        if staff_i == staff_j:
            rule = "CM406" if member_i == member_j else "CM403"
        elif member_i == member_j and code_i == code_j:
            rule = "CM404"
        if rule:
            found[claims[i]].add(rule)
            found[claims[j]].add(rule)
    return found


@settings(max_examples=25, deadline=None)
@given(lines_strategy(), st.randoms(use_true_random=False))
def test_pipeline_overlaps_match_brute_force_in_any_order(spec: list[tuple], rnd: random.Random) -> None:
    export = _export(spec)
    shuffled = export[:]
    rnd.shuffle(shuffled)
    expected = _expected(spec)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name, lines in (("given", export), ("shuffled", shuffled)):
            run = run_lines(Path(folder) / name, lines, "id-optum")
            found: dict[str, set[str]] = {row["claim_id"]: set() for row in export}
            for row in run.exceptions:
                if row["rule"].startswith("CM4"):
                    found[row["claim_id"]].add(row["rule"])
            assert found == expected, name
            messages = sorted((r["claim_id"], r["rule"], r["message"]) for r in run.exceptions)
            results.append((run.dispositions(), messages))
    assert results[0] == results[1], "shuffling the export changed a disposition or a message"
