"""The stays and staff files: their problems by row, and their join to the lines."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cmclaims.normalize.lines import MISSING
from cmclaims.normalize.values import day_number
from cmclaims.side.per_line import FROM_LINE, FROM_STAY, NO_STAY, STAFF_LEFT_OUT, STAFF_NOT_ON_FILE, STAFF_ON_FILE
from tests.helpers import run_lines

LINE = {
    "member_dob": "1990-01-01",
    "hcpcs": "T1017",
    "modifier1": "HE",
    "modifier2": "HN",
    "program": "110",
    "staff_id": "S1",
    "staff_credential": "CM2",
    "note_signed": "Y",
    "start_time": "09:00",
    "end_time": "09:30",
}


def _line(claim: str, member: str, date: str, **values: str) -> dict:
    return {**LINE, "claim_id": claim, "member_id": member, "service_date": date, **values}


def _day(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))


def test_stays_problems_name_the_row_and_never_the_member(tmp_path: Path) -> None:
    stays = [
        {"member_id": "MEMBER-0001", "setting": "nursing_facility", "admit_date": "2026-01-01", "discharge_date": ""},
        {"member_id": "MEMBER-0002", "setting": "hospital", "admit_date": "2026-01-01", "discharge_date": ""},
        {"member_id": "MEMBER-0003", "setting": "jail", "admit_date": "2026-02-10", "discharge_date": "2026-02-01"},
        {"member_id": "MEMBER-0004", "setting": "jail", "admit_date": "2026-13-01", "discharge_date": ""},
        {"member_id": "", "setting": "jail", "admit_date": "2026-01-01", "discharge_date": ""},
        {"member_id": "MEMBER-0001", "setting": "rtf", "admit_date": "2026-02-01", "discharge_date": "2026-02-05"},
        {"member_id": "MEMBER-0005", "setting": "jail", "admit_date": "2026-01-01", "discharge_date": "someday"},
    ]
    run = run_lines(tmp_path, [_line("A1", "MEMBER-0001", "2026-03-04")], "ok-soonercare", side={"stays": stays})
    side_files = run.summary["side_files"]
    problems = {(p["row"], p["column"]): p["problem"] for p in side_files["problems"]}
    assert problems == {
        (2, "setting"): "is not one of the settings cmclaims knows",
        (3, "discharge_date"): "is before admit_date",
        (4, "admit_date"): "is not a date",
        (5, "member_id"): "is empty",
        (6, "admit_date"): "falls inside the same member's stay in row 1",
        (7, "discharge_date"): "is not a date",
    }
    stays_file = next(f for f in side_files["files"] if f["file"].endswith("stays.csv"))
    assert (stays_file["rows"], stays_file["rows_left_out"]) == (7, 6)
    text = json.dumps(side_files)
    assert "MEMBER-" not in text
    written = json.loads((run.out / "summary.json").read_text(encoding="utf-8"))
    assert written["side_files"]["problems"] == side_files["problems"]


def test_staff_problems_and_what_the_lines_get(tmp_path: Path) -> None:
    staff = [
        {"staff_id": "S1", "credentials": "CM2", "trainings": "", "birth_date": "1980-01-01"},
        {"staff_id": "S2", "credentials": "CM2;CM9", "trainings": "", "birth_date": "1980-01-01"},
        {"staff_id": "S3", "credentials": "CM2", "trainings": "CAFFAS", "birth_date": "1980-01-01"},
        {"staff_id": "S4", "credentials": "CM2", "trainings": "", "birth_date": "1980-02-30"},
        {"staff_id": "S5", "credentials": "CM2", "trainings": "", "birth_date": "2030-01-01"},
        {"staff_id": "S6", "credentials": "CM2", "trainings": "", "birth_date": "1980-01-01"},
        {"staff_id": "S6", "credentials": "CM1", "trainings": "", "birth_date": "1980-01-01"},
        {"staff_id": "S7", "credentials": "CM2", "trainings": "", "birth_date": "1980-01-01"},
        {"staff_id": "S7", "credentials": "CM2", "trainings": "", "birth_date": "1980-01-01"},
        {"staff_id": "S8", "credentials": "", "trainings": "", "birth_date": ""},
        {"staff_id": "S2", "credentials": "CM2", "trainings": "", "birth_date": "1980-01-01"},
    ]
    lines = [_line(f"A{i}", f"M{i}", "2026-03-04", staff_id=f"S{i}", start_time=f"{8 + i}:00",
                   end_time=f"{8 + i}:30") for i in range(1, 10)]
    run = run_lines(tmp_path, lines, "ok-soonercare", side={"staff": staff})
    problems = {(p["row"], p["column"]): p["problem"] for p in run.summary["side_files"]["problems"]}
    assert problems == {
        (2, "credentials"): "names a credential or training cmclaims does not know",
        (3, "trainings"): "names a credential or training cmclaims does not know",
        (4, "birth_date"): "is not a date",
        (5, "birth_date"): "is in the future",
        (6, "staff_id"): "is also in row 7 with other values; neither row is used",
        (7, "staff_id"): "is also in row 6 with other values; neither row is used",
        (9, "staff_id"): "repeats row 8 exactly; the copy is left out",
        (10, "credentials"): "is empty",
        (11, "staff_id"): "has another row that was left out",
    }
    side = run.result.context.side_lines
    status = dict(zip([f"A{i}" for i in range(1, 10)], side.staff_status.tolist(), strict=True))
    assert status == {"A1": STAFF_ON_FILE, "A2": STAFF_LEFT_OUT, "A3": STAFF_LEFT_OUT, "A4": STAFF_LEFT_OUT,
                      "A5": STAFF_LEFT_OUT, "A6": STAFF_LEFT_OUT, "A7": STAFF_ON_FILE, "A8": STAFF_LEFT_OUT,
                      "A9": STAFF_NOT_ON_FILE}
    fates = run.dispositions()
    assert fates["A1"] == "pass" and fates["A7"] == "pass"
    held = run.flagged("CM607")
    assert held == {f"A{i}": "rejected" for i in (2, 3, 4, 5, 6, 8, 9)}
    # the first problem of the staff's rows
    assert "row 2: credentials names a credential or training" in run.messages("CM607")["A2"]


def test_the_staff_file_replaces_staff_credential(tmp_path: Path) -> None:
    staff = [{"staff_id": "S1", "credentials": "CM1; qmhp", "trainings": "soar", "birth_date": "1999-03-05"}]
    run = run_lines(tmp_path, [_line("A1", "M1", "2026-03-04", staff_credential="CM2;CAFAS")], "ok-soonercare",
                    side={"staff": staff})
    ctx = run.result.context
    held = ctx.side_lines.quals[0]
    assert held == ctx.lines.qualification_bits(["CM1", "QMHP", "SOAR"])
    assert ctx.side_lines.staff_birth_day[0] == _day("1999-03-05")
    assert run.flagged("CM601") == {"A1": "rejected"}  # HN needs CM2; the file says CM1


def test_setting_per_line_from_stays_then_line_then_community(tmp_path: Path) -> None:
    stays = [
        {"member_id": "M1", "setting": "Nursing_Facility", "admit_date": "2025-10-01", "discharge_date": "2026-03-30"},
        {"member_id": "M1", "setting": "jail", "admit_date": "2026-03-30", "discharge_date": ""},
        {"member_id": "M2", "setting": "rtf", "admit_date": "2026-01-01", "discharge_date": "2026-01-31"},
    ]
    lines = [
        _line("A1", "M1", "2026-03-04", member_setting="group_home"),  # the stay wins
        _line("A2", "M1", "2026-03-30", start_time="10:00", end_time="10:30"),  # transfer day: the later admission
        _line("A3", "M2", "2026-02-01", member_setting="foster_home", start_time="11:00", end_time="11:30"),
        _line("A4", "M2", "2026-02-02", start_time="12:00", end_time="12:30"),
        _line("A5", "M9", "2026-01-15", start_time="13:00", end_time="13:30"),
    ]
    run = run_lines(tmp_path, lines, "ok-soonercare", side={"stays": stays})
    side = run.result.context.side_lines
    assert list(side.setting_name(np.arange(5))) == ["nursing_facility", "jail", "foster_home", "community",
                                                     "community"]
    assert side.setting_source.tolist() == [FROM_STAY, FROM_STAY, FROM_LINE, NO_STAY, NO_STAY]
    assert side.stay.admit_day.tolist() == [_day("2025-10-01"), _day("2026-03-30"), MISSING, MISSING, MISSING]
    assert side.stay.discharge_day.tolist() == [_day("2026-03-30"), MISSING, MISSING, MISSING, MISSING]
    assert side.stay.row.tolist() == [1, 2, 0, 0, 0]


def test_without_side_files_the_line_columns_serve_and_rules_say_what_they_skip(tmp_path: Path) -> None:
    run = run_lines(tmp_path, [_line("A1", "M1", "2026-03-04")], "ok-soonercare")
    skipped = {r["rule"]: r["reason"] for r in run.summary["rules_skipped"]}
    assert skipped["CM511"] == "no --stays file was given and no member_setting column"
    assert skipped["CM512"] == "no --stays file was given and no member_setting column"
    assert "CM531" not in skipped and "CM607" not in skipped  # nothing to check without the files
    assert run.result.context.side_lines.quals[0] == run.result.context.lines.qualification_bits(["CM2"])

    mi = [{**_line("B1", "M1", "2026-03-04"), "hcpcs": "H0038", "modifier1": "TJ", "modifier2": "",
           "staff_credential": "YOUTH_PEER", "contact_type": "face_to_face", "place_of_service": "11"}]
    run = run_lines(tmp_path / "mi", mi, "mi-dwihn")
    skipped = {r["rule"]: r["reason"] for r in run.summary["rules_skipped"]}
    assert skipped["CM604"] == "no --staff file was given"


def test_parquet_stays_file(tmp_path: Path) -> None:
    path = tmp_path / "stays.parquet"
    pq.write_table(pa.table({"Member_ID": ["M1"], "Setting": ["jail"], "Admit_Date": ["2026-03-01"],
                             "Discharge_Date": [None]}), path)
    from cmclaims.side.stays import read_stays
    from cmclaims.tables import load_catalog

    stays = read_stays(path, dt.date(2026, 11, 22), load_catalog().vocabulary("setting"))
    assert stays.frame.to_dict("records") == [
        {"member_id": "M1", "setting": "jail", "admit_day": _day("2026-03-01"), "discharge_day": MISSING,
         "discharge_minute": MISSING, "row": 1}
    ]


def test_stay_join_matches_a_plain_loop(tmp_path: Path) -> None:
    """The searchsorted join against a line-by-line reading of the stays, on random data."""
    rng = random.Random(7)
    start = dt.date(2026, 1, 1)
    stays, expected_rows = [], {}
    for m in range(40):
        day = start + dt.timedelta(days=rng.randint(0, 10))
        for _ in range(rng.randint(0, 4)):
            length = rng.randint(0, 20)
            discharge = day + dt.timedelta(days=length)
            open_ended = rng.random() < 0.1
            stays.append({"member_id": f"M{m}", "setting": rng.choice(["inpatient", "shelter", "crisis"]),
                          "admit_date": day.isoformat(), "discharge_date": "" if open_ended else discharge.isoformat()})
            if open_ended:
                break
            day = discharge + dt.timedelta(days=rng.randint(0, 5))  # 0: a transfer on the discharge day
    lines = []
    for i in range(600):
        m = rng.randrange(45)
        date = start + dt.timedelta(days=rng.randint(0, 120))
        lines.append(_line(f"L{i}", f"M{m}", date.isoformat(), staff_id=f"S{i}", staff_credential="CM2"))
        covering = [
            r + 1 for r, s in enumerate(stays)
            if s["member_id"] == f"M{m}" and s["admit_date"] <= date.isoformat()
            and (s["discharge_date"] == "" or date.isoformat() <= s["discharge_date"])
        ]
        expected_rows[f"L{i}"] = max(covering) if covering else 0  # a transfer day: the later stay
    run = run_lines(tmp_path, lines, "id-optum", side={"stays": stays})
    assert run.summary["side_files"]["problems"] == []
    side = run.result.context.side_lines
    got = dict(zip([line["claim_id"] for line in lines], side.stay.row.tolist(), strict=True))
    assert got == expected_rows
