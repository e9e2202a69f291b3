"""`cmclaims ledger ...`: the ledger's history, a member's usage, rollback, import, check and compact."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cmclaims.cli import app
from cmclaims.cli.console import stdout
from cmclaims.ledger import ledger_path
from cmclaims.ledger.lock import LedgerLock

# The store and its commands import numpy, pandas and pyarrow: loaded when a command runs.

ledger_app = typer.Typer(help="""The ledger of earlier runs: init, history, usage, rollback, import, check, compact.

    \b
    Examples:
      cmclaims ledger init --ledger /srv/billing/cmclaims-ledger.sqlite3
      cmclaims ledger runs
      cmclaims ledger check --ledger /srv/billing/cmclaims-ledger.sqlite3
    """, no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")

LedgerOption = Annotated[Path | None, typer.Option("--ledger", help="ledger file (default: $CMCLAIMS_LEDGER or "
                                                                      "./cmclaims-ledger.sqlite3)")]
JsonOption = Annotated[bool, typer.Option("--json", help="print as one JSON document")]


def _print_json(document: object) -> None:
    print(json.dumps(document, indent=2, default=str))


@ledger_app.command("init")
def init_command(ledger: LedgerOption = None, as_json: JsonOption = False) -> None:
    """Create a new, empty ledger (validate never creates one).

    Run it once, on the first night, where the nightly job will find the
    ledger. It refuses a path where any file already is (exit 2).

    \b
    Example:
      cmclaims ledger init --ledger /srv/billing/cmclaims-ledger.sqlite3
    """
    from cmclaims.ledger.store import SqliteLedger

    path = ledger_path(ledger)
    store = SqliteLedger.create(path)
    identity = store.identity()
    store.close()
    if as_json:
        _print_json({"ledger": str(path), **identity})
    else:
        stdout.print(f"created ledger {path} (id {identity['ledger_id']}, schema {identity['schema_version']}); "
                     "back it up with the billing files")
    raise typer.Exit(0)


@ledger_app.command("runs")
def runs_command(ledger: LedgerOption = None, as_json: JsonOption = False) -> None:
    """Every run the ledger knows, oldest first, with its counts.

    \b
    Example:
      cmclaims ledger runs --ledger /srv/billing/cmclaims-ledger.sqlite3
    """
    from cmclaims.ledger.store import SqliteLedger

    store = SqliteLedger(ledger_path(ledger), read_only=True)
    try:
        runs = store.runs()
    finally:
        store.close()  # as every command that reads it: `ledger compact` needs the ledger to itself
    if as_json:
        _print_json(runs)
        raise typer.Exit(0)
    table = Table(show_edge=False, pad_edge=False)
    for heading in ("run", "kind", "status", "profile", "finished", "runs", "lines", "clean", "rejected",
                    "adjusted", "units billed", "dollars billed"):
        table.add_column(heading, justify="left" if heading in ("run", "kind", "status", "profile") else "right")
    for run in runs:
        table.add_row(run["run_id"], run["kind"], run["status"], run["profile"], run["finished_at"][:16],
                      str(run["executions"]), f"{run['lines_in']:,}", f"{run['lines_clean']:,}",
                      f"{run['lines_rejected']:,}", f"{run['lines_adjusted']:,}", f"{run['units_ledgered']:,}",
                      f"${run['charge_billable']:,.2f}")
    stdout.print(table if runs else "the ledger has no runs yet")
    raise typer.Exit(0)


@ledger_app.command("usage")
def usage_command(
    member: Annotated[str, typer.Option("--member", help="the member id (printed only because you ask)")],
    year: Annotated[int | None, typer.Option("--year", help="one calendar year")] = None,
    ledger: LedgerOption = None,
    as_json: JsonOption = False,
) -> None:
    """A member's units by day, month and year against each limit.

    \b
    Example:
      cmclaims ledger usage --member M1001 --year 2026
    """
    from cmclaims.ledger.admin import member_usage
    from cmclaims.ledger.store import SqliteLedger

    store = SqliteLedger(ledger_path(ledger), read_only=True)
    try:
        usage = member_usage(store, member, year)
    finally:
        store.close()
    if as_json:
        _print_json(usage)
        raise typer.Exit(0)
    stdout.print(f"member {member}: {usage['lines']} billed lines" + (f" in {year}" if year else ""))
    for period in ("annual", "monthly", "daily"):
        rows = usage[period]
        assert isinstance(rows, list)
        if not rows:
            continue
        table = Table(title=f"{period} units", show_edge=False, pad_edge=False, title_justify="left")
        for heading in ("profile", "service" if period != "annual" else "cap", "period", "units", "limit", "left"):
            table.add_column(heading, justify="right" if heading in ("units", "limit", "left") else "left")
        for row in rows:
            limit = row["limit"]
            left = "" if not limit else str(limit - row["units"] + row.get("authorized_units", 0))
            table.add_row(row["profile"], row.get("service", row.get("cap", "")), str(row["period"]),
                          str(row["units"]), str(limit or "none"), left)
        stdout.print(table)
    raise typer.Exit(0)


@ledger_app.command("rollback")
def rollback_command(
    run_id: Annotated[str, typer.Argument(help="the run to undo (see `cmclaims ledger runs`)")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    ledger: LedgerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo a run whose clean file was never submitted: its lines stop counting toward limits.

    \b
    Example:
      cmclaims ledger rollback run-1a2b3c4d5e6f
    """
    from cmclaims.ledger.admin import require_run, rollback_run
    from cmclaims.ledger.store import SqliteLedger

    path = ledger_path(ledger)
    with LedgerLock(path):
        store = SqliteLedger(path)
        run = require_run(store, run_id)
        if not yes:
            typer.confirm(
                f"Roll back {run_id} ({run['profile']}, {run['lines_ledgered']} lines, finished "
                f"{run['finished_at'][:16]})? Only do this if its clean file was never submitted",
                abort=True, err=True,
            )
        result = rollback_run(store, run_id)
        store.close()
    if as_json:
        _print_json(result)
    else:
        stdout.print(f"rolled back {run_id}: {result['lines_ledgered']} lines no longer count")
    raise typer.Exit(0)


@ledger_app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="billing history: claim_id, member_id, service_date, hcpcs, "
                                                     "modifiers, units")],
    profile: Annotated[str, typer.Option("--profile", help="the payer the history was billed to")],
    column_map: Annotated[Path | None, typer.Option("--column-map", help="TOML: our column = export header")] = None,
    ledger: LedgerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Seed the ledger from a prior billing history, so that caps hold from the first night.

    \b
    Example:
      cmclaims ledger import history-2025.csv --profile id-optum
    """
    from cmclaims.io.column_map import load_column_map
    from cmclaims.ledger.admin import import_history
    from cmclaims.ledger.store import SqliteLedger

    path = ledger_path(ledger)
    mapping = load_column_map(column_map) if column_map else None
    with LedgerLock(path):
        store = SqliteLedger(path)
        result = import_history(store, files, profile, mapping, dt.date.today())
        store.close()
    if as_json:
        _print_json(result)
    else:
        left_out = result["left_out"]
        assert isinstance(left_out, dict)
        stdout.print(f"imported {result['imported']:,} of {result['rows']:,} rows ({result['units']:,} units) "
                     f"as {result['run_id']}; left out: {left_out}")
        if result["left_out_rows"]:
            stdout.print(f"rows left out (first 50): {result['left_out_rows']}")
    raise typer.Exit(0 if result["imported"] == result["rows"] else 1)


@ledger_app.command("compact")
def compact_command(ledger: LedgerOption = None, as_json: JsonOption = False) -> None:
    """Rewrite the ledger with 64 KiB pages and no unused space, when no night runs and nothing reads it.

    A ledger created by an older cmclaims has SQLite's 4 KiB pages: each night
    then reads and writes its blocks in 16 times more system calls. The ledger is
    checked first (a damaged one: exit 73, nothing changed); a report or dry run
    that has it open makes this exit 75, nothing changed. It rewrites the whole
    file (a 5M-line ledger: seconds) and needs as much free disk again.

    \b
    Example:
      cmclaims ledger compact --ledger /srv/billing/cmclaims-ledger.sqlite3
    """
    from cmclaims.ledger.store import SqliteLedger

    path = ledger_path(ledger)
    with LedgerLock(path):
        store = SqliteLedger(path)
        try:
            result = store.compact()
        finally:
            store.close()
    if as_json:
        _print_json({"ledger": str(path), **result})
    else:
        stdout.print(f"compacted {path}: {result['bytes_before']:,} bytes in {result['page_size_before']:,}-byte pages "
                     f"-> {result['bytes']:,} bytes in {result['page_size']:,}-byte pages")
    raise typer.Exit(0)


@ledger_app.command("check")
def check_command(ledger: LedgerOption = None, as_json: JsonOption = False) -> None:
    """Check the ledger's integrity and invariants; exit 1 when anything is wrong.

    \b
    Example:
      cmclaims ledger check
    """
    from cmclaims.ledger.admin import check_ledger
    from cmclaims.ledger.store import SqliteLedger

    path = ledger_path(ledger)
    store = SqliteLedger(path, read_only=True)  # exit 73 for no ledger, an empty or a foreign file
    try:
        problems = check_ledger(store)
        runs = len(store.runs())
    finally:
        store.close()
    if as_json:
        _print_json({"ledger": str(path), "ok": not problems, "problems": problems})
    elif problems:
        for problem in problems:
            stdout.print(f"[red]problem[/red] {problem}")
    else:
        stdout.print(f"ledger {path} is sound: {runs} runs, counts add up, no member over a limit")
    raise typer.Exit(1 if problems else 0)
