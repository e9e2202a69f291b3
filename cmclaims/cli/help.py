"""Help text the commands share: the choices an option takes, listed where a person looks for them.

Kept free of heavy imports: `cmclaims -h` must answer at once.
"""

from __future__ import annotations

import os
from pathlib import Path


def profile_names() -> list[str]:
    """The payer profiles, by the names of their files (no table is loaded to list them)."""
    from cmclaims.tables.location import code_tables_dir

    folder: Path = code_tables_dir() / "profiles"
    try:
        return sorted(entry.name[:-5] for entry in os.scandir(folder) if entry.name.endswith(".toml"))
    except OSError:
        return []


def profile_help(purpose: str = "") -> str:
    """`--profile`'s help: what it is for, and the names it takes."""
    names = ", ".join(profile_names()) or "see `cmclaims profiles`"
    return f"payer profile{f' ({purpose})' if purpose else ''}: {names}"
