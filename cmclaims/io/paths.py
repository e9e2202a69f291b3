"""The files a command is given: regular files only, each once (SPEC sections 1 and 3).

Checked before the ledger lock is taken and before anything is opened: a FIFO
named `export.csv` would make `open()` wait forever for a writer (holding the
ledger lock all night), a device or a socket is not an export, and the same
export given twice (by two spellings, a symlink or a hard link) would put each
of its lines in the outputs twice, with rows no one could tell apart.
Only `os.stat` is used here, so the check costs nothing and imports nothing heavy.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from cmclaims.errors import ConfigError, InputMissing

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def require_regular_file(path: Path) -> os.stat_result:
    """The file's status; exit 66 (InputMissing) at once when it is absent, a folder, or not a regular file."""
    try:
        status = os.stat(path)
    except FileNotFoundError as exc:
        raise InputMissing(f"{path}: file not found") from exc
    except OSError as exc:
        raise InputMissing(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from exc
    if stat.S_ISDIR(status.st_mode):
        raise InputMissing(f"{path}: is a folder, not a file")
    for test, kind in _KINDS:
        if test(status.st_mode):
            raise InputMissing(f"{path}: is {kind}, not a file; cmclaims reads regular files only",
                               hint="export to a file and give its path")
    return status


def require_distinct_files(paths: Iterable[Path], what: str = "input") -> None:
    """Each path a regular file, and no file given twice (exit 2), whatever the spelling or link."""
    seen: dict[tuple[int, int], Path] = {}
    for path in paths:
        status = require_regular_file(path)
        key = (status.st_dev, status.st_ino)
        if key in seen:
            raise ConfigError(f"{path}: the same file as the {what} {seen[key]}, given twice",
                              hint="give each export once; its lines would otherwise be counted twice")
        seen[key] = path
