"""Files and folders that hold PHI: owner-only, whatever the umask (SPEC section 3).

Every folder cmclaims creates is 0700 and every file 0600. The modes are set
with chmod after creating, because the mode passed to mkdir or open is only
an upper bound that the process's umask narrows (umask 000 must not leave a
ledger 0666) and a stricter umask must not leave cmclaims unable to write.
A file that already exists (an empty ledger made with `touch`, last night's
output written by an older version) is tightened to 0600 before anything is
written into it. Folders that already exist are left as they are: they are
the user's (their home, a shared drop folder).

Every part of cmclaims that creates a file or a folder goes through here:
the outputs of validate, the ledger and its lock, reports, samples.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cmclaims.errors import CannotWrite

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path, what: str = "folder") -> Path:
    """Create `folder` and every missing parent 0700; exit 73 (CannotWrite) when that is impossible."""
    missing: list[Path] = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made by another process meanwhile: it is not ours to change
        except OSError as exc:
            raise CannotWrite(f"{path}: cannot create the {what} ({exc.strerror or exc})") from exc
        try:
            os.chmod(path, FOLDER_MODE)
        except OSError as exc:
            raise CannotWrite(f"{path}: cannot make the {what} private ({exc.strerror or exc})") from exc
    if not folder.is_dir():
        raise CannotWrite(f"{folder}: the {what} is a file, not a folder")
    return folder


def tighten(path: Path) -> None:
    """Make an existing regular file owner-only (0600) before PHI goes into it; nothing when it is absent."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode) and stat.S_IMODE(mode) != FILE_MODE:
        os.chmod(path, FILE_MODE)


def private_file(path: Path) -> Path:
    """Create `path` empty if absent, and make it 0600 either way; raises OSError."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    os.chmod(path, FILE_MODE)  # os.fchmod is not on every platform
    return path


def open_private(path: Path, mode: str = "w", **kwargs):
    """open() for writing a file that holds PHI: created or tightened to 0600 first, then truncated."""
    private_file(path)
    return open(path, mode, **kwargs)
