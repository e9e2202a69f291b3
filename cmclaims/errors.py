"""Errors that end a run, each carrying the exit code SPEC section 1 gives it.

Messages name files, rows, columns and codes, never a member id, name or birth
date: they are printed to stderr, which cron mails to whoever runs the job.
"""

from __future__ import annotations

import errno
import sqlite3

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INPUT_UNUSABLE = 65
EXIT_INPUT_MISSING = 66
EXIT_INTERNAL = 70
EXIT_CANNOT_WRITE = 73
EXIT_LOCKED = 75


class CmclaimsError(Exception):
    """A failure the user can act on; `exit_code` is what the process returns."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[type, tuple[str, str | None]]:
        # Raised on a Dask worker, the error travels back to the driver whole, hint included.
        return (self.__class__, (self.message, self.hint))


class ConfigError(CmclaimsError):
    """A bad option, profile, code table or column map."""

    exit_code = EXIT_USAGE


class InputUnusable(CmclaimsError):
    """An input file that cannot be validated at all (wrong format, missing column, empty)."""

    exit_code = EXIT_INPUT_UNUSABLE


class InputMissing(CmclaimsError):
    """An input file that does not exist or cannot be read."""

    exit_code = EXIT_INPUT_MISSING


class CannotWrite(CmclaimsError):
    """The output folder or the ledger cannot be written."""

    exit_code = EXIT_CANNOT_WRITE


class ClusterFailed(CmclaimsError):
    """The Dask cluster lost a worker or its scheduler mid-run; nothing was written or committed."""

    exit_code = EXIT_LOCKED  # a temporary failure (EX_TEMPFAIL): run again when the cluster is back


class LedgerLocked(CmclaimsError):
    """Another run holds the ledger; nothing was changed."""

    exit_code = EXIT_LOCKED


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def from_environment(exc: BaseException) -> CmclaimsError | None:
    """The exit code of a failure of the machine rather than of cmclaims: the disk, the OS, SQLite.

    Reading an input is wrapped where it happens (66 or 65, naming the file);
    what reaches this point is writing (73), a locked ledger (75) or a
    damaged one (73). Anything else stays a bug (70). Messages carry the
    OS's words and the file's name, never data.
    """
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower():
        return LedgerLocked("the ledger is busy: another process holds it; nothing was changed",
                            hint="retry later")
    if isinstance(exc, sqlite3.DatabaseError):
        return CannotWrite(f"the ledger cannot be used ({type(exc).__name__}: {str(exc)[:120]})",
                           hint="`cmclaims ledger check` says what is wrong; restore it from a backup")
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        what = "no space left" if exc.errno in _NO_SPACE else (exc.strerror or type(exc).__name__)
        return CannotWrite(f"{where}cannot be written ({what})")
    return None
