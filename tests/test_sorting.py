"""The pipeline's fast sorts give exactly what numpy's stable sort and a per-line build would."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.rules.words import per_distinct
from cmclaims.sorting import argsort_keys, combined_key

keys = st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=300)


@settings(max_examples=200, deadline=None)
@given(keys)
def test_argsort_keys_is_a_stable_argsort(values: list[int]) -> None:
    array = np.array(values, dtype=np.int64)
    assert argsort_keys(array).tolist() == np.argsort(array, kind="stable").tolist()


def test_keys_too_wide_to_pack_fall_back_to_the_stable_argsort() -> None:
    array = np.array([2**62, -(2**62), 0, 2**62, 5], dtype=np.int64)
    assert argsort_keys(array).tolist() == [1, 2, 4, 0, 3]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 9), st.integers(0, 4)), max_size=200))
def test_combined_key_orders_like_the_tuples(rows: list[tuple[int, int, int]]) -> None:
    parts = [np.array([r[i] for r in rows], dtype=np.int64) for i in range(3)]
    key = combined_key((parts[0], 4), (parts[1], 10), (parts[2], 5))
    assert key is not None
    assert argsort_keys(key).tolist() == np.lexsort((parts[2], parts[1], parts[0])).tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(0, 2**50)), max_size=200))
def test_per_distinct_text_is_the_text_of_each_line(rows: list[tuple[int, int]]) -> None:
    a = np.array([r[0] for r in rows], dtype=np.int64)
    b = np.array([r[1] for r in rows], dtype=np.int64)

    def build(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.array([f"{i}:{j}" for i, j in zip(x.tolist(), y.tolist(), strict=True)], dtype=object)

    text = per_distinct(build, a, b)
    assert text.cast("string").to_pylist() == [f"{i}:{j}" for i, j in rows]
