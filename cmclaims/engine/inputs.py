"""INPUT arguments: files, and folders of Parquet files (a dataset written in parts)."""

from __future__ import annotations

from pathlib import Path

from cmclaims.errors import InputUnusable
from cmclaims.io.reader import PARQUET_SUFFIXES


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Each folder replaced by its Parquet files in name order; files as given."""
    expanded: list[Path] = []
    for path in paths:
        if not path.is_dir():
            expanded.append(path)
            continue
        parts = sorted(p for p in path.iterdir() if p.suffix.lower() in PARQUET_SUFFIXES and p.is_file())
        if not parts:
            raise InputUnusable(f"{path}: the folder holds no Parquet file", hint="give a folder of .parquet files")
        expanded.extend(parts)
    return expanded
