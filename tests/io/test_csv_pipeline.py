"""CSV outputs formatted on several threads: the bytes one CSV writer writes, and their SHA-256 as written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import cmclaims.io.writer as writer
from cmclaims.io.writer import StagedOutputs, escape_formulas, escape_header, write_batches


def _batches(count: int, rows: int) -> list[pa.RecordBatch]:
    batches = []
    for b in range(count):
        ids = [f"C{b}-{i}" for i in range(rows)]
        notes = pa.array(["=SUM(A1)", "plain, with a comma", 'a "quoted" note', "-12.50", ""] * (rows // 5 + 1))
        batches.append(pa.RecordBatch.from_arrays(
            [pa.array(ids), notes[:rows].dictionary_encode(), pa.array(range(rows), pa.int32())],
            names=["claim_id", "=note", "units"]))
    return batches


SCHEMA = pa.schema([("claim_id", pa.string()), ("=note", pa.string()), ("units", pa.int32())])


def _one_writer(schema: pa.Schema, batches: list[pa.RecordBatch], path: Path) -> bytes:
    """What a single pyarrow CSVWriter writes for the same batches (the bytes before the pipeline)."""
    header = pa.schema([field.with_name(escape_header(field.name)) for field in schema])
    with pacsv.CSVWriter(path, header) as csv:
        for batch in batches:
            table = pa.Table.from_batches([writer.as_schema(batch, schema)])
            csv.write_table(escape_formulas(table).rename_columns(header.names))
    return path.read_bytes()


@pytest.mark.parametrize("rows_a_job", [3, 7, 1 << 16])
def test_the_same_bytes_as_one_csv_writer_and_their_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           rows_a_job: int) -> None:
    monkeypatch.setattr(writer, "CSV_ROWS", rows_a_job)  # batches cut into many jobs, run out of order
    batches = [*_batches(4, 23), *_batches(1, 0), *_batches(1, 5)]
    digest = write_batches(SCHEMA, iter(batches), tmp_path / "out.csv", "csv")
    written = (tmp_path / "out.csv").read_bytes()
    assert written == _one_writer(SCHEMA, batches, tmp_path / "reference.csv")
    assert digest == hashlib.sha256(written).hexdigest()
    assert written.startswith(b"\"claim_id\",\"'=note\",\"units\"\n")
    assert b"\"'=SUM(A1)\"" in written and b"\"-12.50\"" in written


def test_no_batches_writes_the_header_alone(tmp_path: Path) -> None:
    digest = write_batches(SCHEMA, iter([]), tmp_path / "out.csv", "csv")
    assert (tmp_path / "out.csv").read_bytes() == _one_writer(SCHEMA, [], tmp_path / "reference.csv")
    assert digest == hashlib.sha256((tmp_path / "out.csv").read_bytes()).hexdigest()


def test_parquet_is_hashed_by_reading_it_back(tmp_path: Path) -> None:
    staged = StagedOutputs(tmp_path / "out")
    staged.stage("clean.parquet", lambda p: write_batches(SCHEMA, iter(_batches(2, 10)), p, "parquet"))
    staged.stage("clean.csv", lambda p: write_batches(SCHEMA, iter(_batches(2, 10)), p, "csv"))
    staged.commit()
    for name in ("clean.parquet", "clean.csv"):
        assert staged.sha256(name) == hashlib.sha256((tmp_path / "out" / name).read_bytes()).hexdigest()


def test_an_error_on_a_formatting_thread_reaches_the_writer_and_no_file_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "CSV_ROWS", 4)
    calls = []

    def failing(table: pa.Table) -> pa.Table:
        calls.append(table.num_rows)
        if len(calls) == 3:
            raise RuntimeError("formatting failed")
        return escape_formulas(table)

    monkeypatch.setattr(writer, "escape_formulas", failing)
    staged = StagedOutputs(tmp_path / "out")
    with pytest.raises(RuntimeError, match="formatting failed"):
        staged.stage("clean.csv", lambda p: write_batches(SCHEMA, iter(_batches(5, 20)), p, "csv"))
    staged.discard()
    assert list((tmp_path / "out").iterdir()) == []


def test_a_failing_write_stops_the_making_of_batches(tmp_path: Path) -> None:
    class FullDisk:
        writes = 0

        def write(self, data: bytes) -> int:
            self.writes += 1
            if self.writes == 2:
                raise OSError(28, "No space left on device")
            return len(data)

    made = []

    def jobs():
        for i in range(1000):
            made.append(i)
            yield lambda: pa.py_buffer(b"x" * 10)

    with pytest.raises(OSError, match="No space"):
        writer._write_in_order(jobs(), FullDisk(), hashlib.sha256())  # type: ignore[arg-type]
    assert len(made) < 1000  # the making stopped soon after the failure


def test_a_failing_batch_leaves_no_writing_thread_behind(tmp_path: Path) -> None:
    import threading

    def batches():
        yield from _batches(2, 10)
        raise RuntimeError("the rules' data ran out")

    with pytest.raises(RuntimeError, match="ran out"):
        write_batches(SCHEMA, batches(), tmp_path / "out.csv", "csv")
    assert not [t for t in threading.enumerate() if t.name == "cmclaims-csv-writer"]
