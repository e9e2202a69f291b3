"""The clean file and the exceptions file (SPEC section 3), as Arrow tables.

clean: every line not rejected, with all its input columns as they came in,
plus billable_minutes, billable_units, disposition and billable_charge.
exceptions: one row per finding, self-contained for finance.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.io.batch import Batch
from cmclaims.normalize.lines import MISSING, Lines
from cmclaims.pipeline.checks import REJECTED, Outcome
from cmclaims.rules.context import Context
from cmclaims.rules.words import iso_date

ADDED_COLUMNS = ("billable_minutes", "billable_units", "disposition", "billable_charge")

EXCEPTION_COLUMNS = (
    "claim_id", "source_file", "source_row", "rule", "rule_name", "severity", "disposition", "message",
    "member_id", "service_date", "hcpcs", "modifiers", "staff_id", "units_billed", "units_allowed", "charge",
    "charge_allowed", "charge_held", "service", "program", "rule_family",
)  # fmt: skip


def billable_charge(ctx: Context, outcome: Outcome) -> np.ndarray:
    """The charge a line bills after its units changed: pro rata to the units (cents), NaN without a charge."""
    charge = ctx.column("charge_amount")
    billed = ctx.units.billed.astype(np.float64)
    ratio = np.divide(outcome.billable, billed, out=np.ones_like(billed), where=billed > 0)
    allowed = np.round(charge * np.where(outcome.billable == ctx.units.billed, 1.0, ratio), 2)
    return np.where(outcome.disposition == REJECTED, 0.0, allowed)


def _canonical_names(batch: Batch) -> dict[str, str]:
    """One output header per canonical column: the first file's own header for it."""
    names: dict[str, str] = {}
    for source in batch.files:
        for canonical, header in source.columns.items():
            names.setdefault(canonical, header)
    return names


def _input_columns(batch: Batch) -> tuple[list[str], list[pa.Table]]:
    """Each file's table renamed to shared headers, and the union of headers in first-seen order."""
    shared = _canonical_names(batch)
    tables, order = [], []
    for source in batch.files:
        rename = {header: shared[canonical] for canonical, header in source.columns.items()}
        names = [rename.get(name, name) for name in source.table.column_names]
        names = [f"{name}_input" if name in ADDED_COLUMNS else name for name in names]
        tables.append(source.table.rename_columns(names))
        order.extend(name for name in names if name not in order)
    return order, tables


def clean_table(ctx: Context, batch: Batch, outcome: Outcome) -> pa.Table:
    order, tables = _input_columns(batch)
    keep = outcome.disposition[: batch.parsed_count] != REJECTED
    types: dict[str, pa.DataType] = {}
    for table in tables:
        for field in table.schema:
            if types.setdefault(field.name, field.type) != field.type:
                types[field.name] = pa.string()  # the files disagree: carry the column as text
    pieces, start = [], 0
    for table in tables:
        rows = np.flatnonzero(keep[start : start + table.num_rows])
        start += table.num_rows
        piece = table.take(pa.array(rows))
        columns = [
            piece.column(name).cast(types[name]) if name in piece.column_names else pa.nulls(len(rows), types[name])
            for name in order
        ]
        pieces.append(pa.table(columns, names=order))
    clean = pa.concat_tables(pieces) if pieces else pa.table({name: pa.array([], pa.string()) for name in order})
    kept = np.flatnonzero(np.concatenate([keep, np.zeros(ctx.lines.size - batch.parsed_count, dtype=bool)]))
    clean = clean.append_column("billable_minutes", pa.array(ctx.units.minutes[kept]))
    clean = clean.append_column("billable_units", pa.array(outcome.billable[kept]))
    clean = clean.append_column("disposition", pa.array(outcome.disposition[kept].astype(str)))
    if "charge" in ctx.lines.present:
        charge = billable_charge(ctx, outcome)[kept]
        clean = clean.append_column("billable_charge", pa.array(charge, mask=np.isnan(charge)))
    return clean


def _text(lines: Lines, column: str, rows: np.ndarray) -> pa.Array:
    return lines.text[column].text(rows)


def exceptions_table(ctx: Context, outcome: Outcome) -> pa.Table:
    """One row per finding, sorted by file, row and rule."""
    lines = ctx.lines
    if outcome.findings:
        rows = np.concatenate([f.rows for f in outcome.findings])
        codes = np.concatenate([np.full(f.rows.size, i) for i, f in enumerate(outcome.findings)])
        messages = pa.concat_arrays([f.messages for f in outcome.findings])
    else:
        rows, codes, messages = np.empty(0, np.int64), np.empty(0, np.int64), pa.array([], pa.string())
    rules = [f.rule for f in outcome.findings]
    rule_codes = np.array([r.code for r in rules], dtype=object)[codes] if rules else np.empty(0, object)
    order = np.lexsort((rule_codes.astype(str), ctx.column("source_row")[rows], ctx.column("file")[rows]))
    rows, codes, messages = rows[order], codes[order], messages.take(pa.array(order))

    def per_rule(values: list) -> pa.Array:
        return pa.array(np.array(values, dtype=object)[codes].tolist() if rules else [], pa.string())

    parsed_day = ctx.column("service_day")[rows]
    service_date = pc.if_else(
        pa.array(parsed_day != MISSING),
        pa.array(iso_date(np.where(parsed_day == MISSING, 0, parsed_day))),
        _text(lines, "service_date", rows),
    )
    known_units = ctx.column("parsed")[rows] & ((ctx.units.unit_minutes[rows] >= 0) | ~np.isnan(
        ctx.column("units_export")[rows]))
    charge = ctx.column("charge_amount")[rows]
    allowed_charge = billable_charge(ctx, outcome)[rows]
    services = [s.key for s in ctx.profile.services] + [""]
    files = np.array(lines.files, dtype=object)
    columns = {
        "claim_id": _text(lines, "claim_id", rows),
        "source_file": pa.array(files[ctx.column("file")[rows]].tolist(), pa.string()),
        "source_row": pa.array(ctx.column("source_row")[rows]),
        "rule": per_rule([r.code for r in rules]),
        "rule_name": per_rule([r.name for r in rules]),
        "severity": per_rule([r.severity for r in rules]),
        "disposition": pa.array(outcome.disposition[rows].astype(str)),
        "message": messages,
        "member_id": _text(lines, "member_id", rows),
        "service_date": service_date,
        "hcpcs": _text(lines, "hcpcs", rows),
        "modifiers": pa.array(ctx.services.modifiers(rows).tolist(), pa.string()),
        "staff_id": _text(lines, "staff_id", rows),
        "units_billed": pa.array(ctx.units.billed[rows], mask=~known_units),
        "units_allowed": pa.array(outcome.billable[rows]),
        "charge": pa.array(charge, mask=np.isnan(charge)),
        "charge_allowed": pa.array(allowed_charge, mask=np.isnan(allowed_charge)),
        "charge_held": pa.array(np.round(charge - allowed_charge, 2), mask=np.isnan(charge)),
        "service": pa.array(np.array(services, dtype=object)[ctx.services.service_index[rows]].tolist(), pa.string()),
        "program": _text(lines, "program", rows),
        "rule_family": per_rule([r.family for r in rules]),
    }
    return pa.table(columns)
