"""Near-unique text (claim ids) encoded through a hash gives exactly what Arrow's dictionary encoding gives."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

import cmclaims.normalize.text as text
from cmclaims.normalize.text import encode, encode_by_hash, narrow


def _dictionary_encoded(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    whole = (column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).dictionary_encode()
    codes = np.array(whole.indices.fill_null(-1).to_numpy(zero_copy_only=False))
    return narrow(codes, len(whole.dictionary)), whole.dictionary


def _ids(count: int, seed: int, width: int | None = None) -> list[str]:
    rng = random.Random(seed)
    ids = [f"C{rng.randrange(count // 2 + 1):0{width or 1}d}" for _ in range(count)]
    return ids


COLUMNS = {
    "fixed width, several chunks": pa.chunked_array([pa.array(_ids(3000, s, 10)) for s in range(3)]),
    "varying width, padded": pa.chunked_array([pa.array(_ids(5000, 7))]),
    "sliced chunks": pa.chunked_array([pa.array(_ids(4000, 1, 12))[5:], pa.array(_ids(10, 2, 12))[3:7]]),
    "padding must not merge values": pa.array(["AB", "AB ", "A", "", "AB", " A", "A"]),
    "the widest values taken": pa.array(["x" * 64, "x" * 63, "x" * 64, "y" * 64]),
    "empty strings": pa.array(["", "", ""]),
    "one value a line": pa.chunked_array([pa.array([f"CLAIM-{i}" for i in range(20000)])]),
}


@pytest.mark.parametrize("name", COLUMNS)
def test_the_same_codes_and_values_as_dictionary_encoding(name: str) -> None:
    column = COLUMNS[name]
    got = encode_by_hash(column)
    assert got is not None
    codes, values = got
    want_codes, want_values = _dictionary_encoded(column)
    assert codes.dtype == want_codes.dtype
    assert np.array_equal(codes, want_codes)
    assert values.equals(want_values)


@pytest.mark.parametrize("column", [
    pa.array(["a", None, "a"]),  # nulls
    pa.array(["é", "e", "ab"]),  # padding by characters would not give one width in bytes
    pa.array(["x" * 65, "y"]),  # wider than MAX_HASHED_BYTES
    pa.array([], pa.string()),
], ids=["nulls", "multi-byte", "too wide", "empty"])
def test_gives_up_where_the_fast_path_does_not_hold_and_encode_still_answers(column: pa.Array) -> None:
    assert encode_by_hash(column) is None
    codes, values = encode(pa.chunked_array([column], type=pa.string()), many_distinct=True)
    want_codes, want_values = _dictionary_encoded(column)
    assert np.array_equal(codes, want_codes) and values.equals(want_values)


def test_a_hash_collision_is_caught_and_the_usual_encoding_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "_MIX", np.uint64(0))  # every value hashes to 0: all collide
    monkeypatch.setattr(text, "_CHECKED", 3)  # and the check runs over several slices
    column = pa.chunked_array([pa.array(["C1", "C2", "C1", "C3", "C2", "C4", "C5"])])
    assert encode_by_hash(column) is None
    codes, values = encode(column, many_distinct=True)
    assert codes.tolist() == [0, 1, 0, 2, 1, 3, 4]
    assert values.to_pylist() == ["C1", "C2", "C3", "C4", "C5"]
