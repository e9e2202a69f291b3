"""`cmclaims map` then `cmclaims validate --column-map`: from an EHR's own export to a correct night."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from cmclaims.cli import main
from cmclaims.io.column_map import load_export_map
from cmclaims.schema.columns import ENCOUNTER
from tests.helpers import read_csv, write_csv
from tests.mapping.exports import EHR_HEADERS, as_ehr_writes_it, good_night, ok_line, write_export


def _map(export: Path, out: Path, *options: str) -> int:
    return main(["map", str(export), "--out", str(out), *options])


def _validate(export: Path, column_map: Path, out: Path, *options: str) -> int:
    return main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(out), "--no-ledger",
                 "--column-map", str(column_map), *options])


def test_a_messy_export_is_mapped_and_validated_in_two_commands(tmp_path: Path) -> None:
    lines = good_night()
    export = write_export(tmp_path / "ehr.csv", as_ehr_writes_it(lines))
    assert _map(export, tmp_path / "ehr-map.toml", "--profile", "ok-soonercare") == 0

    proposed = load_export_map(tmp_path / "ehr-map.toml")
    for column in ENCOUNTER.required:
        assert proposed.columns[column] == EHR_HEADERS[column], column
    assert proposed.columns["contact_type"] == "Contact Method"
    assert proposed.values["contact_type"] == {
        "Face to Face": "face_to_face", "F2F": "face_to_face", "In Person": "face_to_face",
        "Face-to-Face": "face_to_face", "Phone": "telephone", "Telehealth": "video"}
    assert proposed.values["note_signed"] == {"Signed": "Y"}
    assert proposed.values.get("member_present") == {}  # Yes is already read as Y

    assert _validate(export, tmp_path / "ehr-map.toml", tmp_path / "out") == 0
    clean = read_csv(tmp_path / "out" / "clean.csv")
    assert sorted(r["Service ID"] for r in clean) == sorted(line["claim_id"] for line in lines)
    # 15, 30, 45, 60 minutes: 1, 2, 3, 4 units each
    assert sum(int(r["billable_units"]) for r in clean) == 3 * (1 + 2 + 3 + 4)
    assert read_csv(tmp_path / "out" / "exceptions.csv") == []


def test_a_spelling_it_cannot_tell_is_a_question_and_its_line_alone_is_held(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = good_night()
    lines[3]["contact_type"] = "Collateral"
    export = write_export(tmp_path / "ehr.csv", as_ehr_writes_it(lines))
    assert _map(export, tmp_path / "map.toml") == 0
    printed = capsys.readouterr().out
    assert "contact_type: 1 spelling it cannot tell (1 line)" in printed
    text = (tmp_path / "map.toml").read_text()
    assert '# ? "Collateral" = ""' in text
    assert "Collateral" not in load_export_map(tmp_path / "map.toml").values["contact_type"]

    assert _validate(export, tmp_path / "map.toml", tmp_path / "out") == 1
    assert len(read_csv(tmp_path / "out" / "clean.csv")) == 11
    [held] = read_csv(tmp_path / "out" / "exceptions.csv")
    assert (held["claim_id"], held["rule"]) == ("A4", "CM009")

    # The clerk answers the question once; the next run bills the line.
    (tmp_path / "map.toml").write_text(text.replace('# ? "Collateral" = ""', '"Collateral" = "telephone"'))
    assert _validate(export, tmp_path / "map.toml", tmp_path / "out2") == 0
    assert len(read_csv(tmp_path / "out2" / "clean.csv")) == 12


def test_a_duration_only_export_is_mapped_and_billed_by_its_durations(tmp_path: Path) -> None:
    lines = []
    for i, minutes in enumerate((15, 30, 45, 60, 7)):
        line = ok_line(f"D{i}", f"{9 + i:02d}:00", "")
        del line["end_time"]
        lines.append({**line, "duration_minutes": str(minutes)})
    rows = [{"Service Date" if k == "service_date" else "Start Time" if k == "start_time"
             else "Duration (minutes)" if k == "duration_minutes" else k: v for k, v in line.items()}
            for line in lines]
    export = write_csv(tmp_path / "durations.csv", rows)
    assert _map(export, tmp_path / "map.toml") == 0
    proposed = load_export_map(tmp_path / "map.toml")
    assert proposed.columns["duration_minutes"] == "Duration (minutes)"
    assert "end_time" not in proposed.columns
    assert "duration_minutes stands in" in (tmp_path / "map.toml").read_text()

    assert _validate(export, tmp_path / "map.toml", tmp_path / "out") == 1
    units = {r["claim_id"]: r["billable_units"] for r in read_csv(tmp_path / "out" / "clean.csv")}
    assert units == {"D0": "1", "D1": "2", "D2": "3", "D3": "4"}
    [short] = read_csv(tmp_path / "out" / "exceptions.csv")
    assert (short["claim_id"], short["rule"]) == ("D4", "CM101")  # 7 minutes earn no unit


def test_negations_are_never_read_as_their_opposite(tmp_path: Path) -> None:
    spellings = ["Signed", "Not Signed", "Unsigned", "Signd", "Draft", "Pending Review", "Final"]
    rows = [{**ok_line(f"N{i}", "09:00", "09:30"), "note_signed": s} for i, s in enumerate(spellings)]
    export = write_csv(tmp_path / "notes.csv", rows)
    assert _map(export, tmp_path / "map.toml") == 0
    answered = load_export_map(tmp_path / "map.toml").values["note_signed"]
    assert answered == {"Signed": "Y", "Not Signed": "N", "Unsigned": "N", "Signd": "Y", "Draft": "N", "Final": "Y"}
    assert '# ? "Pending Review" = ""' in (tmp_path / "map.toml").read_text()


def test_a_column_of_free_text_gets_no_value_table_and_no_value_reaches_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{**ok_line(f"F{i}", "09:00", "09:30"), "Activity": f"Met Jane Q Public about housing #{i}"}
            for i in range(80)]
    export = write_csv(tmp_path / "free.csv", rows)
    assert _map(export, tmp_path / "map.toml") == 0
    out = capsys.readouterr()
    assert "activity: \"Activity\" has 80 distinct values; wrong header?" in out.out
    assert "Jane" not in out.out + out.err
    document = tomllib.loads((tmp_path / "map.toml").read_text())
    assert document["values"]["activity"] == {}


def test_columns_the_profiles_rules_read_are_named_when_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{k: v for k, v in ok_line("P1", "09:00", "09:30").items() if k != "program"}]
    export = write_csv(tmp_path / "export.csv", rows)
    assert _map(export, tmp_path / "map.toml", "--profile", "ok-soonercare") == 0
    printed = capsys.readouterr().out
    assert "column program: not found; the ok-soonercare rules" in printed
    assert "# ? program = \"\"  # not found; the ok-soonercare rules" in (tmp_path / "map.toml").read_text()


def test_a_reviewed_map_is_never_overwritten_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = write_export(tmp_path / "ehr.csv", as_ehr_writes_it(good_night()))
    (tmp_path / "map.toml").write_text("# reviewed\n")
    assert _map(export, tmp_path / "map.toml") == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "map.toml").read_text() == "# reviewed\n"
    assert _map(export, tmp_path / "map.toml", "--force") == 0
    assert (tmp_path / "map.toml").stat().st_mode & 0o777 == 0o600


def test_map_exit_codes_for_a_missing_or_unusable_export(tmp_path: Path) -> None:
    assert _map(tmp_path / "nowhere.csv", tmp_path / "map.toml") == 66
    (tmp_path / "empty.csv").write_text("")
    assert _map(tmp_path / "empty.csv", tmp_path / "map.toml") == 65
    assert not (tmp_path / "map.toml").exists()


def test_the_summary_says_what_each_mapping_touched(tmp_path: Path) -> None:
    export = write_export(tmp_path / "ehr.csv", as_ehr_writes_it(good_night()))
    assert _map(export, tmp_path / "map.toml") == 0
    assert _validate(export, tmp_path / "map.toml", tmp_path / "out") == 0
    report = json.loads((tmp_path / "out" / "summary.json").read_text())["column_map"]
    touched = {(v["column"], v["from"]): v["lines"] for v in report["values"]}
    assert touched[("note_signed", "Signed")] == 12
    assert sum(n for (column, _), n in touched.items() if column == "contact_type") == 12
    assert report["headers_not_in_export"] == [] and report["values_not_in_export"] == []


@pytest.mark.parametrize(
    ("rows", "date_and_start", "end"),
    [
        # SmartCare keeps a service's date and start in DateOfService, its end in EndDateOfService
        ([{"ServiceId": f"{1000 + i}", "ClientId": f"C{i}", "DOB": "2010-05-01",
           "DateOfService": f"03/04/2026 {9 + i:02d}:00", "EndDateOfService": f"03/04/2026 {9 + i:02d}:30",
           "ProcedureCode": "T1017", "Modifier1": "HE", "Modifier2": "TF", "ClinicianId": f"S{i}",
           "ProgramCode": "111", "Status": "Complete"} for i in range(3)], "DateOfService", "EndDateOfService"),
        # Credible's ClientVisit: rev_timein and rev_timeout, and a duration beside them
        ([{"clientvisit_id": f"{5000 + i}", "client_id": f"{70 + i}", "dob": "2010-05-01", "emp_id": f"{i}",
           "rev_timein": f"2026-03-04 {9 + i:02d}:00:00", "rev_timeout": f"2026-03-04 {9 + i:02d}:30:00",
           "duration": "30", "cptcode": "T1017", "mod1": "HE", "mod2": "TF", "program": "111"}
          for i in range(3)], "rev_timein", "rev_timeout"),
    ],
    ids=["smartcare-like", "credible-like"],
)
def test_one_date_time_column_gives_the_date_and_the_start(
    tmp_path: Path, rows: list[dict], date_and_start: str, end: str
) -> None:
    export = write_csv(tmp_path / "export.csv", rows)
    assert _map(export, tmp_path / "map.toml") == 0
    proposed = load_export_map(tmp_path / "map.toml")
    assert proposed.columns["service_date"] == proposed.columns["start_time"] == date_and_start
    assert proposed.columns["end_time"] == end
    assert _validate(export, tmp_path / "map.toml", tmp_path / "out") == 0
    assert [r["billable_units"] for r in read_csv(tmp_path / "out" / "clean.csv")] == ["2", "2", "2"]


def test_a_date_column_without_times_is_not_taken_for_the_start(tmp_path: Path) -> None:
    rows = [{**ok_line("A1", "", "09:30"), "Date of Service": "2026-03-04"}]
    for row in rows:
        del row["start_time"], row["service_date"]
    export = write_csv(tmp_path / "export.csv", rows)
    assert _map(export, tmp_path / "map.toml") == 0
    proposed = load_export_map(tmp_path / "map.toml")
    assert proposed.columns["service_date"] == "Date of Service"
    assert "start_time" not in proposed.columns
    assert "# ? start_time = \"\"  # REQUIRED and not found" in (tmp_path / "map.toml").read_text()
