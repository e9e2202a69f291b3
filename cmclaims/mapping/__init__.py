"""`cmclaims map`: propose a column map for an EHR's own export (SPEC section 9).

A clerk whose EHR names its columns and spells its values its own way runs
`cmclaims map` once, reviews the proposed TOML, and passes it to validate
with `--column-map` every night.

- `spellings.py`: what exports are known to call our columns and values (code_tables/spellings.toml)
- `headers.py`: headers matched to our columns by known spelling, then by similarity (rapidfuzz)
- `values.py`: what each distinct spelling of a coded column means, or a question
- `proposal.py`: the exports read, the whole proposal
- `toml_text.py`: the proposal as a commented column map
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cmclaims.errors import CannotWrite, ConfigError
from cmclaims.io.writer import commit, temporary_beside
from cmclaims.mapping.proposal import Proposal, propose_map
from cmclaims.mapping.toml_text import render

__all__ = ["Proposal", "propose_map", "write_map"]


def write_map(proposal: Proposal, path: Path, *, force: bool = False, today: dt.date | None = None) -> None:
    """Write the proposal to `path`, owner-only, whole or not at all; never over a map without `force`."""
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists", hint="a map you reviewed is not overwritten: give another --out, or --force"
        )
    if path.suffix.lower() != ".toml":
        raise ConfigError(f"{path}: a column map is a .toml file")
    if not path.parent.is_dir():
        raise CannotWrite(f"{path.parent}: no such folder")
    text = render(proposal, path.name, today or dt.date.today())
    with temporary_beside(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    commit(temporary, path)
