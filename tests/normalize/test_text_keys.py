"""Keys of text values: equal texts get equal keys however the array holding them is laid out; `all_distinct`
answers as a set of the texts would."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings

import cmclaims.normalize.text_keys as text_keys_module
from cmclaims.normalize.text_keys import all_distinct, text_keys

# Claim ids as exports write them, and what an attacker might: empty, long, multi-byte, control characters.
texts = st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["", "C1", "C1 ", "c1", "C000000001", "Ünïcödé"]))


def _layouts(values: list[str | None], cut: int, head: int) -> list[pa.Array | pa.ChunkedArray]:
    """The same values as a plain array, a large_string array, a slice of a longer array, and in pieces."""
    plain = pa.array(values, pa.string())
    padded = pa.array(["x" * head, *values, "tail"], pa.string()).slice(1, len(values))
    cut = min(cut, len(values))
    return [plain, plain.cast(pa.large_string()), padded,
            pa.chunked_array([plain.slice(0, cut), plain.slice(cut)], pa.string())]


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=30), st.integers(0, 30), st.integers(0, 20))
def test_equal_texts_get_equal_keys_in_any_layout(values: list[str | None], cut: int, head: int) -> None:
    valid = np.array([v is not None for v in values], dtype=bool)
    keys = [text_keys(layout) for layout in _layouts(values, cut, head)]
    for other in keys[1:]:
        assert other[valid].tolist() == keys[0][valid].tolist()
    by_text: dict[str, int] = {}
    for value, key in zip(values, keys[0].tolist(), strict=True):
        if value is not None:
            assert by_text.setdefault(value, key) == key


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_texts_that_differ_in_one_byte_or_their_length_get_different_keys(first: str, second: str) -> None:
    """Not a promise (keys are a hash), but what a decent hash does on such near neighbours."""
    if first != second:
        keys = text_keys(pa.array([first, second, first + "\0", first + " "]))
        assert len(set(keys.tolist())) == 4 or second in (first + "\0", first + " ")


def test_every_byte_of_a_long_value_counts() -> None:
    base = "A" * 100
    variants = [base] + [base[:i] + "B" + base[i + 1:] for i in range(100)]
    assert len(set(text_keys(pa.array(variants)).tolist())) == len(variants)


def test_values_at_the_very_end_of_a_short_buffer() -> None:
    """Words are read out of the data buffer: the last values, and buffers under 8 bytes, are read in bounds."""
    for values in (["a"], ["", "ab"], ["abcdefghi"], ["x", "abcdefghijklmnop"]):
        alone = [int(text_keys(pa.array([v]))[0]) for v in values]
        assert text_keys(pa.array(values)).tolist() == alone


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), st.sampled_from(["", "C1", "C1 ", "c1"])), max_size=30))
def test_all_distinct_says_whether_a_text_is_there_twice(values: list[str]) -> None:
    for layout in (pa.array(values, pa.string()), pa.array(values, pa.large_string())):
        assert all_distinct(layout) == (len(set(values)) == len(values))


def test_all_distinct_counts_the_texts_where_keys_meet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two texts with one key are still two texts: the keys only ever settle the distinct case."""
    monkeypatch.setattr(text_keys_module, "text_keys", lambda values: np.zeros(len(values), np.uint64))
    assert text_keys_module.all_distinct(pa.array(["a", "b", "c"]))
    assert not text_keys_module.all_distinct(pa.array(["a", "b", "a"]))
    assert not text_keys_module.all_distinct(pa.array(["a", None, None]))
