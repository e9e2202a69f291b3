"""A proposed column map for an EHR's export: its headers matched to our columns, its spellings to ours.

    exports -> headers and the distinct values of the coded columns
            -> match_headers (headers.py) -> propose_value per spelling (values.py)
            -> Proposal, written as TOML by toml_text.py

Only the coded columns' distinct values are looked at, counted once per
distinct spelling; nothing of an export reaches the terminal but headers and
counts (values stay in the map file, which is the clerk's own).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.io.reader import SourceFile, read_source
from cmclaims.mapping.headers import HeaderMatch, match_headers
from cmclaims.mapping.spellings import Spellings, load_spellings
from cmclaims.mapping.values import MOST_DISTINCT, ValueProposal, propose_value, understood_as_is
from cmclaims.normalize.lines import TEXT_CASE
from cmclaims.schema.columns import ENCOUNTER, FileColumns
from cmclaims.schema.encounter import VOCABULARY_COLUMNS
from cmclaims.tables import Catalog, load_catalog, load_profile

# Coded columns whose spellings the map proposes, and the vocabulary each comes from.
VALUE_COLUMNS: dict[str, str | None] = {**VOCABULARY_COLUMNS, "place_of_service": None}
# Rule needs that are a column of the export (data.py names two of them differently).
NEED_COLUMN = {"setting": "member_setting", "credentials": "staff_credential"}
# Needs a side file can meet instead of the column.
NEED_ALTERNATIVE = {"member_setting": "--stays", "staff_credential": "--staff"}
_ANY_COLUMNS = FileColumns(kind="export", required=(), optional=())


@dataclass
class ColumnValues:
    """A coded column's spellings: how many distinct, and a proposal for each one outside the vocabulary."""

    column: str
    header: str
    distinct: int
    proposals: list[ValueProposal] = field(default_factory=list)

    @property
    def free_text(self) -> bool:
        """Too many distinct values for a coded column: probably the wrong header."""
        return self.distinct > MOST_DISTINCT


@dataclass
class Proposal:
    """Everything `cmclaims map` learnt about the exports, ready to be written as a column map."""

    exports: list[tuple[str, int]]  # (file, lines)
    headers: list[str]
    matches: dict[str, HeaderMatch]  # every column of ours, required ones first
    values: list[ColumnValues]
    vocabularies: dict[str, tuple[str, ...]]
    profile: str | None = None
    needed_by_rules: dict[str, list[str]] = field(default_factory=dict)  # unmatched column -> rule codes

    def header_of(self, column: str) -> str | None:
        """The export header proposed for `column` (sure or to be confirmed)."""
        return self.matches[column].header

    @property
    def unused_headers(self) -> list[str]:
        """Headers of the export that no column of ours took (notes, names, extra ids)."""
        taken = {m.header for m in self.matches.values() if m.header is not None}
        return [h for h in self.headers if h not in taken]

    def stood_in(self, column: str) -> str | None:
        """The column that stands in for a missing required one (duration_minutes for end_time)."""
        stand_in = dict(ENCOUNTER.stand_ins).get(column)
        return stand_in if stand_in is not None and self.header_of(stand_in) is not None else None

    @property
    def required_not_found(self) -> list[str]:
        """Required columns with no header at all (not even one to confirm) and nothing standing in."""
        return [c for c in ENCOUNTER.required if self.header_of(c) is None and self.stood_in(c) is None]

    @property
    def to_confirm(self) -> list[str]:
        """Columns whose header is only a guess, for the clerk to confirm."""
        return [c for c, m in self.matches.items() if m.header is not None and not m.sure]

    @property
    def questions(self) -> int:
        """Spellings the map could not tell the meaning of."""
        return sum(1 for v in self.values for p in v.proposals if p.ours is None)


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    return pc.utf8_trim_whitespace(column)


def _spellings(sources: list[SourceFile], header: str, column: str) -> list[tuple[str, str, int]]:
    """(folded value, the export's most frequent spelling of it, lines) for each distinct value."""
    case = TEXT_CASE.get(column)
    by_spelling: Counter[str] = Counter()
    for source in sources:
        if header not in source.table.column_names:
            continue
        counts = pc.value_counts(_text(source.table.column(header)))
        for value, count in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
            if value:
                by_spelling[value] += count
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for spelling, count in by_spelling.items():
        folded = spelling.upper() if case == "upper" else spelling.lower() if case == "lower" else spelling
        groups[folded][spelling] = count
    return sorted(
        ((folded, spellings.most_common(1)[0][0], sum(spellings.values())) for folded, spellings in groups.items()),
        key=lambda item: (-item[2], item[0]),
    )


def _column_values(
    sources: list[SourceFile], column: str, header: str, vocabulary: tuple[str, ...], spellings: Spellings
) -> ColumnValues:
    distinct = _spellings(sources, header, column)
    result = ColumnValues(column, header, len(distinct))
    if result.free_text:
        return result
    known = spellings.values.get(column, {})
    for folded, spelling, lines in distinct:
        if not understood_as_is(column, folded, vocabulary):
            result.proposals.append(propose_value(column, spelling, lines, vocabulary, known))
    return result


def _needed_by_rules(profile_name: str, matches: dict[str, HeaderMatch]) -> dict[str, list[str]]:
    """Columns the profile's rules read that the export does not seem to have, with those rules."""
    from cmclaims.rules import rules_in_order

    profile = load_profile(profile_name)
    needed: dict[str, list[str]] = defaultdict(list)
    for rule in rules_in_order():
        if not rule.applies_to(profile):
            continue
        for need in rule.needs:
            column = NEED_COLUMN.get(need, need)
            if column in matches and matches[column].header is None:
                needed[column].append(rule.code)
    return dict(needed)


def _date_times(sources: list[SourceFile], header: str) -> tuple[bool, bool]:
    """Whether a column's values carry a date, and whether they carry a time of day other than midnight."""
    import datetime as dt

    from cmclaims.normalize.values import parse_time

    values: set[str] = set()
    for source in sources:
        if header in source.table.column_names:
            distinct = pc.unique(_text(source.table.column(header))).to_pylist()
            values.update(v for v in distinct[:500] if v)
    parsed = [parse_time(v, dt.date.today()) for v in values]
    dated = bool(parsed) and all(p is not None and p[1] is not None for p in parsed)
    timed = dated and any(p is not None and p[0] != 0 for p in parsed)
    return dated, timed


def _one_column_for_date_and_start(sources: list[SourceFile], matches: dict[str, HeaderMatch]) -> None:
    """EHRs that keep a service's date and start in one date-time (SmartCare's DateOfService,
    Credible's rev_timein) give both columns the same header."""
    date, start = matches["service_date"], matches["start_time"]
    if date.header is not None and date.sure and not start.sure:
        dated, timed = _date_times(sources, date.header)
        if timed:
            start.header, start.sure, start.score = date.header, True, 100.0  # a guess gives way
            start.note = "its date-times hold the start too"
    elif start.header is not None and start.sure and not date.sure:
        dated, _ = _date_times(sources, start.header)
        if dated:
            date.header, date.sure, date.score = start.header, True, 100.0
            date.note = "its date-times hold the date too"


def propose_map(paths: list[Path], profile: str | None = None) -> Proposal:
    """Read the exports and propose how each header and each coded spelling maps to ours."""
    catalog: Catalog = load_profile(profile).catalog if profile else load_catalog()
    sources = [read_source(path, _ANY_COLUMNS) for path in paths]
    headers = list(dict.fromkeys(name for source in sources for name in source.table.column_names))
    spellings = load_spellings()
    columns = list(ENCOUNTER.required + ENCOUNTER.optional)
    matches = match_headers(headers, columns, spellings)
    _one_column_for_date_and_start(sources, matches)
    vocabularies = {c: catalog.vocabulary(v) for c, v in VOCABULARY_COLUMNS.items()}
    values = []
    for column in VALUE_COLUMNS:
        header = matches[column].header
        if header is not None:
            values.append(_column_values(sources, column, header, vocabularies.get(column, ()), spellings))
    return Proposal(
        exports=[(source.name, source.line_count) for source in sources],
        headers=headers,
        matches=matches,
        values=values,
        vocabularies=vocabularies,
        profile=profile,
        needed_by_rules=_needed_by_rules(profile, matches) if profile else {},
    )
