"""What one validate run adds to the ledger: its accepted lines, the originals it retires, its record.

It reads the run's outcome and the limits' authorizations, so it sits in the
pipeline, above the ledger it writes to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.blocks import DICTIONARY_COLUMNS
from cmclaims.ledger.store import LINE_SCHEMA
from cmclaims.ledger.view import LedgerView
from cmclaims.normalize.values import MISSING, month_of
from cmclaims.pipeline.checks import REJECTED, Outcome
from cmclaims.rules.context import Context
from cmclaims.rules.limits import limit_report
from cmclaims.schema.columns import ORIGINAL, REPLACEMENT, VOID


def _text(ctx: Context, column: str, rows: np.ndarray) -> pa.Array:
    return ctx.lines.text[column].text(rows)


def _coded(ctx: Context, column: str, rows: np.ndarray) -> pa.Array:
    """A repeating text column of `rows` as a dictionary array over the batch's distinct values.

    The batch already holds each such column as codes into its distinct values
    (`Factorized`): taking the codes costs one integer per line, where the text
    would cost a string per line here and a hash per line again when Parquet
    dictionary-encodes it. Nulls where a line has no value.
    """
    factorized = ctx.lines.text[column]
    codes = factorized.codes[rows].astype(np.int32)
    values = factorized.values if factorized.values.type == pa.string() else factorized.values.cast(pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), values)


def ledger_lines(ctx: Context, outcome: Outcome, *, encoded: bool = False) -> pa.Table:
    """The run's accepted lines as the ledger keeps them (voids with 0 units: they bill none).

    The lines come grouped by service month (blocks.py keeps one block per month), each month's in batch
    order. `encoded` keeps the repeating texts (blocks.DICTIONARY_COLUMNS) dictionary-encoded over the batch's
    distinct values (the types of LINE_SCHEMA otherwise): the local engine's run hands them so to
    `prepare_run`, which writes them as they are. A Dask run joins partitions whose dictionaries differ,
    and takes the plain columns.
    """
    text = _coded if encoded else _text
    rows = np.flatnonzero(outcome.disposition != REJECTED)
    # Grouped by service month, in batch order within each: the ledger keeps a block per month, and
    # `prepare_run` cuts each out as a slice rather than copying it (the blocks are the same).
    rows = rows[np.argsort(month_of(ctx.column("service_day")[rows]), kind="stable")]
    claims = _text(ctx, "claim_id", rows)
    members = text(ctx, "member_id", rows)
    services = pa.array([s.key for s in ctx.profile.services] + [None], pa.string())
    service_index = ctx.services.service_index[rows]
    service_at = np.where(service_index < 0, len(services) - 1, service_index).astype(np.int32)
    is_void = ctx.lines.text["claim_frequency"].has(VOID)[rows]
    # Only units billed against an authorization file need the limit pass here (the rules released theirs:
    # asking for it runs the whole pass again); without the file no line was.
    report = limit_report(ctx) if ctx.profile.annual_caps and ctx.side.authorizations is not None else None
    auth_units = np.zeros(rows.size, dtype=np.int32)
    authorization = text(ctx, "authorization_id", rows)
    if report is not None and ctx.side.authorizations is not None:
        # Units beyond an annual cap were billed against an authorization: record which one.
        billed_against = report.outcome.authorization[rows]
        auth_units = report.outcome.authorized_units[rows].astype(np.int32)
        ids = pa.array(ctx.side.authorizations.frame["authorization_id"], pa.string())
        named = ids.take(pa.array(np.maximum(billed_against, 0))) if len(ids) else authorization.cast(pa.string())
        authorization = pc.if_else(pa.array(billed_against >= 0), named, authorization.cast(pa.string()))
    charge = outcome.charge_allowed[rows]
    start = ctx.column("start_minute")[rows]
    start = np.where((start == MISSING) | (start < 0), MISSING, np.mod(start, 1440))
    frequency = _text(ctx, "claim_frequency", rows)
    frequency = pc.fill_null(frequency, ORIGINAL)
    table = pa.table(
        {
            "claim_id": claims,
            "member_id": members,
            "service": pa.DictionaryArray.from_arrays(pa.array(service_at, mask=service_index < 0),
                                                      services.slice(0, len(services) - 1)) if encoded else
            services.take(pa.array(service_at)),
            "hcpcs": text(ctx, "hcpcs", rows),
            "service_day": pa.array(ctx.column("service_day")[rows], pa.int32()),
            "units": pa.array(np.where(is_void, 0, outcome.billable[rows]), pa.int32()),
            "charge": pa.array(charge, pa.float64(), mask=np.isnan(charge)),
            "authorization_id": authorization,
            "auth_units": pa.array(auth_units, pa.int32()),
            "frequency": frequency.dictionary_encode() if encoded else frequency,
            "original_claim_id": _text(ctx, "original_claim_id", rows),
            "staff_id": text(ctx, "staff_id", rows),
            "program": text(ctx, "program", rows),
            # what the requirements over time read (cmclaims/compliance/): when, how and where
            "start_minute": pa.array(start, pa.int16(), mask=start == MISSING),
            "contact_type": text(ctx, "contact_type", rows),
            "place_of_service": text(ctx, "place_of_service", rows),
            "member_present": text(ctx, "member_present", rows),
            "activity": text(ctx, "activity", rows),
        }
    )
    if not encoded:
        return table.cast(LINE_SCHEMA)
    return table.cast(pa.schema([field.with_type(pa.dictionary(pa.int32(), field.type))
                                 if field.name in DICTIONARY_COLUMNS else field for field in LINE_SCHEMA]))


def retirements(ctx: Context, outcome: Outcome, view: LedgerView) -> pd.DataFrame:
    """Originals the run's accepted voids and replacements take out of the ledger's usage."""
    frequency = ctx.lines.text["claim_frequency"]
    rows = np.flatnonzero((outcome.disposition != REJECTED) & frequency.isin([VOID, REPLACEMENT]))
    originals = np.asarray(_text(ctx, "original_claim_id", rows).to_pylist(), dtype=object)
    named = np.array([o is not None for o in originals], dtype=bool)
    rows, originals = rows[named], originals[named]
    how = np.where(frequency.codes[rows] == frequency.code_of(VOID), "void", "replace")
    # An original is a billed line of an earlier run, or a line of this very batch.
    where = view.original_position(pa.array(originals.tolist(), pa.string()))
    in_ledger = where >= 0
    original_run = np.full(rows.size, view.run_id, dtype=object)
    day = np.zeros(rows.size, dtype=np.int64)
    found = pa.array(where[in_ledger])
    original_run[in_ledger] = view.claims.column("run_id").take(found).to_numpy(zero_copy_only=False)
    day[in_ledger] = view.claims.column("service_day").take(found).to_numpy()
    claims = ctx.lines.text["claim_id"]
    batch_line = _batch_line(ctx, claims.codes_of(originals.tolist()), outcome)
    in_batch = ~in_ledger & (batch_line >= 0)
    day[in_batch] = ctx.column("service_day")[batch_line[in_batch]]
    keep = in_ledger | in_batch
    return pd.DataFrame(
        {
            "claim_id": originals[keep],
            "month": month_of(day[keep]),
            "original_run": original_run[keep],
            "how": how[keep],
        }
    ).drop_duplicates("claim_id")


def _batch_line(ctx: Context, claim_codes: np.ndarray, outcome: Outcome) -> np.ndarray:
    """The accepted batch line carrying each claim code, -1 when none does."""
    accepted = np.flatnonzero(outcome.disposition != REJECTED)
    by_code = pd.Series(accepted, index=ctx.column("claim_key")[accepted])
    by_code = by_code[~by_code.index.duplicated()]
    return by_code.reindex(claim_codes).fillna(-1).to_numpy(dtype=np.int64)


def run_record(summary: dict, kind: str, out_dir: str | None, lines: pa.Table) -> dict:
    """The runs-table row of a finished run, from its summary."""
    counts, units, dollars = summary["counts"], summary["units"], summary["dollars"]
    return {
        "run_id": summary["run_id"],
        "kind": kind,
        "status": "committed",
        "profile": summary["profile"]["name"],
        "code_table_version": summary["code_table_version"],
        "started_at": summary["started_at"],
        "finished_at": summary["finished_at"],
        "executions": 0,
        "inputs": [{"file": i["file"], "sha256": i["sha256"], "lines": i["lines"]} for i in summary["inputs"]],
        "options": summary["options"],
        "out_dir": out_dir,
        "lines_in": counts["lines_in"],
        "lines_clean": counts["lines_clean"],
        "lines_rejected": counts["lines_rejected"],
        "lines_adjusted": counts["lines_adjusted"],
        "lines_warned": counts["lines_warned"],
        "units_in": units["units_in"],
        "units_billable": units["units_billable"],
        "charge_in": dollars["charge_in"],
        "charge_clean": dollars["charge_clean"],
        "charge_rejected": dollars["charge_rejected"],
        "charge_billable": dollars["charge_billable"],
        "lines_ledgered": lines.num_rows,
        "units_ledgered": int(pc.sum(lines.column("units")).as_py() or 0),
    }
