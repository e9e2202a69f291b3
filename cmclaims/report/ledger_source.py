"""Finding the ledger a report reads: --ledger, $CMCLAIMS_LEDGER, ./cmclaims-ledger.sqlite3, or the run's own.

Reports only read the ledger (read-only SQLite connection): they run safely
while the nightly job holds the writer lock.
"""

from __future__ import annotations

from pathlib import Path

from cmclaims.errors import ConfigError
from cmclaims.ledger import ledger_path
from cmclaims.ledger.store import SqliteLedger


def open_ledger(option: Path | None, *, required: bool, fallback: str | None = None) -> SqliteLedger | None:
    """The ledger, read-only; None when there is none and the report can do without it.

    `option` named explicitly must exist. Otherwise the usual default is tried,
    then `fallback` (the ledger path a run's summary.json recorded).
    """
    if option is not None:
        return SqliteLedger(option, read_only=True)  # exit 73 when there is no ledger there
    default = ledger_path(None)
    for candidate in (default, Path(fallback) if fallback else None):
        if candidate is not None and candidate.exists():
            return SqliteLedger(candidate, read_only=True)
    if required:
        raise ConfigError(
            f"{default}: there is no ledger here",
            hint="give --ledger PATH or set CMCLAIMS_LEDGER; a ledger is created by `cmclaims ledger init`",
        )
    return None
