"""`cmclaims map`: propose a column map for an export whose headers and spellings are its own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cmclaims.cli import app
from cmclaims.cli.console import stdout
from cmclaims.cli.help import profile_help
from cmclaims.errors import EXIT_OK

if TYPE_CHECKING:
    from cmclaims.mapping import Proposal


@app.command("map")
def map_command(
    exports: Annotated[
        list[Path], typer.Argument(metavar="EXPORT...", help="one or more exports of the EHR (CSV or Parquet)")
    ],
    out: Annotated[Path, typer.Option("--out", metavar="MAP.toml", help="the column map to write")],
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="NAME", help=profile_help("says which of its rules need a column")),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite MAP.toml if it exists")] = False,
) -> None:
    """Propose a column map (headers and values) for an EHR export.

    Matches each of cmclaims' columns to the export's headers by name, and
    proposes a meaning for every spelling of the coded columns (contact_type,
    note_signed, activity ...) that is not already cmclaims' own. What it
    cannot tell is left as a commented question in the file and listed here.
    Review the file once, then pass it to validate every night.

    \b
    Example:
      cmclaims map export.csv --out ehr-map.toml --profile ok-soonercare
      cmclaims validate export.csv --profile ok-soonercare --out tonight --column-map ehr-map.toml
    """
    from cmclaims.mapping import propose_map, write_map

    proposal = propose_map(exports, profile)
    write_map(proposal, out, force=force)
    _report(proposal, out)
    raise typer.Exit(EXIT_OK)


def _report(proposal: Proposal, out: Path) -> None:
    """What was mapped and what was not: headers and counts only (values stay in the file)."""
    from cmclaims.mapping.toml_text import quoted
    from cmclaims.schema.columns import ENCOUNTER

    sure = [c for c, m in proposal.matches.items() if m.sure]
    required = [c for c in ENCOUNTER.required if c in sure or proposal.stood_in(c)]
    stdout.print(
        f"wrote {out}: {len(sure)} columns mapped ({len(required)} of {len(ENCOUNTER.required)} required), "
        f"{sum(1 for v in proposal.values for p in v.proposals if p.ours)} spellings mapped"
    )
    problems = []
    for column in proposal.required_not_found:
        problems.append(f"required column {column}: no header looks like it")
    for column in proposal.to_confirm:
        kind = "required column" if column in ENCOUNTER.required else "column"
        problems.append(f"{kind} {column}: header {quoted(proposal.header_of(column) or '')} is a guess; confirm it")
    for column, codes in proposal.needed_by_rules.items():
        problems.append(f"column {column}: not found; the {proposal.profile} rules {', '.join(codes)} read it")
    for values in proposal.values:
        if values.free_text:
            problems.append(
                f"{values.column}: {quoted(values.header)} has {values.distinct:,} distinct values; wrong header?"
            )
        asked = [p for p in values.proposals if p.ours is None]
        if asked:
            lines = sum(p.lines for p in asked)
            problems.append(
                f"{values.column}: {len(asked)} spelling{'s' if len(asked) > 1 else ''} it cannot tell "
                f"({lines:,} line{'s' if lines != 1 else ''})"
            )
    if problems:
        stdout.print(f"could not map (answer the `# ?` lines in {out}):")
        for problem in problems:
            stdout.print(f"  {problem}", markup=False)
    else:
        stdout.print("everything mapped; review the file once, then pass it with --column-map")
