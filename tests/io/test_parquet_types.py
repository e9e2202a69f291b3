"""Every Arrow type a Parquet export can hold is read as text or refused by name, never a crash (SPEC 2)."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmclaims.cli import main
from tests.helpers import read_csv
from tests.test_hardening import LINE

TEXT_FORMS = {
    "string_view": pa.array(["x", "y"], pa.string_view()),
    "large_string": pa.array(["x", "y"], pa.large_string()),
    "dictionary": pa.array(["x", "y"]).dictionary_encode(),
    "int8": pa.array([1, -2], pa.int8()),
    "uint64": pa.array([1, 2**63], pa.uint64()),
    "float16": pa.array([1.5, 2.5], pa.float32()).cast(pa.float16()),
    "float64": pa.array([1.5, float("nan")]),
    "bool": pa.array([True, None]),
    "decimal": pa.array([decimal.Decimal("1.50"), None], pa.decimal128(5, 2)),
    "date32": pa.array([dt.date(2026, 3, 4), None]),
    "timestamp_tz": pa.array([dt.datetime(2026, 3, 4, 9, 0)] * 2, pa.timestamp("ms", tz="America/Chicago")),
    "time64": pa.array([dt.time(9, 15), None], pa.time64("us")),
    "duration": pa.array([60, None], pa.duration("s")),
    "null": pa.nulls(2),
    "binary_utf8": pa.array([b"ok", "naïve".encode()], pa.binary()),
    "large_binary": pa.array([b"ok", b""], pa.large_binary()),
    "fixed_binary": pa.array([b"ab", b"cd"], pa.binary(2)),
}
NO_TEXT_FORM = {
    "list": pa.array([["a"], ["b"]], pa.list_(pa.string())),
    "struct": pa.array([{"a": 1}, {"a": 2}]),
    "map": pa.array([[("k", 1)], []], pa.map_(pa.string(), pa.int64())),
}


def _table(extra: dict[str, pa.Array]) -> pa.Table:
    second = {**LINE, "claim_id": "A2", "start_time": "10:00", "end_time": "10:30"}
    base = {k: pa.array([LINE[k], second[k]]) for k in LINE}
    return pa.table({**base, **extra})


def _validate(tmp_path: Path, table: pa.Table, fmt: str) -> int:
    pq.write_table(table, tmp_path / "export.parquet")
    return main(["validate", str(tmp_path / "export.parquet"), "--profile", "ok-soonercare", "--out",
                 str(tmp_path / "out"), "--no-ledger", "--format", fmt, "--quiet", "--max-input-errors", "1"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("kind", sorted(TEXT_FORMS))
def test_an_extra_column_of_any_text_form_is_carried_into_the_clean_file(tmp_path: Path, kind: str,
                                                                         fmt: str) -> None:
    assert _validate(tmp_path, _table({"extra": TEXT_FORMS[kind]}), fmt) == 0
    clean = read_csv(tmp_path / "out" / "clean.csv") if fmt == "csv" else \
        pq.read_table(tmp_path / "out" / "clean.parquet").to_pylist()
    assert [row["claim_id"] for row in clean] == ["A1", "A2"]
    assert all("extra" in row for row in clean)


@pytest.mark.parametrize("kind", sorted(TEXT_FORMS))
def test_a_required_column_of_any_text_form_is_read(tmp_path: Path, kind: str) -> None:
    code = _validate(tmp_path, _table({"staff_id": TEXT_FORMS[kind]}), "csv")
    assert code in (0, 1)  # some forms are not staff ids (a null, a number): findings, never a crash


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("kind", sorted(NO_TEXT_FORM))
def test_a_column_with_no_text_form_is_refused_naming_file_and_column(tmp_path: Path, kind: str, fmt: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(tmp_path, _table({"odd column": NO_TEXT_FORM[kind]}), fmt) == 65
    err = capsys.readouterr().err
    assert "export.parquet" in err and "'odd column'" in err


def test_bytes_that_are_not_utf8_are_a_finding_on_their_line_only(tmp_path: Path) -> None:
    assert _validate(tmp_path, _table({"note": pa.array([b"fine", b"\xff\xfe bad"], pa.binary())}), "csv") == 1
    assert [row["claim_id"] for row in read_csv(tmp_path / "out" / "clean.csv")] == ["A1"]
    exceptions = read_csv(tmp_path / "out" / "exceptions.csv")
    assert [(row["source_row"], row["rule"], row["disposition"]) for row in exceptions] == [("2", "CM001",
                                                                                             "rejected")]
    assert "note" in exceptions[0]["message"] and "UTF-8" in exceptions[0]["message"]
