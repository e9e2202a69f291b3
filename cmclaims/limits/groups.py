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

    def unpack(self) -> list[np.ndarray]:
        """Each group's key columns, in the order the grouping was built with."""
        packed = self.keys.to_numpy(dtype=np.int64)
        columns = []
        for low, radix in zip(reversed(self.low), reversed(self.radix), strict=True):
            columns.append(packed % radix + low)
            packed = packed // radix
        return columns[::-1]

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


def group_lines(columns: list[np.ndarray], applies: np.ndarray) -> Grouping:
    """Group the lines where `applies` holds by the tuple of `columns`."""
    chosen = [c[applies] for c in columns]
    low = [int(c.min()) if c.size else 0 for c in chosen]
    radix = [int(c.max()) - lo + 1 if c.size else 1 for c, lo in zip(chosen, low, strict=True)]
    if np.prod(np.array(radix, dtype=np.float64)) >= 2**62:
        raise OverflowError("grouping keys too wide to pack")  # cannot happen with dates and codes
    codes, keys = pd.factorize(_pack(chosen, low, radix))
    group = np.full(applies.size, -1, dtype=np.int64)
    group[applies] = codes
    return Grouping(group, pd.Index(keys), low, radix)


def sum_by(columns: dict[str, np.ndarray], values: np.ndarray, name: str) -> pd.DataFrame:
    """`values` summed per distinct tuple of `columns`: one frame row per group, the keys and the sum."""
    size = values.size
    if size == 0:
        return pd.DataFrame({**{k: np.empty(0, np.int64) for k in columns}, name: np.empty(0, np.int64)})
    grouping = group_lines(list(columns.values()), np.ones(size, dtype=bool))
    total = np.bincount(grouping.group, weights=values, minlength=grouping.size).astype(np.int64)
    return pd.DataFrame({**dict(zip(columns, grouping.unpack(), strict=True)), name: total})
