"""`cmclaims remit FILE.835...`: record what the payer paid, adjusted and denied (SPEC section 11).

Exit codes: 0 every line matched a billed line; 1 some lines matched nothing
(they are listed and recorded, never dropped); 65 a file is malformed or
truncated (nothing recorded); 66 a file cannot be read; 73 no ledger, or it
cannot be written; 75 another run holds the ledger.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cmclaims.cli import app
from cmclaims.cli.console import stdout
from cmclaims.errors import EXIT_FINDINGS, EXIT_OK
from cmclaims.ledger import ledger_path
from cmclaims.ledger.lock import LedgerLock

LedgerOption = Annotated[Path | None, typer.Option("--ledger", help="ledger file (default: $CMCLAIMS_LEDGER or "
                                                                      "./cmclaims-ledger.sqlite3)")]


@app.command("remit")
def remit_command(
    files: Annotated[list[Path], typer.Argument(help="X12 835 remittance files from the payer or clearinghouse")],
    ledger: LedgerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as one JSON document")] = False,
) -> None:
    """Record payer remittances (X12 835) in the ledger, matched to the lines cmclaims passed.

    Each service line is matched by its line item control number (REF*6R = claim_id), else by member, date
    of service, code, modifiers and units. Lines that match nothing are listed (exit 1). A malformed or
    truncated file records nothing (exit 65); a file posted before is recorded once.

    Example: cmclaims remit /billing/835/2026-11-28.835 --ledger /billing/cmclaims-ledger.sqlite3
    """
    from cmclaims.ledger.store import SqliteLedger
    from cmclaims.remit.post import post_remittances

    path = ledger_path(ledger)
    # The nightly run and a posting never write at once (exit 75: retry later); no ledger there: exit 73.
    with LedgerLock(path):
        store = SqliteLedger(path)
        try:
            result = post_remittances(store, files)
        finally:
            store.close()
    unmatched = result["unmatched"]
    if as_json:
        document = {**result, "unmatched": json.loads(unmatched.to_json(orient="records"))}
        print(json.dumps(document, indent=2, default=str))
    else:
        _render(result)
    raise typer.Exit(EXIT_FINDINGS if len(unmatched) else EXIT_OK)


def _render(result: dict) -> None:
    table = Table(show_edge=False, pad_edge=False)
    for heading in ("file", "status", "claims", "lines", "billed", "paid", "patient resp.", "by REF*6R",
                    "by service", "unmatched"):
        table.add_column(heading, justify="left" if heading in ("file", "status") else "right")
    for f in result["files"]:
        status = f["status"] if f["status"] == "posted" else f"already posted {f['posted_before']['at'][:10]}"
        table.add_row(escape(Path(f["file"]).name), status, f"{f['claims']:,}", f"{f['lines']:,}",
                      f"${f['charge']:,.2f}", f"${f['paid']:,.2f}", f"${f['patient_responsibility']:,.2f}",
                      f"{f['matched_by_control_number']:,}", f"{f['matched_by_service']:,}", f"{f['unmatched']:,}")
    stdout.print(table)
    unmatched = result["unmatched"]
    if len(unmatched):
        stdout.print(f"\n[bold]{len(unmatched):,} remitted line(s) match no line cmclaims passed[/bold] "
                     "(recorded; `cmclaims report remit` lists them):")
        lines = Table(show_edge=False, pad_edge=False)
        for heading in ("file", "segment", "patient control", "REF*6R", "date", "code", "charge", "paid"):
            lines.add_column(heading)
        for row in unmatched.head(20).itertuples(index=False):
            lines.add_row(escape(str(row.file)), str(row.segment), escape(str(row.patient_control or "")),
                          escape(str(row.line_control or "")), str(row.service_date or ""),
                          escape(f"{row.hcpcs or ''} {row.modifiers or ''}".strip()), f"${row.charge:,.2f}",
                          f"${row.paid:,.2f}")
        stdout.print(lines)
        if len(unmatched) > 20:
            stdout.print(f"... and {len(unmatched) - 20:,} more")
    stdout.print("next: `cmclaims report remit` shows what was paid, what was denied and why")


@app.command("sample-835")
def sample_835_command(
    run_folder: Annotated[Path, typer.Argument(help="a validate output folder (its clean file is what was billed)")],
    out: Annotated[Path, typer.Option("--out", help="835 file to write")],
    seed: Annotated[int, typer.Option("--seed", help="the same seed writes the same remittance")] = 7,
    corrected: Annotated[Path | None, typer.Option(
        "--corrected", help="a later run folder: its lines that an earlier run rejected are paid too")] = None,
) -> None:
    """Play the payer for a demo: write an 835 that pays, partly pays and denies a run's clean lines.

    Most lines are paid; a few are cut by the fee schedule (CO-45), left to the member (PR-1), or denied
    (CO-197 no authorization, CO-16 missing information, CO-18 duplicate); one payment is reversed and paid
    again. Synthetic: for trying `cmclaims remit` and `cmclaims report remit` on the bundled sample.

    Example: cmclaims sample-835 demo-out/ok --out demo-out/ok.835
    """
    from cmclaims.sample.remit import write_sample_835

    written = write_sample_835(run_folder, out, seed, corrected=corrected)
    stdout.print(f"wrote {written['claims']:,} claims, {written['lines']:,} lines, "
                 f"${written['paid']:,.2f} paid to {escape(str(out))}")
    raise typer.Exit(EXIT_OK)
