"""Grouping by several integer keys: the sums every limit and the ledger's earlier usage rest on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.ledger.lookup import dictionary_positions
from cmclaims.limits.groups import group_lines, sum_by

keys = st.lists(st.tuples(st.integers(-3, 3), st.sampled_from([0, 1, 7, 10**9]), st.integers(0, 2),
                          st.integers(0, 20)), min_size=1, max_size=60)


@given(keys)
@settings(max_examples=100, deadline=None)
def test_sum_by_matches_a_plain_groupby(rows: list[tuple[int, int, int, int]]) -> None:
    # Keys up to 10**9 apart force the hashing path; small ones take the dense count.
    frame = pd.DataFrame(rows, columns=["member", "code", "year", "units"])
    expected = frame.groupby(["member", "code", "year"], as_index=False)["units"].sum()
    got = sum_by({c: frame[c].to_numpy() for c in ("member", "code", "year")}, frame["units"].to_numpy(), "units")
    got = got.sort_values(["member", "code", "year"], ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_a_group_of_zero_units_is_still_a_group() -> None:
    got = sum_by({"member": np.array([0, 1])}, np.array([0, 5]), "units")
    assert sorted(zip(got["member"], got["units"], strict=True)) == [(0, 0), (1, 5)]


@given(keys)
@settings(max_examples=50, deadline=None)
def test_group_lines_puts_equal_keys_together(rows: list[tuple[int, int, int, int]]) -> None:
    columns = [np.array([r[k] for r in rows]) for k in range(3)]
    applies = np.array([r[3] % 2 == 0 for r in rows])
    grouping = group_lines(columns, applies)
    assert (grouping.group[~applies] == -1).all()
    seen: dict[tuple, int] = {}
    for i in np.flatnonzero(applies):
        assert seen.setdefault(tuple(int(c[i]) for c in columns), int(grouping.group[i])) == grouping.group[i]
    assert len(seen) == grouping.size
    # A key from elsewhere (the ledger's earlier usage) finds its group, or -1.
    for key, group in seen.items():
        assert grouping.locate([np.array([k]) for k in key]).tolist() == [group]
    assert grouping.locate([np.array([99]), np.array([0]), np.array([0])]).tolist() == [-1]


def test_ledger_values_are_found_in_chunks_with_shared_and_separate_dictionaries() -> None:
    # Two blocks: the first split into two chunks sharing one dictionary, as Parquet reads them.
    first = pa.array(["m1", "m2", None, "m3"]).dictionary_encode()
    second = pa.array(["m3", "m9"]).dictionary_encode()
    values = pa.chunked_array([first.slice(0, 2), first.slice(2), second])
    known = pa.array(["m3", "m1"])
    assert dictionary_positions(known, values).tolist() == [1, -1, -1, 0, 0, -1]
