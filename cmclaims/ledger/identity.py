"""Is this file a cmclaims ledger? Checked before anything reads or writes it (SPEC section 6).

A ledger is created only by `cmclaims ledger init`. Every other command that
opens one refuses (exit 73) a path with no file, an empty file, a file that is
not SQLite, or an SQLite file of another application: a cron job started in
the wrong folder, or a ledger truncated by mistake, must never make cmclaims
start from zero and bill everything again.

This module reads the file's first 100 bytes (the SQLite header) and imports
nothing heavy: the lock and the command line use it before numpy loads.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cmclaims.errors import CannotWrite

# PRAGMA application_id of every ledger `ledger init` creates: "CMCL" in ASCII.
APPLICATION_ID = 0x434D434C
SQLITE_MAGIC = b"SQLite format 3\x00"
_APPLICATION_ID_OFFSET = 68  # where the SQLite header keeps the application id (big-endian)


class LedgerUnusable(CannotWrite):
    """No ledger where one was expected, or a file that is not one (exit 73)."""


def create_hint(path: Path) -> str:
    """How to make a ledger, for every message that refuses one."""
    return (f"a new ledger is created only with `cmclaims ledger init --ledger {path}`; if a ledger "
            "existed here, restore it from its backup instead (a new one would bill everything again)")


def real_file(path: Path) -> Path:
    """The ledger's own file: symlinks and `..` spellings resolved, so that one file has one name."""
    return Path(os.path.realpath(path))


def require_ledger_file(path: Path) -> Path:
    """The real path of the ledger at `path`, or LedgerUnusable saying what is there instead.

    Only the header is read here; `SqliteLedger` then checks the ledger's own
    tables (a ledger of an older cmclaims has application id 0 and a `meta` table).
    """
    real = real_file(path)
    try:
        info = os.stat(real)
    except FileNotFoundError:
        raise LedgerUnusable(f"{path}: there is no ledger here", hint=create_hint(path)) from None
    except OSError as exc:
        raise LedgerUnusable(f"{path}: the ledger cannot be opened ({exc.strerror})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise LedgerUnusable(f"{path}: this is not a file, so not a ledger", hint=create_hint(path))
    if info.st_size == 0:
        raise LedgerUnusable(f"{path}: the ledger file is empty (0 bytes); nothing was read or written",
                             hint=create_hint(path))
    try:
        with open(real, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise LedgerUnusable(f"{path}: the ledger cannot be read ({exc.strerror})") from exc
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        raise LedgerUnusable(f"{path}: this file is not a cmclaims ledger (not an SQLite database)",
                             hint=create_hint(path))
    application = int.from_bytes(header[_APPLICATION_ID_OFFSET:_APPLICATION_ID_OFFSET + 4], "big")
    if application not in (APPLICATION_ID, 0):
        raise LedgerUnusable(f"{path}: this SQLite file belongs to another application, not cmclaims",
                             hint=create_hint(path))
    return real
