"""The accounting of a payer's document: each requirement, quoted, and what cmclaims does with it.

`code_tables/requirements/<profile>.toml` lists the requirements of the
profile's source document, each with its quote and section and one of three
statuses: `enforced` (the rules that check it and the profile values they
read), `differently` (enforced, but not as the document words it: why), or
`not_checkable` (what data would be needed). `common.toml` holds what every
payer's billing needs (SPEC): readable input, units from documented time,
no claim twice. `docs/policy/<profile>.md` is generated from these and the
rule registry (`make docs`); a test keeps them in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cmclaims.errors import ConfigError
from cmclaims.tables.catalog import _read_toml
from cmclaims.tables.location import code_tables_dir
from cmclaims.tables.toml_section import Section

STATUSES = ("enforced", "differently", "not_checkable")
COMMON = "common"
_CODE = re.compile(r"CM\d{3}")


@dataclass(frozen=True)
class Requirement:
    """One requirement of a document, with its quote and what cmclaims does with it."""

    section: str  # where in the document (`Service/Reimbursement Limitations (V)`)
    quote: str  # the document's own words
    status: str  # enforced | differently | not_checkable
    rules: tuple[str, ...]  # rule codes that check it
    values: tuple[str, ...]  # dotted paths into the profile TOML whose values the rules read
    note: str  # enforced: how; differently: why; not_checkable: what data would be needed


def _folder(folder: Path | None) -> Path:
    return (folder or code_tables_dir()) / "requirements"


def _read(path: Path, where: str) -> tuple[Requirement, ...]:
    data = Section(_read_toml(path), where)
    requirements = []
    for entry in data.sections("requirement"):
        status = entry.text("status")
        if status not in STATUSES:
            raise ConfigError(f"{entry.where}: status must be one of {', '.join(STATUSES)}, not '{status}'")
        rules = entry.texts("rules")
        for code in rules:
            if not _CODE.fullmatch(code):
                raise ConfigError(f"{entry.where}: '{code}' is not a rule code (CM + 3 digits)")
        requirement = Requirement(
            section=entry.text("section"),
            quote=" ".join(entry.text("quote").split()),
            status=status,
            rules=rules,
            values=entry.texts("values"),
            note=" ".join(entry.text("note", "").split()),
        )
        if status != "not_checkable" and not rules:
            raise ConfigError(f"{entry.where}: an {status} requirement names the rules that check it")
        if status != "enforced" and not requirement.note:
            raise ConfigError(f"{entry.where}: a '{status}' requirement needs a note saying why")
        entry.finish()
        requirements.append(requirement)
    data.finish()
    return tuple(requirements)


@lru_cache(maxsize=16)
def load_requirements(name: str, folder: Path | None = None) -> tuple[Requirement, ...]:
    """The requirements of a profile's document (`common` for those of every payer)."""
    path = _folder(folder) / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"no requirements file for '{name}' (code_tables/requirements/{name}.toml)")
    return _read(path, f"requirements/{path.name}")
