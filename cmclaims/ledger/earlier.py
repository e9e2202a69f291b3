"""Every claim the ledger billed before tonight, in every month: where the duplicate and void checks (CM402,
CM405) look tonight's claim ids up.

It does not depend on tonight's lines. A run that writes holds the ledger's
lock before it reads its export, so it reads the earlier claims then, on the
thread that checks the ledger, while the export is scanned for its line
breaks and quotes on one core (cmclaims/pipeline/validate.py): a 5M-line
ledger's claims took the view 0.4 s of the night's critical path after the
batch was read. The claim ids are keyed then too (`text_keys`), so that the
lookup of tonight's ids keys only tonight's.

Read before the run's id is known (the id is the inputs' hash), it holds
every committed run's lines and every retirement: it serves a run the ledger
has never recorded, nearly every night (`serves`). A run validated again
excludes its own earlier lines and what it retired; its view reads the
claims for it (`read` with its run id), as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.lookup import equal, first_positions, is_in, rows_holding
from cmclaims.ledger.store import LedgerStore
from cmclaims.normalize.text_keys import text_keys
from cmclaims.schema.columns import REPLACEMENT, VOID

# What the duplicate and void checks need of every earlier line, in every month.
CLAIM_COLUMNS = ["claim_id", "service_day", "frequency", "original_claim_id"]


@dataclass
class EarlierClaims:
    """The claims of the ledger's committed runs, less (for `run_id`) that run's own lines.

    `every_retired` lists every retirement (the run's own too: a re-run's view
    sorts them); `gone` where the originals other runs retired sit; `active` is
    `claims` less those, with each line's claim-id key (`keys`) and whether it is
    a void (`void_rows`: its id bills nothing); `carried` the claims a
    replacement that still bills keeps billed.
    """

    run_id: str | None
    recorded_runs: frozenset[str]  # every run the ledger holds a record of, whatever its status
    every_retired: pd.DataFrame
    claims: pa.Table
    gone: pd.DataFrame
    active: pa.Table
    keys: pa.ChunkedArray
    void_rows: np.ndarray
    carried: pd.DataFrame

    @classmethod
    def read(cls, store: LedgerStore, run_id: str | None = None) -> EarlierClaims:
        """Read them: every committed run's claims, or (`run_id`) every other run's."""
        every = store.retired()
        retired = every if run_id is None else every[every["retired_by"] != run_id]
        claims = store.lines(None, CLAIM_COLUMNS, exclude_run=run_id, dictionary=True)
        keys = pa.chunked_array([pa.array(text_keys(chunk), pa.uint64())
                                 for chunk in claims.column("claim_id").chunks], pa.uint64())
        gone = retired_rows(claims, retired, keys)
        kept = kept_lines(claims, gone)
        active = claims if kept is None else claims.filter(kept)
        active_keys = keys if kept is None else keys.filter(kept)
        voids = void_rows(active)
        recorded = frozenset(run["run_id"] for run in store.runs())
        return cls(run_id, recorded, every, claims, gone, active, active_keys, voids,
                   _carried(claims, active, active_keys, voids))

    def serves(self, run_id: str) -> bool:
        """Whether these are the claims `run_id` sees: read for it, or read for any run and it has never been
        recorded (nothing of it is in the ledger to exclude)."""
        return self.run_id == run_id or (self.run_id is None and run_id not in self.recorded_runs)


def void_rows(claims: pa.Table) -> np.ndarray:
    """Per earlier line: a void (its claim id bills nothing)."""
    is_void = pc.fill_null(equal(claims.column("frequency"), VOID), False)
    return np.asarray(is_void.to_numpy(zero_copy_only=False), dtype=bool)


def kept_lines(table: pa.Table, gone: pd.DataFrame) -> pa.Array | None:
    """Per line of `table`: not one of the lines `gone` names by run_id, month and block_row (None: all kept).

    Two vectorised passes find the few lines in the blocks concerned; only
    those are compared exactly.
    """
    if not len(gone) or not table.num_rows:
        return None
    maybe = pc.and_(is_in(table.column("run_id"), pa.array(gone["run_id"].unique(), pa.string())),
                    pc.is_in(table.column("month"), value_set=pa.array(gone["month"].unique(), pa.int64())))
    candidates = np.flatnonzero(maybe.to_numpy(zero_copy_only=False))
    keep = np.ones(table.num_rows, dtype=bool)
    if candidates.size:
        here = pd.MultiIndex.from_arrays([
            table.column("run_id").take(candidates).to_numpy(zero_copy_only=False),
            table.column("month").take(candidates).to_numpy(),
            table.column("block_row").take(candidates).to_numpy(),
        ])
        keep[candidates] = ~here.isin(pd.MultiIndex.from_frame(gone[["run_id", "month", "block_row"]]))
    return pa.array(keep)


def without(table: pa.Table, gone: pd.DataFrame) -> pa.Table:
    """`table` less the lines named in `gone` by run_id, month and block_row."""
    kept = kept_lines(table, gone)
    return table if kept is None else table.filter(kept)


def retired_rows(claims: pa.Table, retired: pd.DataFrame, keys: pa.ChunkedArray | None = None) -> pd.DataFrame:
    """Where the retired originals sit (run_id, month, block_row), found among every earlier line's claim id.

    A lookup of the retired claim ids (by `keys`, the claim ids' keys, where given) narrows the lines to a
    few candidates; only those are compared on (claim_id, run_id), the original's identity.
    """
    if not len(retired) or not claims.num_rows:
        return pd.DataFrame({"run_id": [], "month": [], "block_row": []})
    rows = rows_holding(claims.column("claim_id"), pa.array(retired["claim_id"].unique(), pa.string()), keys)
    found = pd.DataFrame({
        "claim_id": claims.column("claim_id").take(rows).to_numpy(zero_copy_only=False),
        "run_id": claims.column("run_id").take(rows).to_numpy(zero_copy_only=False),
        "month": claims.column("month").take(rows).to_numpy(),
        "block_row": claims.column("block_row").take(rows).to_numpy(),
    })
    hit = found.merge(retired.rename(columns={"original_run": "run_id"})[["claim_id", "run_id"]],
                      on=["claim_id", "run_id"])
    return hit[["run_id", "month", "block_row"]]


def _carried(every: pa.Table, active: pa.Table, keys: pa.ChunkedArray, void_rows: np.ndarray) -> pd.DataFrame:
    """Claims a replacement took out whose replacement still bills (claim_id, and the run of the
    replacement that carries it): they stay billed (CM402), where a voided claim may be billed again.

    Followed along chains: X replaced by Y, Y replaced by Z: while Z bills, X and Y are billed; once
    the last of the chain is voided, none is.
    """
    frequency = every.column("frequency")
    links = every.filter(pc.and_(pc.fill_null(equal(frequency, REPLACEMENT), False),
                                 pc.is_valid(every.column("original_claim_id"))))
    if not links.num_rows:
        return pd.DataFrame({"claim_id": [], "run_id": []})
    replacement = links.column("claim_id").to_numpy(zero_copy_only=False)
    original = links.column("original_claim_id").to_numpy(zero_copy_only=False)
    run = links.column("run_id").to_numpy(zero_copy_only=False)
    # The replacement itself bills: its id is on a line that is not a void (voids are passed over by a
    # mask; copying 5M ids with the voids' blanked out cost more than the lookup).
    billed = first_positions(active.column("claim_id"), links.column("claim_id"),
                             skip=void_rows if void_rows.any() else None, haystack_keys=keys) >= 0
    carried: dict[str, str] = {}
    while True:  # chains are short: a few rounds over the (few) replacement lines
        bills = billed | np.array([claim in carried for claim in replacement], dtype=bool)
        new = {o: r for o, r, b in zip(original, run, bills, strict=True) if b and o not in carried}
        if not new:
            break
        carried.update(new)
    return pd.DataFrame({"claim_id": list(carried), "run_id": list(carried.values())}, dtype=object)
