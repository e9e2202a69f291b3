"""Reading exports: every data row is either parsed or reported bad, with its row number in the file.

Row numbers are what a clerk uses to find a line in the export: the header is
row 0, the first data row is row 1, and a blank line still takes a number.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cmclaims.errors import InputMissing, InputUnusable
from cmclaims.io.batch import read_batch
from cmclaims.io.reader import read_source
from cmclaims.pipeline.validate import ValidateRequest, validate
from cmclaims.schema.columns import ENCOUNTER
from tests.helpers import TODAY, read_csv

HEADER = "claim_id,member_id,member_dob,service_date,start_time,end_time,hcpcs,staff_id,note"
LINE = "C{0},M1,2010-05-01,2026-03-04,09:00,09:30,T1017,S1,note {0}"


def row(i: int, note: str | None = None) -> str:
    text = LINE.format(i)
    return text if note is None else text.replace(f"note {i}", note)


def read(tmp_path: Path, text: str | bytes, name: str = "export.csv") -> tuple[list[str], list[int], list[int]]:
    """(claim ids parsed, their row numbers, the row numbers of bad rows)."""
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    source = read_source(path, ENCOUNTER)
    claims = source.table.column(source.columns["claim_id"]).to_pylist()
    return claims, source.rows.tolist(), [bad.row for bad in source.bad_rows]


def lines(*rows: str, ending: str = "\n", last_newline: bool = True) -> str:
    return ending.join([HEADER, *rows]) + (ending if last_newline else "")


# --- row numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize("last_newline", [True, False])
def test_rows_are_numbered_from_one_after_the_header(tmp_path: Path, ending: str, last_newline: bool) -> None:
    text = lines(row(1), row(2), row(3), ending=ending, last_newline=last_newline)
    assert read(tmp_path, text) == (["C1", "C2", "C3"], [1, 2, 3], [])


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_blank_lines_keep_their_row_number(tmp_path: Path, ending: str) -> None:
    text = lines("", row(2), row(3), "", "", row(6), "", ending=ending)
    assert read(tmp_path, text) == (["C2", "C3", "C6"], [2, 3, 6], [])


def test_a_ragged_row_is_reported_and_the_rest_are_read(tmp_path: Path) -> None:
    text = lines(row(1), row(2) + ",one too many", row(3), row(4).rsplit(",", 1)[0], row(5))
    path = tmp_path / "export.csv"
    path.write_text(text)
    source = read_source(path, ENCOUNTER)
    assert source.table.column("claim_id").to_pylist() == ["C1", "C3", "C5"]
    assert source.rows.tolist() == [1, 3, 5]
    assert [(b.row, b.problem) for b in source.bad_rows] == [
        (2, "it has 10 values where the header has 9"),
        (4, "it has 8 values where the header has 9"),
    ]


def test_an_unmatched_quote_does_not_swallow_the_rows_after_it(tmp_path: Path) -> None:
    text = lines(row(1), row(2, '"never closed'), row(3), row(4))
    assert read(tmp_path, text) == (["C1", "C3", "C4"], [1, 3, 4], [2])


@pytest.mark.parametrize("last_newline", [True, False])
def test_an_unmatched_quote_on_the_last_row_is_reported(tmp_path: Path, last_newline: bool) -> None:
    # The parser itself would take the quote as running to the end of the file.
    text = lines(row(1), row(2, '"never closed'), last_newline=last_newline)
    assert read(tmp_path, text) == (["C1"], [1], [2])


def test_a_quote_inside_a_value_is_data_with_or_without_blank_lines(tmp_path: Path) -> None:
    plain = lines(row(1), row(2, 'about 5" of snow'), row(3))
    assert read(tmp_path, plain) == (["C1", "C2", "C3"], [1, 2, 3], [])
    with_blank = lines(row(1), "", row(3, 'about 5" of snow'), row(4))
    assert read(tmp_path, with_blank) == (["C1", "C3", "C4"], [1, 3, 4], [])


def test_quoted_values_with_commas_and_doubled_quotes_are_read(tmp_path: Path) -> None:
    text = lines(row(1, '"called, no answer"'), row(2, '"said ""yes"""'))
    path = tmp_path / "export.csv"
    path.write_text(text)
    source = read_source(path, ENCOUNTER)
    assert source.table.column("note").to_pylist() == ["called, no answer", 'said "yes"']
    assert source.rows.tolist() == [1, 2]


def test_a_quoted_value_spanning_lines_is_one_row_and_rows_keep_their_data_numbers(tmp_path: Path) -> None:
    # SPEC section 2 (RFC 4180): the note is one value; C4 is the third data row.
    text = lines(row(1), row(2, '"first line'), 'second line"', row(4))
    assert read(tmp_path, text) == (["C1", "C2", "C4"], [1, 2, 3], [])
    path = tmp_path / "export.csv"
    assert read_source(path, ENCOUNTER).table.column("note").to_pylist()[1] == "first line\nsecond line"


def test_ragged_rows_unmatched_quotes_and_blank_lines_together(tmp_path: Path) -> None:
    text = lines("", row(2), row(3) + ",x", "", row(5, '"open'), row(6), "")
    assert read(tmp_path, text) == (["C2", "C6"], [2, 6], [3, 5])


def test_a_file_with_only_a_header_has_no_rows(tmp_path: Path) -> None:
    assert read(tmp_path, HEADER + "\n") == ([], [], [])
    assert read(tmp_path, HEADER) == ([], [], [])
    assert read(tmp_path, HEADER + "\n\n\n") == ([], [], [])


@st.composite
def messy_files(draw: st.DrawFn) -> tuple[str, list[int], list[int]]:
    """A file of good, blank, ragged, multi-line and (at most one) unclosed rows: its text, good and bad rows.

    Rows are numbered as SPEC section 3 says: the header is row 0, a blank line
    takes a number, a value spanning lines is one row; a quote that never closes
    makes its row bad, and the lines after it are rows of their own.
    """
    kinds = draw(st.lists(st.sampled_from(["good", "good", "good", "blank", "ragged", "short", "spanning",
                                           "quote"]), min_size=1, max_size=30))
    if "quote" in kinds:  # a second open quote would close the first: one a file, and no quoted value after it
        first = kinds.index("quote")
        kinds = kinds[: first + 1] + [k if k not in ("quote", "spanning") else "good" for k in kinds[first + 1 :]]
    texts, good, bad = [], [], []
    for number, kind in enumerate(kinds, start=1):
        texts.append({"good": row(number), "blank": "", "ragged": row(number) + ",x",
                      "short": row(number).rsplit(",", 1)[0], "quote": row(number, '"open'),
                      "spanning": row(number, '"line one\nline two"')}[kind])
        if kind == "spanning":
            kind = "good"
        if kind == "good":
            good.append(number)
        elif kind != "blank":
            bad.append(number)
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return lines(*texts, ending=ending, last_newline=draw(st.booleans())), good, bad


@given(messy_files())
@example((lines(row(1, '"open'), row(2), last_newline=False), [2], [1]))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_row_is_read_or_reported_with_its_own_number(tmp_path: Path, case: tuple) -> None:
    text, good, bad = case
    claims, rows, bad_rows = read(tmp_path, text)
    assert rows == good
    assert claims == [f"C{n}" for n in good]
    assert bad_rows == bad


# --- encodings ---------------------------------------------------------------------------------


def test_utf8_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + lines(row(1, "café"), "", row(3)).encode())
    source = read_source(path, ENCOUNTER)
    assert source.encoding == "utf-8-sig"
    assert "claim_id" in source.columns  # the mark is not part of the first header
    assert source.table.column("note").to_pylist() == ["café", "note 3"]
    assert source.rows.tolist() == [1, 3]


def test_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(lines(row(1, "café – résumé"), row(2)).encode("cp1252"))
    source = read_source(path, ENCOUNTER)
    assert source.encoding == "cp1252"
    assert source.table.column("note").to_pylist() == ["café – résumé", "note 2"]


def test_windows_1252_with_ragged_and_unbalanced_rows(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    text = lines(row(1, "café"), "", row(3, "résumé") + ",x", row(4, '"déjà'), row(5, "naïve"))
    path.write_bytes(text.encode("cp1252"))
    source = read_source(path, ENCOUNTER)
    assert source.encoding == "cp1252"
    assert source.table.column("note").to_pylist() == ["café", "naïve"]
    assert source.rows.tolist() == [1, 5]
    assert [b.row for b in source.bad_rows] == [3, 4]


def test_windows_1252_beyond_the_first_block(tmp_path: Path) -> None:
    # the é sits far beyond the first 64 KiB the reader looks at for the header
    rows = [row(i) for i in range(1, 3001)] + [row(3001, "café")]
    path = tmp_path / "export.csv"
    path.write_bytes(lines(*rows).encode("cp1252"))
    source = read_source(path, ENCOUNTER)
    assert source.encoding == "cp1252"
    assert source.table.column("note").to_pylist()[-1] == "café"
    assert source.table.num_rows == 3001


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_other_delimiters(tmp_path: Path, delimiter: str) -> None:
    text = lines(row(1), row(2)).replace(",", delimiter)
    assert read(tmp_path, text) == (["C1", "C2"], [1, 2], [])


# --- headers -----------------------------------------------------------------------------------


def test_headers_match_case_insensitively_after_trimming(tmp_path: Path) -> None:
    header = " Claim_ID ,MEMBER_ID,Member DOB,Service-Date,start_time,END_TIME,HCPCS,Staff_Id,Note"
    path = tmp_path / "export.csv"
    path.write_text(header + "\n" + row(1) + "\n")
    source = read_source(path, ENCOUNTER)
    assert set(ENCOUNTER.required) <= set(source.columns)
    assert source.table.column(source.columns["member_dob"]).to_pylist() == ["2010-05-01"]


def test_a_column_map_names_the_exports_own_header(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(HEADER.replace("member_id", "Client Number") + "\n" + row(1) + "\n")
    with pytest.raises(InputUnusable, match="has no member_id column"):
        read_source(path, ENCOUNTER)
    source = read_source(path, ENCOUNTER, {"member_id": "client number"})
    assert source.table.column(source.columns["member_id"]).to_pylist() == ["M1"]


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(HEADER.replace("staff_id,", "") + "\n")
    with pytest.raises(InputUnusable, match="has no staff_id column"):
        read_source(path, ENCOUNTER)


def test_two_columns_with_one_name_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + ",Member_ID\n")
    with pytest.raises(InputUnusable, match="two columns named 'member_id'"):
        read_source(path, ENCOUNTER)


# --- files that cannot be read -----------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_unusable(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(InputUnusable, match="empty"):
        read_source(path, ENCOUNTER)


def test_a_workbook_renamed_csv_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    with zipfile.ZipFile(path, "w") as workbook:
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(InputUnusable, match="Excel workbook"):
        read_source(path, ENCOUNTER)


def test_a_parquet_file_named_csv_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    pq.write_table(pa.table({"claim_id": ["C1"]}), path)
    with pytest.raises(InputUnusable, match="Parquet"):
        read_source(path, ENCOUNTER)


def test_an_unsupported_extension_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_text(lines(row(1)))
    with pytest.raises(InputUnusable, match=r"'\.xlsx' is not an input"):
        read_source(path, ENCOUNTER)


@pytest.mark.parametrize("name", ["missing.csv", "missing.parquet", "missing.xlsx"])
def test_a_missing_file_is_missing_whatever_its_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputMissing, match="not found"):
        read_source(tmp_path / name, ENCOUNTER)


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "export.csv").mkdir()
    with pytest.raises(InputMissing, match="folder"):
        read_source(tmp_path / "export.csv", ENCOUNTER)


# --- Parquet and batches -----------------------------------------------------------------------


def test_parquet_rows_are_numbered_and_ids_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    table = pa.table({name: [f"{name}-{i}" for i in range(3)] for name in HEADER.split(",")})
    table = table.set_column(1, "member_id", pa.array(["007", "008", "009"]))
    pq.write_table(table, path)
    source = read_source(path, ENCOUNTER)
    assert source.format == "parquet"
    assert source.rows.tolist() == [1, 2, 3]
    assert source.table.column("member_id").to_pylist() == ["007", "008", "009"]


def test_a_batch_numbers_each_file_on_its_own_and_puts_bad_rows_last(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(lines(row(1), row(2) + ",x", row(3)))
    second.write_text(lines("", row(12), row(13, '"open'), row(14)))
    batch = read_batch([first, second], ENCOUNTER)
    assert batch.parsed_count == 4
    assert batch.file_index.tolist() == [0, 0, 1, 1, 0, 1]
    assert batch.source_row.tolist() == [1, 3, 2, 4, 2, 3]
    assert batch.text_column("claim_id").to_pylist() == ["C1", "C3", "C12", "C14"]


# --- through the validator ---------------------------------------------------------------------


def test_unparseable_rows_are_rejected_with_cm001_and_their_row_numbers(tmp_path: Path) -> None:
    """SPEC section 3: nothing is dropped; the bad rows are rejected, the others validated."""
    good = "{0},M1,2010-05-01,2026-03-04,{1}:00,{1}:30,T1017,HE,TF,S1,111"
    header = "claim_id,member_id,member_dob,service_date,start_time,end_time,hcpcs,modifier1,modifier2,staff_id,program"
    text = "\n".join([
        header,
        good.format("A1", "08"),
        "",
        good.format("A3", "09") + ",extra",
        good.format("A4", "10").replace("S1", '"S1'),
        good.format("A5", "11"),
    ]) + "\n"
    export = tmp_path / "export.csv"
    export.write_text(text)
    result = validate(ValidateRequest(inputs=[export], profile="ok-soonercare", out=tmp_path / "out", today=TODAY,
                                      max_input_errors=1.0))  # half the lines are bad on purpose
    clean = read_csv(tmp_path / "out" / "clean.csv")
    exceptions = read_csv(tmp_path / "out" / "exceptions.csv")
    assert [r["claim_id"] for r in clean] == ["A1", "A5"]
    assert [(r["rule"], r["source_row"], r["disposition"]) for r in exceptions] == [
        ("CM001", "3", "rejected"), ("CM001", "4", "rejected")]
    assert "row 3 of" in exceptions[0]["message"] and "values where the header has 11" in exceptions[0]["message"]
    assert "a quoted value opens on this line and never closes" in exceptions[1]["message"]
    counts = result.summary["counts"]
    assert (counts["lines_in"], counts["lines_clean"], counts["lines_rejected"]) == (4, 2, 2)
    assert result.exit_code == 1
