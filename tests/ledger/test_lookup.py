"""Finding tonight's claim ids among every claim the ledger billed: every lookup (Arrow's hash table, 64-bit keys)
agrees with a plain list's index, nulls never match."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings

import cmclaims.ledger.lookup as lookup
from cmclaims.ledger.lookup import equal, first_positions, is_in, positions_in
from cmclaims.normalize.text_keys import text_keys

ids = st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D", "0042", "42", ""]))


@settings(deadline=None)  # the first example pays for Arrow's kernels being set up
@given(st.lists(st.lists(ids, max_size=6), max_size=3), st.lists(ids, max_size=8))
def test_probing_the_haystack_finds_what_hashing_it_finds(chunks: list[list[str | None]],
                                                          needles: list[str | None]) -> None:
    haystack = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    wanted = pa.array(needles, pa.string())
    flat = [v for c in chunks for v in c]
    expected = np.array([flat.index(n) if n is not None and n in flat else -1 for n in needles], dtype=np.int64)
    assert first_positions(haystack, wanted).tolist() == expected.tolist()
    assert positions_in(haystack, wanted).tolist() == expected.tolist()
    assert _keyed_positions_in(haystack, wanted).tolist() == expected.tolist()


def _keyed_positions_in(haystack: pa.ChunkedArray, needles: pa.Array) -> np.ndarray:
    """`positions_in` as it answers large inputs (by keys, where the haystack holds each text once)."""
    size = lookup._KEYED_FROM
    lookup._KEYED_FROM = 0
    try:
        return positions_in(haystack, needles)
    finally:
        lookup._KEYED_FROM = size


@settings(deadline=None)
@given(st.lists(st.lists(ids, max_size=6), max_size=3), st.lists(ids, max_size=8, unique=True),
       st.lists(ids, max_size=5))
def test_needles_known_distinct_are_answered_as_any_needles(chunks: list[list[str | None]],
                                                            distinct: list[str | None],
                                                            repeated: list[str | None]) -> None:
    """A night's claim ids (distinct) followed by its original ids (repeats, and ids among the claim ids)."""
    haystack = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    needles = [*distinct, *repeated]
    flat = [v for c in chunks for v in c]
    expected = [flat.index(n) if n is not None and n in flat else -1 for n in needles]
    got = first_positions(haystack, pa.array(needles, pa.string()), distinct_first=len(distinct))
    assert got.tolist() == expected


@settings(deadline=None)
@given(st.lists(st.lists(ids, max_size=6), max_size=3), st.lists(ids, max_size=8), st.integers(0, 4),
       st.data())
def test_the_haystacks_keys_given_answer_as_keys_computed(chunks: list[list[str | None]],
                                                         needles: list[str | None], cut: int,
                                                         data: st.DataObject) -> None:
    """The ledger keys its claim ids before the batch is read (cmclaims/ledger/earlier.py) and hands the keys
    over in pieces of their own: the answers are a plain list's, voids skipped as without keys."""
    haystack = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    flat = [v for c in chunks for v in c]
    skip = np.array(data.draw(st.lists(st.booleans(), min_size=len(flat), max_size=len(flat))), dtype=bool)
    keys = text_keys(haystack)
    cut = min(cut, len(keys))
    pieces = pa.chunked_array([keys[:cut], keys[cut:]], pa.uint64())  # not cut where the texts are
    open_rows = [i for i, skipped in enumerate(skip) if not skipped]
    expected = [next((i for i in open_rows if flat[i] == n), -1) if n is not None else -1 for n in needles]
    got = first_positions(haystack, pa.array(needles, pa.string()), skip=skip, haystack_keys=pieces)
    assert got.tolist() == expected


@settings(deadline=None)
@given(st.lists(st.lists(ids, max_size=6), max_size=3), st.lists(ids, max_size=5), st.booleans())
def test_rows_holding_any_of_a_few_ids_are_every_row_a_list_finds(chunks: list[list[str | None]],
                                                                  wanted: list[str | None], keyed: bool) -> None:
    """The retired originals' ids among every earlier claim: every row holding one, with the claims' keys given
    or not; nulls never match."""
    haystack = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    flat = [v for c in chunks for v in c]
    expected = [i for i, v in enumerate(flat) if v is not None and v in wanted]
    keys = text_keys(haystack) if keyed else None
    got = lookup.rows_holding(haystack, pa.array(wanted, pa.string()), pa.array(keys) if keyed else None)
    assert got.tolist() == expected


@settings(deadline=None)
@given(st.lists(st.tuples(ids, st.booleans()), max_size=12), st.lists(ids, max_size=8))
def test_skipped_rows_never_match(rows: list[tuple[str | None, bool]], needles: list[str | None]) -> None:
    """Void lines: their ids bill nothing, so a needle is found at the first line that is not skipped."""
    haystack = pa.array([value for value, _ in rows], pa.string())
    skip = np.array([skipped for _, skipped in rows], dtype=bool)
    open_rows = [i for i, (_, skipped) in enumerate(rows) if not skipped]
    expected = [next((i for i in open_rows if rows[i][0] == n), -1) if n is not None else -1 for n in needles]
    assert first_positions(haystack, pa.array(needles, pa.string()), skip=skip).tolist() == expected


def test_is_in_and_equal_answer_on_dictionaries_as_arrow_does_on_text() -> None:
    """A ledger's run ids and frequencies come dictionary-encoded, one dictionary per block; `is_in` and
    `equal` look each dictionary up once and answer every line as Arrow does on the plain text."""
    chunks = [pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 2, 1], pa.int32()), pa.array(["1", "7", "8"])),
              pa.DictionaryArray.from_arrays(pa.array([0, 0], pa.int32()), pa.array(["7"]))]
    encoded = pa.chunked_array(chunks)
    plain = encoded.cast(pa.string())
    for value_set in (pa.array(["8", "1"]), pa.array(["nothing"]), pa.array([], pa.string())):
        assert is_in(encoded, value_set).to_pylist() == pc.is_in(plain, value_set=value_set).to_pylist()
    for text in ("7", "1", "x"):
        assert equal(encoded, text).to_pylist() == pc.equal(plain, text).to_pylist()


def _flat_answer(chunks: list[list[str | None]], needles: list[str | None]) -> list[int]:
    flat = [v for c in chunks for v in c]
    return [flat.index(n) if n is not None and n in flat else -1 for n in needles]


@settings(deadline=None)
@given(st.lists(st.lists(ids, max_size=6), max_size=3), st.lists(ids, max_size=8), st.integers(1, 3))
def test_keys_two_texts_share_never_make_a_match(chunks: list[list[str | None]], needles: list[str | None],
                                                  buckets: int) -> None:
    """Keys are a hash: with a hash so poor that texts share keys all the time, the answers stay exact
    (a shared key among the haystack's rows is checked against the text; among the needles, Arrow answers)."""
    real = lookup.text_keys
    lookup.text_keys = lambda values: text_keys(values) % np.uint64(buckets)
    try:
        haystack = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
        got = first_positions(haystack, pa.array(needles, pa.string()))
        keyed = _keyed_positions_in(haystack, pa.array(needles, pa.string()))
    finally:
        lookup.text_keys = real
    assert got.tolist() == _flat_answer(chunks, needles)
    assert keyed.tolist() == _flat_answer(chunks, needles)


@settings(deadline=None, max_examples=50)
@given(st.lists(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=20), max_size=3),
       st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=10))
def test_any_text_is_found_as_arrow_finds_it(chunks: list[list[str | None]], needles: list[str | None]) -> None:
    """Multi-byte, empty, long and control-character ids; the haystack also as large_string."""
    needles = needles + [v for c in chunks for v in c][:5]
    for kind in (pa.string(), pa.large_string()):
        haystack = pa.chunked_array([pa.array(c, kind) for c in chunks], kind)
        assert first_positions(haystack, pa.array(needles, pa.string())).tolist() == _flat_answer(chunks, needles)
        assert _keyed_positions_in(haystack, pa.array(needles, kind)).tolist() == _flat_answer(chunks, needles)


def test_a_large_lookup_in_distinct_texts_is_answered_by_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Members of a year's totals among tonight's (hundreds of thousands): no Arrow hash table of texts."""
    members = pa.array([f"M{i:06d}" for i in range(30_000)])
    needles = pa.chunked_array([pa.array(["M000007", None, "M029999", "nobody", "M000007"]),
                                members.slice(0, 30_000)])

    def no_hash_table(*args: object, **kwargs: object) -> None:
        raise AssertionError("Arrow's hash table was built")

    monkeypatch.setattr(lookup.pc, "index_in", no_hash_table)
    at = positions_in(members, needles)
    assert at[:5].tolist() == [7, -1, 29_999, -1, 7]
    assert (at[5:] == np.arange(30_000)).all()
