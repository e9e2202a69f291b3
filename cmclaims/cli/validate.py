"""`cmclaims validate`: the clerk's nightly command."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from cmclaims.cli import app
from cmclaims.cli.console import show_progress, stage_progress, stderr, stdout
from cmclaims.cli.help import profile_help
from cmclaims.cli.render import render_summary
from cmclaims.errors import EXIT_FINDINGS, EXIT_OK, ConfigError
from cmclaims.ledger import ledger_path
from cmclaims.ledger.lock import LedgerLock
from cmclaims.pipeline.request import DEFAULT_MAX_INPUT_ERRORS, ValidateRequest, check_request_files


def alarm_line(alarm: dict, lines_in: int, out: str) -> str:
    """The one line stderr carries when the alarm went off (counts and rule codes only: no PHI)."""
    top = alarm["top_rules"][0] if alarm["top_rules"] else None
    mostly = f", mostly {top['rule']} {top['name']}" if top else ""
    return (
        f"{alarm['lines_rejected_by_input_checks']:,} of {lines_in:,} lines ({alarm['share']:.0%}) were rejected "
        f"by input checks{mostly}: more than --max-input-errors {alarm['max_input_errors']:g}, so the export looks "
        f"wrong as a whole (a changed format, a shifted column, the wrong --profile?); nothing was recorded in the "
        f"ledger; see {out}/exceptions"
    )


@app.command("validate")
def validate_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(metavar="INPUT...", help="encounter exports (CSV or Parquet), validated as one batch"),
    ],
    profile: Annotated[str, typer.Option("--profile", metavar="NAME", help=profile_help())],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="folder for clean, exceptions and summary.json")],
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", metavar="FILE", help="ledger of earlier runs (default: $CMCLAIMS_LEDGER or "
                     "./cmclaims-ledger.sqlite3)"),
    ] = None,
    no_ledger: Annotated[bool, typer.Option("--no-ledger", help="validate this batch alone")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="read the ledger but change nothing in it")] = False,
    authorizations: Annotated[
        Path | None, typer.Option("--authorizations", metavar="FILE", help="prior authorizations")
    ] = None,
    stays: Annotated[
        Path | None, typer.Option("--stays", metavar="FILE", help="institutional stays, jail, detention")
    ] = None,
    staff: Annotated[
        Path | None, typer.Option("--staff", metavar="FILE", help="staff credentials and trainings")
    ] = None,
    enrollment: Annotated[Path | None, typer.Option(
        "--enrollment", metavar="FILE",
        help="dated eligibility categories and programs (member_id, enrollment, start_date, end_date)"
    )] = None,
    plans: Annotated[
        Path | None, typer.Option("--plans", metavar="FILE", help="signed plans and reviews (CM801, CM802)")
    ] = None,
    column_map: Annotated[
        Path | None,
        typer.Option("--column-map", metavar="MAP.toml",
                     help="the export's own headers and spellings mapped to ours (`cmclaims map` proposes one)"),
    ] = None,
    over_limit: Annotated[
        str,
        typer.Option("--over-limit", metavar="reject|cutback",
                     help="a line over a limit: reject it whole, or cut it back to the units that remain"),
    ] = "reject",
    output_format: Annotated[
        str | None,
        typer.Option("--format", metavar="csv|parquet", help="format of clean and exceptions (default: the input's)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as one JSON document")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="print nothing but errors")] = False,
    engine: Annotated[str, typer.Option("--engine", help="local (this process) or dask (a cluster)")] = "local",
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="with --engine dask: a scheduler address (tcp://host:8786); default a local cluster"
    )] = None,
    exit_zero: Annotated[
        bool,
        typer.Option("--exit-zero", help="exit 0 even when lines were rejected (never when the night is broken: 65)"),
    ] = False,
    max_input_errors: Annotated[
        float,
        typer.Option(
            "--max-input-errors",
            metavar="FRACTION",
            help="share of lines that may fail the input checks (CM0) before the night is called broken: "
            "exit 65, nothing recorded in the ledger",
        ),
    ] = DEFAULT_MAX_INPUT_ERRORS,
) -> None:
    """Validate encounter exports against a payer profile; write the clean and exceptions files.

    Exit 0: every line passed; 1: some lines were rejected or adjusted; 65: the
    export is unusable as a whole (more than --max-input-errors of its lines
    failed the input checks: nothing recorded in the ledger); 2: a bad option.

    \b
    Example:
      cmclaims validate export.csv --profile ok-soonercare --out tonight \\
          --column-map ehr-map.toml --stays stays.csv --staff staff.csv
    """
    if no_ledger and (ledger is not None or dry_run):
        raise ConfigError("--no-ledger cannot be combined with --ledger or --dry-run")
    request = ValidateRequest(
        inputs=inputs,
        profile=profile,
        out=out,
        authorizations=authorizations,
        stays=stays,
        staff=staff,
        enrollment=enrollment,
        plans=plans,
        column_map=column_map,
        over_limit=over_limit,
        output_format=output_format,
        ledger=None if no_ledger else ledger_path(ledger),
        dry_run=dry_run,
        engine=engine,
        scheduler=scheduler,
        max_input_errors=max_input_errors,
    )
    from cmclaims.engine.inputs import expand_inputs

    request.inputs = expand_inputs(request.inputs)  # a folder of Parquet parts is its files
    check_request_files(request)  # a FIFO or device is refused (66) before the lock is taken
    with ExitStack() as stack:
        if request.ledger_mode == "write":
            # Before the heavy imports: a second run learns in a fraction of a second that it must wait.
            stack.enter_context(LedgerLock(request.ledger))  # type: ignore[arg-type]
            request.ledger_locked = True
        from cmclaims.engine import run
        from cmclaims.io.memory import use_batch_allocators

        use_batch_allocators()
        with stage_progress(("read", "normalise", "rules", "write"), show_progress() and not quiet) as advance:
            result = run(request, on_stage=advance)  # type: ignore[arg-type]
    summary = result.summary
    alarm = summary["input_alarm"]
    if alarm["triggered"]:
        # Even with --quiet: cron mails stderr, and a broken export must not pass for a normal night.
        print(f"cmclaims: error: {alarm_line(alarm, summary['counts']['lines_in'], str(out))}", file=sys.stderr)
    renamed = summary.get("column_map", {}).get("headers_not_in_export", [])
    if renamed:
        # Even with --quiet: a header the EHR renamed turns off the rules that read its column.
        named = ", ".join(f"{h['header']!r} ({h['column']})" for h in renamed)
        print(f"cmclaims: warning: the column map names headers the export does not have: {named}", file=sys.stderr)
    if as_json:
        print(json.dumps(summary, indent=2, allow_nan=False))
    elif not quiet:
        render_summary(summary, stdout)
    problems = summary["side_files"]["problems"]
    if not quiet and not as_json and len(problems) > 20:
        stderr.print(f"... and {len(problems) - 20} more side-file rows left out (summary.json lists them)")
    # --exit-zero forgives rejected lines (1), never a night wrong as a whole (65).
    raise typer.Exit(EXIT_OK if exit_zero and result.exit_code == EXIT_FINDINGS else result.exit_code)
