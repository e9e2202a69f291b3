"""Factorizing text columns once: codes for every line, cleaned distinct values.

A nightly export repeats the same few values (codes, modifiers, dates, staff)
millions of times. Each column is factorized once into integer codes and its
distinct values; trimming, case-folding and parsing then touch each distinct
value once, and every later step works on the integer codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Case = Literal["upper", "lower"] | None
T = TypeVar("T")


def narrow(codes: np.ndarray, distinct: int) -> np.ndarray:
    """`codes` in the narrowest signed type that holds every code and -1 (no copy when it already is).

    Most columns have a few dozen distinct values, and 5M lines of int8 codes weigh 5 MB, not 20.
    """
    kind = np.int8 if distinct < 127 else np.int16 if distinct < 32767 else np.int32
    return codes if codes.dtype == kind else codes.astype(kind)


@dataclass
class Factorized:
    """`codes[i]` indexes `values` (cleaned and distinct); -1 where line i has no value."""

    codes: np.ndarray
    values: pa.Array  # string, no nulls

    def __post_init__(self) -> None:
        self.codes = narrow(self.codes, len(self.values))

    def code_of(self, value: str) -> int:
        """The code of `value`, or -2 (matching no line) when no line has it."""
        found = pc.index(self.values, value).as_py()
        return -2 if found < 0 else found

    def codes_of(self, values: Iterable[str]) -> np.ndarray:
        """The codes of several values (-2 for those no line has)."""
        return np.array([self.code_of(v) for v in values], dtype=np.int32)

    def has(self, value: str) -> np.ndarray:
        """Lines whose value is `value`."""
        return self.codes == self.code_of(value)

    def isin(self, values: Iterable[str]) -> np.ndarray:
        """Lines whose value is one of `values`."""
        return np.isin(self.codes, self.codes_of(values))

    @property
    def present(self) -> np.ndarray:
        """Lines with a value in this column."""
        return self.codes >= 0

    def mapped(self, parsed: np.ndarray, missing: float | int | bool) -> np.ndarray:
        """Per line, `parsed[code]` (one parsed value per distinct text), `missing` without a value."""
        lookup = np.append(parsed, np.array([missing], dtype=parsed.dtype))
        return lookup[self.codes]  # code -1 picks the appended `missing`

    def text(self, rows: np.ndarray | None = None) -> pa.Array:
        """The cleaned text of `rows` (all lines by default), null where there is none."""
        codes = self.codes if rows is None else self.codes[rows]
        return self.values.take(pa.array(codes, mask=codes < 0))

    def recoded(self, mapping: Callable[[str], str | None]) -> Factorized:
        """The same lines with every distinct value passed through `mapping` (synonyms folded)."""
        mapped = [mapping(v) for v in self.values.to_pylist()]
        distinct = sorted({v for v in mapped if v is not None})
        position = {v: i for i, v in enumerate(distinct)}
        lookup = np.array([position[v] if v is not None else -1 for v in mapped] + [-1], dtype=np.int32)
        return Factorized(lookup[self.codes], pa.array(distinct, type=pa.string()))


def _clean(values: pa.Array, case: Case) -> pa.Array:
    cleaned = pc.utf8_trim_whitespace(values)
    if case == "upper":
        cleaned = pc.utf8_upper(cleaned)
    elif case == "lower":
        cleaned = pc.utf8_lower(cleaned)
    return pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)


def encode(column: pa.ChunkedArray | pa.Array, many_distinct: bool = False) -> tuple[np.ndarray, pa.Array]:
    """Codes (narrowed, -1 for null) and the distinct values as they are, in order of first appearance.

    A column the reader already dictionary-encoded (chunk by chunk) only has its
    chunks' dictionaries unified; plain text is encoded chunk by chunk the same
    way, with no copy of the whole column. A near-unique column
    (`many_distinct`: claim ids) is encoded in one piece instead, by Arrow: a
    third less CPU than pandas' factorize, and no Python object per value.
    """
    if column.null_count == len(column):
        return np.full(len(column), -1, dtype=np.int8), pa.array([], type=pa.string())
    if many_distinct and not pa.types.is_dictionary(column.type):
        hashed = encode_by_hash(column)
        if hashed is not None:
            return hashed
        if column.nbytes < 1 << 31:  # one string array holds up to 2 GiB of text
            whole = (column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).dictionary_encode()
            codes = np.array(whole.indices.fill_null(-1).to_numpy(zero_copy_only=False))  # writable
            return narrow(codes, len(whole.dictionary)), whole.dictionary
        codes, uniques = pd.factorize(column.to_pandas(), use_na_sentinel=True)
        return narrow(np.asarray(codes), len(uniques)), pa.array(uniques, type=pa.string())
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    chunks = [chunk if pa.types.is_dictionary(chunk.type) else chunk.dictionary_encode() for chunk in chunks]
    encoded = pa.chunked_array(chunks).unify_dictionaries()
    values = encoded.chunk(0).dictionary
    kind = narrow(np.empty(0, np.int32), len(values)).dtype
    pieces = [chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(kind) for chunk in encoded.chunks]
    return np.concatenate(pieces), values


# The widest value (in bytes) encode_by_hash takes; claim ids are a few dozen characters at most.
MAX_HASHED_BYTES = 64
_MIX = np.uint64(0x9E3779B97F4A7C15)  # an odd constant (2^64 / golden ratio): multiplying spreads the bits
_CHECKED = 1 << 20  # lines checked against their code's first line at a time


def encode_by_hash(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array] | None:
    """`encode` of a near-unique text column through a 64-bit hash of each value: codes and distinct values.

    The same result as Arrow's `dictionary_encode` (values in order of first
    appearance), in a third of the time: the values' bytes, padded to a common
    width, are read as 64-bit words and mixed into one integer per line, and
    the integers are factorized. The fast path relies on checking every line
    against the first line of its code, byte for byte: two different values
    with the same hash (a collision) make it give up, and so do nulls, values
    wider than MAX_HASHED_BYTES and padding that does not give every value
    one width (non-ASCII text): then it returns None and the caller encodes
    the usual way.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if column.null_count or not chunks or not all(pa.types.is_string(chunk.type) for chunk in chunks):
        return None
    lengths = np.concatenate([pc.binary_length(chunk).to_numpy(zero_copy_only=False) for chunk in chunks])
    width = int(lengths.max(initial=0))
    if lengths.size == 0 or width > MAX_HASHED_BYTES:
        return None
    pieces = [_padded_words(chunk, width) for chunk in chunks]
    if any(piece is None for piece in pieces):
        return None
    words: np.ndarray = np.concatenate([piece for piece in pieces if piece is not None])
    mixed = lengths.astype(np.uint64)  # "AB" padded to "AB  " must not meet "AB  " itself
    for word in words.T:
        mixed ^= word
        mixed *= _MIX
        mixed ^= mixed >> np.uint64(29)
    codes, uniques = pd.factorize(mixed.view(np.int64), sort=False, size_hint=mixed.size)
    del mixed
    first = np.empty(uniques.size, dtype=np.int64)
    # A line of each code: numpy does not promise which of repeated writes wins, and any will do, since the
    # check below proves every line of a code has that line's bytes.
    first[codes[::-1]] = np.arange(codes.size - 1, -1, -1)
    for start in range(0, codes.size, _CHECKED):  # a slice at a time: small temporaries, reused
        same = first[codes[start : start + _CHECKED]]
        if not (np.array_equal(words[same], words[start : start + _CHECKED])
                and np.array_equal(lengths[same], lengths[start : start + _CHECKED])):
            return None  # two values share a hash
    values = (column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])).take(pa.array(first))
    return narrow(codes, uniques.size), values.combine_chunks()


def _padded_words(chunk: pa.Array, width: int) -> np.ndarray | None:
    """Each value's bytes, zero-padded to `width` rounded up to 8, as rows of 64-bit words; None if they vary."""
    if len(chunk) == 0 or width == 0:
        return np.zeros((len(chunk), -(-width // 8)), dtype=np.uint64)
    lengths = pc.binary_length(chunk)
    if pc.min(lengths).as_py() != width:  # pad short values (with spaces; the length tells them apart)
        chunk = pc.utf8_rpad(chunk, width=width, padding=" ")
        if pc.min(pc.binary_length(chunk)).as_py() != width or pc.max(pc.binary_length(chunk)).as_py() != width:
            return None  # multi-byte characters: a character count is not a byte count
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(len(chunk), width)
    padded = np.zeros((len(chunk), -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = data
    return padded.view(np.uint64)


def factorize(column: pa.ChunkedArray, length: int, case: Case = None, many_distinct: bool = False) -> Factorized:
    """Factorize `column`, padded with no-value lines up to `length` (the unparseable rows).

    `many_distinct` is for columns such as claim_id where nearly every value differs.
    """
    codes, raw = encode(column, many_distinct)
    return factorize_codes(codes, raw, length, case, many_distinct)


def factorize_codes(
    codes: np.ndarray, raw: pa.Array, length: int, case: Case = None, many_distinct: bool = False
) -> Factorized:
    """`factorize` of a column already `encode`d: each distinct value cleaned once, merged where cleaning merges.

    Where cleaning changes nothing the result shares `codes` and `raw` (no copy).
    """
    cleaned = _clean(raw, case)
    if not len(raw) or pc.all(pc.fill_null(pc.equal(cleaned, raw), False)).as_py():
        cleaned = raw
    else:
        # Cleaning merged or emptied some values: factorize the cleaned ones again.
        merged_codes, cleaned = encode(cleaned, many_distinct)
        codes = np.append(merged_codes, np.array(-1, merged_codes.dtype))[codes]
    if codes.size < length:
        codes = np.concatenate([codes, np.full(length - codes.size, -1, dtype=codes.dtype)])
    return Factorized(codes, cleaned)


def parse_each(values: pa.Array, parse: Callable[[str], T]) -> list[T]:
    """Apply `parse` to each distinct value (a few thousand at most for dates and times)."""
    return [parse(v) for v in values.to_pylist()]
