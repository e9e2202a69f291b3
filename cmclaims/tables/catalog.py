"""The shared catalogue: procedure codes, modifiers and the export's vocabularies."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cmclaims.errors import ConfigError
from cmclaims.tables.location import code_tables_dir
from cmclaims.tables.toml_section import Section

UNIT_KINDS = ("time", "per_diem")


@dataclass(frozen=True)
class CodeDef:
    """A procedure code and how its unit is measured."""

    hcpcs: str
    description: str
    unit: str  # "time" (unit_minutes per unit) or "per_diem" (one a day)
    unit_minutes: int | None

    @property
    def unit_label(self) -> str:
        """How the unit reads: `15 minutes`, `per hour`, `per diem`."""
        if self.unit == "per_diem":
            return "per diem"
        return "per hour" if self.unit_minutes == 60 else f"{self.unit_minutes} minutes"


@dataclass(frozen=True)
class Catalog:
    """Everything under code_tables/ that is not a profile."""

    version: str
    codes: dict[str, CodeDef]
    modifiers: dict[str, str]
    vocabularies: dict[str, tuple[str, ...]]
    folder: Path
    group_modifiers: tuple[str, ...] = ()  # a group service: one staff member, several members at once

    def vocabulary(self, name: str) -> tuple[str, ...]:
        """The values of one vocabulary of SPEC section 2."""
        return self.vocabularies[name]


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    except OSError as exc:
        raise ConfigError(f"cannot read code table {path}: {exc.strerror}") from exc


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read code table {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def _codes(path: Path) -> dict[str, CodeDef]:
    codes: dict[str, CodeDef] = {}
    for line, row in enumerate(_read_csv(path), start=2):
        where = f"{path.name} line {line}"
        hcpcs = row.get("hcpcs", "").upper()
        unit = row.get("unit", "")
        if not hcpcs or unit not in UNIT_KINDS:
            raise ConfigError(f"{where}: needs an hcpcs code and a unit of {' or '.join(UNIT_KINDS)}")
        minutes_text = row.get("unit_minutes", "")
        minutes = int(minutes_text) if minutes_text.isdigit() else None
        if unit == "time" and not minutes:
            raise ConfigError(f"{where}: a timed code needs unit_minutes greater than 0")
        if hcpcs in codes:
            raise ConfigError(f"{where}: {hcpcs} is listed twice")
        codes[hcpcs] = CodeDef(hcpcs, row.get("description", ""), unit, minutes if unit == "time" else None)
    return codes


def _modifiers(path: Path) -> dict[str, str]:
    modifiers: dict[str, str] = {}
    for line, row in enumerate(_read_csv(path), start=2):
        modifier = row.get("modifier", "").upper()
        if len(modifier) != 2:
            raise ConfigError(f"{path.name} line {line}: a modifier is two letters or digits")
        modifiers[modifier] = row.get("meaning", "")
    return modifiers


def _vocabularies(path: Path) -> dict[str, tuple[str, ...]]:
    section = Section(_read_toml(path), path.name)
    return {key: section.texts(key) for key in section.names()}


@lru_cache(maxsize=4)
def _load(folder: Path) -> Catalog:
    meta = Section(_read_toml(folder / "catalog.toml"), "catalog.toml")
    version = meta.text("version")
    group_modifiers = tuple(m.upper() for m in meta.texts("group_modifiers"))
    meta.finish()
    vocabularies = _vocabularies(folder / "vocabularies.toml")
    for required in ("activity", "contact_type", "setting", "population", "credential", "training"):
        if required not in vocabularies:
            raise ConfigError(f"vocabularies.toml: the '{required}' list is missing")
    modifiers = _modifiers(folder / "modifiers.csv")
    unknown = [m for m in group_modifiers if m not in modifiers]
    if unknown:
        raise ConfigError(f"catalog.toml: group_modifiers names {', '.join(unknown)}, not in modifiers.csv")
    return Catalog(
        version=version,
        codes=_codes(folder / "codes.csv"),
        modifiers=modifiers,
        vocabularies=vocabularies,
        folder=folder,
        group_modifiers=group_modifiers,
    )


def load_catalog(folder: Path | None = None) -> Catalog:
    """The catalogue under `folder` (default: the code tables in use)."""
    return _load((folder or code_tables_dir()).resolve())
