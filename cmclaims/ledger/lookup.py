"""Finding the batch's ids and codes among the ledger's: by 64-bit keys of the texts (texts compared where keys
meet) or Arrow's hash table, over whole columns, no Python loop."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.normalize.text_keys import text_keys

_KEYED_FROM = 50_000  # needles and haystack together: below this, Arrow's hash table is set up faster than keys


def positions_in(haystack: pa.Array | pa.ChunkedArray, needles: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Position in `haystack` of each needle (its first occurrence); -1 when absent or empty.

    Large texts (the year's totals' members among tonight's) are matched by 64-bit keys where the haystack
    holds each text once (`_rows_by_key`: texts compared where keys meet), by Arrow's hash table otherwise.
    """
    if len(needles) == 0:
        return np.empty(0, dtype=np.int64)
    if len(haystack) == 0:
        return np.full(len(needles), -1, dtype=np.int64)
    haystack = _flat(haystack)
    if haystack.null_count == 0 and len(haystack) + len(needles) >= _KEYED_FROM:
        found = _rows_by_key(needles, haystack, None)
        if found is not None:
            rows, value = found
            at = np.full(len(needles), -1, dtype=np.int64)
            at[rows] = value
            return at
    found = pc.index_in(needles, value_set=haystack, skip_nulls=True)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def first_positions(haystack: pa.Array | pa.ChunkedArray, needles: pa.Array | pa.ChunkedArray, *,
                    distinct_first: int = 0, skip: np.ndarray | None = None,
                    haystack_keys: pa.Array | pa.ChunkedArray | None = None) -> np.ndarray:
    """As `positions_in`, for a haystack much larger than the needles (every claim the ledger billed, and
    tonight's): the needles are hashed once and the haystack only probed, never hashed.

    `distinct_first`: the first so many needles are known to be distinct (a
    column's factorized values, tonight's claim ids): they are not hashed once
    more to find repeats; only the needles after them are (the few original
    claim ids of voids and replacements). `skip` marks haystack rows that
    never match (void lines: their ids bill nothing). `haystack_keys`: the
    haystack's keys (`text_keys`) where they are known (the earlier claims are
    keyed before the batch is read), so that millions of texts are not keyed again.
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
    first = np.append(_first_rows(haystack, value_set, skip, haystack_keys), -1)
    slot = np.where(added, len(head) + np.cumsum(added) - 1, head_at)
    slot = np.append(slot, len(value_set))  # a null tail needle answers -1
    at = _numpy(pc.index_in(tail, value_set=tail_values).fill_null(len(tail_values)))
    return np.concatenate([first[:len(head)], first[slot[at]]])


def rows_holding(haystack: pa.Array | pa.ChunkedArray, values: pa.Array,
                 haystack_keys: pa.Array | pa.ChunkedArray | None = None) -> np.ndarray:
    """The rows of `haystack` (ascending) whose text is one of `values` (a few: the retired originals' ids);
    nulls never match. By keys, as `first_positions`, where the haystack's are given or the texts are many."""
    values = pc.unique(_flat(values).cast(pa.string())).drop_null()
    found = _rows_by_key(haystack, values, None, haystack_keys) if len(haystack) else None
    if found is None:  # no rows, or two of the values share a key: Arrow hashes the texts themselves
        return np.flatnonzero(pc.fill_null(pc.is_in(haystack, value_set=values), False).to_numpy(zero_copy_only=False))
    return found[0]


def _first_rows(haystack: pa.Array | pa.ChunkedArray, values: pa.Array, skip: np.ndarray | None,
                haystack_keys: pa.Array | pa.ChunkedArray | None = None) -> np.ndarray:
    """Per value (distinct, no nulls): its first row in `haystack` not skipped, -1 when there is none."""
    found = _rows_by_key(haystack, values, skip, haystack_keys)
    if found is None:  # two of the values share a key: Arrow hashes the texts themselves
        which = _numpy(pc.index_in(haystack, value_set=values, skip_nulls=True).fill_null(-1))
        if skip is not None:
            which[skip] = -1
        rows = np.flatnonzero(which >= 0)
        found = rows, which[rows]
    rows, value = found
    first = np.full(len(values), -1, dtype=np.int64)
    first[value[::-1]] = rows[::-1]  # assigned last to first: the first occurrence stays
    return first


_FILTER_BITS = 26  # a bit per 2^-26 of the key space: 8 MiB, a few per cent of the rows pass it by chance


def _rows_by_key(haystack: pa.Array | pa.ChunkedArray, values: pa.Array, skip: np.ndarray | None,
                 haystack_keys: pa.Array | pa.ChunkedArray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The haystack rows (ascending) holding one of `values`, and which: by 64-bit keys (text_keys), not
    by hashing millions of texts into Arrow's table. None when two values share a key.

    The values' keys are hashed once (pandas' integer index). Each piece of the
    haystack is keyed, passed through a bit filter of the values' keys (most rows
    stop there), and the rest looked up in the index; a row whose key matches is
    kept only if its text is the value's text, so a key two texts share can
    never make a match. The haystack's pieces are keyed here unless
    `haystack_keys` holds their keys.
    """
    chunks = haystack.chunks if isinstance(haystack, pa.ChunkedArray) else [haystack]
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in [values, *chunks]):
        return None
    if len(values) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    keys = text_keys(values)
    known = pd.Index(keys)
    if not known.is_unique:
        return None
    shift = np.uint64(64 - _FILTER_BITS)
    present = np.zeros(1 << (_FILTER_BITS - 3), dtype=np.uint8)
    bit = keys >> shift
    np.bitwise_or.at(present, bit >> np.uint64(3), np.left_shift(1, bit & np.uint64(7)).astype(np.uint8))
    rows, which, base = [], [], 0
    for chunk in chunks:
        # The keys of the chunk's rows, in whatever pieces they come; computed when not given.
        chunk_keys = text_keys(chunk) if haystack_keys is None else _numpy_keys(haystack_keys.slice(base, len(chunk)))
        bit = chunk_keys >> shift
        maybe = np.flatnonzero((present[bit >> np.uint64(3)] >> (bit & np.uint64(7)).astype(np.uint8)) & 1)
        if chunk.null_count:
            maybe = maybe[np.asarray(chunk.is_valid())[maybe]]
        value = known.get_indexer(chunk_keys[maybe])
        maybe, value = maybe[value >= 0], value[value >= 0]
        if maybe.size:
            texts = chunk.take(pa.array(maybe)).cast(pa.string())
            same = pc.equal(texts, values.take(pa.array(value)).cast(pa.string()))
            kept = np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
            rows.append(maybe[kept] + base)
            which.append(value[kept])
        base += len(chunk)
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    rows_found, value_found = np.concatenate(rows), np.concatenate(which).astype(np.int64)
    if skip is not None:
        open_rows = ~skip[rows_found]
        rows_found, value_found = rows_found[open_rows], value_found[open_rows]
    return rows_found, value_found


def _numpy_keys(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Keys (uint64, no nulls) as numpy: no copy where they come in one piece."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.chunk(0) if keys.num_chunks == 1 else keys.combine_chunks()
    return np.asarray(keys.to_numpy(zero_copy_only=False), dtype=np.uint64)


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
