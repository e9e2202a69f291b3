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


def readable_metavars(command: object) -> None:
    """Name every value in the help the way a person reads it: `--out OUT`, `INPUT...`.

    typer 0.29 prints a parameter without a metavar as its Python type
    (`--profile <str>`, `inputs... <list[Path]>`) and a required argument as
    `{inputs}...` in the usage line. Each parameter of every command, theirs
    and future ones, gets its name in capitals instead, unless it set its own.
    """
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "argument":
            _plain_argument(param)
        elif getattr(param, "metavar", "") is None and not getattr(param, "is_flag", True):
            param.metavar = param.name.upper()
    for sub in getattr(command, "commands", {}).values():
        readable_metavars(sub)


def _plain_argument(param: object) -> None:
    name: str = getattr(param, "metavar", None) or getattr(param, "name", "value").upper()
    if getattr(param, "nargs", 1) != 1 and not name.endswith("..."):
        name += "..."
    usage = name if getattr(param, "required", False) else f"[{name}]"
    # Instance attributes shadow typer's methods for this one parameter only.
    param.metavar = name  # type: ignore[attr-defined]
    param.get_usage_pieces = lambda ctx: [usage]  # type: ignore[attr-defined]
    param._rich_display_name = lambda: name  # type: ignore[attr-defined]
    param.display_type_rich = lambda ctx: None  # type: ignore[attr-defined]
