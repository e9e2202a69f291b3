"""Stable 64-bit hashes of ids, so the ledger can match millions of claims without their text.

SipHash with a fixed key (pandas' hash_array): the same id hashes the same on
every machine and every night. A canary stored when the ledger is created is
checked on every open, so a change in the hash would be caught, not silently
miss duplicates. Matches on the hash are confirmed on the full id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

HASH_KEY = "cmclaims-ledger1"  # 16 bytes, fixed forever: changing it orphans every ledger
CANARY_TEXT = "cmclaims canary"


def stable_hash(values: pa.Array | pa.ChunkedArray | np.ndarray | list[str]) -> np.ndarray:
    """uint64 hash of each id (nulls hash as the empty string)."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        nulls = values.null_count
        values = values.to_numpy(zero_copy_only=False)
    else:
        nulls = -1  # unknown: look
    array = np.asarray(values, dtype=object)
    if array.size == 0:
        return np.empty(0, dtype=np.uint64)
    if nulls != 0:
        array = np.where(pd.isna(array), "", array)
    return pd.util.hash_array(array, hash_key=HASH_KEY, categorize=False)


def canary() -> str:
    """The hash of a fixed text, stored in a new ledger and compared on every open."""
    return str(int(stable_hash([CANARY_TEXT])[0]))


def positions_of(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Position in `haystack` of each needle (its first occurrence), -1 when absent."""
    if haystack.size == 0 or needles.size == 0:
        return np.full(needles.size, -1, dtype=np.int64)
    index = pd.Index(haystack)
    if not index.is_unique:
        first = ~index.duplicated()
        positions = np.flatnonzero(first)
        found = pd.Index(haystack[first]).get_indexer(needles)
        return np.where(found >= 0, positions[np.maximum(found, 0)], -1)
    return index.get_indexer(needles)
