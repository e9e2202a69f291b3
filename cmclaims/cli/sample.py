"""`cmclaims sample`: a realistic synthetic export, for demos, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmclaims.cli import app
from cmclaims.cli.console import stdout
from cmclaims.errors import EXIT_OK
from cmclaims.sample import DEFAULT_PROFILE, DEFAULT_SEED, write_sample


@app.command("sample")
def sample_command(
    rows: Annotated[int, typer.Option("--rows", min=1, help="number of encounter lines")],
    out: Annotated[Path, typer.Option("--out", help="export file to write (.csv, or .parquet)")],
    seed: Annotated[int, typer.Option("--seed", help="the same seed writes the same bytes")] = DEFAULT_SEED,
    profile: Annotated[str, typer.Option("--profile", help="payer profile the sample is for")] = DEFAULT_PROFILE,
    authorizations: Annotated[Path | None, typer.Option("--authorizations", help="also write authorizations")] = None,
    stays: Annotated[Path | None, typer.Option("--stays", help="also write stays (institution, jail)")] = None,
    staff: Annotated[Path | None, typer.Option("--staff", help="also write staff credentials")] = None,
    enrollment: Annotated[Path | None, typer.Option("--enrollment", help="also write dated enrollment")] = None,
    plans: Annotated[Path | None, typer.Option("--plans", help="also write signed plans (CM8xx)")] = None,
) -> None:
    """Write a synthetic encounter export (no real person in it), with its side files when asked.

    \b
    Example:
      cmclaims sample --rows 10000 --out demo.csv --stays stays.csv --staff staff.csv
    """
    written = write_sample(profile, rows, out, seed, authorizations=authorizations, stays=stays, staff=staff,
                           enrollment=enrollment, plans=plans)
    for path, count in written.items():
        stdout.print(f"wrote {count:,} rows to {path}")
    raise typer.Exit(EXIT_OK)
