"""What every report is made of, whatever format shows it.

A view (a run's reconciliation, the open exceptions, a period) builds one
`Report`: a few facts, tables as pandas frames, charts, and for a run a
verdict. The formats (terminal, JSON, CSV, XLSX, HTML) only render a Report,
so each view is written once and every format shows the same numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class ReportTable:
    """One table of a report: a sheet in XLSX, a file in CSV, a section in HTML."""

    key: str  # file, sheet and JSON name: by_rule, aging, detail ...
    title: str
    frame: pd.DataFrame
    money: tuple[str, ...] = ()  # columns shown as dollars
    percent: tuple[str, ...] = ()  # columns holding a share 0..1
    note: str = ""
    # The columns a screen or a printed page shows (terminal, HTML); files keep them all. Empty: all.
    brief: tuple[str, ...] = ()
    whole: bool = False  # never cut to --top rows (the checks: they are the evidence)
    # Holds member ids: only built when the user asked for the detail, and never put in HTML.
    phi: bool = False


@dataclass
class Chart:
    """A chart of one series: horizontal bars (by category) or a line over time."""

    key: str
    title: str
    labels: list[str]
    values: list[float]
    kind: str = "bar"  # bar | line
    unit: str = "count"  # count | money | percent


@dataclass
class Verdict:
    """Whether a run reconciles, and the line that says so."""

    ok: bool
    line: str
    failed: list[str] = field(default_factory=list)


@dataclass
class Report:
    """A finished view, ready for any format."""

    kind: str  # run | open | period
    title: str
    facts: list[tuple[str, str]]
    tables: list[ReportTable]
    charts: list[Chart] = field(default_factory=list)
    verdict: Verdict | None = None
    notes: list[str] = field(default_factory=list)
    charts_after: int = 0  # pages show the charts after this many tables (a run's balance comes first)
    generated_at: str = field(default_factory=lambda: dt.datetime.now().astimezone().isoformat(timespec="seconds"))

    @property
    def has_phi(self) -> bool:
        """Whether a table holds member ids (the open-exception detail)."""
        return any(table.phi for table in self.tables)

    def table(self, key: str) -> ReportTable:
        """The table named `key` (KeyError when the view has none)."""
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    @property
    def exit_code(self) -> int:
        """1 when a run does not reconcile; every other report exits 0."""
        return 1 if self.verdict is not None and not self.verdict.ok else 0
