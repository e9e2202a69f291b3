"""A report as CSV: one file per table in a folder, UTF-8 with a BOM, formulas escaped.

Excel takes a CSV without a byte-order mark for the local code page and
garbles names with accents; with the BOM it reads UTF-8. Text a spreadsheet
would run as a formula gets validate's apostrophe (cmclaims.io.writer).
overview.csv holds the report's facts and, for a run, the verdict. The files
are staged and renamed together, owner-readable only.
"""

from __future__ import annotations

import codecs
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from cmclaims.io.writer import StagedOutputs, escape_formulas
from cmclaims.report.model import Report


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A frame as Arrow, categories and large strings as plain text (so that escaping sees them as text)."""
    plain = frame.astype({c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    plain.columns = [str(c) for c in plain.columns]
    table = pa.Table.from_pandas(plain, preserve_index=False)
    # pandas keeps text as Arrow large_string; escape_formulas joins with a plain-string apostrophe.
    schema = pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f for f in table.schema])
    return table.cast(schema)


def overview_frame(report: Report) -> pd.DataFrame:
    """The report's title, facts, verdict and notes as item / value rows."""
    rows = [("report", report.title), ("generated", report.generated_at), *report.facts]
    if report.verdict is not None:
        rows.append(("verdict", report.verdict.line))
    rows += [("note", note) for note in report.notes]
    return pd.DataFrame(rows, columns=["item", "value"])


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """One table as CSV with a UTF-8 byte-order mark, formula-like text escaped."""
    table = escape_formulas(arrow_table(frame))
    with path.open("wb") as handle:
        handle.write(codecs.BOM_UTF8)
        pacsv.write_csv(table, handle)


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    write_csv(frame, path)


def write_csv_folder(report: Report, folder: Path) -> list[Path]:
    """overview.csv and <table>.csv for each table, renamed into `folder` together."""
    staged = StagedOutputs(folder)
    try:
        staged.stage("overview.csv", lambda path: write_csv(overview_frame(report), path))
        for table in report.tables:
            staged.stage(f"{table.key}.csv", partial(_write_frame, table.frame))
        return staged.commit()
    finally:
        staged.discard()
