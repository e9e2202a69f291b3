"""`cmclaims report period`: months of service, billed and held, first-pass clean rate, trend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cmclaims.report.period import default_start
from tests.helpers import new_ledger
from tests.test_report_support import cli, cli_json, isolated, line, night, rows  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")


def test_a_period_of_two_nights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    # Night 1: A1 clean, A2 rejected. Night 2: A2 corrected (not a first pass), A3 clean.
    night(tmp_path / "n1", [line("A1"), line("A2", start="10:00", activity="transport")], ledger, days_ago=1)
    night(tmp_path / "n2", [line("A2", start="10:00"), line("A3", start="13:00")], ledger)
    # Served in March 2026, whenever the nights ran.
    code, report = cli_json(capsys, "report", "period", "--ledger", ledger, "--from", "2026-01-01", "--to",
                            "2026-06-30")
    assert code == 0
    runs = rows(report, "runs")
    assert [r["lines_in"] for r in runs] == [2, 2]
    assert [r["claims_first_seen"] for r in runs] == [2, 1]
    assert [r["first_pass_clean_rate"] for r in runs] == [0.5, 1.0]
    # Counted by the month of service, whenever the nights ran; the months without lines are left out.
    months = {m["month"]: m for m in rows(report, "months")}
    assert list(months) == ["2026-03"]
    march = months["2026-03"]
    assert (march["runs"], march["lines_in"], march["lines_clean"], march["lines_rejected"]) == (2, 4, 3, 1)
    assert (march["dollars_billed"], march["dollars_held"], march["dollars_in"]) == (240.0, 80.0, 320.0)
    assert march["first_pass_clean_rate"] == pytest.approx(2 / 3)
    assert report["facts"]["first-pass clean rate"] == "66.7%"  # 2 of the 3 claims were clean the first time
    assert rows(report, "top_rules")[0]["rule"] == "CM302"
    assert rows(report, "open_aging")[0]["open_claims"] == 0  # A2 passed on the second night
    code, out = cli(capsys, "report", "period", "--ledger", ledger, "--from", "2026-01-01", "--to", "2026-06-30")
    assert code == 0 and "Per month of service" in out and "MBR100" not in out


def test_one_month_of_data_makes_readable_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1"), line("A2", start="10:00", activity="transport")], ledger)
    page = tmp_path / "period.html"
    assert cli(capsys, "report", "period", "--ledger", ledger, "--from", "2026-03-01", "--to", "2026-03-31",
               "--out", page)[0] == 0
    html = page.read_text()
    # One month: the clean rate is one labelled bar (50.0%), not a line chart of a single point.
    chart = html[html.index("First-pass clean rate by month of service"):]
    chart = chart[: chart.index("</svg>")]
    assert "<polyline" not in chart and "2026-03" in chart and "50.0%" in chart


def test_lines_outside_the_period_are_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1", date="2026-02-10"), line("A2", date="2026-04-07", activity="transport")],
          ledger)
    code, report = cli_json(capsys, "report", "period", "--ledger", ledger, "--from", "2026-02-01", "--to",
                            "2026-03-31")
    assert code == 0
    assert [(m["month"], m["lines_in"], m["dollars_held"]) for m in rows(report, "months")] == [("2026-02", 1, 0.0)]


def test_period_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1")], ledger)
    assert cli(capsys, "report", "period", "--ledger", ledger, "--from", "2026-05-01", "--to", "2026-04-01")[0] == 2
    assert cli(capsys, "report", "period", "--ledger", ledger, "--from", "May 1")[0] == 2


def test_the_default_period_is_twelve_months() -> None:
    assert default_start(dt.date(2026, 10, 31)) == dt.date(2025, 11, 1)
    assert default_start(dt.date(2026, 1, 15)) == dt.date(2025, 2, 1)
