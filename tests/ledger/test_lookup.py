"""Finding tonight's claim ids among every claim the ledger billed: both lookups agree, nulls never match."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pyarrow as pa
from hypothesis import given

from cmclaims.ledger.lookup import first_positions, positions_in

ids = st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D", "0042", "42", ""]))


@given(st.lists(st.lists(ids, max_size=6), max_size=3), st.lists(ids, max_size=8))
def test_probing_the_haystack_finds_what_hashing_it_finds(chunks: list[list[str | None]],
                                                          needles: list[str | None]) -> None:
    haystack = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    wanted = pa.array(needles, pa.string())
    flat = [v for c in chunks for v in c]
    expected = np.array([flat.index(n) if n is not None and n in flat else -1 for n in needles], dtype=np.int64)
    assert first_positions(haystack, wanted).tolist() == expected.tolist()
    assert positions_in(haystack, wanted).tolist() == expected.tolist()
