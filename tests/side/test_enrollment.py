"""`--enrollment`: dated episodes per member, their problems by row, and their join to the lines by date."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.normalize.lines import MISSING
from cmclaims.normalize.values import day_number
from cmclaims.side.enrollment import read_enrollment
from tests.helpers import TODAY, run_lines, write_csv

LINE = {
    "member_dob": "1980-01-01", "hcpcs": "T1016", "staff_id": "S1", "staff_credential": "QMHP",
    "start_time": "09:00", "end_time": "09:30",
}


def _day(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))


def test_problems_name_the_row_never_the_member(tmp_path: Path) -> None:
    rows = [
        {"member_id": "MEMBER-0001", "enrollment": "altcs_epd", "start_date": "2026-01-01", "end_date": ""},
        {"member_id": "MEMBER-0002", "enrollment": "", "start_date": "2026-01-01", "end_date": ""},
        {"member_id": "MEMBER-0003", "enrollment": "DDD", "start_date": "2026-02-10", "end_date": "2026-02-01"},
        {"member_id": "MEMBER-0004", "enrollment": "DDD", "start_date": "2026-13-01", "end_date": ""},
        {"member_id": "MEMBER-0005", "enrollment": "FES", "start_date": "", "end_date": ""},
    ]
    enrollment = read_enrollment(write_csv(tmp_path / "enrollment.csv", rows), TODAY)
    problems = {(p.row, p.column): p.problem for p in enrollment.file.problems}
    assert problems == {
        (2, "enrollment"): "is empty",
        (3, "end_date"): "is before start_date",
        (4, "start_date"): "is not a date",
        (5, "start_date"): "is empty",
    }
    assert enrollment.frame["enrollment"].tolist() == ["ALTCS_EPD"]
    assert enrollment.frame["end_day"].tolist() == [MISSING]
    assert "MEMBER-" not in json.dumps([p.describe() for p in enrollment.file.problems])
    # the left-out rows remember the member and the days they may have covered
    left = enrollment.left_out.set_index("row")
    assert (left.loc[3, "from_day"], left.loc[3, "to_day"]) == (_day("2026-02-01"), _day("2026-02-10"))


def test_episodes_cover_their_first_and_last_day_and_may_overlap(tmp_path: Path) -> None:
    rows = [
        {"member_id": "M1", "enrollment": "DDD", "start_date": "2026-01-01", "end_date": ""},
        {"member_id": "M1", "enrollment": "HSW", "start_date": "2026-02-01", "end_date": "2026-02-28"},
        {"member_id": "M1", "enrollment": "HSW", "start_date": "2026-01-15", "end_date": "2026-06-30"},
        {"member_id": "M2", "enrollment": "HSW", "start_date": "2026-03-01", "end_date": "2026-03-01"},
    ]
    enrollment = read_enrollment(write_csv(tmp_path / "enrollment.csv", rows), TODAY)
    members = np.array(["M1", "M1", "M1", "M1", "M2", "M2", "M2", "M3"], dtype=object)
    days = np.array([_day(d) for d in ("2026-01-14", "2026-01-15", "2026-03-15", "2026-07-01",
                                       "2026-02-28", "2026-03-01", "2026-03-02", "2026-03-01")], dtype=np.int32)
    found = enrollment.covering(members, days, ("hsw",))
    # M1 on 2026-03-15: the episode of row 2 ended, the longer one of row 3 (begun earlier) covers it
    assert found.tolist() == [-1, 2, 2, -1, -1, 3, -1, -1]
    assert enrollment.covering(members, days, ("DDD",)).tolist() == [0, 0, 0, 0, -1, -1, -1, -1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40), st.integers(0, 40), st.booleans()),
                min_size=1, max_size=8),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 45)), min_size=1, max_size=20))
def test_covering_agrees_with_a_plain_model(episodes: list, asks: list) -> None:
    """Any overlap of episodes: a day is covered exactly when some episode of that member spans it."""
    import tempfile

    base = dt.date(2026, 1, 1)
    rows = [{"member_id": f"M{m}", "enrollment": "TCC", "start_date": (base + dt.timedelta(min(a, b))).isoformat(),
             "end_date": "" if open_ else (base + dt.timedelta(max(a, b))).isoformat()}
            for m, a, b, open_ in episodes]
    with tempfile.TemporaryDirectory() as folder:
        enrollment = read_enrollment(write_csv(Path(folder) / "e.csv", rows), TODAY)
    members = np.array([f"M{m}" for m, _ in asks], dtype=object)
    days = np.array([day_number(base + dt.timedelta(d)) for _, d in asks], dtype=np.int32)
    found = enrollment.covering(members, days, ["TCC"])
    for (m, d), index in zip(asks, found.tolist(), strict=True):
        spans = [(min(a, b), 10**6 if o else max(a, b)) for mm, a, b, o in episodes if mm == m]
        covered = any(lo <= d <= hi for lo, hi in spans)
        assert (index >= 0) == covered
        if index >= 0:
            row = rows[index]
            assert row["member_id"] == f"M{m}"
            start = (dt.date.fromisoformat(row["start_date"]) - base).days
            end = 10**6 if not row["end_date"] else (dt.date.fromisoformat(row["end_date"]) - base).days
            assert start <= d <= end


def test_validate_reads_enrollment_and_summary_lists_the_file(tmp_path: Path) -> None:
    rows = [{"member_id": "M1", "enrollment": "ALTCS_EPD", "start_date": "2026-03-01", "end_date": "2026-03-31"},
            {"member_id": "M2", "enrollment": "ALTCS_EPD", "start_date": "someday", "end_date": ""}]
    lines = [{**LINE, "claim_id": "A1", "member_id": "M1", "service_date": "2026-03-04"},
             {**LINE, "claim_id": "A2", "member_id": "M1", "service_date": "2026-04-01", "start_time": "10:00",
              "end_time": "10:30"}]
    run = run_lines(tmp_path, lines, "az-ahcccs", side={"enrollment": rows})
    files = {Path(f["file"]).name: f for f in run.summary["side_files"]["files"]}
    assert files["enrollment.csv"]["rows"] == 2 and files["enrollment.csv"]["rows_left_out"] == 1
    assert run.flagged("CM503") == {"A1": "rejected"}
    assert run.dispositions()["A2"] == "pass"
