"""What a multi-line note costs: reading and validating 1M lines with 1% quoted notes spanning two lines.

    .venv/bin/python scripts/bench_multiline.py [ROWS] [FOLDER]

Writes a sample export of ROWS lines (default 1,000,000) with a quoted note
on every line, then the same export with a line break inside 1% of the notes,
and times reading each (the fast reader, then the careful RFC 4180 reader)
and validating each (--no-ledger). Prints one line per measure.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cmclaims.io.batch import read_batch
from cmclaims.schema.columns import ENCOUNTER


def _exports(rows: int, folder: Path) -> tuple[Path, Path]:
    sample = folder / "sample.csv"
    subprocess.run([sys.executable, "-m", "cmclaims", "sample", "--rows", str(rows), "--out", str(sample)], check=True)
    table = pacsv.read_csv(sample, convert_options=pacsv.ConvertOptions(strings_can_be_null=False,
                                                                        column_types={}))
    table = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    spanning = (pa.array(range(table.num_rows)).to_numpy() % 100) == 0
    plain = pa.array([f"note {i}, seen" for i in range(table.num_rows)])
    notes = pc.if_else(pa.array(spanning), pc.binary_join_element_wise(plain, "second line", "\n"), plain)
    single, multi = folder / "single-line-notes.csv", folder / "multi-line-notes.csv"
    options = pacsv.WriteOptions(quoting_style="needed")
    pacsv.write_csv(table.append_column("note", plain), single, options)
    pacsv.write_csv(table.append_column("note", notes), multi, options)
    return single, multi


def main() -> None:
    """Write the two exports and print the four timings."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    folder = Path(sys.argv[2] if len(sys.argv) > 2 else "bench-multiline")
    folder.mkdir(exist_ok=True)
    single, multi = _exports(rows, folder)
    for label, path in (("single-line notes (fast reader)", single), ("1% two-line notes (RFC 4180 reader)", multi)):
        started = time.perf_counter()
        batch = read_batch([path], ENCOUNTER)
        read = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cmclaims", "validate", str(path), "--profile", "ok-soonercare",
                        "--out", str(folder / "out"), "--no-ledger", "--quiet", "--exit-zero"], check=True)
        whole = time.perf_counter() - started
        print(f"{label}: {batch.line_count:,} lines, read {read:.2f} s, validate {whole:.2f} s")


if __name__ == "__main__":
    main()
