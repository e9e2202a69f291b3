"""The ledger's blocks: the columns of a recorded line, and how a block of them is encoded.

Each run's accepted lines are kept per service month as one blob (table
`line_blocks`), and so are its findings and the running totals. The store,
the migrations and the running totals (cmclaims/ledger/totals.py) all read
and write blocks through this module.

A block is an Arrow IPC file compressed with zstd: every night reads the
claim ids of every earlier line, and an IPC column is read back by
decompressing its buffers, where a Parquet column of texts is decoded value
by value (5M claim ids: ~0.02 s against ~2 s of CPU); it is written four
times faster and is smaller. Blocks written before (Parquet, from cmclaims
0.1 to schema 4) are read as they are: a ledger holds both, told apart by
their first bytes.
"""

from __future__ import annotations

import io
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from cmclaims.errors import CannotWrite

DICTIONARY_COLUMNS = ("member_id", "service", "hcpcs", "authorization_id", "frequency", "staff_id", "program",
                      "contact_type", "place_of_service", "member_present", "activity")

# The columns of a ledger line, as stored in each month's block.
LINE_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("member_id", pa.string()),
        ("service", pa.string()),
        ("hcpcs", pa.string()),
        ("service_day", pa.int32()),
        ("units", pa.int32()),
        ("charge", pa.float64()),
        ("authorization_id", pa.string()),
        ("auth_units", pa.int32()),
        ("frequency", pa.string()),
        ("original_claim_id", pa.string()),
        ("staff_id", pa.string()),
        ("program", pa.string()),
        # How and when the contact happened, for the requirements over time (cmclaims/compliance/).
        # Blocks written before these columns read them as null.
        ("start_minute", pa.int16()),
        ("contact_type", pa.string()),
        ("place_of_service", pa.string()),
        ("member_present", pa.string()),
        ("activity", pa.string()),
    ]
)

_PARQUET_MAGIC = b"PAR1"
# zstd's fastest level: a night's findings (195,000 rows, 76 MB) compress to the same 11 MB as at Arrow's default
# level in two thirds of the time (0.14 s -> 0.095 s), its lines to the same 12 MB a little faster.
_WRITE_OPTIONS = ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=1))


def encode_block(table: pa.Table, *, dictionary: bool = False) -> bytes:
    """A table as the bytes of a ledger block.

    `dictionary` (a block of recorded lines, or of running totals): the
    repeating texts (DICTIONARY_COLUMNS) are kept dictionary-encoded, so that a
    night reads its members and codes without one string per line, and sums
    totals over codes. A column that arrives dictionary-encoded keeps only the
    values its rows use: a run's lines come encoded over the whole batch, and
    each month's block would otherwise carry every member of the night.
    """
    table = table.unify_dictionaries().combine_chunks()  # an IPC file holds one dictionary per column
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        values = column.chunk(0) if column.num_chunks else pa.array([], field.type)
        if dictionary and field.name in DICTIONARY_COLUMNS and not pa.types.is_dictionary(field.type):
            values = values.dictionary_encode()
        if pa.types.is_dictionary(values.type):
            values = _used_values_only(values)
        columns.append(values)
    table = pa.Table.from_arrays(columns, names=table.column_names)
    sink = io.BytesIO()
    with ipc.new_file(sink, table.schema, options=_WRITE_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue()


@dataclass(frozen=True)
class EncodedBlock:
    """A block's bytes (None: no rows, nothing to keep) and how many rows it holds."""

    data: bytes | None
    rows: int


class BlockWriter:
    """A block encoded a batch at a time, as they come (a run's findings, as its exceptions file streams
    them): never held whole. Plain columns only (an IPC file holds one dictionary per column).

    With an `encoder` (a one-thread executor) the batches are compressed there, in the order given, and
    `write` returns at once: the thread writing the exceptions file does not wait for the ledger's copy.
    """

    def __init__(self, schema: pa.Schema, encoder: Executor | None = None) -> None:
        self._sink = io.BytesIO()
        self._writer = ipc.new_file(self._sink, schema, options=_WRITE_OPTIONS)
        self._encoder = encoder
        self._pending: list[Future[None]] = []
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        """Add a batch of rows."""
        if self._encoder is None:
            self._writer.write_batch(batch)
        else:
            self._pending.append(self._encoder.submit(self._writer.write_batch, batch))
        self.rows += batch.num_rows

    def finish(self) -> EncodedBlock:
        """The block, complete (once every batch given is encoded)."""
        for pending in self._pending:
            pending.result()
        self._writer.close()
        return EncodedBlock(self._sink.getvalue() if self.rows else None, self.rows)


def _used_values_only(values: pa.DictionaryArray) -> pa.DictionaryArray:
    """A dictionary array whose dictionary holds only the values its indices use (in the dictionary's order)."""
    if not len(values.dictionary):
        return values
    indices = values.indices.fill_null(0).to_numpy(zero_copy_only=False)
    used = np.zeros(len(values.dictionary), dtype=bool)
    used[indices] = True
    if used.all():
        return values
    new_index = np.cumsum(used, dtype=np.int64) - 1
    nulls = values.is_null().to_numpy(zero_copy_only=False) if values.null_count else None
    remapped = pa.array(new_index[indices].astype(np.int32), mask=nulls)
    return pa.DictionaryArray.from_arrays(remapped, values.dictionary.filter(pa.array(used)))


def decode_block(data: bytes, columns: list[str] | None = None, dictionary: list[str] | None = None) -> pa.Table:
    """A ledger block back as a table; a damaged block is reported (exit 73), never crashed on.

    `columns` picks columns (a line block written before a column was added
    reads it as nulls); the texts named in `dictionary` come back
    dictionary-encoded, every other text as plain text, whatever the block
    holds.
    """
    wanted = dictionary or []
    try:
        if bytes(data[:4]) == _PARQUET_MAGIC:
            return _older_parquet_block(data, columns, wanted)
        reader = ipc.open_file(pa.BufferReader(data))
        present = reader.schema.names
        if columns is not None:
            indices = [present.index(name) for name in columns if name in present]
            reader = ipc.open_file(pa.BufferReader(data), options=ipc.IpcReadOptions(included_fields=indices))
        table = reader.read_all()
        # The buffers are checked before any kernel reads them: damage the zstd frames let through (an
        # offset or an index out of range) is an error here, not a crash later.
        table.validate(full=True)
        table = pa.Table.from_arrays([_as_asked(table.column(name), name in wanted) for name in table.column_names],
                                     names=table.column_names)
        return table if columns is None else _with_missing(table, columns, wanted)
    except (pa.ArrowException, OSError, ValueError) as exc:  # whatever bytes a damaged block holds
        raise CannotWrite(
            "a block of the ledger cannot be read; it was damaged outside cmclaims",
            hint="run `cmclaims ledger check` and restore the ledger from its backup",
        ) from exc


def _as_asked(column: pa.ChunkedArray, encoded: bool) -> pa.ChunkedArray:
    """A column dictionary-encoded (int32 indices) when `encoded`, its plain values otherwise."""
    if pa.types.is_dictionary(column.type):
        if not encoded:
            return column.cast(column.type.value_type)
        if column.type.index_type != pa.int32():
            return column.cast(pa.dictionary(pa.int32(), column.type.value_type))
        return column
    if encoded and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column.dictionary_encode()
    return column


def _with_missing(table: pa.Table, columns: list[str], dictionary: list[str]) -> pa.Table:
    """`table` with the line columns it lacks as nulls, in the order of `columns`."""
    for name in (c for c in columns if c not in table.column_names):
        kind = LINE_SCHEMA.field(name).type
        kind = pa.dictionary(pa.int32(), kind) if name in dictionary else kind
        table = table.append_column(pa.field(name, kind), pa.nulls(table.num_rows, kind))
    return table.select(columns)


def _older_parquet_block(data: bytes, columns: list[str] | None, dictionary: list[str]) -> pa.Table:
    """A block as schema 4 and earlier wrote it: Parquet, dictionary columns read back as plain text."""
    source = pa.BufferReader(data)
    if columns is None:
        return pq.read_table(source, read_dictionary=dictionary or None)
    present = set(pq.read_schema(pa.BufferReader(data)).names)
    table = pq.read_table(source, columns=[c for c in columns if c in present], read_dictionary=dictionary or None)
    return _with_missing(table, columns, dictionary)
