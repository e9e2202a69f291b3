"""Dated `--staff` rows: each row holds on its dates; a line is judged by the row covering its date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cmclaims.normalize.lines import MISSING
from cmclaims.normalize.values import day_number
from cmclaims.side.per_line import STAFF_LEFT_OUT, STAFF_NOT_ON_DATE, STAFF_NOT_ON_FILE, STAFF_ON_FILE
from cmclaims.side.staff import read_staff
from cmclaims.tables import load_catalog
from tests.helpers import TODAY, run_lines, write_csv

QUALIFICATIONS = load_catalog().vocabulary("credential") + load_catalog().vocabulary("training")


def _day(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))


def _row(staff_id: str, credentials: str, trainings: str = "", start: str = "", end: str = "",
         birth: str = "1980-01-01") -> dict:
    return {"staff_id": staff_id, "credentials": credentials, "trainings": trainings, "birth_date": birth,
            "start_date": start, "end_date": end}


def test_rows_of_other_dates_are_kept_and_overlapping_rows_that_disagree_are_not(tmp_path: Path) -> None:
    rows = [
        _row("S1", "QMHP", "", "", "2026-02-28"),
        _row("S1", "QMHP", "SOAR", "2026-03-01", ""),
        _row("S2", "QMHP", "", "2026-01-01", "2026-06-30"),
        _row("S2", "SC", "", "2026-06-30", ""),  # overlaps the first on 2026-06-30
        _row("S3", "QMHP", "", "2026-01-01", ""),
        _row("S3", "QMHP", "", "2026-01-01", ""),  # an exact copy
        _row("S4", "QMHP", "", "2026-01-01", "", birth="1980-01-01"),
        _row("S4", "QMHP", "SOAR", "2027-01-01", "", birth="1981-01-01"),  # two birth dates
        _row("S5", "QMHP", "", "2026-05-01", "2026-04-01"),
        _row("S6", "QMHP", "", "someday", ""),
    ]
    staff = read_staff(write_csv(tmp_path / "staff.csv", rows), TODAY, QUALIFICATIONS)
    problems = {(p.row, p.column): p.problem for p in staff.file.problems}
    assert problems == {
        (3, "staff_id"): "is also in row 4 with other values; neither row is used",
        (4, "staff_id"): "is also in row 3 with other values; neither row is used",
        (6, "staff_id"): "repeats row 5 exactly; the copy is left out",
        (7, "staff_id"): "is also in row 8 with other values; neither row is used",
        (8, "staff_id"): "is also in row 7 with other values; neither row is used",
        (9, "end_date"): "is before start_date",
        (10, "start_date"): "is not a date",
    }
    kept = staff.frame.set_index("row")
    assert sorted(kept.index.tolist()) == [1, 2, 5]
    assert (kept.loc[1, "start_day"], kept.loc[1, "end_day"]) == (MISSING, _day("2026-02-28"))
    assert (kept.loc[2, "start_day"], kept.loc[2, "end_day"]) == (_day("2026-03-01"), MISSING)
    assert set(staff.left_out) == {"S2", "S4", "S5", "S6"}


def test_each_line_gets_the_row_covering_its_date(tmp_path: Path) -> None:
    staff = [
        _row("S1", "CM1", "", "", "2026-02-28"),
        _row("S1", "CM2", "", "2026-03-01", "2026-06-30"),
        _row("S2", "CM2", "", "2026-03-01", ""),
        _row("S3", "CM2", "", "bad", ""),
    ]
    base = {"member_dob": "1990-01-01", "hcpcs": "T1017", "modifier1": "HE", "modifier2": "HN", "program": "110",
            "note_signed": "Y"}
    dates = [("A1", "S1", "2026-02-28"), ("A2", "S1", "2026-03-01"), ("A3", "S1", "2026-06-30"),
             ("A4", "S1", "2026-07-01"), ("A5", "S2", "2026-02-28"), ("A6", "S3", "2026-03-04"),
             ("A7", "S9", "2026-03-04")]
    lines = [{**base, "claim_id": c, "member_id": f"M{i}", "staff_id": s, "service_date": d,
              "start_time": f"{8 + i}:00", "end_time": f"{8 + i}:30"} for i, (c, s, d) in enumerate(dates)]
    run = run_lines(tmp_path, lines, "ok-soonercare", side={"staff": staff})
    side = run.result.context.side_lines
    status = dict(zip([c for c, _, _ in dates], side.staff_status.tolist(), strict=True))
    assert status == {"A1": STAFF_ON_FILE, "A2": STAFF_ON_FILE, "A3": STAFF_ON_FILE, "A4": STAFF_NOT_ON_DATE,
                      "A5": STAFF_NOT_ON_DATE, "A6": STAFF_LEFT_OUT, "A7": STAFF_NOT_ON_FILE}
    # HN needs CM2: S1 held CM1 until 2026-02-28 and CM2 from 2026-03-01
    assert run.flagged("CM601") == {"A1": "rejected"}
    assert run.flagged("CM607") == {"A4": "rejected", "A5": "rejected", "A6": "rejected", "A7": "rejected"}
    fates = run.dispositions()
    assert fates["A2"] == fates["A3"] == "pass"
