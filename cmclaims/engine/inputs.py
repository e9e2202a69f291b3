"""INPUT arguments: files, and folders of Parquet files (a dataset written in parts)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from cmclaims.errors import InputUnusable
from cmclaims.io.reader import PARQUET_SUFFIXES, file_format

_SAMPLE_BYTES = 1 << 20  # of a CSV file, read to learn its bytes per line


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


def estimated_lines(path: Path) -> int:
    """About how many lines a file holds, without reading it: what partitions are sized by.

    Parquet says its row count in its footer; a CSV file's is its size over the
    bytes per line of its first MiB (a CSV line is ten times a Parquet line's
    bytes, so bytes alone would size the two very differently). A file that
    cannot be opened counts 0 here: its reader reports it with its own exit code.
    """
    try:
        if file_format(path) == "parquet":
            return pq.ParquetFile(path).metadata.num_rows
        with path.open("rb") as csv:
            sample = csv.read(_SAMPLE_BYTES)
        size = path.stat().st_size
    except (OSError, InputUnusable, ValueError):
        return 0
    per_line = len(sample) / max(sample.count(b"\n"), 1)
    return round(size / per_line) if per_line else 0
