"""Inputs that once crashed or leaked: each must end in a finding or its exit code, and no PHI on screen."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmclaims.cli import main
from tests.helpers import read_csv, write_csv

LINE = {"claim_id": "A1", "member_id": "M1", "member_dob": "1980-05-01", "service_date": "2026-03-04",
        "start_time": "09:00", "end_time": "09:30", "hcpcs": "T1017", "modifier1": "HE", "modifier2": "HN",
        "staff_id": "S1", "program": "110"}


def _validate(tmp_path: Path, export: Path, *extra: str) -> int:
    return main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "out"),
                 "--no-ledger", "--max-input-errors", "1", *extra])  # small files of mostly bad lines


def test_parquet_date_columns_written_as_timestamps_are_dates(tmp_path: Path) -> None:
    frame = pd.DataFrame([LINE, {**LINE, "claim_id": "A2", "start_time": "10:00", "end_time": "10:30"}])
    frame["service_date"] = pd.to_datetime(frame["service_date"])
    frame["member_dob"] = pd.to_datetime(frame["member_dob"])
    frame.to_parquet(tmp_path / "export.parquet")
    assert _validate(tmp_path, tmp_path / "export.parquet", "--format", "csv") == 0
    assert [row["claim_id"] for row in read_csv(tmp_path / "out" / "clean.csv")] == ["A1", "A2"]


def test_old_mac_line_endings_are_a_clear_exit_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(("\r".join([",".join(LINE), ",".join(LINE.values())]) + "\r").encode())
    assert _validate(tmp_path, export) == 65
    assert "carriage return" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("output", ["csv", "parquet"])
def test_a_nested_parquet_column_is_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    output: str) -> None:
    table = pa.table({**{k: [v] for k, v in LINE.items()}, "tags": [["a", "b"]]})
    pq.write_table(table, tmp_path / "export.parquet")
    assert _validate(tmp_path, tmp_path / "export.parquet", "--format", output) == 65
    err = capsys.readouterr().err
    assert "export.parquet" in err and "'tags'" in err and "no text form" in err
    assert not list((tmp_path / "out").glob("*.*"))


def test_side_file_values_are_never_printed_nor_read_as_markup(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    export = write_csv(tmp_path / "export.csv", [LINE])
    stays = write_csv(tmp_path / "stays.csv", [{"member_id": "M1", "setting": "[/x] jane doe 1980-01-01",
                                                "admit_date": "2026-01-01", "discharge_date": ""}])
    code = _validate(tmp_path, export, "--stays", str(stays))
    out = capsys.readouterr()
    assert code in (0, 1)  # the run went through: the odd value neither crashed the summary nor got printed
    assert "jane doe" not in out.out + out.err and "1980-01-01" not in out.out + out.err
    assert "stays.csv row 1, setting" in out.out


def test_library_warnings_quoting_a_value_do_not_reach_stderr(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    export = write_csv(tmp_path / "export.csv", [{**LINE, "member_dob": "Jan 2 1980 00:00 JDOE"}])
    _validate(tmp_path, export)
    out = capsys.readouterr()
    assert "JDOE" not in out.out + out.err


def test_numbers_beyond_any_real_amount_are_findings_not_overflows(tmp_path: Path) -> None:
    export = write_csv(tmp_path / "export.csv", [{**LINE, "units": "99999999999", "charge": "1e400"}])
    assert _validate(tmp_path, export) == 1
    findings = {(row["rule"], row["message"].split(" '")[0]) for row in read_csv(tmp_path / "out" / "exceptions.csv")}
    assert findings == {("CM005", "units"), ("CM005", "charge")}
    summary = (tmp_path / "out" / "summary.json").read_text()
    assert "Infinity" not in summary and "-2147483648" not in summary


def test_a_stray_quote_is_data_wherever_its_row_is(tmp_path: Path) -> None:
    rows = [{**LINE, "claim_id": f"Q{i}", "start_time": f"{9 + i}:00", "end_time": f"{9 + i}:30",
             "note": '5" tall'} for i in range(3)]
    export = tmp_path / "export.csv"
    header = ",".join(rows[0])
    export.write_text("\n".join([header] + [",".join(r.values()) for r in rows]) + "\n")
    assert _validate(tmp_path, export) == 0
    assert [row["claim_id"] for row in read_csv(tmp_path / "out" / "clean.csv")] == ["Q0", "Q1", "Q2"]


def test_an_unclosed_quote_on_the_last_row_is_still_caught(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    header = ",".join([*LINE, "note"])
    good = ",".join([*LINE.values(), "fine"])
    export.write_text(f"{header}\n{good}\n" + ",".join([*LINE.values()]).replace("A1", "A2") + ',"never closed\n')
    assert _validate(tmp_path, export) == 1
    rejected = [(row["source_row"], row["rule"]) for row in read_csv(tmp_path / "out" / "exceptions.csv")]
    assert rejected == [("2", "CM001")]


def test_a_two_digit_birth_year_is_never_in_the_future(tmp_path: Path) -> None:
    """3/4/27 read in 2026 is 1927 (a member of 99), not 2027 (born after the service, CM011)."""
    export = write_csv(tmp_path / "export.csv", [{**LINE, "member_dob": "3/4/27"}])
    assert _validate(tmp_path, export) == 0
    assert read_csv(tmp_path / "out" / "exceptions.csv") == []


def test_a_two_digit_birth_year_is_a_member_of_the_1900s(tmp_path: Path) -> None:
    """SPEC section 2: a birth date 11/11/11 is 1911. Wraparound case management (TF) ends at
    age 20: the member of 114 (on a March 2026 service) is held back, the same date with four
    digits (a 14-year-old) bills."""
    wraparound = {**LINE, "modifier2": "TF", "program": "111"}
    export = write_csv(tmp_path / "export.csv", [
        {**wraparound, "member_dob": "11/11/11"},
        {**wraparound, "claim_id": "A2", "member_id": "M2", "member_dob": "11/11/2011", "staff_id": "S2"},
    ])
    _validate(tmp_path, export)
    held = {row["claim_id"]: row for row in read_csv(tmp_path / "out" / "exceptions.csv")}
    assert list(held) == ["A1"]
    assert held["A1"]["rule"] == "CM501" and "member is 114" in held["A1"]["message"]
    assert [row["claim_id"] for row in read_csv(tmp_path / "out" / "clean.csv")] == ["A2"]
