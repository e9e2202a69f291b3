"""A report as an XLSX workbook: an Overview sheet, then one sheet per table.

Each sheet has its header row frozen and an autofilter over the table, so a
manager can sort and filter without setting anything up. Text is always
stored as text: openpyxl would store a string starting with "=" as a
formula, so such cells are written with the string type (and Excel's quote
prefix, so editing the cell keeps it text). Dollars carry a number format;
numbers stay numbers.

openpyxl writes cell by cell; the write-only workbook streams the rows to
disk, so even a detail sheet of a few hundred thousand rows stays small in
memory. The per-cell preparation is the one loop over rows in the reports,
and it is openpyxl's API that needs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from cmclaims import __version__
from cmclaims.report.model import Report, ReportTable
from cmclaims.report.tables_csv import overview_frame

EXCEL_ROWS = 1_048_576
MONEY_FORMAT = '"$"#,##0.00;-"$"#,##0.00'
PERCENT_FORMAT = "0.0%"
_FORMULA_START = r"^[=+\-@\t\r]"
_BAD_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")


def sheet_name(key: str, used: set[str]) -> str:
    """A readable sheet name from a table key (by_rule -> 'By rule'), at most 31 characters, unique."""
    name = _BAD_SHEET_CHARACTERS.sub(" ", key.replace("_", " ")).strip().capitalize()[:31] or "Sheet"
    candidate, n = name, 2
    while candidate.lower() in used:
        candidate = f"{name[:28]} {n}"
        n += 1
    used.add(candidate.lower())
    return candidate


def _cells(sheet: WriteOnlyWorksheet, series: pd.Series, kind: str) -> list:
    """The column's values as openpyxl wants them: numbers, None, or prepared cells."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    missing = series.isna().to_numpy()
    if kind in ("money", "percent"):
        number_format = MONEY_FORMAT if kind == "money" else PERCENT_FORMAT
        values = pd.to_numeric(series, errors="coerce").tolist()
        cells: list[Cell | None] = []
        for value, gone in zip(values, missing, strict=True):
            if gone:
                cells.append(None)
                continue
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = number_format
            cells.append(cell)
        return cells
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return [None if gone else value for value, gone in zip(series.tolist(), missing, strict=True)]
    values = series.astype(object).where(~missing, None)
    text = values.map(lambda v: isinstance(v, str))
    risky = (text & values.astype(str).str.contains(_FORMULA_START, regex=True)).to_numpy()
    cells = values.tolist()
    for position in risky.nonzero()[0]:
        cell = WriteOnlyCell(sheet, value=None)
        cell._value = cells[position]  # set directly: assigning .value would make "=..." a formula
        cell.data_type = "s"
        cell.quotePrefix = True
        cells[position] = cell
    return cells


def _header(sheet: WriteOnlyWorksheet, names: list[str]) -> list:
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=None)
        cell._value, cell.data_type = name, "s"
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cells.append(cell)
    return cells


def _kind(table: ReportTable | None, column: str) -> str:
    if table is not None and column in table.money:
        return "money"
    if table is not None and column in table.percent:
        return "percent"
    return "plain"


def _width(series: pd.Series, header: str) -> float:
    lengths = series.head(1000).astype(str).str.len().fillna(0)
    longest = int(lengths.max()) if len(lengths) else 0
    return float(min(60, max(len(header), longest + 3) + 2))  # +3: room for "$" and thousands separators


def _write_sheet(workbook: Workbook, name: str, frame: pd.DataFrame, table: ReportTable | None) -> None:
    """One sheet: header row frozen, autofilter over the data, at most Excel's rows."""
    sheet = workbook.create_sheet(name)
    names = [str(c) for c in frame.columns]
    frame = frame.head(EXCEL_ROWS - 1)
    for index, column in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(frame[column], names[index - 1])
    sheet.freeze_panes = "A2"
    last = get_column_letter(max(1, len(names)))
    sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    sheet.append(_header(sheet, names))
    columns = [_cells(sheet, frame[column], _kind(table, str(column))) for column in frame.columns]
    for row in zip(*columns, strict=True):
        sheet.append(list(row))


def write_xlsx(report: Report, path: Path) -> None:
    """The Overview sheet (facts, verdict, notes), then a sheet per table, saved to `path`."""
    workbook = Workbook(write_only=True)
    workbook.properties.creator = f"cmclaims {__version__}"
    workbook.properties.title = report.title
    used: set[str] = set()
    notes = []
    overview_name = sheet_name("overview", used)
    sheets = [(sheet_name(table.key, used), table) for table in report.tables]
    # Rows left out for Excel's limit are said on the Overview, which is written first: work them out now.
    for name, table in sheets:
        if len(table.frame) >= EXCEL_ROWS:
            notes.append(f"sheet {name} holds the first {EXCEL_ROWS - 1:,} of {len(table.frame):,} rows "
                         "(Excel's limit); the CSV has all")
    overview = overview_frame(report)
    overview = pd.concat([overview, pd.DataFrame({"item": "note", "value": notes})], ignore_index=True)
    sheet_list = pd.DataFrame({"item": "sheet", "value": [f"{name}: {table.title}" for name, table in sheets]})
    _write_sheet(workbook, overview_name, pd.concat([overview, sheet_list], ignore_index=True), None)
    for name, table in sheets:
        _write_sheet(workbook, name, table.frame, table)
    workbook.save(path)
