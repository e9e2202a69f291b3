"""Hostile input: no exit 70, no silent change of data, per-line damage stays per line (SPEC sections 1-3)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmclaims.cli import main
from cmclaims.io.reader import read_source
from cmclaims.schema.columns import ENCOUNTER
from tests.helpers import read_csv
from tests.io.hostile_corpus import HEADER, _good, _raw, corpus, held_up

CORPUS = corpus()


def _validate(export: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(out), "--no-ledger",
                     "--json", "--max-input-errors", "1", *extra])
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize(("family", "name", "data"), CORPUS, ids=[f"{f}/{n}" for f, n, _ in CORPUS])
def test_every_hostile_file_ends_in_an_exit_code_from_spec_with_every_line_accounted_for(
        tmp_path: Path, family: str, name: str, data: bytes) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(data)
    code, stdout, stderr = _validate(export, tmp_path / "out")
    assert held_up(code, stdout, stderr, tmp_path / "out"), (code, stderr)


def _read(tmp_path: Path, data: bytes) -> tuple[list[str], list[int], dict[int, str], str]:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    source = read_source(path, ENCOUNTER)
    notes = source.table.column("note").to_pylist()
    return notes, source.rows.tolist(), {b.row: b.problem for b in source.bad_rows}, source.encoding


def test_one_stray_latin1_byte_is_a_finding_on_its_line_and_the_rest_stays_utf8(tmp_path: Path) -> None:
    lines = [_good(n).replace(f"note {n}", f"naïve 日本 {n}") for n in range(1, 601)]
    data = _raw(lines).encode().replace("naïve 日本 300".encode(), b"na\xefve 300")
    notes, rows, bad, encoding = _read(tmp_path, data)
    assert encoding.startswith("utf-8")
    assert bad == {300: "it holds bytes that are not UTF-8 text"}
    assert len(notes) == 599 and all(note.startswith("naïve 日本") for note in notes)
    assert 300 not in rows


def test_a_nul_anywhere_is_a_finding_on_its_line_only(tmp_path: Path) -> None:
    lines = [_good(n) for n in range(1, 2001)]
    lines[4] = lines[4].replace("note", "no\x00te")
    lines[1999] = lines[1999].replace("note", "\x00")  # far beyond the first 64 KiB
    notes, _, bad, _ = _read(tmp_path, _raw(lines).encode())
    assert set(bad) == {5, 2000} and all("NUL" in p for p in bad.values())
    assert len(notes) == 1998


def test_an_over_long_value_and_a_huge_quoted_note_are_one_finding_each(tmp_path: Path) -> None:
    lines = [_good(1), _good(2).replace("note 2", "x" * (2 << 20)), _good(3).replace("note 3", '"' + "y\n" * 600_000
                                                                                        + '"'), _good(4)]
    _, rows, bad, _ = _read(tmp_path, _raw(lines).encode())
    assert rows == [1, 4]
    assert set(bad) == {2, 3} and all("longer than 1 MiB" in p for p in bad.values())


def test_a_quote_that_never_closes_is_reported_once_and_the_rows_after_it_are_read(tmp_path: Path) -> None:
    lines = [_good(n) for n in range(1, 51)]
    lines[1] = lines[1].replace("note 2", '"open')
    _, rows, bad, _ = _read(tmp_path, _raw(lines).encode())
    assert list(bad) == [2] and "never closes" in bad[2] and "48 lines after it" in bad[2]
    assert rows == [1, *range(3, 51)]


def test_a_stray_quote_pairing_with_a_later_one_is_damage_not_a_value_spanning_lines(tmp_path: Path) -> None:
    # `"open` on row 2 pairs with the quote of `"x` on row 5: RFC 4180 allows only a delimiter or a line's
    # end after a closing quote, so this is no value with line breaks. Rows 3 and 4 are not swallowed.
    lines = [_good(n) for n in range(1, 8)]
    lines[1] = lines[1].replace("note 2", '"open')
    lines[4] = lines[4].replace("note 5", '"x')
    _, rows, bad, _ = _read(tmp_path, _raw(lines).encode())
    assert 2 in bad and "not closed as CSV closes one" in bad[2]
    assert {1, 3, 4} <= set(rows) and 2 not in rows
    assert sorted([*rows, *bad]) == list(range(1, 8))


def test_utf16_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    notes, rows, bad, encoding = _read(tmp_path, _raw([_good(1).replace("note 1", "日本"), _good(2)]).encode("utf-16"))
    assert (notes, rows, bad, encoding) == (["日本", "note 2"], [1, 2], {}, "utf-16")


def test_a_10000_column_export_is_read(tmp_path: Path) -> None:
    header = ",".join(HEADER + [f"extra_{i}" for i in range(10_000)])
    data = (header + "\n" + "\n".join(_good(n) + ",v" * 10_000 for n in (1, 2)) + "\n").encode()
    notes, rows, bad, _ = _read(tmp_path, data)
    assert (notes, rows, bad) == (["note 1", "note 2"], [1, 2], {})


# --- hypothesis: arbitrary bytes, arbitrary Arrow tables --------------------------------------------------


@given(body=st.binary(max_size=400), header=st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_bytes_never_crash_nor_lose_a_line(tmp_path: Path, body: bytes, header: bool) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(((",".join(HEADER) + "\n").encode() if header else b"") + body)
    out = tmp_path / "out"
    code, stdout, stderr = _validate(export, out)
    assert held_up(code, stdout, stderr, out), (code, stderr)


_SCALARS = st.sampled_from([
    pa.string(), pa.large_string(), pa.string_view(), pa.binary(), pa.large_binary(), pa.int8(), pa.int64(),
    pa.uint32(), pa.float16(), pa.float32(), pa.float64(), pa.bool_(), pa.date32(), pa.date64(),
    pa.timestamp("s"), pa.timestamp("us", tz="UTC"), pa.time32("s"), pa.time64("ns"), pa.duration("ms"),
    pa.decimal128(9, 2), pa.null(), pa.list_(pa.string()), pa.struct([("a", pa.int32())]),
    pa.map_(pa.string(), pa.int32()), pa.dictionary(pa.int32(), pa.string()),
])


@st.composite
def _arrow_column(draw: st.DrawFn, rows: int) -> pa.Array:
    kind = draw(_SCALARS)
    if pa.types.is_dictionary(kind):
        return pa.array(draw(st.lists(st.text(max_size=5), min_size=rows, max_size=rows))).dictionary_encode()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.array(draw(st.lists(st.none() | st.text(max_size=12), min_size=rows, max_size=rows)), kind)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return pa.array(draw(st.lists(st.none() | st.binary(max_size=8), min_size=rows, max_size=rows)), kind)
    if pa.types.is_float16(kind):
        return pa.array(draw(st.lists(st.floats(width=16), min_size=rows, max_size=rows)), pa.float32()).cast(kind)
    return pa.nulls(rows, kind) if draw(st.booleans()) else pa.array([None] * rows, kind)


@given(data=st.data(), rows=st.integers(min_value=0, max_value=4), replace=st.booleans(), fmt=st.sampled_from(
    ["csv", "parquet"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_arrow_tables_never_crash_nor_lose_a_line(tmp_path: Path, data: st.DataObject, rows: int,
                                                          replace: bool, fmt: str) -> None:
    base = {column: pa.array([template.format(n=n) for n in range(rows)], pa.string())
            for column, template in zip(HEADER, ["A{n}", "M{n}", "1980-05-01", "2026-03-04", "09:00", "09:30",
                                                  "T1017", "HE", "TF", "S1", "111", "monitoring", "x"], strict=True)}
    target = data.draw(st.sampled_from(HEADER)) if replace else "extra"
    base[target] = data.draw(_arrow_column(rows))
    export = tmp_path / "export.parquet"
    pq.write_table(pa.table(base), export)
    out = tmp_path / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(out), "--no-ledger",
                     "--json", "--format", fmt, "--max-input-errors", "1"])
    assert code in (0, 1, 65), stderr.getvalue()
    assert "Traceback" not in stderr.getvalue()
    if code in (0, 1):
        counts = json.loads(stdout.getvalue())["counts"]
        assert counts["lines_in"] == rows == counts["lines_clean"] + counts["lines_rejected"]
        clean = read_csv(out / "clean.csv") if fmt == "csv" else pq.read_table(out / "clean.parquet").to_pylist()
        assert len(clean) == counts["lines_clean"]
