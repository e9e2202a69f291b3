"""One writer at a time: an exclusive, non-blocking lock beside the ledger file.

The lock is an flock(2) on `<ledger>.lock`, held by the open file: the kernel
frees it when the process ends, however it ends (kill -9 included), so a dead
run never leaves the ledger locked. A second writer fails at once (exit 75)
and is told who holds the lock since when.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path

from cmclaims.errors import CannotWrite, LedgerLocked
from cmclaims.io.private import FILE_MODE, private_folder


class LedgerLock:
    """The writer lock of one ledger file; use as a context manager."""

    def __init__(self, ledger: Path) -> None:
        self.path = ledger.with_name(ledger.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise LedgerLocked (exit 75) at once, saying who holds it."""
        try:
            private_folder(self.path.parent, "ledger folder")
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            os.chmod(self.path, FILE_MODE)  # whatever the umask, and a lock file made before by someone else
        except OSError as exc:
            raise CannotWrite(f"{self.path}: cannot create the ledger lock ({exc.strerror})") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LedgerLocked(
                f"another cmclaims run holds the ledger lock ({holder}); nothing was changed",
                hint="retry later; the lock frees itself when that run ends",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {dt.datetime.now().isoformat(timespec='seconds')}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Free the lock (the kernel frees it anyway when the process ends)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> LedgerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
