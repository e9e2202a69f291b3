"""`cmclaims report ...`: finance's reconciliation, open exceptions, period view and write-offs.

`cmclaims report RUN` is short for `cmclaims report run RUN`: the group passes
anything that is not one of its commands on to `run`.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from typer.core import TyperGroup

from cmclaims.cli import app
from cmclaims.cli.console import stderr, stdout
from cmclaims.errors import ConfigError

# pandas, pyarrow and openpyxl are imported inside the commands: `cmclaims --help` stays fast.


class _RunByDefault(TyperGroup):
    """A group whose first argument, when it is not a command, names the run to reconcile."""

    # ctx is the Context of the click that typer vendors; left unannotated rather than import its internals.
    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


report_app = typer.Typer(
    cls=_RunByDefault,
    no_args_is_help=True,
    help="Finance's reports. `cmclaims report RUN` reconciles a run (short for `report run RUN`; exit 1 when it "
    "does not add up); `report open` lists open exceptions by age; `report period` shows months; "
    "`report writeoff` closes a claim. docs/finance.md walks through them.\n\n\b\nExamples:\n"
    "  cmclaims report tonight\n  cmclaims report open --out open.xlsx\n",
)
app.add_typer(report_app, name="report")

FORMAT_HELP = ("terminal (rich tables, the default), json (one document), csv (a folder: one UTF-8 file per "
               "table), xlsx (a workbook: one sheet per table), html (one self-contained page with charts); "
               "default: what --out's name says (.xlsx, .html, .json, a folder for csv)")
LedgerOption = Annotated[Path | None, typer.Option("--ledger", help="ledger file (default: $CMCLAIMS_LEDGER or "
                                                                      "./cmclaims-ledger.sqlite3)")]
FormatOption = Annotated[str | None, typer.Option("--format", help=FORMAT_HELP, metavar="FORMAT")]
OutOption = Annotated[Path | None, typer.Option("--out", help="where the file goes: FILE.xlsx, FILE.html, "
                                                              "FILE.json, or a FOLDER for csv (owner-only files)")]
JsonOption = Annotated[bool, typer.Option("--json", help="same as --format json (to stdout without --out)")]
TopOption = Annotated[int, typer.Option("--top", min=1, help="rows per table at the terminal and in HTML "
                                                              "(files and JSON keep every row)")]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="only this payer profile's runs")]


def _check_profile(profile: str | None) -> None:
    """A misspelt --profile would silently report nothing: refuse it (exit 2)."""
    from cmclaims.tables import profile_names

    if profile is not None and profile not in profile_names():
        raise ConfigError(f"unknown profile '{profile}'", hint=f"one of: {', '.join(profile_names())}")


def _emit(report, fmt: str, out: Path | None, top: int) -> None:
    """Show or write the report in its format; a run's verdict is always said on the terminal."""
    from cmclaims.report.json_doc import report_json
    from cmclaims.report.output import check_content, write_report
    from cmclaims.report.terminal import render_terminal

    check_content(report, fmt)
    if fmt == "terminal":
        render_terminal(report, stdout, top)
        return
    if fmt == "json" and out is None:
        sys.stdout.write(report_json(report))
        console = stderr  # stdout carries exactly one JSON document
    else:
        assert out is not None
        written = write_report(report, fmt, out, top)
        console = stdout
        where = str(written[0]) if len(written) == 1 else f"{len(written)} files in {out}"
        console.print(f"wrote {fmt.upper()} report: {where} (readable by you only)")
    if report.verdict is not None:
        style = "bold green" if report.verdict.ok else "bold red"
        console.print(f"[{style}]{escape(report.verdict.line)}[/{style}]", markup=True, highlight=False,
                      soft_wrap=True)  # one line, whatever its length: cron mail's `tail -1` shows it


@report_app.command("run")
def run_command(
    run_dir_or_run_id: Annotated[str, typer.Argument(help="a run's output folder, a run id from the ledger, or "
                                                          "`latest` (the ledger's last run)")],
    ledger: LedgerOption = None,
    output_format: FormatOption = None,
    out: OutOption = None,
    as_json: JsonOption = False,
    top: TopOption = 20,
) -> None:
    """Reconcile a run: lines, units and dollars in = clean + rejected; findings by rule, staff, program, service.

    The lines are counted again from the clean and exceptions files and compared with summary.json and the
    ledger's record of the run. Exit 0 when everything adds up, 1 when it does not (a red line says what
    fails: a tampered or half-copied folder fails), 2 for a usage error.

    \b
    Examples:
      cmclaims report tonight
      cmclaims report run latest --out tonight.xlsx
    """
    from cmclaims.report.output import choose_format
    from cmclaims.report.run_view import build_run_report, load_run

    fmt = choose_format(output_format, out, as_json)
    report = build_run_report(load_run(run_dir_or_run_id, ledger))
    _emit(report, fmt, out, top)
    raise typer.Exit(report.exit_code)


@report_app.command("open")
def open_command(
    as_of: Annotated[str | None, typer.Option("--as-of", help="the day to report on, YYYY-MM-DD (month-end); "
                                                                "default today", metavar="DATE")] = None,
    detail: Annotated[bool, typer.Option("--detail", help="add the list of open claims with member ids, to work "
                                                          "them (not in HTML)")] = False,
    include_adjusted: Annotated[bool, typer.Option("--include-adjusted", help="count lines billed for fewer units "
                                                                              "as open too")] = False,
    profile: ProfileOption = None,
    ledger: LedgerOption = None,
    output_format: FormatOption = None,
    out: OutOption = None,
    as_json: JsonOption = False,
    top: TopOption = 20,
) -> None:
    """Open exceptions and their age from the date of service (0-30 ... over 180 days), dollars by rule and staff.

    An exception is open until its claim passes in a later run or is written off (`report writeoff`).

    \b
    Example:
      cmclaims report open --as-of 2026-03-31 --out open.xlsx
    """
    from cmclaims.report.dates import parse_day
    from cmclaims.report.ledger_source import open_ledger
    from cmclaims.report.open_items import load_open_items
    from cmclaims.report.open_view import build_open_report
    from cmclaims.report.output import choose_format

    fmt = choose_format(output_format, out, as_json)
    _check_profile(profile)
    day = parse_day(as_of, "--as-of") or dt.date.today()
    store = open_ledger(ledger, required=True)
    assert store is not None
    items = load_open_items(store, day, include_adjusted=include_adjusted, profile=profile)
    report = build_open_report(items, detail=detail, ledger=str(store.path), include_adjusted=include_adjusted)
    _emit(report, fmt, out, top)
    raise typer.Exit(0)


@report_app.command("period")
def period_command(
    start: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD (default: 12 months back)",
                                              metavar="DATE")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD (default today)",
                                            metavar="DATE")] = None,
    profile: ProfileOption = None,
    ledger: LedgerOption = None,
    output_format: FormatOption = None,
    out: OutOption = None,
    as_json: JsonOption = False,
    top: TopOption = 20,
) -> None:
    """Runs, lines, units and dollars billed and held per month; first-pass clean rate, top rules, trend.

    Includes what is open at the end of the period, by age and rule.

    \b
    Example:
      cmclaims report period --from 2026-01-01 --to 2026-06-30 --out h1.html
    """
    from cmclaims.report.dates import parse_day
    from cmclaims.report.ledger_source import open_ledger
    from cmclaims.report.output import choose_format
    from cmclaims.report.period import build_period_report, default_start

    fmt = choose_format(output_format, out, as_json)
    _check_profile(profile)
    last = parse_day(end, "--to") or dt.date.today()
    first = parse_day(start, "--from") or default_start(last)
    store = open_ledger(ledger, required=True)
    assert store is not None
    report = build_period_report(store, first, last, profile=profile)
    _emit(report, fmt, out, top)
    raise typer.Exit(0)


@report_app.command("remit")
def remit_command(
    start: Annotated[str | None, typer.Option("--from", help="first date of service, YYYY-MM-DD (default: the "
                                                             "first remitted)", metavar="DATE")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last date of service, YYYY-MM-DD (default: the last "
                                                         "remitted)", metavar="DATE")] = None,
    carc_descriptions: Annotated[Path | None, typer.Option(
        "--carc-descriptions", help="CSV of code,description for the adjustment reason codes (X12 licenses the "
                                    "texts; cmclaims ships the codes)", metavar="FILE")] = None,
    ledger: LedgerOption = None,
    output_format: FormatOption = None,
    out: OutOption = None,
    as_json: JsonOption = False,
    top: TopOption = 20,
) -> None:
    """What the payer did with what cmclaims passed: paid vs billed, denials by CARC, the edits cmclaims misses.

    Reads the remittances `cmclaims remit` recorded. By month of service and service: billed, paid, patient
    responsibility; adjustments by CARC group and code; the passed lines the payer denied, by CARC and service;
    lines held back, corrected and paid; the share of passed lines paid in full; lines matching nothing.

    Example: cmclaims report remit --from 2026-10-01 --to 2026-10-31 --out remit-2026-10.html
    """
    from cmclaims.report.dates import parse_day
    from cmclaims.report.ledger_source import open_ledger
    from cmclaims.report.output import choose_format
    from cmclaims.report.remit_view import build_remit_report, read_descriptions

    fmt = choose_format(output_format, out, as_json)
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    descriptions = read_descriptions(carc_descriptions)
    store = open_ledger(ledger, required=True)
    assert store is not None
    report = build_remit_report(store, first, last, descriptions)
    _emit(report, fmt, out, top)
    raise typer.Exit(0)


@report_app.command("writeoff")
def writeoff_command(
    claim_ids: Annotated[list[str] | None, typer.Argument(help="claim ids with open exceptions")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="why finance will not bill it (kept in the "
                                                                "ledger); with --file, for rows without one")] = None,
    from_file: Annotated[Path | None, typer.Option("--file", help="CSV of claim_id,reason: many claims at once",
                                                   metavar="FILE")] = None,
    undo: Annotated[bool, typer.Option("--undo", help="take the write-offs of these claims back: they are open "
                                                      "again")] = False,
    ledger: LedgerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as one JSON document")] = False,
) -> None:
    """Write off open exceptions (or take write-offs back with --undo): all of them or none.

    \b
    Examples:
      cmclaims report writeoff C000000722 --reason "past timely filing"
      cmclaims report writeoff --file writeoffs.csv    (columns claim_id,reason)
      cmclaims report writeoff C000000722 --undo
    """
    import json

    from cmclaims.ledger import ledger_path
    from cmclaims.ledger.lock import LedgerLock
    from cmclaims.ledger.store import SqliteLedger
    from cmclaims.report.writeoff import claims_from_file, undo_write_offs, write_off_claims

    named = [(claim, reason or "") for claim in claim_ids or []]
    if from_file is not None:
        named += claims_from_file(from_file, reason if not undo else "-")
    if not named:
        raise ConfigError("name the claims: claim ids, or --file FILE (claim_id,reason)")
    if not undo and any(not text.strip() for _, text in named):
        raise ConfigError("--reason must say why the claim is written off")
    path = ledger_path(ledger)
    with LedgerLock(path):  # exit 73 when there is no ledger; 75 while a nightly run writes (retry later)
        store = SqliteLedger(path)
        try:
            if undo:
                result = undo_write_offs(store, [claim for claim, _ in named])
            else:
                result = write_off_claims(store, named, dt.date.today())
        finally:
            store.close()
    if as_json:
        print(json.dumps(result, indent=2))
    elif undo:
        stdout.print(f"took back {len(result['undone'])} write-off(s); open again: {', '.join(result['undone'])}")
    else:
        stdout.print(f"wrote off {len(result['written_off'])} claim(s), ${result['dollars_held']:,.2f} held: "
                     f"{', '.join(result['written_off'])}")
    raise typer.Exit(0)
