"""`cmclaims report period`: months of runs, billed and held, first-pass clean rate, trend."""

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
    today = dt.date.today()
    code, report = cli_json(capsys, "report", "period", "--ledger", ledger, "--from",
                            (today - dt.timedelta(days=40)).isoformat(), "--to", today.isoformat())
    assert code == 0
    runs = rows(report, "runs")
    assert [r["lines_in"] for r in runs] == [2, 2]
    assert [r["claims_first_seen"] for r in runs] == [2, 1]
    assert [r["first_pass_clean_rate"] for r in runs] == [0.5, 1.0]
    months = {m["month"]: m for m in rows(report, "months")}
    billed = sum(m["dollars_billed"] for m in months.values())
    held = sum(m["dollars_held"] for m in months.values())
    assert (billed, held) == (240.0, 80.0)
    assert report["facts"]["first-pass clean rate"] == "66.7%"  # 2 of the 3 claims were clean the first time
    assert rows(report, "top_rules")[0]["rule"] == "CM302"
    assert rows(report, "open_aging")[0]["open_claims"] == 0  # A2 passed on the second night
    code, out = cli(capsys, "report", "period", "--ledger", ledger)
    assert code == 0 and "Per month" in out and "MBR100" not in out


def test_period_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1")], ledger)
    assert cli(capsys, "report", "period", "--ledger", ledger, "--from", "2026-05-01", "--to", "2026-04-01")[0] == 2
    assert cli(capsys, "report", "period", "--ledger", ledger, "--from", "May 1")[0] == 2


def test_the_default_period_is_twelve_months() -> None:
    assert default_start(dt.date(2026, 10, 31)) == dt.date(2025, 11, 1)
    assert default_start(dt.date(2026, 1, 15)) == dt.date(2025, 2, 1)
