"""`cmclaims validate` as the clerk's cron job runs it: exit codes, both output files, stdout and stderr.

Each test writes an export to a temporary folder, runs the real command
(`cmclaims.cli.main`, or a subprocess for the process exit code) and reads
back what it wrote.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmclaims.cli import main
from tests.helpers import new_ledger, read_csv, write_csv

REPO = Path(__file__).resolve().parent.parent
ERROR_MEMBER = "MBR-778899"  # PHI that must never reach the terminal
ERROR_DOB = "1961-07-15"


@pytest.fixture(autouse=True)
def _workplace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in a temporary folder with a ledger of its own and no colour."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMCLAIMS_LEDGER", str(new_ledger(tmp_path / "ledger.sqlite3")))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CMCLAIMS_DEBUG", raising=False)


def line(claim: str, start: str, end: str, **values: object) -> dict:
    """A clean ok-soonercare T1017 HE TF line for member M1 on 2026-03-04, with `values` changed."""
    return {
        "claim_id": claim, "member_id": "M1", "member_dob": "2010-05-01", "service_date": "2026-03-04",
        "start_time": start, "end_time": end, "hcpcs": "T1017", "modifier1": "HE", "modifier2": "TF",
        "staff_id": "S1", "program": "111", **values,
    }


CLEAN = [line("A1", "09:00", "09:30", units=2), line("A2", "10:00", "11:00", units=4)]
SPEC_EXAMPLE = [
    line("A1", "09:00", "11:30", units=10),
    line("A2", "12:00", "14:30", units=10),
    line("A3", "15:00", "16:15", units=5),
]


def validate(tmp_path: Path, rows: list[dict] | None, *options: str, inputs: list[Path] | None = None,
             profile: str = "ok-soonercare") -> int:
    """Write `rows` as export.csv (unless `inputs` are given) and run `cmclaims validate` on them."""
    if inputs is None:
        inputs = [write_csv(tmp_path / "export.csv", rows or [])]
    return main(["validate", *map(str, inputs), "--profile", profile, "--out", str(tmp_path / "out"), *options])


def clean(tmp_path: Path) -> list[dict[str, str]]:
    return read_csv(tmp_path / "out" / "clean.csv")


def exceptions(tmp_path: Path) -> list[dict[str, str]]:
    return read_csv(tmp_path / "out" / "exceptions.csv")


def summary(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / "summary.json").read_text())


def outputs(tmp_path: Path) -> list[str]:
    folder = tmp_path / "out"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- exit codes 0 and 1 ------------------------------------------------------------------------


def test_all_clean_exits_0_and_bills_every_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(tmp_path, CLEAN) == 0
    rows = clean(tmp_path)
    assert [(r["claim_id"], r["billable_minutes"], r["billable_units"], r["disposition"]) for r in rows] == [
        ("A1", "30", "2", "pass"), ("A2", "60", "4", "pass")]
    assert rows[0]["member_id"] == "M1" and rows[0]["modifier2"] == "TF"  # input columns as they came
    assert exceptions(tmp_path) == []
    assert (tmp_path / "out" / "exceptions.csv").read_text().startswith('"claim_id","source_file","source_row"')
    counts = summary(tmp_path)["counts"]
    assert (counts["lines_in"], counts["lines_clean"], counts["lines_rejected"]) == (2, 2, 0)
    assert "no findings" in capsys.readouterr().out


def test_a_rejected_line_exits_1_unless_exit_zero(tmp_path: Path) -> None:
    rows = [*CLEAN, line("A3", "12:00", "12:05")]  # 5 minutes earn nothing
    assert validate(tmp_path, rows) == 1
    assert [r["claim_id"] for r in clean(tmp_path)] == ["A1", "A2"]
    assert [(r["claim_id"], r["rule"], r["disposition"]) for r in exceptions(tmp_path)] == [
        ("A3", "CM101", "rejected")]
    assert validate(tmp_path, rows, "--exit-zero") == 0
    assert [r["claim_id"] for r in clean(tmp_path)] == ["A1", "A2"]  # the same outputs, only the code differs


def test_an_adjusted_line_exits_1(tmp_path: Path) -> None:
    assert validate(tmp_path, [line("A1", "09:00", "09:30", units=3)]) == 1
    assert [(r["claim_id"], r["billable_units"], r["disposition"]) for r in clean(tmp_path)] == [
        ("A1", "2", "adjusted")]
    [finding] = exceptions(tmp_path)
    assert (finding["rule"], finding["disposition"], finding["units_billed"], finding["units_allowed"]) == (
        "CM102", "adjusted", "3", "2")


def test_a_header_only_export_is_a_quiet_night(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(",".join(line("A1", "", "")) + "\n")
    assert validate(tmp_path, None, inputs=[export]) == 0
    assert clean(tmp_path) == [] and exceptions(tmp_path) == []
    assert summary(tmp_path)["counts"]["lines_in"] == 0


def test_the_process_exit_code(tmp_path: Path) -> None:
    export = write_csv(tmp_path / "export.csv", [*CLEAN, line("A3", "12:00", "12:05")])
    command = [sys.executable, "-m", "cmclaims", "validate", str(export), "--profile", "ok-soonercare",
               "--out", str(tmp_path / "out")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**os.environ}, check=False)
    assert result.returncode == 1, result.stderr
    assert subprocess.run([*command, "--exit-zero"], capture_output=True, cwd=REPO, check=False).returncode == 0


# --- SPEC section 5's example ------------------------------------------------------------------


def test_spec_limit_example_reject_mode(tmp_path: Path) -> None:
    assert validate(tmp_path, SPEC_EXAMPLE) == 1
    assert [(r["claim_id"], r["billable_units"], r["disposition"]) for r in clean(tmp_path)] == [
        ("A1", "10", "pass"), ("A3", "5", "pass")]
    [finding] = exceptions(tmp_path)
    assert (finding["claim_id"], finding["rule"], finding["disposition"], finding["units_billed"],
            finding["units_allowed"]) == ("A2", "CM201", "rejected", "10", "0")
    assert "would go over the daily limit of 16 for T1017 HE TF" in finding["message"]
    assert summary(tmp_path)["units"]["units_billable"] == 15


def test_spec_limit_example_cutback_mode(tmp_path: Path) -> None:
    assert validate(tmp_path, SPEC_EXAMPLE, "--over-limit", "cutback") == 1
    assert [(r["claim_id"], r["billable_units"], r["disposition"]) for r in clean(tmp_path)] == [
        ("A1", "10", "pass"), ("A2", "6", "adjusted")]
    assert [(r["claim_id"], r["rule"], r["disposition"], r["units_allowed"]) for r in exceptions(tmp_path)] == [
        ("A2", "CM201", "adjusted", "6"), ("A3", "CM201", "rejected", "0")]
    assert summary(tmp_path)["units"]["units_billable"] == 16


# --- usage and configuration errors: 2 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--profile", "nowhere-medicaid"], "unknown profile"),
        (["--over-limit", "sometimes"], "--over-limit must be reject or cutback"),
        (["--format", "xlsx"], "--format must be csv or parquet"),
        (["--no-such-option"], "No such option"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    export = write_csv(tmp_path / "export.csv", CLEAN)
    argv = ["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "out")]
    if options[0] == "--profile":
        argv[argv.index("ok-soonercare")] = options[1]
    else:
        argv += options
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert outputs(tmp_path) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('member_id = "Client Number"\nnot_a_column = "X"\n', "'not_a_column' is not a column cmclaims knows"),
        ("member_id = 7\n", "must be non-empty text"),
        ('member_id = "Client Number\n', "is not valid TOML"),
    ],
)
def test_a_bad_column_map_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                                  message: str) -> None:
    (tmp_path / "map.toml").write_text(content)
    assert validate(tmp_path, CLEAN, "--column-map", str(tmp_path / "map.toml")) == 2
    assert message in capsys.readouterr().err
    assert outputs(tmp_path) == []


def test_a_missing_column_map_exits_2(tmp_path: Path) -> None:
    assert validate(tmp_path, CLEAN, "--column-map", str(tmp_path / "nowhere.toml")) == 2


# --- unusable input: 65; missing input: 66 -----------------------------------------------------


def test_a_missing_required_column_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{k: v for k, v in row.items() if k != "staff_id"} for row in CLEAN]
    assert validate(tmp_path, rows) == 65
    assert "has no staff_id column" in capsys.readouterr().err
    assert outputs(tmp_path) == []


def test_an_empty_file_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "export.csv").write_bytes(b"")
    assert validate(tmp_path, None, inputs=[tmp_path / "export.csv"]) == 65
    assert "empty" in capsys.readouterr().err


def test_a_workbook_renamed_csv_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.csv"
    with zipfile.ZipFile(export, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
    assert validate(tmp_path, None, inputs=[export]) == 65
    assert "not a CSV file" in capsys.readouterr().err


def test_binary_data_named_csv_exits_65(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(b"claim_id,member_id\x00\x01\x02\n")
    assert validate(tmp_path, None, inputs=[export]) == 65


def test_an_unsupported_extension_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = write_csv(tmp_path / "export.xlsx", CLEAN)
    assert validate(tmp_path, None, inputs=[export]) == 65
    assert ".xlsx" in capsys.readouterr().err


def test_a_missing_file_exits_66(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(tmp_path, None, inputs=[tmp_path / "nowhere.csv"]) == 66
    assert "not found" in capsys.readouterr().err
    assert outputs(tmp_path) == []


def test_one_missing_file_among_several_exits_66_and_writes_nothing(tmp_path: Path) -> None:
    export = write_csv(tmp_path / "export.csv", CLEAN)
    assert validate(tmp_path, None, inputs=[export, tmp_path / "nowhere.parquet"]) == 66
    assert outputs(tmp_path) == []


# --- cannot write: 73 --------------------------------------------------------------------------


def test_an_output_folder_under_a_regular_file_exits_73(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = write_csv(tmp_path / "export.csv", CLEAN)
    (tmp_path / "afile").write_text("not a folder")
    code = main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "afile" / "out")])
    assert code == 73
    assert "cannot create the output folder" in capsys.readouterr().err


def test_an_output_folder_that_is_a_file_exits_73(tmp_path: Path) -> None:
    export = write_csv(tmp_path / "export.csv", CLEAN)
    (tmp_path / "out").write_text("not a folder")
    assert main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "out")]) == 73


# --- internal errors: 70 -----------------------------------------------------------------------


def _explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError(f"cannot place member {ERROR_MEMBER} born {ERROR_DOB}")


@pytest.mark.parametrize(
    "target",
    ["cmclaims.pipeline.validate.run_checks", "cmclaims.pipeline.validate.exceptions_file",
     "cmclaims.rules.limits.apply_limits"],
)
def test_a_bug_exits_70_without_phi_or_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    monkeypatch.setattr(target, _explode)
    assert validate(tmp_path, CLEAN) == 70
    captured = capsys.readouterr()
    assert "internal error RuntimeError" in captured.err
    assert ERROR_MEMBER not in captured.err + captured.out
    assert ERROR_DOB not in captured.err + captured.out
    assert outputs(tmp_path) == []


def test_a_bug_while_writing_leaves_the_previous_outputs_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import cmclaims.io.writer

    assert validate(tmp_path, CLEAN) == 0
    before = {name: (tmp_path / "out" / name).read_bytes() for name in outputs(tmp_path)}
    assert sorted(before) == ["clean.csv", "exceptions.csv", "summary.json"]
    monkeypatch.setattr(cmclaims.io.writer, "escape_formulas", _explode)
    rows = [line("B1", "09:00", "09:45", units=3), line("B2", "13:00", "13:30", units=2)]
    assert validate(tmp_path, rows) == 70
    captured = capsys.readouterr()
    assert ERROR_MEMBER not in captured.err + captured.out
    assert outputs(tmp_path) == sorted(before)  # no temporary file left behind either
    assert {name: (tmp_path / "out" / name).read_bytes() for name in before} == before


# --- stdout: --json and --quiet ----------------------------------------------------------------


def test_json_prints_exactly_one_json_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(tmp_path, SPEC_EXAMPLE, "--json") == 1
    document = json.loads(capsys.readouterr().out)  # fails on anything before or after the document
    assert document == summary(tmp_path)
    assert document["counts"]["lines_in"] == 3
    assert document["counts"]["lines_rejected"] == 1
    assert [(f["rule"], f["findings"]) for f in document["findings"]] == [("CM201", 1)]


def test_quiet_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(tmp_path, SPEC_EXAMPLE, "--quiet") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(clean(tmp_path)) == 2


def test_the_human_summary_shows_counts_and_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(tmp_path, SPEC_EXAMPLE) == 1
    out = capsys.readouterr().out
    assert "CM201" in out and "limits.daily" in out
    assert "rejected" in out


def test_the_summary_says_what_the_ledger_recorded_and_when_a_run_replaces_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def printed() -> str:
        return " ".join(capsys.readouterr().out.split())  # as read, whatever the terminal's wrapping

    assert validate(tmp_path, CLEAN) == 0
    first = printed()
    assert "0 earlier lines read, 2 lines recorded" in first
    assert "validated before" not in first
    assert validate(tmp_path, CLEAN) == 0
    assert "these exports were validated before: execution 2 replaces the earlier one" in printed()
    assert validate(tmp_path, CLEAN, "--dry-run") == 0
    assert "dry run, nothing recorded" in printed()


# --- encodings and broken rows -----------------------------------------------------------------


def _csv_text(rows: list[dict]) -> str:
    write_csv(Path("scratch.csv"), rows)
    return Path("scratch.csv").read_text()


def test_a_utf8_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(b"\xef\xbb\xbf" + _csv_text([line("A1", "09:00", "09:30", note="café")]).encode())
    assert validate(tmp_path, None, inputs=[export]) == 0
    [row] = clean(tmp_path)
    assert row["claim_id"] == "A1" and row["note"] == "café"
    assert summary(tmp_path)["inputs"][0]["encoding"] == "utf-8-sig"


def test_a_windows_1252_file(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(_csv_text([line("A1", "09:00", "09:30", note="café, réunion"), *CLEAN[1:]]).encode("cp1252"))
    assert validate(tmp_path, None, inputs=[export]) == 0
    rows = clean(tmp_path)  # read back as UTF-8
    assert [r["note"] for r in rows] == ["café, réunion", ""]
    assert summary(tmp_path)["inputs"][0]["encoding"] == "cp1252"


def test_ragged_rows_and_an_unmatched_quote_are_rejected_and_the_rest_validated(tmp_path: Path) -> None:
    good = _csv_text([line("A1", "08:00", "08:30"), line("A5", "11:00", "11:30"), line("A7", "12:00", "12:30")])
    header, first, fifth, seventh = good.splitlines()
    ragged = first.replace("A1", "A3").replace("08:", "09:") + ",surplus"
    unmatched = first.replace("A1", "A4").replace("08:", "10:").replace("S1", '"S1')
    export = tmp_path / "export.csv"
    # rows: 1 A1, 2 blank, 3 ragged, 4 unmatched quote, 5 A5, 6 blank, 7 A7
    export.write_text("\n".join([header, first, "", ragged, unmatched, fifth, "", seventh]) + "\n")
    # 2 of 5 lines unreadable: more than the default --max-input-errors, which this test is not about
    assert validate(tmp_path, None, "--max-input-errors", "1", inputs=[export]) == 1
    assert [r["claim_id"] for r in clean(tmp_path)] == ["A1", "A5", "A7"]
    found = [(r["source_row"], r["rule"], r["disposition"], r["source_file"]) for r in exceptions(tmp_path)]
    assert found == [("3", "CM001", "rejected", str(export)), ("4", "CM001", "rejected", str(export))]
    counts = summary(tmp_path)["counts"]
    assert (counts["lines_in"], counts["lines_clean"], counts["lines_rejected"]) == (5, 3, 2)


# --- Parquet -----------------------------------------------------------------------------------


def _parquet(path: Path, rows: list[dict]) -> Path:
    columns = list(rows[0])
    pq.write_table(pa.table({c: [str(r.get(c, "")) for r in rows] for c in columns}), path)
    return path


def test_parquet_in_gives_parquet_out(tmp_path: Path) -> None:
    export = _parquet(tmp_path / "export.parquet", SPEC_EXAMPLE)
    assert validate(tmp_path, None, inputs=[export]) == 1
    assert outputs(tmp_path) == ["clean.parquet", "exceptions.parquet", "summary.json"]
    clean_table = pq.read_table(tmp_path / "out" / "clean.parquet").to_pylist()
    assert [(r["claim_id"], r["billable_units"], r["disposition"]) for r in clean_table] == [
        ("A1", 10, "pass"), ("A3", 5, "pass")]
    found = pq.read_table(tmp_path / "out" / "exceptions.parquet").to_pylist()
    assert [(r["claim_id"], r["rule"], r["source_row"]) for r in found] == [("A2", "CM201", 2)]


def test_format_parquet_from_csv_and_csv_from_parquet(tmp_path: Path) -> None:
    assert validate(tmp_path, CLEAN, "--format", "parquet") == 0
    assert outputs(tmp_path) == ["clean.parquet", "exceptions.parquet", "summary.json"]
    table = pq.read_table(tmp_path / "out" / "clean.parquet")
    assert table.column("claim_id").to_pylist() == ["A1", "A2"]
    assert table.column("billable_units").to_pylist() == [2, 4]
    assert pq.read_table(tmp_path / "out" / "exceptions.parquet").num_rows == 0

    # new claim ids: the ledger would take the same ones for lines billed again
    export = _parquet(tmp_path / "again.parquet", [line("B1", "13:00", "13:30"), line("B2", "14:00", "15:00")])
    (tmp_path / "out").rename(tmp_path / "first")
    assert validate(tmp_path, None, "--format", "csv", inputs=[export]) == 0
    assert outputs(tmp_path) == ["clean.csv", "exceptions.csv", "summary.json"]
    assert [r["claim_id"] for r in clean(tmp_path)] == ["B1", "B2"]


# --- several inputs, column maps, headers ------------------------------------------------------


def test_several_inputs_are_one_batch(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "monday.csv", [line("A1", "09:00", "11:30", units=10),
                                                line("A9", "17:00", "17:30", units=2, member_id="M2")])
    second = write_csv(tmp_path / "tuesday.csv", [line("B1", "12:00", "14:30", units=10),
                                                  line("B2", "15:00", "16:15", units=5)])
    assert validate(tmp_path, None, inputs=[first, second]) == 1
    assert [r["claim_id"] for r in clean(tmp_path)] == ["A1", "A9", "B2"]
    # the daily limit counts both files: B1 is the line that crosses it
    assert [(r["claim_id"], r["source_file"], r["source_row"], r["rule"]) for r in exceptions(tmp_path)] == [
        ("B1", str(second), "1", "CM201")]
    document = summary(tmp_path)
    assert [i["file"] for i in document["inputs"]] == [str(first), str(second)]
    assert document["counts"]["lines_in"] == 4


def test_several_inputs_may_write_modifiers_in_different_columns(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", [line("A1", "09:00", "11:30", units=10)])
    combined = {k: v for k, v in line("B1", "12:00", "14:30", units=10).items() if not k.startswith("modifier")}
    second = write_csv(tmp_path / "b.csv", [{**combined, "modifiers": "HE:TF"}])
    assert validate(tmp_path, None, inputs=[first, second]) == 1
    # B1 is T1017 HE TF like A1, so the daily limit (16) holds it back; nothing else is wrong with it
    assert [(r["claim_id"], r["rule"], r["modifiers"]) for r in exceptions(tmp_path)] == [("B1", "CM201", "HE TF")]


def test_source_rows_count_within_each_file(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", [line("A1", "08:00", "08:30"), line("A2", "09:00", "09:05")])
    second = write_csv(tmp_path / "b.csv", [line("B1", "10:00", "10:05"), line("B2", "11:00", "11:30")])
    assert validate(tmp_path, None, inputs=[first, second]) == 1
    assert [(r["claim_id"], r["source_file"], r["source_row"]) for r in exceptions(tmp_path)] == [
        ("A2", str(first), "2"), ("B1", str(second), "1")]


@pytest.mark.parametrize("under_columns", [False, True])
def test_a_column_map(tmp_path: Path, under_columns: bool) -> None:
    rows = [{("Client Number" if k == "member_id" else k): v for k, v in row.items()} for row in SPEC_EXAMPLE]
    mapping = 'member_id = "Client Number"\nservice_date = "service_date"\n'
    (tmp_path / "map.toml").write_text(("[columns]\n" if under_columns else "") + mapping)
    assert validate(tmp_path, rows) == 65  # without the map there is no member_id
    assert validate(tmp_path, rows, "--column-map", str(tmp_path / "map.toml")) == 1
    assert [r["claim_id"] for r in clean(tmp_path)] == ["A1", "A3"]
    assert clean(tmp_path)[0]["Client Number"] == "M1"  # the export's own header is kept
    assert [(r["claim_id"], r["member_id"]) for r in exceptions(tmp_path)] == [("A2", "M1")]


def test_headers_are_matched_case_insensitively(tmp_path: Path) -> None:
    rename = {"claim_id": "Claim_ID", "member_id": " MEMBER_ID ", "member_dob": "Member DOB", "hcpcs": "HCPCS",
              "start_time": "Start-Time"}
    rows = [{rename.get(k, k): v for k, v in row.items()} for row in SPEC_EXAMPLE]
    assert validate(tmp_path, rows) == 1
    assert [r["Claim_ID"] for r in clean(tmp_path)] == ["A1", "A3"]
    assert [r["claim_id"] for r in exceptions(tmp_path)] == ["A2"]


def test_ids_keep_their_leading_zeros(tmp_path: Path) -> None:
    rows = [line("00123", "09:00", "09:30", member_id="000456", staff_id="0078")]
    assert validate(tmp_path, rows, "--format", "parquet") == 0
    [row] = pq.read_table(tmp_path / "out" / "clean.parquet").to_pylist()
    assert (row["claim_id"], row["member_id"], row["staff_id"]) == ("00123", "000456", "0078")


# --- what the files are like -------------------------------------------------------------------


def test_outputs_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    assert validate(tmp_path, SPEC_EXAMPLE) == 1
    for name in ("clean.csv", "exceptions.csv", "summary.json"):
        mode = stat.S_IMODE((tmp_path / "out" / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {oct(mode)}"


def test_formulas_in_text_cells_are_defused_and_numbers_left_alone(tmp_path: Path) -> None:
    rows = [
        line("A1", "09:00", "09:30", note="=1+1", charge="12.50"),
        line("A2", "10:00", "10:30", note="@SUM(A1)", charge="0"),
        line("A3", "11:00", "11:30", note="-12.50", charge="7"),
        line("A4", "12:00", "12:30", note="+1 555 0100", charge="7"),
        line("A5", "13:00", "13:30", note="=HYPERLINK(\"http://x\")", charge="7", units=3),
    ]
    assert validate(tmp_path, rows) == 1  # A5 is adjusted, so it also appears in the exceptions file
    notes = {r["claim_id"]: (r["note"], r["charge"]) for r in clean(tmp_path)}
    assert notes == {
        "A1": ("'=1+1", "12.50"),
        "A2": ("'@SUM(A1)", "0"),
        "A3": ("-12.50", "7"),
        "A4": ("'+1 555 0100", "7"),
        "A5": ("'=HYPERLINK(\"http://x\")", "7"),
    }


def test_formulas_in_ids_are_defused_in_the_exceptions_file_too(tmp_path: Path) -> None:
    rows = [line("=cmd|' /C calc'!A0", "09:00", "09:05"), line("A2", "10:00", "10:30")]
    assert validate(tmp_path, rows) == 1
    [finding] = exceptions(tmp_path)
    assert finding["claim_id"] == "'=cmd|' /C calc'!A0"


def test_no_member_id_or_birth_date_on_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        line("A1", "09:00", "11:30", units=10, member_id=ERROR_MEMBER, member_dob=ERROR_DOB),
        line("A2", "12:00", "14:30", units=10, member_id=ERROR_MEMBER, member_dob=ERROR_DOB),
        line("A3", "15:00", "15:05", member_id=ERROR_MEMBER, member_dob=ERROR_DOB),
        line("A4", "16:00", "16:30", member_id=ERROR_MEMBER, member_dob="1961-02-30"),
        line("A5", "17:00", "17:30", member_id=ERROR_MEMBER, member_dob=ERROR_DOB, hcpcs="H0038"),
    ]
    # 2 of the 5 lines fail input checks: by default the night is called broken (65), and says so on stderr
    for options in ([], ["--json"], ["--over-limit", "cutback"], ["--max-input-errors", "0.5"]):
        assert validate(tmp_path, rows, *options) == (1 if "--max-input-errors" in options else 65)
        captured = capsys.readouterr()
        for secret in (ERROR_MEMBER, ERROR_DOB, "1961-02-30"):
            assert secret not in captured.out and secret not in captured.err, (options, secret)
    # ... while the exceptions file, which finance needs, has them
    assert {r["member_id"] for r in exceptions(tmp_path)} == {ERROR_MEMBER}
