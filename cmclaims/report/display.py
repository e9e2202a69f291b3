"""Numbers as people read them: $1,234.50, 1,234, 12.5%; for the terminal and HTML.

Only the rows a screen or a page shows are formatted (the first --top rows);
files that keep every row (CSV, XLSX, JSON) keep the numbers as numbers.
"""

from __future__ import annotations

import math

import pandas as pd

from cmclaims.report.model import ReportTable

PLAIN = frozenset({"source_row"})  # numbers that are names, not amounts: no thousands separator


def money(value: object) -> str:
    """$1,234.50 (-$12.00 for a negative amount); blank when there is no amount."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    number = float(value)  # type: ignore[arg-type]
    return f"-${-number:,.2f}" if number < 0 else f"${number:,.2f}"


def number(value: object) -> str:
    """1,234 for whole numbers, 1,234.5 otherwise; text stays text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return str(value)


def percent(value: object) -> str:
    """12.5% for 0.125; blank when there is no share."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{float(value):.1%}"  # type: ignore[arg-type]


def points(value: object) -> str:
    """A change of a share in percentage points: +1.5 pts."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{float(value) * 100:+.1f} pts"  # type: ignore[arg-type]


def shown_rows(table: ReportTable, top: int | None) -> tuple[pd.DataFrame, int]:
    """The rows (and brief columns) to show, and how many rows are left out."""
    frame = table.frame
    if table.brief:
        frame = frame[[c for c in table.brief if c in frame.columns]]
    if top is None or table.whole or len(frame) <= top:
        return frame, 0
    return frame.head(top), len(frame) - top


def formatted(table: ReportTable, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (a few rows of `table`) as display text, column by column."""
    out = pd.DataFrame(index=frame.index)
    units = frame["unit"] if "unit" in frame.columns else None
    for column in frame.columns:
        values = frame[column].astype(object)
        if column in table.money:
            out[column] = values.map(money)
        elif column in table.percent and str(column).endswith("_change"):
            out[column] = values.map(points)
        elif column in table.percent:
            out[column] = values.map(percent)
        elif units is not None and column in ("counted", "summary_json", "ledger_record"):
            # The checks table: each row says in what its numbers are counted.
            out[column] = [money(v) if u == "dollars" else number(v) for v, u in zip(values, units, strict=True)]
        elif column in PLAIN:
            out[column] = values.map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
        else:
            out[column] = values.map(number)
    return out


def heading(column: object) -> str:
    """A column name as a heading: lines_rejected -> lines rejected."""
    return str(column).replace("_", " ")


def is_numeric_column(table: ReportTable, column: str) -> bool:
    """Whether a column is right-aligned: numbers, dollars, shares."""
    if column in table.money or column in table.percent or column in ("counted", "summary_json", "ledger_record"):
        return True
    return pd.api.types.is_numeric_dtype(table.frame[column]) and not pd.api.types.is_bool_dtype(table.frame[column])
