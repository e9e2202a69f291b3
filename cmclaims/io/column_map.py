"""`--column-map FILE`: TOML that maps our column names to an EHR's own headers.

    member_id = "Client Number"
    service_date = "DOS"

A key may also sit under a `[columns]` table. Unknown canonical names and
non-text values are configuration errors (exit 2), so a typo fails loudly.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from cmclaims.errors import ConfigError
from cmclaims.schema.columns import AUTHORIZATIONS, ENCOUNTER, STAFF, STAYS, header_key

KNOWN_COLUMNS = frozenset(ENCOUNTER.known + AUTHORIZATIONS.known + STAYS.known + STAFF.known)

ColumnMap = dict[str, str]  # canonical name -> the export's header


def load_column_map(path: Path) -> ColumnMap:
    """Read and check a column map; exit 2 with the reason when it is not usable."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"column map {path} does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"column map {path} cannot be read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"column map {path} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"column map {path} is not UTF-8 text (byte {exc.start})") from exc
    if isinstance(data.get("columns"), dict):
        data = {**{k: v for k, v in data.items() if k != "columns"}, **data["columns"]}
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
        mapping[canonical] = value
    return mapping
