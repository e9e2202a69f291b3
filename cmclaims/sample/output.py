"""Writing a sample's tables: CSV as an EHR writes it, or Parquet; atomically.

CSV has a plain header and unquoted values (no generated value holds a comma
or a quote), the way most EHR exports look. Parquet gets plain string columns,
not Arrow dictionaries, as any other producer would write them.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmclaims.errors import ConfigError
from cmclaims.io.writer import commit, ensure_folder, temporary_beside

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet",)
CSV_BATCH_ROWS = 1 << 16


def check_output_path(path: Path) -> None:
    """A sample file must be named .csv, .txt or .parquet (exit 2 otherwise)."""
    if path.suffix.lower() not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise ConfigError(f"{path}: a sample is written as .csv or .parquet, not '{path.suffix or 'no extension'}'")


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded to strings."""
    columns = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.table(columns, names=table.column_names)


def write_csv(table: pa.Table, path: Path) -> None:
    """CSV with an unquoted header and unquoted values."""
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode("utf-8"))
        options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=CSV_BATCH_ROWS)
        pacsv.write_csv(table, sink, options)


def write_sample_table(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` (format from its suffix), replacing the file only when complete."""
    check_output_path(path)
    if path.parent != Path():
        ensure_folder(path.parent)
    with temporary_beside(path) as temporary:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            pq.write_table(_plain(table), temporary)
        else:
            write_csv(table, temporary)
    commit(temporary, path)
