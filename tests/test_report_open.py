"""`cmclaims report open` and `report writeoff`: exceptions that stay open until passed or written off."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cmclaims.ledger.store import SqliteLedger
from tests.helpers import new_ledger
from tests.test_report_support import cli, cli_json, isolated, line, night, rows  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")


def _open_claims(capsys: pytest.CaptureFixture[str], ledger: Path, *extra: str) -> dict[str, dict]:
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger, "--detail", *extra)
    assert code == 0
    return {row["claim_id"]: row for row in rows(report, "detail")}


def test_an_exception_opened_in_one_run_is_resolved_in_the_next(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1"), line("A2", start="10:00", activity="transport")], ledger, days_ago=1)
    opened = _open_claims(capsys, ledger)
    assert list(opened) == ["A2"]
    assert opened["A2"]["rules"] == "CM302"
    assert opened["A2"]["dollars_held"] == 80.0
    assert opened["A2"]["member_id"] == "MBR1001"  # the detail is there to work the list
    # Corrected (a billable activity) and sent again the next night: it passes, and is no longer open.
    second = night(tmp_path / "n2", [line("A2", start="10:00"), line("A3", date="2026-03-03")], ledger)
    assert second.dispositions() == {"A2": "pass", "A3": "pass"}
    assert _open_claims(capsys, ledger) == {}
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger)
    assert code == 0 and "1 passed in a later run" in report["facts"]["resolved"]


def test_a_claim_rejected_twice_stays_open_with_its_latest_reasons(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1", activity="transport")], ledger, days_ago=1)
    night(tmp_path / "n2", [line("A1", activity="education", charge=90.0)], ledger)
    opened = _open_claims(capsys, ledger)
    assert opened["A1"]["times_rejected"] == 2
    assert opened["A1"]["dollars_held"] == 90.0  # what the latest run held back


def test_a_resend_of_a_billed_claim_is_not_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1")], ledger, days_ago=1)
    again = night(tmp_path / "n2", [line("A1", start="13:00")], ledger)
    assert again.flagged("CM402") == {"A1": "rejected"}  # already billed: nothing is held back
    assert _open_claims(capsys, ledger) == {}


def test_a_write_off_closes_an_open_item(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1", activity="transport"), line("A2", start="10:00", activity="escort")], ledger)
    assert set(_open_claims(capsys, ledger)) == {"A1", "A2"}
    code, out = cli(capsys, "report", "writeoff", "A1", "--reason", "past timely filing", "--ledger", ledger)
    assert code == 0 and "wrote off 1 claim" in out
    assert set(_open_claims(capsys, ledger)) == {"A2"}
    store = SqliteLedger(ledger, read_only=True)
    written = store.writeoffs().set_index("claim_id")
    assert written.loc["A1", "reason"] == "past timely filing"
    # A claim with nothing open cannot be written off (a typo is caught), and nothing is written.
    assert cli(capsys, "report", "writeoff", "A2", "NOPE", "--reason", "x", "--ledger", ledger)[0] == 2
    assert set(store.writeoffs()["claim_id"]) == {"A1"}
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger)
    assert code == 0 and "1 written off" in report["facts"]["resolved"]


def test_member_ids_only_in_the_detail_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1", activity="transport", staff_id="S9")], ledger)
    code, out = cli(capsys, "report", "open", "--ledger", ledger)
    assert code == 0 and "MBR1001" not in out and "S9" in out and "$80.00" in out
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger)
    assert code == 0 and "detail" not in report["tables"] and "MBR1001" not in str(report)
    code, out = cli(capsys, "report", "open", "--ledger", ledger, "--detail")
    assert "MBR1001" in out
    # The page meant to be passed around never carries the detail.
    assert cli(capsys, "report", "open", "--ledger", ledger, "--detail", "--out", tmp_path / "o.html")[0] == 2


def test_as_of_a_day_before_the_runs_nothing_was_open_yet(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1", activity="transport")], ledger)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert _open_claims(capsys, ledger, "--as-of", yesterday) == {}
    assert cli(capsys, "report", "open", "--ledger", ledger, "--as-of", "31/10/2026")[0] == 2


def test_adjusted_lines_are_open_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [{**line("A1"), "units": 5, "charge": 100.0}], ledger)
    assert _open_claims(capsys, ledger) == {}
    adjusted = _open_claims(capsys, ledger, "--include-adjusted")
    assert adjusted["A1"]["dollars_held"] == 20.0


def test_an_unknown_profile_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1")], ledger)
    assert cli(capsys, "report", "open", "--ledger", ledger, "--profile", "id-optumm")[0] == 2
    assert cli(capsys, "report", "open", "--ledger", ledger, "--profile", "id-optum")[0] == 0


def test_open_needs_a_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "report", "open")[0] == 2
    assert cli(capsys, "report", "writeoff", "A1", "--reason", "x")[0] == 73  # writes: a missing ledger is 73
