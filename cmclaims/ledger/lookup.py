"""Finding ids of the batch among the ledger's, in Arrow: one hash table, no Python loop."""

from __future__ import annotations

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


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
