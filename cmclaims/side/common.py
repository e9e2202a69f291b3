"""What every side file shares: reading, factorized text, dates, and problems by row.

A side file's bad row is not an encounter line: it is reported (file, row,
column and what is wrong, never a member id) on stderr and in summary.json, and
the row is left out. The lines it would have covered are then judged without
it, so a missing stay or authorization errs on the side of not billing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow

from cmclaims.io.column_map import ColumnMap
from cmclaims.io.reader import SourceFile, read_source
from cmclaims.normalize.lines import MISSING
from cmclaims.normalize.parsed import dates_of, numbers_of
from cmclaims.normalize.text import Case, Factorized, factorize
from cmclaims.schema.columns import FileColumns


@dataclass(frozen=True)
class SideProblem:
    """One unusable row of a side file."""

    file: str
    row: int
    column: str
    problem: str

    def describe(self) -> str:
        """The problem as one line for the terminal: file, row, column, what is wrong."""
        return f"{self.file} row {self.row}, {self.column}: {self.problem}; the row is left out"


@dataclass
class SideFile:
    """A side file's rows, factorized, with their row numbers, which rows are usable, and why not."""

    source: SourceFile
    text: dict[str, Factorized]
    rows: np.ndarray  # 1-based row number of each parsed row
    usable: np.ndarray  # bool per parsed row
    problems: list[SideProblem]

    @property
    def name(self) -> str:
        """The file as the user named it."""
        return self.source.name

    def has(self, column: str) -> bool:
        """Whether the file has this canonical column."""
        return column in self.source.columns

    def values(self, column: str) -> np.ndarray:
        """The cleaned text of a column as an object array (None where empty)."""
        return np.asarray(self.text[column].text().to_pylist(), dtype=object)

    def dates(self, column: str, today: dt.date, past: bool = False) -> np.ndarray:
        """Day numbers of a date column; MISSING where empty or not a date (`past`: a birth date)."""
        return dates_of(self.text[column], today, past)

    def whole_numbers(self, column: str, maximum: float) -> np.ndarray:
        """A column of whole numbers from 0 to `maximum`; NaN where empty or invalid."""
        return numbers_of(self.text[column], whole=True, maximum=maximum)

    def reject(self, bad: np.ndarray, column: str, problem: str) -> None:
        """Leave out the usable rows where `bad` holds, recording why."""
        newly = bad & self.usable
        for row in self.rows[newly].tolist():
            self.problems.append(SideProblem(self.name, row, column, problem))
        self.usable &= ~newly

    def reject_unparsed_dates(self, column: str, days: np.ndarray) -> None:
        """Leave out rows whose date in `column` did not parse."""
        self.reject(self.text[column].present & (days == MISSING), column, "is not a date")


def _column(source: SourceFile, name: str) -> pyarrow.ChunkedArray:
    header = source.columns.get(name)
    if header is None:
        return pyarrow.chunked_array([pyarrow.nulls(source.table.num_rows, pyarrow.string())])
    column = source.table.column(header)
    return column if pyarrow.types.is_string(column.type) else column.cast(pyarrow.string())


def read_side_file(
    path: Path, expected: FileColumns, cases: dict[str, Case], column_map: ColumnMap | None
) -> SideFile:
    """Read a side file; rows that cannot be parsed or lack a required value become problems.

    Required values are checked with a pandera schema, as the export's are.
    """
    source = read_source(path, expected, column_map)
    n = source.table.num_rows
    text = {column: factorize(_column(source, column), n, cases.get(column)) for column in expected.known}
    problems = [SideProblem(source.name, bad.row, "(row)", f"cannot be read: {bad.problem}") for bad in source.bad_rows]
    side = SideFile(source, text, source.rows, np.ones(n, dtype=bool), problems)
    presence = pd.DataFrame(
        {c: pd.arrays.IntegerArray(text[c].codes, mask=text[c].codes < 0) for c in expected.required}
    )
    schema = pa.DataFrameSchema({c: pa.Column(nullable=False) for c in expected.required})
    try:
        schema.validate(presence, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases.dropna(subset=["index"])
        for column in failures["column"].unique():
            index = failures.loc[failures["column"] == column, "index"].astype(np.int64).to_numpy()
            bad = np.zeros(n, dtype=bool)
            bad[index] = True
            side.reject(bad, str(column), "is empty")
    return side
