"""A report as an XLSX workbook: an Overview sheet, then one sheet per table.

Each sheet has its header row frozen and an autofilter over the table, so a
manager can sort and filter without setting anything up. Dollars carry a
number format; numbers stay numbers.

Written with XlsxWriter, whose options say through its public API what we
need: text is always text (`strings_to_formulas`, `strings_to_urls` and
`strings_to_numbers` off), so no cell, header cells included, is ever a
formula or a link Excel would follow; text a spreadsheet would take for one
(`=`, `+`, `-`, `@` first) also carries Excel's quote prefix, so that editing
the cell keeps it text. Characters an XLSX cell cannot hold (most control
characters) are replaced and over-long text is cut to Excel's 32,767
characters (cmclaims.io.safe_text). `constant_memory` streams the rows to
disk, so even a detail sheet of a few hundred thousand rows stays small in
memory; the per-cell writing is the one loop over rows in the reports, and
it is the XLSX format that needs it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.worksheet import Worksheet

from cmclaims import __version__
from cmclaims.io.safe_text import excel_text
from cmclaims.report.model import Report, ReportTable
from cmclaims.report.tables_csv import overview_frame

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
MONEY_FORMAT = '"$"#,##0.00;-"$"#,##0.00'
PERCENT_FORMAT = "0.0%"
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_BAD_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}


def sheet_name(key: str, used: set[str]) -> str:
    """A readable sheet name from a table key (by_rule -> 'By rule'), at most 31 characters, unique."""
    name = _BAD_SHEET_CHARACTERS.sub(" ", key.replace("_", " ")).strip().capitalize()[:31] or "Sheet"
    candidate, n = name, 2
    while candidate.lower() in used:
        candidate = f"{name[:28]} {n}"
        n += 1
    used.add(candidate.lower())
    return candidate


class _Formats:
    """The workbook's cell formats, made once."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.header = workbook.add_format({"bold": True, "bg_color": "#DDDDDD", "quote_prefix": True})
        self.money = workbook.add_format({"num_format": MONEY_FORMAT})
        self.percent = workbook.add_format({"num_format": PERCENT_FORMAT})
        self.text_kept = workbook.add_format({"quote_prefix": True})


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _write_cell(sheet: Worksheet, row: int, column: int, value: object, kind: str, formats: _Formats) -> None:
    """One cell: a number as a number (dollars and shares formatted), anything else as text."""
    if _missing(value):
        return
    if kind in ("money", "percent"):
        number = pd.to_numeric(value, errors="coerce")
        if not _missing(number):
            sheet.write_number(row, column, float(number), formats.money if kind == "money" else formats.percent)
            return
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, int | float) and math.isfinite(value):
        sheet.write_number(row, column, value)
    else:
        text = excel_text(str(value))
        sheet.write_string(row, column, text, formats.text_kept if _FORMULA_START.match(text) else None)


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


def _write_sheet(workbook: xlsxwriter.Workbook, name: str, frame: pd.DataFrame, table: ReportTable | None,
                 formats: _Formats) -> None:
    """One sheet: header row frozen, autofilter over the data, at most Excel's rows and columns."""
    sheet = workbook.add_worksheet(name)
    frame = frame.iloc[: EXCEL_ROWS - 1, :EXCEL_COLUMNS]
    names = [excel_text(str(c)) for c in frame.columns]
    for index, column in enumerate(frame.columns):
        sheet.set_column(index, index, _width(frame[column], names[index]))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(frame), max(0, len(names) - 1))
    for index, heading in enumerate(names):
        sheet.write_string(0, index, heading, formats.header)  # a heading is text too, never a formula
    kinds = [_kind(table, str(column)) for column in frame.columns]
    columns = [frame[column].astype(object).tolist() for column in frame.columns]
    for row, values in enumerate(zip(*columns, strict=True), start=1):
        for index, value in enumerate(values):
            _write_cell(sheet, row, index, value, kinds[index], formats)


def write_xlsx(report: Report, path: Path) -> None:
    """The Overview sheet (facts, verdict, notes), then a sheet per table, saved to `path`."""
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    workbook.set_properties({"author": f"cmclaims {__version__}", "title": excel_text(report.title)})
    formats = _Formats(workbook)
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
    _write_sheet(workbook, overview_name, pd.concat([overview, sheet_list], ignore_index=True), None, formats)
    for name, table in sheets:
        _write_sheet(workbook, name, table.frame, table, formats)
    try:
        workbook.close()
    except XlsxWriterException as exc:  # FileCreateError and friends wrap the OS's refusal
        raise OSError(str(exc)) from exc
