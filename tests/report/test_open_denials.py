"""Open exceptions learn from remittances: a denied claim is open again until corrected and paid, or written off."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.helpers import new_ledger
from tests.remit.builders import clp, svc, write
from tests.test_report_support import cli, cli_json, isolated, line, night, rows  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")


def _open(capsys: pytest.CaptureFixture[str], ledger: Path) -> dict[str, dict]:
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger, "--detail")
    assert code == 0
    return {row["claim_id"]: row for row in rows(report, "detail")}


def _denied_night(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1"), line("A3", member="MBR2002", start="12:00")], ledger, days_ago=1)
    assert _open(capsys, ledger) == {}
    remit = write(tmp_path / "r1.835", clp("P1", "1", svc("A1", "80", "80")),
                  clp("P2", "4", svc("A3", "80", "0", ("CO", "197", "80"), remarks=("N54",)), member="MBR2002"),
                  trace="T1")
    assert cli(capsys, "remit", remit, "--ledger", ledger)[0] == 0
    return ledger


def test_a_denied_claim_is_open_with_its_carc_until_paid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _denied_night(tmp_path, capsys)
    opened = _open(capsys, ledger)
    assert list(opened) == ["A3"]
    denied = opened["A3"]
    assert (denied["disposition"], denied["rules"], denied["dollars_held"]) == ("denied", "CO-197", 80.0)
    assert "CO-197" in denied["messages"] and "N54" in denied["messages"]
    assert denied["staff_id"] == "S1" and denied["source_file"] == "r1.835"
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger)
    assert code == 0
    assert [(r["rule"], r["open_claims"], r["dollars_held"]) for r in rows(report, "by_rule")] == [("CO-197", 1, 80.0)]
    # Corrected (the authorization found), billed again, and paid: it is no longer open.
    paid = write(tmp_path / "r2.835", clp("P2", "1", svc("A3", "80", "80"), member="MBR2002"), trace="T2")
    assert cli(capsys, "remit", paid, "--ledger", ledger)[0] == 0
    assert _open(capsys, ledger) == {}


def test_a_write_off_closes_a_denial_and_undo_opens_it_again(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _denied_night(tmp_path, capsys)
    code, out = cli(capsys, "report", "writeoff", "A3", "--reason", "no authorization on file", "--ledger", ledger)
    assert code == 0 and "$80.00" in out
    assert _open(capsys, ledger) == {}
    code, out = cli(capsys, "report", "writeoff", "A3", "--undo", "--ledger", ledger)
    assert code == 0 and "A3" in out
    assert list(_open(capsys, ledger)) == ["A3"]


def test_a_denial_posted_after_the_as_of_day_does_not_count_yet(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _denied_night(tmp_path, capsys)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger, "--as-of", yesterday, "--detail")
    assert code == 0 and rows(report, "detail") == []
