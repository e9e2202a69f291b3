"""Every claim the ledger billed, read before the night's batch is.

A claim's identity is not month-scoped (CM402, CM405): each night looks its
claim ids up among the ids of every earlier line, in every month, the
ledger's largest read (5M lines in `make bench`'s ledger). None of it
depends on the batch, so a validate run reads it on a thread of its own as
soon as the ledger is open, while the batch is parsed (a stage that keeps
one core busy), and keys and sorts the ids once (cmclaims/ledger/key_index.py):
every later lookup among them (tonight's ids, the originals of voids and
replacements, the retired originals) is a binary search, not a pass over 5M
texts. cmclaims/ledger/view.py takes it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.key_index import KeyIndex
from cmclaims.ledger.lookup import equal
from cmclaims.ledger.store import LedgerStore
from cmclaims.normalize.text_keys import text_keys

# What the duplicate and void checks need of every earlier line, in every month.
CLAIM_COLUMNS = ["claim_id", "service_day", "frequency", "original_claim_id"]


@dataclass
class EarlierClaims:
    """The earlier lines' claim columns (CLAIM_COLUMNS, with run_id, profile, month and block_row; run ids
    and frequencies dictionary-encoded), their claim ids' keys sorted, and every retirement."""

    lines: pa.Table
    index: KeyIndex  # of the lines' claim ids
    retired: pd.DataFrame  # as LedgerStore.retired gives it

    @classmethod
    def read(cls, store: LedgerStore) -> EarlierClaims:
        """Every committed run's lines, keyed."""
        lines = store.lines(None, CLAIM_COLUMNS, dictionary=True)
        return cls(lines, KeyIndex.of(text_keys(lines.column("claim_id"))), store.retired())

    def without_run(self, run_id: str) -> EarlierClaims:
        """Less the lines of `run_id`: a re-run does not meet its own earlier execution."""
        mine = pc.fill_null(equal(self.lines.column("run_id"), run_id), False)
        if not pc.any(mine).as_py():
            return self
        keep = ~np.asarray(mine.to_numpy(zero_copy_only=False), dtype=bool)
        return self.kept(keep)

    def kept(self, keep: np.ndarray) -> EarlierClaims:
        """Only the lines `keep` marks (a boolean per row)."""
        return EarlierClaims(self.lines.filter(pa.array(keep)), self.index.kept(keep), self.retired)
