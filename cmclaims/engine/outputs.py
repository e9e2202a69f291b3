"""The Dask engine's outputs: each partition's rows put back in batch order, written in parts.

A partition holds the lines of some members, in any order of the batch. Its
clean and exceptions rows are cut by their place in the batch into ranges;
range m of every partition is sorted and written as part m. CSV parts are
joined into clean.csv and exceptions.csv (the same bytes a local run
writes); Parquet parts stay a dataset (a folder of parts).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmclaims.engine.layout import FILE, ROW, place, place_of, split_by
from cmclaims.engine.partition import PartitionOutput, PartitionPlan, validate_partition
from cmclaims.errors import CannotWrite
from cmclaims.io.writer import OWNER_ONLY, commit, escape_formulas

PART_ROWS = 1 << 18  # rows written at a time


@dataclass
class PlacedOutput:
    """A partition's output with its clean and exceptions rows already cut by range of the batch."""

    output: PartitionOutput  # counts, findings, rules, ledger entries (its clean and exceptions left empty)
    clean: list[pa.Table]  # range m of the batch's clean rows that this partition holds, sorted
    exceptions: list[pa.Table]


def validate_placed(lines: pa.Table, usage: pa.Table | None, given: pa.Table | None, plan: PartitionPlan,
                    bounds: np.ndarray) -> PlacedOutput:
    """`validate_partition`, its clean and exceptions rows cut by range (each range in buffers of its own)."""
    output = validate_partition(lines, usage, given, plan)
    clean, exceptions = cut(output.clean, bounds), cut(output.exceptions, bounds)
    output.clean, output.exceptions = output.clean.schema.empty_table(), output.exceptions.schema.empty_table()
    return PlacedOutput(output, clean, exceptions)


def range_bounds(line_counts: list[int], parts: int) -> np.ndarray:
    """Places that cut the batch into `parts` ranges of about as many lines each."""
    total = sum(line_counts)
    wanted = np.linspace(0, total, parts + 1)[1:-1]
    offsets = np.cumsum([0, *line_counts])
    file = np.searchsorted(offsets, wanted, side="right") - 1
    row = wanted - offsets[file] + 1
    return place(file, row.astype(np.int64))


def cut(table: pa.Table, bounds: np.ndarray) -> list[pa.Table]:
    """The rows of one partition's output by range of their place in the batch, each range sorted."""
    where = place_of(table) if ROW in table.column_names else place(
        table.column(FILE).to_numpy(), table.column("source_row").to_numpy())
    return split_by(table, np.searchsorted(bounds, where, side="right"), bounds.size + 1)


def sort_part(pieces: list[pa.Table], schema: pa.Schema, exceptions: bool) -> pa.Table:
    """One range from every partition, in the order a local run writes it."""
    table = pa.concat_tables([p.cast(schema) for p in pieces]) if pieces else schema.empty_table()
    if exceptions:
        keys = [(FILE, "ascending"), ("source_row", "ascending"), ("rule", "ascending")]
    else:
        keys = [(FILE, "ascending"), (ROW, "ascending")]
    return table.sort_by(keys)


def write_part(pieces: list[pa.Table], schema: pa.Schema, path: Path, fmt: str, header: bool,
               exceptions: bool) -> tuple[str, int]:
    """Write range `path` of an output from its pieces: sorted, without the engine's own columns."""
    table = sort_part(pieces, schema, exceptions)
    table = table.drop_columns([c for c in (FILE, ROW) if c in table.column_names])
    if fmt == "parquet" and table.num_rows == 0 and not header:
        return "", 0  # a dataset has no empty parts (but always a first one, that carries the columns)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        options = pacsv.WriteOptions(include_header=header)
        with pacsv.CSVWriter(path, table.schema, write_options=options) as csv:
            for batch in table.to_batches(max_chunksize=PART_ROWS):
                csv.write_table(escape_formulas(pa.Table.from_batches([batch], schema=table.schema)))
    os.chmod(path, OWNER_ONLY)
    return str(path), table.num_rows


def join_parts(parts: list[Path], target: Path) -> None:
    """CSV parts (the first with the header) joined into one file."""
    with target.open("wb") as joined:
        for part in parts:
            with part.open("rb") as piece:
                shutil.copyfileobj(piece, joined, 1 << 22)


def commit_folder(staged: Path, target: Path) -> None:
    """Put a staged dataset folder in place of `target` (a folder or file of an earlier run)."""
    try:
        if target.is_dir():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(staged, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
            os.replace(staged, target)
        commit_parent = target.parent
        directory = os.open(commit_parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise CannotWrite(f"{target}: cannot be written ({exc.strerror})") from exc


__all__ = ["PlacedOutput", "commit", "commit_folder", "cut", "join_parts", "range_bounds", "validate_placed",
           "write_part"]
