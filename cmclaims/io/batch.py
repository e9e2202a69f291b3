"""Several input files validated as one batch: their rows, and their columns by canonical name."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.io.column_map import ColumnMap
from cmclaims.io.reader import ENCODED_TEXT, SourceFile, read_source
from cmclaims.schema.columns import FileColumns, header_key

# Columns whose values nearly all differ: read as plain text, where a dictionary would only add its codes.
NEARLY_UNIQUE = frozenset({"claim_id", "original_claim_id"})
# keep_encoded is called from the normaliser's threads, one column each; a file's table is replaced whole.
_REPLACING = threading.Lock()


@dataclass
class Batch:
    """The rows of every input, in input order, then the rows no parser could take.

    Line i < `parsed_count` is row `source_row[i]` of `files[file_index[i]]`; the
    lines after it are the unparseable rows, in file and row order.
    """

    files: list[SourceFile]
    file_index: np.ndarray
    source_row: np.ndarray
    parsed_count: int
    bad_problems: list[str]

    @property
    def line_count(self) -> int:
        """Every line of the batch, parsed or not."""
        return int(self.file_index.size)

    def has_column(self, canonical: str) -> bool:
        """Whether at least one input has this canonical column."""
        return any(canonical in f.columns for f in self.files)

    def headers_not_found(self, column_map: ColumnMap, expected: FileColumns) -> list[dict[str, str]]:
        """The map's entries for this kind of file whose header no input has (a renamed export column).

        The reader then uses a column of our own name when the file has one, so
        such an entry would otherwise pass unnoticed.
        """
        missing = []
        for canonical, header in column_map.items():
            if canonical not in expected.known:
                continue
            wanted = header_key(header)
            if not any(header_key(f.columns.get(canonical, "")) == wanted for f in self.files):
                missing.append({"column": canonical, "header": header})
        return missing

    def text_column(self, canonical: str) -> pa.ChunkedArray:
        """The column's values of the parsed rows as text, null where a file lacks it.

        Plain strings, or ENCODED_TEXT (each chunk with a dictionary of its own)
        as soon as one file holds the column encoded, as the CSV reader does.
        """
        chunks: list[pa.Array] = []
        for source in self.files:
            header = source.columns.get(canonical)
            if header is None:
                chunks.append(pa.nulls(source.table.num_rows, pa.string()))
                continue
            column = source.table.column(header)
            if pa.types.is_dictionary(column.type):
                column = column.cast(
                    ENCODED_TEXT if pa.types.is_string(column.type.value_type) else column.type.value_type
                )
            if pa.types.is_timestamp(column.type) and column.type.tz is not None:
                # A zoned timestamp is read as the wall-clock time of its zone, the time on the note.
                column = pc.local_timestamp(column)
            if not pa.types.is_string(column.type) and column.type != ENCODED_TEXT:
                column = column.cast(pa.string())
            chunks.extend(column.chunks)
        if any(chunk.type == ENCODED_TEXT for chunk in chunks):
            chunks = [chunk if chunk.type == ENCODED_TEXT else chunk.dictionary_encode() for chunk in chunks]
            return pa.chunked_array(chunks, type=ENCODED_TEXT)
        return pa.chunked_array(chunks, type=pa.string())

    def keep_encoded(self, canonical: str, codes: np.ndarray, values: pa.Array) -> None:
        """Hold the column as `codes` (per parsed row, -1 for null) into `values`, in every file that has it as text.

        `values[codes]` must be the column's text row for row (the codes
        `text_column` was factorized into): the tables then keep each value
        once and a narrow code per row instead of the text, and the clean file,
        which writes them back as text, gets the same bytes. Safe to call from
        several threads at once for different columns.
        """
        offset = 0
        for source in self.files:
            rows = source.table.num_rows
            header = source.columns.get(canonical)
            kind = source.table.schema.field(header).type if header is not None else None
            if kind is not None and (pa.types.is_string(kind) or kind == ENCODED_TEXT):
                mine = codes[offset : offset + rows]
                indices = pa.array(mine, mask=mine < 0) if (mine < 0).any() else pa.array(mine)
                encoded = pa.DictionaryArray.from_arrays(indices, values)
                with _REPLACING:
                    index = source.table.schema.get_field_index(header)
                    source.table = source.table.set_column(index, header, encoded)
            offset += rows


def read_batch(paths: list[Path], expected: FileColumns, column_map: ColumnMap | None = None) -> Batch:
    """Read every input; a file that is missing or unusable stops the run before anything is written."""
    return assemble_batch([read_source(path, expected, column_map, plain=NEARLY_UNIQUE) for path in paths])


def assemble_batch(files: list[SourceFile]) -> Batch:
    """Files already read, as one batch: their parsed rows in file order, then the rows no parser took."""
    file_index = [np.full(f.table.num_rows, i, dtype=np.int32) for i, f in enumerate(files)]
    rows = [f.rows for f in files]
    bad_index, bad_rows, problems = [], [], []
    for i, source in enumerate(files):
        for bad in source.bad_rows:
            bad_index.append(i)
            bad_rows.append(bad.row)
            problems.append(bad.problem)
    parsed = sum(f.table.num_rows for f in files)
    return Batch(
        files=files,
        file_index=np.concatenate([*file_index, np.array(bad_index, dtype=np.int32)]),
        source_row=np.concatenate([*rows, np.array(bad_rows, dtype=np.int64)]),
        parsed_count=parsed,
        bad_problems=problems,
    )
