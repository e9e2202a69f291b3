"""Finding the batch's ids and codes among the ledger's, in Arrow: one hash table, no Python loop."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def positions_in(haystack: pa.Array | pa.ChunkedArray, needles: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Position in `haystack` of each needle (its first occurrence); -1 when absent or empty."""
    if len(needles) == 0:
        return np.empty(0, dtype=np.int64)
    if len(haystack) == 0:
        return np.full(len(needles), -1, dtype=np.int64)
    found = pc.index_in(needles, value_set=_flat(haystack), skip_nulls=True)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def first_positions(haystack: pa.Array | pa.ChunkedArray, needles: pa.Array | pa.ChunkedArray, *,
                    distinct_first: int = 0, skip: np.ndarray | None = None) -> np.ndarray:
    """As `positions_in`, for a haystack much larger than the needles (every claim the ledger billed, and
    tonight's): the needles are hashed once and the haystack only probed, never hashed.

    `distinct_first`: the first so many needles are known to be distinct (a
    column's factorized values, tonight's claim ids): they are not hashed once
    more to find repeats; only the needles after them are (the few original
    claim ids of voids and replacements). `skip` marks haystack rows that
    never match (void lines: their ids bill nothing).
    """
    if len(needles) == 0:
        return np.empty(0, dtype=np.int64)
    if len(haystack) == 0:
        return np.full(len(needles), -1, dtype=np.int64)
    needles = _flat(needles)
    head, tail = needles.slice(0, distinct_first), needles.slice(distinct_first)
    # The tail's distinct values, and where each already is among the head's (-1: not there).
    tail_values = pc.unique(tail).drop_null()
    in_head = _numpy(pc.index_in(head, value_set=tail_values).fill_null(-1))
    head_at = np.full(len(tail_values), -1, dtype=np.int64)
    found = np.flatnonzero(in_head >= 0)
    head_at[in_head[found]] = found
    added = head_at < 0
    value_set = pa.concat_arrays([head.cast(pa.string()), tail_values.filter(pa.array(added)).cast(pa.string())])
    # Each value's first place in the haystack; the last slot answers needles found nowhere.
    which = _numpy(pc.index_in(haystack, value_set=value_set, skip_nulls=True).fill_null(-1))
    if skip is not None:
        which[skip] = -1
    hits = np.flatnonzero(which >= 0)
    first = np.full(len(value_set) + 1, -1, dtype=np.int64)
    first[which[hits][::-1]] = hits[::-1]  # assigned last to first: the first occurrence stays
    slot = np.where(added, len(head) + np.cumsum(added) - 1, head_at)
    slot = np.append(slot, len(value_set))  # a null tail needle answers -1
    at = _numpy(pc.index_in(tail, value_set=tail_values).fill_null(len(tail_values)))
    return np.concatenate([first[:len(head)], first[slot[at]]])


def _numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An integer Arrow result (nulls already filled) as int64 numpy."""
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def dictionary_positions(known: pa.Array, values: pa.ChunkedArray) -> np.ndarray:
    """Each value's position in `known` (-1 when absent or null), looked up once per distinct value.

    A ledger block's chunks share one dictionary: each distinct dictionary is
    looked up once, and all of them in one pass that hashes `known` once; each
    chunk's indices then pick from its dictionary's stretch of the result.
    """
    if values.num_chunks == 0:
        return np.empty(0, dtype=np.int64)
    if not pa.types.is_dictionary(values.type):
        values = pa.chunked_array([chunk.dictionary_encode() for chunk in values.chunks])
    memories = [_memory_of(chunk.dictionary) for chunk in values.chunks]
    start_of: dict[tuple, int] = {}  # a distinct dictionary -> where its values start in `found`
    dictionaries = []
    size = 0
    for chunk, memory in zip(values.chunks, memories, strict=True):
        if memory not in start_of:
            start_of[memory] = size
            dictionaries.append(chunk.dictionary)
            size += len(chunk.dictionary)
    found = np.append(positions_in(known, pa.concat_arrays(dictionaries)), -1)  # the -1 answers nulls
    positions = []
    for chunk, memory in zip(values.chunks, memories, strict=True):
        indices = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        positions.append(found[np.where(indices >= 0, indices + start_of[memory], -1)])
    return np.concatenate(positions)


def _memory_of(array: pa.Array) -> tuple:
    """Where an array's values live: the same for chunks that share one dictionary."""
    return (*(b.address if b is not None else 0 for b in array.buffers()), array.offset, len(array))



def _per_dictionary(values: pa.Array | pa.ChunkedArray,
                    answer: Callable[[pa.Array], pa.Array]) -> pa.Array | pa.ChunkedArray:
    """`answer` (an elementwise kernel) of a dictionary-encoded column: computed once per chunk's dictionary,
    its indices pick each line's answer (null where the line is null); Arrow would decode every line."""
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([_per_dictionary(chunk, answer) for chunk in values.chunks], pa.bool_())
    return pc.take(answer(values.dictionary), values.indices)


def is_in(values: pa.Array | pa.ChunkedArray, value_set: pa.Array) -> pa.Array | pa.ChunkedArray:
    """`pc.is_in` (a null value is not in the set), also fast on dictionary-encoded columns (a ledger's run
    ids and frequencies)."""
    if not pa.types.is_dictionary(values.type):
        return pc.is_in(values, value_set=value_set)
    return pc.fill_null(_per_dictionary(values, lambda d: pc.is_in(d, value_set=value_set)), False)


def equal(values: pa.Array | pa.ChunkedArray, text: str) -> pa.Array | pa.ChunkedArray:
    """`pc.equal(values, text)` (null where the value is null), also fast on dictionary-encoded columns."""
    if not pa.types.is_dictionary(values.type):
        return pc.equal(values, text)
    return _per_dictionary(values, lambda d: pc.equal(d, text))
