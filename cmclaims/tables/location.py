"""Where the code tables live: beside the package in a checkout, inside it in a wheel."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def code_tables_dir() -> Path:
    """The folder holding catalog.toml, codes.csv, ... and profiles/.

    `CMCLAIMS_CODE_TABLES` points elsewhere (an analyst trying a new table);
    otherwise the checkout's `code_tables/`, or the copy a wheel carries.
    """
    override = os.environ.get("CMCLAIMS_CODE_TABLES")
    if override:
        return Path(override)
    for candidate in (_PACKAGE.parent / "code_tables", _PACKAGE / "code_tables"):
        if (candidate / "catalog.toml").is_file():
            return candidate
    return _PACKAGE.parent / "code_tables"
