"""A partition's lines as one Arrow table, and back into the batch the pipeline reads.

The lines table holds the input files' own columns (the Dask engine needs
inputs that share them: one export written in parts) plus three columns of
its own: `__file` (the input's position), `__row` (its 1-based source row)
and `__bad` (why the parser could not take the row, null when it could).
`batch_of` turns the lines of any set of members back into a `Batch` whose
file positions and source rows are the whole batch's, so every finding,
message and output row is the one a local run writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.io.batch import Batch, assemble_batch
from cmclaims.io.reader import BadRow, SourceFile

FILE, ROW, BAD = "__file", "__row", "__bad"
META = (FILE, ROW, BAD)
_ROW_BITS = 40  # a line's place in the batch: file << 40 | row (a file has fewer than 10^12 rows)


@dataclass(frozen=True)
class InputFile:
    """One input file as every partition knows it; its rows travel in the lines tables."""

    path: Path
    sha256: str
    format: str
    encoding: str
    columns: tuple[tuple[str, str], ...]  # canonical name -> the file's header for it
    lines: int

    @property
    def name(self) -> str:
        """The file as the user named it."""
        return str(self.path)

    def summary_entry(self) -> dict[str, object]:
        """The file's entry under summary.json's `inputs`."""
        return {"file": self.name, "sha256": self.sha256, "format": self.format, "encoding": self.encoding,
                "lines": self.lines}


@dataclass(frozen=True)
class Layout:
    """The batch's input files, in input order, and the columns they share."""

    files: tuple[InputFile, ...]
    schema: pa.Schema  # the files' own columns

    def header(self, canonical: str) -> str | None:
        """The files' header for a canonical column, None when they have none."""
        return dict(self.files[0].columns).get(canonical) if self.files else None


def describe_file(source: SourceFile) -> InputFile:
    """What every partition needs to know of a file read on some worker."""
    return InputFile(source.path, source.sha256, source.format, source.encoding,
                     tuple(source.columns.items()), source.line_count)


def lines_table(source: SourceFile, index: int) -> pa.Table:
    """A file's rows as a lines table: the parsed rows, then the rows the parser could not take."""
    parsed = source.table
    parsed = parsed.append_column(FILE, pa.array(np.full(parsed.num_rows, index, np.int32)))
    parsed = parsed.append_column(ROW, pa.array(source.rows.astype(np.int64)))
    parsed = parsed.append_column(BAD, pa.nulls(parsed.num_rows, pa.string()))
    if not source.bad_rows:
        return parsed
    count = len(source.bad_rows)
    bad = {field.name: pa.nulls(count, field.type) for field in source.table.schema}
    bad[FILE] = pa.array(np.full(count, index, np.int32))
    bad[ROW] = pa.array([b.row for b in source.bad_rows], pa.int64())
    bad[BAD] = pa.array([b.problem for b in source.bad_rows], pa.string())
    return pa.concat_tables([parsed, pa.table(bad, schema=parsed.schema)])


def place(files: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each line's place in the batch as one int64: input position, then source row."""
    return (files.astype(np.int64) << _ROW_BITS) | rows.astype(np.int64)


def place_of(table: pa.Table) -> np.ndarray:
    """The batch place of every row of a table carrying `__file` and `__row`."""
    return place(table.column(FILE).to_numpy(), table.column(ROW).to_numpy())


def batch_of(table: pa.Table, layout: Layout) -> Batch:
    """The lines of a partition as a batch: one piece per input file, rows in source order."""
    table = table.sort_by([(FILE, "ascending"), (ROW, "ascending")])
    file_index = table.column(FILE).to_numpy()
    bounds = np.searchsorted(file_index, np.arange(len(layout.files) + 1))
    own = [field.name for field in layout.schema]
    pieces = []
    for index, file in enumerate(layout.files):
        piece = table.slice(bounds[index], bounds[index + 1] - bounds[index])
        bad_mask = pc.is_valid(piece.column(BAD))
        bad_rows: list[BadRow] = []
        if piece.num_rows and pc.any(bad_mask).as_py():
            bad = piece.filter(bad_mask)
            rows, problems = bad.column(ROW).to_pylist(), bad.column(BAD).to_pylist()
            bad_rows = [BadRow(row, problem) for row, problem in zip(rows, problems, strict=True)]
            piece = piece.filter(pc.invert(bad_mask))
        pieces.append(SourceFile(
            path=file.path, digest=file.sha256, format=file.format, encoding=file.encoding,
            table=piece.select(own), columns=dict(file.columns), rows=piece.column(ROW).to_numpy(),
            bad_rows=bad_rows,
        ))
    return assemble_batch(pieces)


def route(table: pa.Table, header: str | None, parts: int) -> np.ndarray:
    """Per row, its partition: a hash of the column's value as the normaliser cleans it (trimmed).

    Lines whose value differs only by spaces are one member (or staff member)
    for the rules, so they must land together. Rows without a value go to 0.
    """
    if header is None or parts == 1:
        return np.zeros(table.num_rows, dtype=np.int32)
    column = table.column(header)
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = pc.local_timestamp(column)
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    cleaned = pc.utf8_trim_whitespace(column)
    values = cleaned.to_numpy(zero_copy_only=False)
    empty = pc.fill_null(pc.equal(cleaned, ""), True).to_numpy(zero_copy_only=False)
    hashed = pd.util.hash_array(np.where(empty, "", values).astype(object), categorize=True)
    return np.where(empty, 0, hashed % np.uint64(parts)).astype(np.int32)


def split_by(table: pa.Table, parts: np.ndarray, count: int) -> list[pa.Table]:
    """The table's rows by partition: one table per partition, rows in their order.

    Each piece is taken into buffers of its own (not a slice of one reordered
    table): a piece travels, spills to disk and is freed alone, so a worker's
    memory follows the pieces it holds, not the files they came from.
    """
    order = np.argsort(parts, kind="stable")
    bounds = np.searchsorted(parts[order], np.arange(count + 1))
    return [table.take(pa.array(order[bounds[k]:bounds[k + 1]])) for k in range(count)]
