"""The ledger: what earlier runs billed, so that caps hold across nights (SPEC section 6).

    store.py     the LedgerStore interface and its SQLite implementation
    schema.py    tables, schema version and migrations
    blocks.py    a recorded line's columns, and the blocks (Arrow IPC) that keep them per run and month
    totals.py    running units per member, code and year (the annual caps), kept exact by deltas, for the
                 profiles with an annual cap
    identity.py  is this file a cmclaims ledger? (missing, empty, foreign: exit 73)
    lock.py      one writer per ledger file, whatever the path (exit 75 for the second)
    lookup.py    finding the batch's ids among the ledger's
    earlier.py   every claim billed before tonight (read before the batch is), for the duplicate checks
    view.py      what one validate run needs from the ledger: duplicates, originals, prior usage
    admin.py     `cmclaims ledger init | runs | usage | rollback | import | check` (`compact` is the store's)

What a validate run adds to the ledger is built in cmclaims/pipeline/ledger_entries.py.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_NAME = "cmclaims-ledger.sqlite3"


def ledger_path(option: Path | None) -> Path:
    """--ledger, else $CMCLAIMS_LEDGER, else ./cmclaims-ledger.sqlite3."""
    if option is not None:
        return option
    env = os.environ.get("CMCLAIMS_LEDGER")
    return Path(env) if env else Path.cwd() / DEFAULT_NAME
