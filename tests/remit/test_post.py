"""`cmclaims remit`: matched to the ledger, recorded once, nothing recorded from a bad file, nothing dropped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cmclaims.cli import main
from tests.helpers import new_ledger
from tests.remit.builders import clp, svc, write
from tests.test_report_support import cli, cli_json, isolated, line, night  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")


def _count(ledger: Path, table: str) -> int:
    with sqlite3.connect(ledger) as db:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] if exists else 0


def _stderr(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def _night(tmp_path: Path) -> Path:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    run = night(tmp_path / "n1", [line("A1"), line("A2", start="10:00"), line("A3", member="MBR2002", start="12:00"),
                                  line("A4", member="MBR3003", date="2026-03-03")], ledger)
    assert set(run.dispositions().values()) == {"pass"}
    return ledger


def test_lines_match_by_control_number_and_by_service_and_the_rest_is_listed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _night(tmp_path)
    remit = write(tmp_path / "r.835",
                  clp("P1", "1", svc("A1", "80", "80"), svc(None, "80", "80")),  # A2 lost its REF*6R
                  clp("P2", "1", svc(None, "80", "80"), member="MBR2002"),  # A3, by member/date/code/units
                  clp("P3", "1", svc("ZZ9", "40", "40", units=2), member="MBR9999"))  # billed outside cmclaims
    code, result = cli_json(capsys, "remit", remit, "--ledger", ledger)
    assert code == 1  # something matched nothing: listed, and the exit code says so
    posted = result["files"][0]
    assert posted["status"] == "posted"
    assert (posted["matched_by_control_number"], posted["matched_by_service"], posted["unmatched"]) == (1, 2, 1)
    assert [row["line_control"] for row in result["unmatched"]] == ["ZZ9"]
    with sqlite3.connect(ledger) as db:
        matched = dict(db.execute("SELECT line_no, claim_id FROM remit_lines").fetchall())
    assert matched == {1: "A1", 2: "A2", 3: "A3", 4: None}


def test_two_sessions_a_day_and_a_reversal_land_on_the_right_lines(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _night(tmp_path)
    # A1 and A2 are alike (member, day, code, units): without REF*6R each remitted line takes one of them in
    # claim_id order; the reversal takes back the first payment (A1) and the re-payment goes to A1 again.
    remit = write(tmp_path / "r.835", clp("P1", "1", svc(None, "80", "80"), svc(None, "80", "80")),
                  clp("P1", "22", svc(None, "-80", "-80")), clp("P1", "1", svc(None, "80", "70", ("CO", "45", "10"))))
    code, _ = cli_json(capsys, "remit", remit, "--ledger", ledger)
    assert code == 0
    with sqlite3.connect(ledger) as db:
        matched = [r[0] for r in db.execute("SELECT claim_id FROM remit_lines ORDER BY line_no")]
    assert matched == ["A1", "A2", "A1", "A1"]


def test_the_same_file_posted_twice_is_recorded_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _night(tmp_path)
    remit = write(tmp_path / "r.835", clp("P1", "1", svc("A1", "80", "80")))
    assert cli_json(capsys, "remit", remit, "--ledger", ledger)[0] == 0
    copy = tmp_path / "copy-of-r.835"
    copy.write_bytes(remit.read_bytes())
    code, result = cli_json(capsys, "remit", copy, remit, "--ledger", ledger)
    assert code == 0 and result["files"][0]["status"] == "already posted"
    assert len(result["files"]) == 1  # the same content named twice in one command counts once too
    assert _count(ledger, "remit_files") == 1 and _count(ledger, "remit_lines") == 1
    # A different file carrying the same payment (payer and trace number) would count the money twice.
    other = write(tmp_path / "other.835", clp("P1", "1", svc("A1", "80", "80")),
                  clp("P9", "1", svc("A3", "80", "80")))
    code, _ = cli(capsys, "remit", other, "--ledger", ledger)
    assert code == 65 and _count(ledger, "remit_lines") == 1


def test_a_malformed_or_truncated_file_records_nothing_from_any_file(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _night(tmp_path)
    good = write(tmp_path / "good.835", clp("P1", "1", svc("A1", "80", "80")), trace="T1")
    whole = write(tmp_path / "whole.835", clp("P2", "1", svc("A3", "80", "80"), member="MBR2002"), trace="T2")
    cut = tmp_path / "cut.835"
    cut.write_text(whole.read_text()[:-30])
    code, error = _stderr(capsys, "remit", good, cut, "--ledger", ledger)
    assert code == 65
    assert "cut.835" in error and "truncated" in error and "without the IEA" in error
    assert "MBR" not in error
    assert _count(ledger, "remit_files") == 0 and _count(ledger, "remit_lines") == 0
    bad = tmp_path / "bad.835"
    bad.write_text(whole.read_text().replace("CLP*P2*1*80*80", "CLP*P2*1*8O*80"))
    code, error = _stderr(capsys, "remit", good, bad, "--ledger", ledger)
    assert code == 65 and "segment CLP (segment 13 of the file): element CLP03" in error
    assert _count(ledger, "remit_lines") == 0
    assert cli_json(capsys, "remit", good, whole, "--ledger", ledger)[0] == 0
    assert _count(ledger, "remit_lines") == 2


def test_no_ledger_is_exit_73_and_a_missing_file_66(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    remit = write(tmp_path / "r.835", clp("P1", "1", svc("A1", "80", "80")))
    assert cli(capsys, "remit", remit, "--ledger", tmp_path / "none.sqlite3")[0] == 73
    assert not (tmp_path / "none.sqlite3").exists()
    ledger = _night(tmp_path)
    assert cli(capsys, "remit", tmp_path / "missing.835", "--ledger", ledger)[0] == 66
