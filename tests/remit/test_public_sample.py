"""pyx12's public 4010 sample (BSD, see data/README.md) posted end to end: matched without REF*6R, reversals netted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers import new_ledger
from tests.test_report_support import cli_json, isolated, line, night, rows  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")
SAMPLE = Path(__file__).parent / "data" / "pyx12_835_simple.txt"


def test_the_public_sample_matches_by_member_date_code_and_units(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    # The agency's line for the sample's first claim: member 373899999, T1017, 6 units on 2008-01-11.
    run = night(tmp_path / "n1", [line("L1", member="373899999", date="2008-01-11", units=6)], ledger)
    assert run.dispositions() == {"L1": "pass"}
    code, result = cli_json(capsys, "remit", SAMPLE, "--ledger", ledger)
    assert code == 1  # the second member's claim (T1017 TG) was never billed through this ledger: listed
    posted = result["files"][0]
    assert (posted["matched_by_control_number"], posted["matched_by_service"], posted["unmatched"]) == (0, 2, 1)
    assert posted["paid"] == pytest.approx(-210 + 200 - 500.25)
    with sqlite3.connect(ledger) as db:
        matched = [r for r in db.execute("SELECT claim_status, claim_id FROM remit_lines ORDER BY line_no")]
    assert matched == [("22", "L1"), ("1", "L1"), ("22", None)]
    code, report = cli_json(capsys, "report", "remit", "--ledger", ledger)
    assert code == 0
    january = {r["service"]: r for r in rows(report, "by_month_service") if r["month"] == "2008-01"}
    # Reversed (-$210) and paid again ($200): $200 - $210 net for the line, answered twice.
    assert january["T1017"]["paid"] == -10.0 and january["T1017"]["lines"] == 1
    assert [r["code"] for r in rows(report, "unmatched")] == ["T1017 TG"]
