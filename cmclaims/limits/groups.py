"""Grouping lines by several integer keys at once (member, service, period), vectorised.

The keys are packed into one int64 per line (mixed radix over the batch's own
value ranges) and factorized: group ids for the lines, and a way to find the
group of a row from elsewhere (the ledger's earlier usage) with the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Grouping:
    """Group id per line (-1 where the grouping does not apply) and the packed key of each group."""

    group: np.ndarray
    keys: pd.Index
    low: list[int]
    radix: list[int]

    @property
    def size(self) -> int:
        """The number of groups."""
        return len(self.keys)

    def locate(self, columns: list[np.ndarray]) -> np.ndarray:
        """The group of each row given by `columns` (same keys as the lines), -1 when no line has it."""
        n = columns[0].size if columns else 0
        inside = np.ones(n, dtype=bool)
        for values, low, radix in zip(columns, self.low, self.radix, strict=True):
            inside &= (values >= low) & (values < low + radix)
        packed = _pack([c[inside] for c in columns], self.low, self.radix)
        found = np.full(n, -1, dtype=np.int64)
        found[inside] = self.keys.get_indexer(packed)
        return found


def _pack(columns: list[np.ndarray], low: list[int], radix: list[int]) -> np.ndarray:
    packed = np.zeros(columns[0].size if columns else 0, dtype=np.int64)
    for values, offset, size in zip(columns, low, radix, strict=True):
        packed = packed * size + (values.astype(np.int64) - offset)
    return packed


def _unpack(packed: np.ndarray, low: list[int], radix: list[int]) -> list[np.ndarray]:
    columns = []
    for offset, size in zip(reversed(low), reversed(radix), strict=True):
        columns.append(packed % size + offset)
        packed = packed // size
    return columns[::-1]


def _ranges(columns: list[np.ndarray]) -> tuple[list[int], list[int]]:
    """The lowest value and the number of possible values of each column (the packing's radix)."""
    low = [int(c.min()) if c.size else 0 for c in columns]
    radix = [int(c.max()) - lo + 1 if c.size else 1 for c, lo in zip(columns, low, strict=True)]
    if np.prod(np.array(radix, dtype=np.float64)) >= 2**62:
        raise OverflowError("grouping keys too wide to pack")  # cannot happen with dates and codes
    return low, radix


def group_lines(columns: list[np.ndarray], applies: np.ndarray) -> Grouping:
    """Group the lines where `applies` holds by the tuple of `columns`."""
    chosen = [c[applies] for c in columns]
    low, radix = _ranges(chosen)
    codes, keys = pd.factorize(_pack(chosen, low, radix))
    group = np.full(applies.size, -1, dtype=np.int64)
    group[applies] = codes
    return Grouping(group, pd.Index(keys), low, radix)


def sum_by(columns: dict[str, np.ndarray], values: np.ndarray, name: str) -> pd.DataFrame:
    """`values` summed per distinct tuple of `columns`: one frame row per group, the keys and the sum."""
    size = values.size
    if size == 0:
        return pd.DataFrame({**{k: np.empty(0, np.int64) for k in columns}, name: np.empty(0, np.int64)})
    low, radix = _ranges(list(columns.values()))
    packed = _pack(list(columns.values()), low, radix)
    span = int(np.prod(radix))
    if span <= max(4 * size, 1 << 16):
        # Few possible keys (members x codes x years, say): count into every one, no hashing.
        keys = np.flatnonzero(np.bincount(packed, minlength=span))
        total = np.bincount(packed, weights=values, minlength=span)[keys].astype(np.int64)
    else:
        group, unique = pd.factorize(packed)
        keys = np.asarray(unique, dtype=np.int64)
        total = np.bincount(group, weights=values, minlength=keys.size).astype(np.int64)
    return pd.DataFrame({**dict(zip(columns, _unpack(keys, low, radix), strict=True)), name: total})
