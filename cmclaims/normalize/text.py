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
