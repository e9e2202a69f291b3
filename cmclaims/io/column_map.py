"""`--column-map FILE`: TOML that maps an EHR's own headers and spellings to ours.

    [columns]
    member_id = "Client Number"
    service_date = "DOS"

    [values.contact_type]
    "Face to Face" = "face_to_face"
    "Phone" = "telephone"

Header keys may also sit at the top level (the first form cmclaims read).
`cmclaims map` proposes such a file from an export. Unknown canonical names,
non-text values and empty answers are configuration errors (exit 2), so a
typo fails loudly; whether the export has the headers and spellings a map
names is judged when it is read (reported in summary.json), since one map
serves every night.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cmclaims.errors import ConfigError
from cmclaims.schema.columns import AUTHORIZATIONS, ENCOUNTER, PHI_COLUMNS, STAFF, STAYS, header_key

KNOWN_COLUMNS = frozenset(ENCOUNTER.known + AUTHORIZATIONS.known + STAYS.known + STAFF.known)

# Columns whose spellings a map may translate: the coded columns of the export.
# Dates, times, numbers and identifiers are never rewritten (an id mapped to
# another id would bill one member's service to another), nor any PHI.
VALUE_MAP_COLUMNS = frozenset(
    {
        "hcpcs",
        "modifier1",
        "modifier2",
        "modifier3",
        "modifier4",
        "modifiers",
        "activity",
        "contact_type",
        "member_present",
        "place_of_service",
        "member_setting",
        "member_population",
        "program",
        "enrollment",
        "staff_credential",
        "note_signed",
        "claim_frequency",
    }
) - PHI_COLUMNS

ColumnMap = dict[str, str]  # canonical name -> the export's header
ValueMaps = dict[str, dict[str, str]]  # canonical column -> {the export's spelling: ours}


@dataclass
class ExportMap:
    """A whole column map file: headers, and the spellings of coded columns."""

    path: Path
    columns: ColumnMap = field(default_factory=dict)
    values: ValueMaps = field(default_factory=dict)


def _load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"column map {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"column map {path} is a folder, not a file") from exc
    except OSError as exc:
        raise ConfigError(f"column map {path} cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"column map {path} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"column map {path} is not valid TOML: {exc}") from exc


def _headers(path: Path, data: dict) -> ColumnMap:
    mapping: ColumnMap = {}
    for key, value in data.items():
        canonical = header_key(key)
        if canonical not in KNOWN_COLUMNS:
            raise ConfigError(
                f"column map {path}: '{key}' is not a column cmclaims knows",
                hint="keys are our column names (member_id, service_date, ...), values the export's headers",
            )
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"column map {path}: the header for '{key}' must be non-empty text")
        if canonical in mapping:
            raise ConfigError(f"column map {path}: '{canonical}' is mapped twice")
        mapping[canonical] = value
    return mapping


def _value_maps(path: Path, tables: object) -> ValueMaps:
    if not isinstance(tables, dict):
        raise ConfigError(f"column map {path}: 'values' must hold tables such as [values.contact_type]")
    maps: ValueMaps = {}
    for key, table in tables.items():
        column = header_key(key)
        if column not in VALUE_MAP_COLUMNS:
            raise ConfigError(
                f"column map {path}: [values.{key}] names a column whose values cannot be mapped",
                hint="value maps translate coded columns: " + ", ".join(sorted(VALUE_MAP_COLUMNS)),
            )
        if not isinstance(table, dict):
            raise ConfigError(f"column map {path}: [values.{key}] must be a table of \"export spelling\" = \"ours\"")
        spellings: dict[str, str] = {}
        for spelling, ours in table.items():
            if not isinstance(ours, str) or not ours.strip():
                raise ConfigError(
                    f"column map {path}: [values.{key}] gives no value for '{spelling}'",
                    hint="answer it with one of the column's values, or delete the line",
                )
            if not spelling.strip():
                raise ConfigError(f"column map {path}: [values.{key}] maps an empty spelling")
            spellings[spelling] = ours.strip()
        maps[column] = spellings
    return maps


def load_export_map(path: Path) -> ExportMap:
    """Read and check a column map (headers and value maps); exit 2 with the reason when it is not usable."""
    data = _load_toml(path)
    values = data.pop("values", {})
    columns = data.pop("columns", {})
    if not isinstance(columns, dict):
        raise ConfigError(f"column map {path}: 'columns' must be a table of our column = \"export header\"")
    overlap = {header_key(k) for k in columns} & {header_key(k) for k in data}
    if overlap:
        raise ConfigError(f"column map {path}: {', '.join(sorted(overlap))} mapped both under [columns] and above it")
    return ExportMap(path, _headers(path, {**data, **columns}), _value_maps(path, values))


def load_column_map(path: Path) -> ColumnMap:
    """The header part of a column map (for files whose values are not mapped, such as a billing history)."""
    return load_export_map(path).columns
