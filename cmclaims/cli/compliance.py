"""`cmclaims compliance`: the compliance officer's command (SPEC section 10)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from cmclaims.cli import app
from cmclaims.cli.console import stderr, stdout
from cmclaims.errors import ConfigError
from cmclaims.ledger import ledger_path

SHOWN = 20  # findings listed at the terminal; the --out file has them all


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


@app.command("compliance")
def compliance_command(
    profile: Annotated[str, typer.Option("--profile", help="payer profile (see `cmclaims profiles`)")],
    as_of: Annotated[str, typer.Option("--as-of", help="check up to this date (YYYY-MM-DD)")],
    first: Annotated[str | None, typer.Option("--from", help="check from this date (default: a year before "
                                                             "--as-of)")] = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="ledger file (default: $CMCLAIMS_LEDGER or "
                                                                 "./cmclaims-ledger.sqlite3)")] = None,
    stays: Annotated[Path | None, typer.Option("--stays", help="stays: discharges needing follow-up")] = None,
    plans: Annotated[Path | None, typer.Option("--plans", help="signed plans and reviews")] = None,
    staff: Annotated[Path | None, typer.Option("--staff", help="staff credentials: classifications")] = None,
    enrollment: Annotated[Path | None, typer.Option("--enrollment", help="dated enrollment episodes: periods a "
                                                    "member was another program's to serve are not judged")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="FILE.csv or FILE.xlsx: every finding, with member "
                                                           "ids (owner-only file)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document (no member ids)")] = False,
) -> None:
    """Check the requirements over time (CM8xx) against what the ledger says was billed.

    Monthly contacts, follow-ups after discharges, plans signed and reviewed
    on time, staff hours and caseloads: each requirement of the profile not
    met, per member or staff member, with the dates and numbers. Member ids
    go only to the --out file. Exit 0 when every requirement checked is met,
    1 when one is not.

    Example:

        cmclaims compliance --profile pa-performcare --as-of 2026-10-31
        --ledger ledger.sqlite3 --stays stays.csv --plans plans.csv --out findings.xlsx
    """
    as_of_date = _date(as_of, "--as-of")
    assert as_of_date is not None
    if out is not None:
        from cmclaims.compliance.output import check_out_path

        check_out_path(out)
    from cmclaims.compliance.engine import ComplianceRequest, run_compliance
    from cmclaims.compliance.output import summary_document, write_findings

    request = ComplianceRequest(profile=profile, as_of=as_of_date, first=_date(first, "--from"),
                                ledger=ledger_path(ledger), stays=stays, plans=plans, staff=staff,
                                enrollment=enrollment)
    report = run_compliance(request)
    if out is not None:
        write_findings(report, out)
    if as_json:
        print(json.dumps(summary_document(report), indent=2, allow_nan=False, default=str))
    else:
        _render(report, out)
    for file in report.files:
        for problem in file.problems[:20]:
            stderr.print(problem.describe(), markup=False)
    raise typer.Exit(report.exit_code)


def _render(report, out: Path | None) -> None:
    """The requirements, then the first findings, as rich tables; member ids never."""
    from rich.table import Table

    from cmclaims.compliance.calendar import day_text
    from cmclaims.compliance.output import requirements_frame

    window = f"{day_text(report.window.first)} to {day_text(report.window.last)}"
    title = f"Compliance over time: {report.profile.name}, {window} ({report.lines_read:,} ledger lines)"
    table = Table(title=title, title_justify="left")
    for heading in ("rule", "requirement", "status", "checked", "findings", "source"):
        table.add_column(heading, overflow="fold")
    for row in requirements_frame(report).to_dict("records"):
        checked = "" if row["checked"] is None or row["checked"] != row["checked"] else \
            f"{int(row['checked']):,} {row['checked_what']}"
        status = row["status"] + (f" ({row['note']})" if row["note"] else "")
        table.add_row(row["rule"], row["requirement"], status, checked, f"{row['findings']:,}", row["source"])
    stdout.print(table)
    findings = report.findings
    if findings.empty:
        stdout.print("Every requirement checked is met.")
        return
    shown = Table(title=f"First {min(SHOWN, len(findings))} of {len(findings):,} findings", title_justify="left")
    for heading in ("#", "rule", "who", "message"):
        shown.add_column(heading, overflow="fold")
    for number, row in enumerate(findings.head(SHOWN).to_dict("records"), start=1):
        who = f"staff {row['staff_id']}" if row["subject"] == "staff" else "member (see file)"
        shown.add_row(str(number), row["rule"], who, row["message"])
    stdout.print(shown)
    where = f"every finding, with member ids, is in {out}" if out is not None else \
        "member ids are written only to a file: add --out FILE.csv or FILE.xlsx"
    stdout.print(where, markup=False)
