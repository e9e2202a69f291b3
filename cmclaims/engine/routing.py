"""Reading one input file on a worker and cutting it into the pieces each partitioning needs.

Each file is read by the same reader as a local run (same rows, row numbers,
bad rows and encodings), then cut three ways: by member (the partitions every
per-member rule runs on), by staff member (CM403), and by claim_id (to find
the ids that repeat across members, CM010). Only the pieces move.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.engine.layout import BAD, FILE, META, ROW, InputFile, describe_file, lines_table, route, split_by
from cmclaims.io.batch import assemble_batch
from cmclaims.io.column_map import ColumnMap
from cmclaims.io.reader import read_source
from cmclaims.normalize.parsed import dates_of
from cmclaims.normalize.text import factorize
from cmclaims.normalize.values import MISSING
from cmclaims.schema.columns import ENCOUNTER

CLAIM_SCHEMA = pa.schema([("claim", pa.string()), (FILE, pa.int32()), (ROW, pa.int64())])


@dataclass
class RoutedFile:
    """One input file, read and cut into its pieces for every partitioning."""

    file: InputFile
    schema: pa.Schema  # the file's own columns
    service_days: np.ndarray  # the distinct service dates it holds (day numbers): the ledger months to read
    by_member: list[pa.Table]
    by_staff: list[pa.Table]  # the canonical columns only: the staff pass writes no clean file
    by_claim: list[pa.Table]  # cleaned claim_id, file, row of every parsed line with one
    # The distinct cleaned original_claim_id values it names (few): the driver ships the ledger lines
    # they name with the usage, in any month (the originals of voids and replacements, SPEC section 5).
    originals: pa.Array


def read_routed(path: Path, index: int, column_map: ColumnMap | None, parts: int, today: dt.date) -> RoutedFile:
    """Read one input file and cut it by member, staff member and claim_id."""
    source = read_source(path, ENCOUNTER, column_map)
    table = lines_table(source, index)
    batch = assemble_batch([source])
    service = factorize(batch.text_column("service_date"), batch.parsed_count)
    days = dates_of(service, today)
    days = np.unique(days[days != MISSING])
    headers = source.columns
    canonical = list(dict.fromkeys(headers.values())) + list(META)
    claims = _claims(table, headers.get("claim_id"))
    originals = _claims(table, headers.get("original_claim_id")).column("claim")
    return RoutedFile(
        file=describe_file(source),
        schema=source.table.schema,
        service_days=days,
        by_member=split_by(table, route(table, headers.get("member_id"), parts), parts),
        by_staff=split_by(table.select(canonical), route(table, headers.get("staff_id"), parts), parts),
        by_claim=split_by(claims, route(claims, "claim", parts), parts),
        originals=pc.unique(originals),
    )


def _claims(table: pa.Table, header: str | None) -> pa.Table:
    """The cleaned claim_id (or original_claim_id) of every parsed line that has one, with its place."""
    if header is None:
        return CLAIM_SCHEMA.empty_table()
    column = table.column(header)
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    cleaned = pc.utf8_trim_whitespace(column)
    usable = pc.and_(pc.is_null(table.column(BAD)), pc.fill_null(pc.not_equal(cleaned, ""), False))
    return pa.table({"claim": cleaned, FILE: table.column(FILE), ROW: table.column(ROW)}).filter(usable).cast(
        CLAIM_SCHEMA)


def pick(routed: RoutedFile, kind: str, part: int) -> pa.Table:
    """One piece of a routed file (a task of its own, so that only the piece travels)."""
    pieces: list[pa.Table] = getattr(routed, kind)
    return pieces[part]


def concat(pieces: list[pa.Table]) -> pa.Table:
    """The pieces of one partition, from every file, as one table."""
    return pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]


def repeated_claims(pieces: list[pa.Table]) -> pa.Table:
    """The places of the lines whose claim_id is on more than one line (of one claim partition)."""
    claims = concat(pieces)
    if claims.num_rows == 0:
        return claims.select([FILE, ROW])
    codes, counts = np.unique(pc.dictionary_encode(claims.column("claim")).combine_chunks().indices.to_numpy(),
                              return_counts=True)
    repeated = codes[counts > 1]
    if repeated.size == 0:
        return claims.select([FILE, ROW]).slice(0, 0)
    indices = pc.dictionary_encode(claims.column("claim")).combine_chunks().indices
    return claims.filter(pc.is_in(indices, value_set=pa.array(repeated, indices.type))).select([FILE, ROW])
