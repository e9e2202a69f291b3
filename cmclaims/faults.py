"""Named points in a run where the crash tests kill the process (fault injection).

`checkpoint("ledger-transaction")` does nothing unless the environment variable
CMCLAIMS_CRASH_AT names that point; then the process kills itself with
SIGKILL right there, as a power cut or an OOM kill would. tests/test_crash.py
uses it to prove that the ledger and the outputs survive a crash at each point.
"""

from __future__ import annotations

import os
import signal

# The points of a validate run ...
POINTS = (
    "after-read",  # inputs read, nothing written
    "after-normalise",  # lines typed, the ledger's view of earlier runs loaded
    "after-rules",  # every rule has run, nothing written
    "after-write",  # exceptions staged as a temporary file, the clean file maybe still being written
    "outputs-staged",  # temporary output files complete, not renamed, ledger untouched
    "ledger-transaction",  # inside the ledger transaction, before COMMIT
    "ledger-committed",  # ledger committed, outputs not yet renamed
    "between-renames",  # the clean file renamed, the others not yet
)
# ... and those of `cmclaims ledger compact` (tests/ledger/test_compact.py).
COMPACT_POINTS = (
    "ledger-compact",  # out of WAL, the new page size set, before VACUUM rewrites the file
)


def checkpoint(point: str) -> None:
    """Kill the process here when the crash tests ask for this point; otherwise nothing."""
    if os.environ.get("CMCLAIMS_CRASH_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
