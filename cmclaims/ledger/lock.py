"""One writer at a time, whatever the path: the lock belongs to the ledger file itself (SPEC section 6).

The lock is taken on the ledger's own database file, opened by its real path
(symlinks and `..` spellings resolved): two paths to one file meet on one
lock, and there is no lock file that could be deleted to let a second writer
in. On Linux and macOS it is an flock(2), held by the open file: the kernel
frees it when the process ends, however it ends (kill -9 included). SQLite's
own locks are POSIX record locks, which flock does not touch on a local file
system. A second writer fails at once (exit 75); readers (`ledger runs`,
reports, `--dry-run`) take no lock and keep working while a run writes.

Where flock is not reliable the ledger is refused (exit 73): on NFS the Linux
kernel emulates flock with POSIX record locks, which SQLite releases whenever
it closes a connection, and SMB/CIFS locks depend on the server. A ledger
belongs on a local disk.

fcntl exists only on POSIX systems, so it is imported there and only there:
on Windows the lock is a byte-range lock (msvcrt) on a byte of SQLite's
lock page that SQLite itself never uses (untested here; see the README).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cmclaims.errors import LedgerLocked
from cmclaims.ledger.identity import LedgerUnusable, require_ledger_file

# File systems on which flock is emulated, advisory across clients only, or absent.
NETWORK_FILE_SYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ncpfs", "ceph", "glusterfs", "fuse.glusterfs",
    "fuse.sshfs", "fuse.s3fs", "gcsfuse", "fuse.gcsfuse", "lustre", "beegfs", "gpfs", "davfs", "fuse.davfs",
})  # fmt: skip

if sys.platform == "win32":
    import msvcrt

    # SQLite's lock page starts at 1 GiB; it uses its first 512 bytes and never reads or writes the
    # page's data. Windows byte-range locks are mandatory, so the writer lock sits on an unused byte there.
    _WINDOWS_LOCK_BYTE = 0x40000000 + 1024

    def _open(path: Path) -> int:
        return os.open(path, os.O_RDWR | os.O_BINARY)  # type: ignore[attr-defined]

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _open(path: Path) -> int:
        return os.open(path, os.O_RDONLY)  # flock needs no write access; the file is never written through it

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def file_system_of(path: Path) -> str | None:
    """The type of the file system holding `path` (Linux: from /proc/self/mountinfo), None when unknown."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
            mounts = handle.read().splitlines()
    except OSError:
        return None
    best, kind = "", None
    target = str(path)
    for line in mounts:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 5 or not right:
            continue
        point = fields[4].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, right.split()[0]
    return kind


def refuse_unreliable_locks(path: Path) -> None:
    """LedgerUnusable (exit 73) when the ledger sits where flock does not give one writer at a time."""
    kind = file_system_of(path)
    if kind is not None and (kind in NETWORK_FILE_SYSTEMS or kind.startswith("nfs")):
        raise LedgerUnusable(
            f"the ledger is on a network file system ({kind}), where file locks are not reliable: two runs "
            "could both write it",
            hint="keep the ledger on a local disk of the machine that runs cmclaims, and back it up to the share",
        )


class LedgerLock:
    """The writer lock of one ledger file; use as a context manager.

    The ledger must exist (it is created only by `cmclaims ledger init`):
    locking a missing, empty or foreign file raises LedgerUnusable (exit 73).
    """

    def __init__(self, ledger: Path) -> None:
        self.ledger = ledger
        self.path = ledger  # resolved when the lock is taken
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise LedgerLocked (exit 75) at once."""
        real = require_ledger_file(self.ledger)
        refuse_unreliable_locks(real)
        try:
            fd = _open(real)
        except OSError as exc:
            raise LedgerUnusable(f"{self.ledger}: the ledger cannot be opened ({exc.strerror})") from exc
        if not _try_lock(fd):
            os.close(fd)
            raise LedgerLocked(
                "another cmclaims run holds the ledger lock (the same ledger file, by whatever path); "
                "nothing was changed",
                hint="retry later; the lock frees itself when that run ends",
            )
        self.path, self._fd = real, fd

    def release(self) -> None:
        """Free the lock (the kernel frees it anyway when the process ends)."""
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> LedgerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
