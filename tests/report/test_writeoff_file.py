"""`cmclaims report writeoff --file` and `--undo`: many claims at once, all or none, and taken back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers import new_ledger
from tests.test_report_support import cli, cli_json, isolated, line, night, rows  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")


def _three_open(tmp_path: Path) -> Path:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line(f"A{i}", start=f"{8 + 2 * i:02d}:00", activity="transport") for i in (1, 2, 3)],
          ledger, days_ago=1)
    return ledger


def _reasons(ledger: Path) -> dict[str, str]:
    with sqlite3.connect(ledger) as db:
        return dict(db.execute("SELECT claim_id, reason FROM writeoffs").fetchall())


def test_a_file_of_claims_and_reasons_writes_them_all_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _three_open(tmp_path)
    listing = tmp_path / "writeoffs.csv"
    listing.write_text("claim_id,reason\nA1,past timely filing\nA2,\n", encoding="utf-8")
    code, result = cli_json(capsys, "report", "writeoff", "--file", listing, "--reason", "not billable: transport",
                            "--ledger", ledger)
    assert code == 0 and result["written_off"] == ["A1", "A2"] and result["dollars_held"] == 160.0
    assert _reasons(ledger) == {"A1": "past timely filing", "A2": "not billable: transport"}
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger, "--detail")
    assert [r["claim_id"] for r in rows(report, "detail")] == ["A3"]


def test_one_unknown_claim_writes_nothing_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _three_open(tmp_path)
    listing = tmp_path / "writeoffs.csv"
    listing.write_text("claim_id,reason\nA1,x\nA9,typo\n", encoding="utf-8")
    assert cli(capsys, "report", "writeoff", "--file", listing, "--ledger", ledger)[0] == 2
    assert _reasons(ledger) == {}
    listing.write_text("claim_id,reason\nA1,x\nA2,\n", encoding="utf-8")  # a row without a reason, no --reason
    assert cli(capsys, "report", "writeoff", "--file", listing, "--ledger", ledger)[0] == 2
    assert _reasons(ledger) == {}


def test_undo_takes_write_offs_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _three_open(tmp_path)
    assert cli(capsys, "report", "writeoff", "A1", "A2", "--reason", "mistake", "--ledger", ledger)[0] == 0
    assert cli(capsys, "report", "writeoff", "A3", "--undo", "--ledger", ledger)[0] == 2  # never written off
    assert set(_reasons(ledger)) == {"A1", "A2"}
    code, result = cli_json(capsys, "report", "writeoff", "A1", "--undo", "--ledger", ledger)
    assert code == 0 and result["undone"] == ["A1"] and result["reasons"] == {"A1": "mistake"}
    assert set(_reasons(ledger)) == {"A2"}
    code, report = cli_json(capsys, "report", "open", "--ledger", ledger, "--detail")
    assert sorted(r["claim_id"] for r in rows(report, "detail")) == ["A1", "A3"]
