"""The ledger's line blocks: the columns of a recorded line, and their Parquet encoding.

Each run's accepted lines are kept per service month as one Parquet blob
(table `line_blocks`). The store, the migrations and the running totals
(cmclaims/ledger/totals.py) all read and write blocks through this module.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from cmclaims.errors import CannotWrite

DICTIONARY_COLUMNS = ("member_id", "service", "hcpcs", "authorization_id", "frequency", "staff_id", "program",
                      "contact_type", "place_of_service", "member_present", "activity")

# The columns of a ledger line, as stored in each month's Parquet block.
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


def to_parquet(table: pa.Table, *, lines: bool = False) -> bytes:
    """A table as lz4-compressed Parquet bytes, for a ledger block.

    Dictionary-encoded text columns are written as they are (Parquet keeps text
    dictionary-encoded anyway: this only spares hashing each line's text), and
    read back as plain text like any other block: the Arrow schema, which would
    bring the dictionary type back, is then not stored in the file.

    `lines` (a block of recorded lines): only the repeating texts are
    dictionary-encoded (claim ids are nearly all distinct: Parquet would hash
    them all before giving up), and no column statistics are written (nothing
    reads a block by them; their text minima and maxima cost more than the rest
    of the encoding).
    """
    sink = io.BytesIO()
    encoded = any(pa.types.is_dictionary(field.type) for field in table.schema)
    options: dict[str, object] = {}
    if lines:
        options = {"use_dictionary": [c for c in DICTIONARY_COLUMNS if c in table.column_names],
                   "write_statistics": False}
    # lz4: fast to write and read; the blobs stay small
    pq.write_table(table, sink, compression="lz4", store_schema=not encoded, **options)
    return sink.getvalue()


def from_parquet(data: bytes, columns: list[str] | None = None, dictionary: list[str] | None = None) -> pa.Table:
    """A ledger block back as a table; a damaged block is reported, not crashed on."""
    try:
        if columns is None:
            return pq.read_table(pa.BufferReader(data), read_dictionary=dictionary)
        # A block written before a column was added lacks it: it is read as nulls.
        present = set(pq.read_schema(pa.BufferReader(data)).names)
        table = pq.read_table(pa.BufferReader(data), columns=[c for c in columns if c in present],
                              read_dictionary=dictionary)
        for name in (c for c in columns if c not in present):
            kind = LINE_SCHEMA.field(name).type
            kind = pa.dictionary(pa.int32(), kind) if dictionary and name in dictionary else kind
            table = table.append_column(pa.field(name, kind), pa.nulls(table.num_rows, kind))
        return table.select(columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CannotWrite(
            "a block of the ledger cannot be read; it was damaged outside cmclaims",
            hint="run `cmclaims ledger check` and restore the ledger from its backup",
        ) from exc
