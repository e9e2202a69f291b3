"""`cmclaims validate`: the clerk's nightly command."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from cmclaims.cli import app
from cmclaims.cli.console import show_progress, stage_progress, stderr, stdout
from cmclaims.cli.render import render_summary
from cmclaims.errors import EXIT_OK, ConfigError
from cmclaims.ledger import ledger_path
from cmclaims.ledger.lock import LedgerLock
from cmclaims.pipeline.request import ValidateRequest


@app.command("validate")
def validate_command(
    inputs: Annotated[list[Path], typer.Argument(help="encounter exports (CSV or Parquet), validated as one batch")],
    profile: Annotated[str, typer.Option("--profile", help="payer profile (see `cmclaims profiles`)")],
    out: Annotated[Path, typer.Option("--out", help="folder for clean, exceptions and summary.json")],
    ledger: Annotated[Path | None, typer.Option("--ledger", help="ledger file of earlier runs")] = None,
    no_ledger: Annotated[bool, typer.Option("--no-ledger", help="validate this batch alone")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="read the ledger but change nothing in it")] = False,
    authorizations: Annotated[Path | None, typer.Option("--authorizations", help="prior authorizations")] = None,
    stays: Annotated[Path | None, typer.Option("--stays", help="institutional stays, jail, detention")] = None,
    staff: Annotated[Path | None, typer.Option("--staff", help="staff credentials and trainings")] = None,
    enrollment: Annotated[Path | None, typer.Option(
        "--enrollment", help="dated eligibility categories and programs (member_id, enrollment, start_date, end_date)"
    )] = None,
    column_map: Annotated[Path | None, typer.Option("--column-map", help="TOML: our column = export header")] = None,
    over_limit: Annotated[str, typer.Option("--over-limit", help="reject or cutback")] = "reject",
    output_format: Annotated[str | None, typer.Option("--format", help="csv or parquet (default: the input's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as one JSON document")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="print nothing but errors")] = False,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="exit 0 even when lines were rejected")] = False,
    engine: Annotated[str, typer.Option("--engine", help="local (this process) or dask (a cluster)")] = "local",
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="with --engine dask: a scheduler address (tcp://host:8786); default a local cluster"
    )] = None,
) -> None:
    """Validate encounter exports against a payer profile; write the clean and exceptions files."""
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
        column_map=column_map,
        over_limit=over_limit,
        output_format=output_format,
        ledger=None if no_ledger else ledger_path(ledger),
        dry_run=dry_run,
        engine=engine,
        scheduler=scheduler,
    )
    with ExitStack() as stack:
        if request.ledger_mode == "write":
            # Before the heavy imports: a second run learns in a fraction of a second that it must wait.
            stack.enter_context(LedgerLock(request.ledger))  # type: ignore[arg-type]
            request.ledger_locked = True
        from cmclaims.engine import run
        from cmclaims.io.memory import use_returning_allocator

        use_returning_allocator()
        with stage_progress(("read", "normalise", "rules", "write"), show_progress() and not quiet) as advance:
            result = run(request, on_stage=advance)  # type: ignore[arg-type]
    summary = result.summary
    if as_json:
        print(json.dumps(summary, indent=2, allow_nan=False))
    elif not quiet:
        render_summary(summary, stdout)
    problems = summary["side_files"]["problems"]
    if not quiet and not as_json and len(problems) > 20:
        stderr.print(f"... and {len(problems) - 20} more side-file rows left out (summary.json lists them)")
    raise typer.Exit(EXIT_OK if exit_zero else result.exit_code)
