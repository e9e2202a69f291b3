"""The ledger's blocks: what is written is read back, older Parquet blocks still read, damage never crashes."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from cmclaims.errors import CannotWrite
from cmclaims.ledger.admin import check_ledger
from cmclaims.ledger.blocks import LINE_SCHEMA, decode_block, encode_block
from cmclaims.ledger.schema import SCHEMA_VERSION
from cmclaims.ledger.store import SqliteLedger
from tests.helpers import new_ledger, run_lines
from tests.ledger.support import optum_line

BATCH_MEMBERS = pa.array([f"M{i:05d}" for i in range(5000)])  # a night's whole dictionary of members


def _lines() -> pa.Table:
    """Three recorded lines as a validate run hands them: repeating texts coded over the night's dictionary."""
    members = pa.DictionaryArray.from_arrays(pa.array([17, None, 4999], pa.int32()), BATCH_MEMBERS)
    return pa.table({
        "claim_id": ["C1", "C2", "C3"],
        "member_id": members,
        "hcpcs": pa.array(["T1017", "T1017", None]).dictionary_encode(),
        "service_day": pa.array([20_100, 20_101, 20_102], pa.int32()),
        "units": pa.array([4, 8, 2], pa.int32()),
        "frequency": ["1", "8", "7"],
        "original_claim_id": [None, "C0", "C0"],
        "start_minute": pa.array([480, None, 600], pa.int16()),
    })


def _plain(table: pa.Table) -> pa.Table:
    return pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for name, column in zip(table.column_names, table.columns, strict=True)})


def test_a_block_reads_back_the_lines_written_texts_plain_unless_asked_coded() -> None:
    lines = _lines()
    data = encode_block(lines, dictionary=True)
    assert decode_block(data).equals(_plain(lines))
    asked = decode_block(data, ["member_id", "claim_id", "frequency"], ["member_id", "frequency"])
    assert asked.column_names == ["member_id", "claim_id", "frequency"]
    assert asked.column("member_id").type == pa.dictionary(pa.int32(), pa.string())
    assert asked.column("frequency").type == pa.dictionary(pa.int32(), pa.string())  # plain when written
    assert _plain(asked).to_pydict() == {"member_id": ["M00017", None, "M04999"], "claim_id": ["C1", "C2", "C3"],
                                        "frequency": ["1", "8", "7"]}


def test_a_block_keeps_only_the_members_its_lines_name() -> None:
    """A night's lines come coded over every member of the night; one month's block holds its own."""
    lines = _lines()
    whole = len(encode_block(_plain(lines).set_column(1, "member_id", BATCH_MEMBERS.slice(0, 3)), dictionary=True))
    assert len(encode_block(lines, dictionary=True)) < whole + 200


def test_a_column_added_after_the_block_was_written_reads_as_nulls() -> None:
    data = encode_block(_lines().drop_columns(["start_minute"]), dictionary=True)
    got = decode_block(data, ["claim_id", "start_minute", "activity"], ["activity"])
    assert got.column("start_minute").to_pylist() == [None, None, None]
    assert got.column("start_minute").type == LINE_SCHEMA.field("start_minute").type
    assert got.column("activity").null_count == 3


def test_a_block_an_older_cmclaims_wrote_in_parquet_is_read_as_before() -> None:
    lines = _plain(_lines())
    sink = io.BytesIO()
    pq.write_table(lines, sink, compression="lz4")  # schema 4 and earlier
    data = sink.getvalue()
    assert decode_block(data).equals(lines)
    asked = decode_block(data, ["claim_id", "member_id", "activity"], ["member_id"])
    assert _plain(asked).to_pydict() == {"claim_id": ["C1", "C2", "C3"], "member_id": ["M00017", None, "M04999"],
                                        "activity": [None, None, None]}


def test_an_empty_block_reads_back_empty() -> None:
    empty = LINE_SCHEMA.empty_table()
    assert decode_block(encode_block(empty, dictionary=True)).num_rows == 0


BLOCK = encode_block(_lines(), dictionary=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(BLOCK) - 1), st.integers(0, 255)), min_size=1, max_size=4),
       st.integers(0, len(BLOCK)))
def test_a_damaged_block_is_reported_or_read_never_crashed_on(edits: list[tuple[int, int]], length: int) -> None:
    """Bytes changed or cut anywhere: the block reads (the damage hit a value: `ledger check`'s SHA-256 finds
    it) or is reported as damaged (exit 73); no other error, no crash in Arrow."""
    data = bytearray(BLOCK)
    for at, value in edits:
        data[at] = value
    damaged = bytes(data[:length])
    for columns, coded in ((None, None), (["claim_id", "member_id", "units"], ["member_id"])):
        try:
            table = decode_block(damaged, columns, coded)
        except CannotWrite:
            continue
        table.validate(full=True)
        table.to_pylist()  # every value can be read


@pytest.mark.parametrize("data", [b"", b"PAR1", b"PAR1" + bytes(100), b"ARROW1\x00\x00", bytes(64)])
def test_bytes_that_are_no_block_are_reported(data: bytes) -> None:
    with pytest.raises(CannotWrite):
        decode_block(data, ["claim_id"])


def _as_version_4_wrote_it(ledger: Path) -> None:
    """Every block re-encoded as the previous cmclaims wrote it (Parquet, lz4) with its SHA-256, schema 4."""
    db = sqlite3.connect(ledger, isolation_level=None)
    for table, key in (("line_blocks", "run_id, month"), ("total_blocks", "profile, year")):
        for *where, data in db.execute(f"SELECT {key}, data FROM {table}").fetchall():
            sink = io.BytesIO()
            pq.write_table(decode_block(data), sink, compression="lz4")
            blob = sink.getvalue()
            first, second = key.split(", ")
            db.execute(f"UPDATE {table} SET data = ?, sha256 = ? WHERE {first} = ? AND {second} = ?",
                       (blob, hashlib.sha256(blob).hexdigest(), *where))
    db.execute("DROP TABLE kept_totals")  # schema 6's
    db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    db.execute("PRAGMA user_version = 4")
    db.close()


def test_a_ledger_the_previous_version_wrote_is_upgraded_and_its_parquet_blocks_still_count(tmp_path: Path) -> None:
    """A claim billed under schema 4 (a Parquet block), sent again: CM402. The night's own lines go to an
    Arrow block beside it, and `ledger check` finds both sound."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    first = run_lines(tmp_path / "night1", [optum_line("A1", "M1", "2026-03-02", 4)], "id-optum", ledger=ledger)
    assert first.summary["counts"]["lines_clean"] == 1
    _as_version_4_wrote_it(ledger)
    second = run_lines(tmp_path / "night2", [optum_line("A1", "M1", "2026-03-09", 4),
                                              optum_line("A2", "M1", "2026-03-10", 4)], "id-optum", ledger=ledger)
    assert [(f["rule"], f["lines_rejected"]) for f in second.summary["findings"]] == [("CM402", 1)]
    store = SqliteLedger(ledger, read_only=True)
    try:
        assert store.identity()["schema_version"] == str(SCHEMA_VERSION)
        assert check_ledger(store) == []
        assert sorted(store.lines(None, ["claim_id"]).column("claim_id").to_pylist()) == ["A1", "A2"]
        formats = {bytes(data[:4]) for (data,) in store._db.execute("SELECT data FROM line_blocks")}
    finally:
        store.close()
    assert formats == {b"PAR1", b"ARRO"}


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4, 5], [3, 0, 5, 1, 4, 2]], ids=["grouped by month", "mixed"])
def test_a_run_is_kept_as_one_block_per_month_whatever_the_order_of_its_lines(order: list[int]) -> None:
    """A validate run hands its lines grouped by month (cut into blocks as slices); any other order gives the
    same blocks: each month's lines, in the order they came."""
    days = [20_100, 20_101, 20_102, 20_140, 20_141, 20_190]  # January, February, April 2025
    lines = pa.table({"claim_id": [f"C{i}" for i in range(6)], "member_id": ["M1"] * 6, "hcpcs": ["T1017"] * 6,
                      "service_day": pa.array(days, pa.int32()), "units": pa.array([1, 2, 3, 4, 5, 6], pa.int32()),
                      "authorization_id": [None] * 6, "auth_units": pa.array([0] * 6, pa.int32())},
                     schema=pa.schema([LINE_SCHEMA.field(name) for name in ("claim_id", "member_id", "hcpcs",
                                       "service_day", "units", "authorization_id", "auth_units")])
                     ).take(pa.array(order))
    store = SqliteLedger.__new__(SqliteLedger)
    store.read_only = True  # prepare only: nothing is read from or written to a database
    prepared = store.prepare_run({"profile": "id-optum"}, lines, pd.DataFrame(
        {"claim_id": [], "month": [], "original_run": [], "how": []}), pa.table({}), annual_caps=True)
    blocks = {month: decode_block(data).column("claim_id").to_pylist() for month, _, _, _, data in prepared.blocks}
    expected: dict[int, list[str]] = {}
    for claim, day in zip(lines.column("claim_id").to_pylist(), lines.column("service_day").to_pylist(), strict=True):
        expected.setdefault(int(np.datetime64(day, "D").astype("datetime64[M]").astype(int)), []).append(claim)
    assert blocks == expected
    assert [units for _, _, units, _, _ in prepared.blocks] == [6, 9, 6]


def test_the_ledger_keeps_the_findings_the_exceptions_file_holds(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's findings are encoded into the ledger piece by piece as its exceptions file is written (here
    in pieces of two findings): the ledger holds exactly the file's rows, in its order."""
    import cmclaims.pipeline.outputs as outputs

    monkeypatch.setattr(outputs, "EXCEPTIONS_BATCH", 2)
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    lines = [optum_line(f"C{m}{i}", f"M{m}", "2026-03-02", 8, start=f"{8 + 2 * i:02d}:00")
             for m in range(4) for i in range(3)]
    run = run_lines(tmp_path / "night", lines, "id-optum", ledger=ledger)
    written = pq.read_table(run.out / "exceptions.parquet") if (run.out / "exceptions.parquet").exists() else \
        pa.csv.read_csv(run.out / "exceptions.csv", convert_options=pa.csv.ConvertOptions(strings_can_be_null=False))
    store = SqliteLedger(ledger, read_only=True)
    try:
        kept = store.findings().drop_columns(["run_id"])
    finally:
        store.close()
    assert kept.num_rows == written.num_rows >= 4  # a daily limit a member: several pieces
    assert kept.column("rule").to_pylist() == written.column("rule").to_pylist()
    assert kept.column("message").to_pylist() == written.column("message").to_pylist()
    assert kept.column("source_row").to_pylist() == written.column("source_row").to_pylist()
