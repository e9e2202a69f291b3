"""An EHR's own spellings translated to ours, once per distinct value.

A column map's `[values.COLUMN]` table ("Face to Face" = "face_to_face")
rewrites the factorized values of a coded column before anything judges them:
the few distinct spellings are looked up, the millions of line codes are
remapped with one gather. Spellings are matched the way the column is
cleaned (trimmed; case-insensitively for the vocabulary columns), so a map
written from one export holds for the next night's. What each mapping
touched, and what a map names that the export does not have, is reported
(summary.json), never silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from cmclaims.errors import ConfigError
from cmclaims.io.column_map import ExportMap, ValueMaps
from cmclaims.normalize.text import Case, Factorized
from cmclaims.schema.encounter import PLACE_OF_SERVICE, VOCABULARY_COLUMNS
from cmclaims.tables import Catalog


@dataclass
class ValueMapReport:
    """What the value maps did to one batch: lines per mapping, and spellings the batch lacks."""

    applied: list[dict] = field(default_factory=list)  # {column, from, to, lines}
    not_in_export: list[dict] = field(default_factory=list)  # {column, value}

    def describe(self) -> dict:
        """The report as summary.json carries it."""
        return {"applied": self.applied, "not_in_export": self.not_in_export}


def _fold(value: str, case: Case) -> str:
    value = value.strip()
    return value.upper() if case == "upper" else value.lower() if case == "lower" else value


def check_value_targets(export_map: ExportMap, catalog: Catalog) -> None:
    """Every value a map writes must be one its column accepts: a typo in the map is exit 2, not a night of CM009."""
    for column, spellings in export_map.values.items():
        if column in VOCABULARY_COLUMNS:
            allowed = {v.upper() for v in catalog.vocabulary(VOCABULARY_COLUMNS[column])}
            if column in ("member_present", "note_signed"):
                allowed |= {"YES", "NO", "TRUE", "FALSE", "1", "0", "T", "F"}
            wrong = sorted({ours for ours in spellings.values() if ours.upper() not in allowed})
            if wrong:
                raise ConfigError(
                    f"column map {export_map.path}: [values.{column}] maps to {', '.join(repr(w) for w in wrong)}, "
                    f"which {column} does not accept",
                    hint="use one of: " + ", ".join(catalog.vocabulary(VOCABULARY_COLUMNS[column])),
                )
        elif column == "place_of_service":
            wrong = sorted({ours for ours in spellings.values() if not re.match(PLACE_OF_SERVICE, ours)})
            if wrong:
                raise ConfigError(
                    f"column map {export_map.path}: [values.place_of_service] maps to {', '.join(wrong)}, "
                    "which is not a two-digit place of service code"
                )


def apply_value_maps(
    text: dict[str, Factorized], maps: ValueMaps, cases: dict[str, Case], present: frozenset[str]
) -> ValueMapReport:
    """Rewrite the mapped columns of `text` in place; say how many lines each mapping touched."""
    report = ValueMapReport()
    for column, spellings in maps.items():
        case = cases.get(column)
        wanted = {_fold(spelling, case): (spelling, _fold(ours, case)) for spelling, ours in spellings.items()}
        factorized = text.get(column)
        if factorized is None or column not in present:
            report.not_in_export.extend({"column": column, "value": s} for s, _ in wanted.values())
            continue
        values = factorized.values.to_pylist()
        lines = np.bincount(factorized.codes[factorized.codes >= 0], minlength=len(values))
        found = {v: i for i, v in enumerate(values)}
        for folded, (spelling, ours) in wanted.items():
            if folded not in found:
                report.not_in_export.append({"column": column, "value": spelling})
            else:
                report.applied.append(
                    {"column": column, "from": spelling, "to": ours, "lines": int(lines[found[folded]])}
                )
        translation = {f: o for f, (_, o) in wanted.items()}
        text[column] = factorized.recoded(lambda value, t=translation: t.get(value, value))  # type: ignore[misc]
    return report
