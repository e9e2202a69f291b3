"""A 64-bit key per text value, computed over a whole Arrow string array at once.

Equal texts always get equal keys; different texts almost never do, but may
(it is a hash): a caller compares the texts of the few rows whose keys match
before it trusts them (`all_distinct` counts the texts themselves then). Keys
are never stored: they are a way to compare millions of texts with integer
arithmetic, here and now.

Each value is read as 64-bit words straight out of the array's data buffer
(a word that runs past the value is masked to the value's bytes) and the
words are mixed into the key, seeded with the value's length. No value is
copied or padded, any byte width and any encoding is read the same way, and
the work is one pass of vectorised arithmetic per 8 bytes of the longest
value, over the values that long.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd (2^64 / golden ratio): multiplying spreads the bits upwards
_FINAL = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's: the last step mixes the high bits back down
# Per number of a value's bytes left (0 to 8 or more), the mask that keeps only those bytes of a word.
_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def text_keys(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per value of a string or large_string array, its key (uint64); a null's key is 0 (callers mask nulls)."""
    if isinstance(values, pa.ChunkedArray):
        pieces = [text_keys(chunk) for chunk in values.chunks]
        return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.uint64)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(f"text_keys reads string arrays, not {values.type}")
    count = len(values)
    if count == 0:
        return np.empty(0, dtype=np.uint64)
    wide = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=wide)[values.offset : values.offset + count + 1].astype(np.int64)
    start, length = offsets[:-1], np.diff(offsets)
    if values.null_count:
        length = np.where(np.asarray(values.is_valid()), length, 0)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    if data.size < 8:  # too short to read a word out of: a padded copy (a few bytes)
        data = np.concatenate([data, np.zeros(8 - data.size, np.uint8)])
    last = data.size - 8  # the last place a whole word can be read from
    # Every 8-byte window of the buffer, as a little-endian word (unaligned reads, no copy).
    words = np.ndarray((last + 1,), dtype="<u8", buffer=data, strides=(1,))
    keys = length.astype(np.uint64) * _MIX
    # The first word of every value, then the next of the values longer than that, and so on.
    active: np.ndarray | None = None  # None: every value (the first word of an empty value is masked to 0)
    word_start = 0
    while active is None or active.size:
        at = start if active is None else start[active] + word_start
        left = length if active is None else length[active] - word_start
        word = words[np.minimum(at, last)]
        # A word that would run past the buffer is read from the last whole word and shifted down. Values
        # start in buffer order, so only a tail of them can (the last value or two).
        tail = int(np.searchsorted(at, last, side="right"))
        word[tail:] >>= ((at[tail:] - last) * 8).astype(np.uint64)
        if left.min() < 8:
            word &= _MASKS[np.minimum(left, 8)]
        mixed = keys if active is None else keys[active]
        mixed ^= word
        mixed *= _MIX
        mixed ^= mixed >> np.uint64(29)
        if active is not None:
            keys[active] = mixed
        active = np.flatnonzero(length > 8) if active is None else active[left > 8]
        word_start += 8
    keys ^= keys >> np.uint64(32)
    keys *= _FINAL
    keys ^= keys >> np.uint64(29)
    return keys


def all_distinct(values: pa.Array) -> bool:
    """Whether no value of a string array (without nulls) is there twice.

    Distinct keys are distinct texts, so one pass of keys settles it for the
    usual array (a dictionary's values); where two keys meet, the texts are
    counted by Arrow, which hashes each text (several times slower).
    """
    if (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)) and not values.null_count:
        keys = text_keys(values)
        if len(np.unique(keys)) == len(keys):
            return True
    return len(pc.unique(values)) == len(values)
