"""What `cmclaims validate` is asked to do (kept free of heavy imports, so the CLI can build it first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path

from cmclaims.io.paths import require_distinct_files, require_regular_file

# More than this share of a night's lines rejected by CM0 means the export is wrong as a whole (SPEC section 1).
DEFAULT_MAX_INPUT_ERRORS = 0.25


@dataclass
class ValidateRequest:
    """Everything `cmclaims validate` was asked to do.

    `ledger` None validates the batch alone (--no-ledger); the command line
    fills it with --ledger, $CMCLAIMS_LEDGER or ./cmclaims-ledger.sqlite3.
    """

    inputs: list[Path]
    profile: str
    out: Path
    authorizations: Path | None = None
    stays: Path | None = None
    staff: Path | None = None
    enrollment: Path | None = None
    plans: Path | None = None  # signed plans: the line-level CM8xx requirements
    column_map: Path | None = None
    over_limit: str = "reject"
    output_format: str | None = None
    ledger: Path | None = None
    dry_run: bool = False
    max_input_errors: float = DEFAULT_MAX_INPUT_ERRORS
    ledger_locked: bool = False  # the caller already holds the ledger's writer lock
    engine: str = "local"  # "local" (this process) or "dask" (a cluster: cmclaims/engine/)
    scheduler: str | None = None  # a Dask scheduler's address; None starts a LocalCluster
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def ledger_mode(self) -> str:
        """"off", "dry-run" (read the ledger, change nothing) or "write"."""
        return "off" if self.ledger is None else "dry-run" if self.dry_run else "write"


# Paths a request names that are not files it reads; the column map is configuration (a missing one is exit 2).
_NOT_READ = ("out", "ledger")
_CONFIGURATION = ("column_map",)


def check_request_files(request: ValidateRequest) -> None:
    """Every file the run will read is a regular file (66 otherwise), and no export is given twice (2).

    Cheap (stat only): the command line calls it before taking the ledger lock,
    so a FIFO or a device never holds the lock while `open()` waits.
    """
    require_distinct_files(request.inputs)
    for item in fields(request):
        value = getattr(request, item.name)
        if item.name in _NOT_READ or not isinstance(value, Path):
            continue
        if item.name not in _CONFIGURATION or value.exists():
            require_regular_file(value)
