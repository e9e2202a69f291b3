"""How exports spell our columns and values: `code_tables/spellings.toml`, read and checked.

Every spelling is compared in one normal form (`plain`): words of a camelCase
name apart, lower case, every run of punctuation or spaces one space, `#` read
as "number". "Client #", "client_number", "ClientNumber" and "CLIENT-NUMBER"
are then the same words.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cmclaims.errors import ConfigError
from cmclaims.schema.columns import ENCOUNTER
from cmclaims.tables.location import code_tables_dir

_PUNCTUATION = re.compile(r"[^0-9a-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")  # "DateOfService" -> "Date Of Service"


def plain(text: str) -> str:
    """The normal form spellings are compared in."""
    return _PUNCTUATION.sub(" ", _CAMEL.sub(" ", text).lower().replace("#", " number ")).strip()


@dataclass(frozen=True)
class Spellings:
    """Known spellings: of each column's header, and of each vocabulary value."""

    headers: dict[str, tuple[str, ...]]  # our column -> plain header spellings (our own name first)
    values: dict[str, dict[str, str]]  # our column -> {plain spelling: our value}


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"code table {path} cannot be read: {exc}") from exc


@lru_cache(maxsize=4)
def load_spellings(folder: Path | None = None) -> Spellings:
    """Read spellings.toml; a column or table it does not know is an error in the code tables (exit 2)."""
    path = (folder or code_tables_dir()) / "spellings.toml"
    data = _read(path)
    headers: dict[str, tuple[str, ...]] = {}
    for column, names in data.get("headers", {}).items():
        if column not in ENCOUNTER.known:
            raise ConfigError(f"{path}: [headers] names '{column}', which is not a column of the export")
        own = plain(column)
        headers[column] = (own, *dict.fromkeys(p for name in names if (p := plain(name)) != own))
    for column in ENCOUNTER.known:
        headers.setdefault(column, (plain(column),))
    values: dict[str, dict[str, str]] = {}
    for column, table in data.get("values", {}).items():
        if column not in ENCOUNTER.known:
            raise ConfigError(f"{path}: [values.{column}] is not a column of the export")
        spelled: dict[str, str] = {}
        for ours, names in table.items():
            for name in [ours, *names]:
                key = plain(name)
                if spelled.get(key, ours) != ours:
                    raise ConfigError(f"{path}: [values.{column}] gives '{name}' two meanings")
                spelled[key] = ours
        values[column] = spelled
    return Spellings(headers, values)
