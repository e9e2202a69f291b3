"""The clean file and the exceptions file (SPEC section 3), as streams of Arrow record batches.

clean: every line not rejected, with all its input columns as they came in,
plus billable_minutes, billable_units, disposition and billable_charge.
exceptions: one row per finding, self-contained for finance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.io.batch import Batch
from cmclaims.io.writer import as_schema
from cmclaims.normalize.lines import MISSING, Lines
from cmclaims.pipeline.checks import REJECTED, Outcome, disposition_text
from cmclaims.rules.context import Context
from cmclaims.rules.words import iso_date
from cmclaims.sorting import argsort_keys, combined_key

ADDED_COLUMNS = ("billable_minutes", "billable_units", "disposition", "billable_charge")

EXCEPTION_COLUMNS = (
    "claim_id", "source_file", "source_row", "rule", "rule_name", "severity", "disposition", "message",
    "member_id", "service_date", "hcpcs", "modifiers", "staff_id", "units_billed", "units_allowed", "charge",
    "charge_allowed", "charge_held", "service", "program", "rule_family",
)  # fmt: skip


def _canonical_names(batch: Batch) -> dict[str, str]:
    """One output header per canonical column: the first file's own header for it."""
    names: dict[str, str] = {}
    for source in batch.files:
        for canonical, header in source.columns.items():
            names.setdefault(canonical, header)
    return names


@dataclass
class CleanFile:
    """The clean file, produced piece by piece: its schema, and its record batches on demand.

    The input tables are filtered one record batch at a time, so the clean file
    is never held whole in memory beside the input it comes from. A batch's
    text columns may still be dictionary-encoded where `schema` says text
    (`write_batches` decodes them; `as_schema` does it for other readers).
    """

    schema: pa.Schema
    pieces: Callable[[], Iterator[pa.RecordBatch]]

    def table(self) -> pa.Table:
        """Every piece in one table of `schema`'s types."""
        return pa.Table.from_batches([as_schema(piece, self.schema) for piece in self.pieces()], schema=self.schema)


def clean_file(ctx: Context, batch: Batch, outcome: Outcome) -> CleanFile:
    """Every line not rejected, with all its input columns as they came in, and the billing columns."""
    shared = _canonical_names(batch)
    renamed = []
    for source in batch.files:
        rename = {header: shared[canonical] for canonical, header in source.columns.items()}
        names = [rename.get(name, name) for name in source.table.column_names]
        renamed.append([f"{name}_input" if name in ADDED_COLUMNS else name for name in names])
    order: list[str] = []
    types: dict[str, pa.DataType] = {}
    for names, source in zip(renamed, batch.files, strict=True):
        for name, field in zip(names, source.table.schema, strict=True):
            # Text the reader or the normaliser holds dictionary-encoded is written as the text it is.
            kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
            if name not in types:
                order.append(name)
                types[name] = kind
            elif types[name] != kind:
                types[name] = pa.string()  # the files disagree: carry the column as text
    added = [
        pa.field("billable_minutes", pa.int32()),
        pa.field("billable_units", pa.int32()),
        pa.field("disposition", pa.string()),
    ]
    if "charge" in ctx.lines.present:
        added.append(pa.field("billable_charge", pa.float64()))
    schema = pa.schema([pa.field(name, types[name]) for name in order] + added)
    keep = outcome.disposition != REJECTED

    def pieces() -> Iterator[pa.RecordBatch]:
        line = 0
        for names, source in zip(renamed, batch.files, strict=True):
            for record_batch in source.table.to_batches(max_chunksize=1 << 18):
                lines = np.arange(line, line + record_batch.num_rows)
                line += record_batch.num_rows
                kept = lines[keep[lines]]
                chosen = record_batch.filter(pa.array(keep[lines])).rename_columns(names)
                # Dictionary-encoded text stays encoded here: the writer decodes it on its formatting threads.
                columns = [chosen.column(name) if name in names else pa.nulls(kept.size, types[name]) for name in order]
                columns += [
                    pa.array(ctx.units.minutes[kept], pa.int32()),
                    pa.array(outcome.billable[kept], pa.int32()),
                    disposition_text(outcome.disposition[kept]),
                ]
                if len(added) == 4:
                    charge = outcome.charge_allowed[kept]
                    columns.append(pa.array(charge, pa.float64(), mask=np.isnan(charge)))
                yield pa.RecordBatch.from_arrays(columns, names=schema.names)

    return CleanFile(schema, pieces)


def _text(lines: Lines, column: str, rows: np.ndarray) -> pa.Array:
    return lines.text[column].text(rows)


EXCEPTIONS_BATCH = 1 << 17  # findings a piece of the exceptions file holds (messages are rendered per piece)


@dataclass
class ExceptionsFile:
    """The exceptions file, produced piece by piece like the clean file.

    Only the order of the findings (line and rule numbers, a few bytes each) is
    computed up front; each piece then renders the messages and gathers the
    columns of its own findings, so a terrible night's millions of findings are
    never held as strings all at once.
    """

    schema: pa.Schema
    pieces: Callable[[], Iterator[pa.RecordBatch]]
    size: int  # findings in all

    def table(self) -> pa.Table:
        """Every piece in one table."""
        return pa.Table.from_batches(list(self.pieces()), schema=self.schema)

    def tee(self, also: Callable[[pa.RecordBatch], None]) -> ExceptionsFile:
        """The same file, each piece also handed to `also` as it is made (the ledger keeps a run's findings:
        rendered once, for both, and never held whole)."""
        def pieces() -> Iterator[pa.RecordBatch]:
            for piece in self.pieces():
                also(piece)
                yield piece

        return ExceptionsFile(self.schema, pieces, self.size)


def exceptions_file(ctx: Context, outcome: Outcome) -> ExceptionsFile:
    """One row per finding, sorted by file, row and rule, produced a slice of findings at a time."""
    findings = outcome.findings
    if findings:
        rows = np.concatenate([f.rows for f in findings])
        which = np.concatenate([np.full(f.rows.size, i, dtype=np.int32) for i, f in enumerate(findings)])
        within = np.concatenate([np.arange(f.rows.size) for f in findings])
    else:
        rows, which, within = np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int64)
    # Rule codes sort as their rank among the run's codes: the same order as the code text.
    codes = [f.rule.code for f in findings]
    rank = np.argsort(np.argsort(np.array(codes, dtype=object), kind="stable"), kind="stable") if codes else which
    file, source_row = ctx.column("file")[rows], ctx.column("source_row")[rows]
    key = combined_key((file, len(ctx.lines.files)), (source_row, int(source_row.max(initial=0)) + 1),
                       (rank[which] if codes else which, len(codes)))
    order = argsort_keys(key) if key is not None else np.lexsort((rank[which], source_row, file))
    rows, which, within = rows[order], which[order], within[order]
    schema = _exceptions_schema(ctx)

    def pieces() -> Iterator[pa.RecordBatch]:
        for start in range(0, rows.size, EXCEPTIONS_BATCH):
            piece = slice(start, start + EXCEPTIONS_BATCH)
            yield _exception_rows(ctx, outcome, rows[piece], which[piece], within[piece], schema)

    return ExceptionsFile(schema, pieces, int(rows.size))


def _messages(findings: list, which: np.ndarray, within: np.ndarray) -> pa.Array:
    """The messages of a slice of findings, rendered rule by rule and put back in the slice's order."""
    by_rule = np.argsort(which, kind="stable")
    present, starts = np.unique(which[by_rule], return_index=True)
    bounds = [*starts.tolist(), which.size]
    parts = [
        findings[int(k)].messages(within[by_rule[bounds[i]:bounds[i + 1]]]).cast(pa.string())
        for i, k in enumerate(present.tolist())
    ]
    if not parts:
        return pa.array([], pa.string())
    back = np.empty(which.size, dtype=np.int64)
    back[by_rule] = np.arange(which.size)
    return pa.concat_arrays(parts).take(pa.array(back))


def _exceptions_schema(ctx: Context) -> pa.Schema:
    """The exceptions file's columns and their types (what an empty night writes too)."""
    empty = _exception_rows(ctx, None, np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int64), None)
    return empty.schema


def _exception_rows(ctx: Context, outcome: Outcome | None, rows: np.ndarray, which: np.ndarray,
                    within: np.ndarray, schema: pa.Schema | None) -> pa.RecordBatch:
    """The exceptions file's rows for findings `which` (at `within` among their rule's) on lines `rows`."""
    lines = ctx.lines
    findings = outcome.findings if outcome is not None else []
    rules = [f.rule for f in findings]
    disposition = outcome.disposition[rows] if outcome is not None else np.empty(0, np.int8)
    billable = outcome.billable[rows] if outcome is not None else np.empty(0, np.int32)
    allowed_charge = outcome.charge_allowed[rows] if outcome is not None else np.empty(0, np.float64)

    def per_rule(values: list[str]) -> pa.Array:
        return pa.array(values, pa.string()).take(pa.array(which)) if rules else pa.array([], pa.string())

    parsed_day = ctx.column("service_day")[rows]
    days, day_of = np.unique(np.where(parsed_day == MISSING, 0, parsed_day), return_inverse=True)
    service_date = pc.if_else(
        pa.array(parsed_day != MISSING),
        pa.array(iso_date(days)).take(pa.array(day_of)),
        _text(lines, "service_date", rows),
    )
    known_units = ctx.column("parsed")[rows] & ((ctx.units.unit_minutes[rows] >= 0) | ~np.isnan(
        ctx.column("units_export")[rows]))
    charge = ctx.column("charge_amount")[rows]
    services = pa.array([s.key for s in ctx.profile.services] + [None], pa.string())
    service_index = ctx.services.service_index[rows]
    columns = {
        "claim_id": _text(lines, "claim_id", rows),
        "source_file": pa.array(lines.files, pa.string()).take(pa.array(ctx.column("file")[rows])),
        "source_row": pa.array(ctx.column("source_row")[rows]),
        "rule": per_rule([r.code for r in rules]),
        "rule_name": per_rule([r.name for r in rules]),
        "severity": per_rule([r.severity_in(ctx.profile) for r in rules]),
        "disposition": disposition_text(disposition),
        "message": _messages(findings, which, within),
        "member_id": _text(lines, "member_id", rows),
        "service_date": service_date,
        "hcpcs": _text(lines, "hcpcs", rows),
        "modifiers": pa.array(ctx.services.combo_modifiers, pa.string()).take(pa.array(ctx.services.combo[rows])),
        "staff_id": _text(lines, "staff_id", rows),
        "units_billed": pa.array(ctx.units.billed[rows], mask=~known_units),
        "units_allowed": pa.array(billable),
        "charge": pa.array(charge, mask=np.isnan(charge)),
        "charge_allowed": pa.array(allowed_charge, mask=np.isnan(allowed_charge)),
        "charge_held": pa.array(np.round(charge - allowed_charge, 2), mask=np.isnan(charge)),
        "service": services.take(pa.array(np.where(service_index < 0, len(services) - 1, service_index))),
        "program": _text(lines, "program", rows),
        "rule_family": per_rule([r.family for r in rules]),
    }
    if schema is None:
        return pa.RecordBatch.from_pydict(columns)
    return pa.RecordBatch.from_arrays([columns[f.name].cast(f.type) for f in schema], schema=schema)
