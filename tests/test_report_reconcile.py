"""`cmclaims report RUN`: a run that adds up, and folders that were tampered with or copied half way."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from tests.helpers import Run, new_ledger
from tests.test_report_support import cli, cli_json, isolated, line, night, rows  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")


def _night(tmp_path: Path) -> tuple[Run, Path]:
    """Four lines: one passes, one is adjusted (5 units billed, 4 earned), two are rejected."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    run = night(tmp_path / "n1", [
        line("A1"),
        line("A2", start="10:00", activity="transport"),
        {**line("A3", start="12:00"), "units": 5, "charge": 100.0},
        line("A4", member="MBR1002", staff_id="S2", activity="education"),
    ], ledger)
    return run, ledger


def test_a_run_reconciles_from_its_folder_and_the_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _night(tmp_path)
    code, report = cli_json(capsys, "report", run.out, "--ledger", ledger)
    assert code == 0
    assert report["verdict"]["reconciled"] is True
    balance = {row["what"].split(" ")[0]: row for row in rows(report, "balance")}
    assert (balance["in"]["lines"], balance["clean"]["lines"], balance["rejected"]["lines"]) == (4, 2, 2)
    assert (balance["in"]["units"], balance["clean"]["units"], balance["rejected"]["units"]) == (17, 9, 8)
    assert (balance["in"]["dollars"], balance["clean"]["dollars"], balance["rejected"]["dollars"]) == (340, 180, 160)
    # The adjustment is shown apart: 5 units billed, 4 earned, $20 cut back.
    assert (balance["adjusted"]["lines"], balance["adjusted"]["units"], balance["adjusted"]["dollars"]) == (1, -1, -20)
    assert balance["billable"]["dollars"] == 160
    checks = rows(report, "checks")
    assert all(check["result"] in ("ok", "not compared") for check in checks)
    assert any(check["ledger_record"] is not None for check in checks)  # compared with the ledger too
    held = {row["rule"]: row["dollars_held"] for row in rows(report, "by_rule")}
    assert held == {"CM302": 160.0, "CM102": 20.0}  # transport and education are both CM302
    staff = {row["staff_id"]: row["lines_rejected"] for row in rows(report, "by_staff")}
    assert staff == {"S1": 1, "S2": 1}


def test_the_terminal_ends_with_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _night(tmp_path)
    code, out = cli(capsys, "report", run.out, "--ledger", ledger)
    assert code == 0
    assert out.strip().splitlines()[-1].startswith("RECONCILED: 4 lines in = 2 clean + 2 rejected")
    assert "MBR100" not in out  # counts and dollars, no member ids
    # `report run RUN` is the long form of `report RUN`.
    assert cli(capsys, "report", "run", run.out, "--ledger", ledger)[0] == 0


def test_a_tampered_folder_fails_loudly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _night(tmp_path)
    tampered = tmp_path / "tampered"
    shutil.copytree(run.out, tampered)
    with (tampered / "exceptions.csv").open(newline="", encoding="utf-8") as handle:
        kept = [row for row in csv.reader(handle) if row[0] != "A2"]  # a rejected line quietly taken out
    with (tampered / "exceptions.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(kept)
    code, out = cli(capsys, "report", tampered, "--ledger", ledger)
    assert code == 1
    assert out.strip().splitlines()[-1].startswith("DOES NOT RECONCILE")
    code, report = cli_json(capsys, "report", tampered, "--ledger", ledger)
    assert code == 1 and report["verdict"]["reconciled"] is False
    failed = set(report["verdict"]["failed_checks"])
    assert {"lines in", "lines rejected", "dollars rejected"} <= failed


def test_a_summary_edited_by_hand_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, _ = _night(tmp_path)
    summary = run.out / "summary.json"
    summary.write_text(summary.read_text().replace('"charge_rejected": 160.0', '"charge_rejected": 150.0'))
    code, report = cli_json(capsys, "report", run.out)  # the folder alone: no ledger here
    assert code == 1
    assert "dollars rejected" in report["verdict"]["failed_checks"]


def test_a_half_copied_folder_fails_without_quoting_its_rows(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _night(tmp_path)
    half = tmp_path / "half"
    shutil.copytree(run.out, half)
    clean = (half / "clean.csv").read_bytes()
    (half / "clean.csv").write_bytes(clean[: len(clean) - 40])  # the copy stopped inside the last row
    code, out = cli(capsys, "report", half, "--ledger", ledger)
    assert code == 1
    assert "DOES NOT RECONCILE" in out
    assert "MBR100" not in out and "1980-05-01" not in out
    (half / "summary.json").unlink()
    code, out = cli(capsys, "report", half, "--ledger", ledger)
    assert code == 1 and "summary.json is missing" in out


def test_a_run_whose_folder_is_gone_reconciles_from_the_ledger(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _night(tmp_path)
    run_id = run.summary["run_id"]
    shutil.rmtree(run.out)
    code, report = cli_json(capsys, "report", run_id, "--ledger", ledger)
    assert code == 0, report["verdict"]
    assert "ledger" in report["facts"]["counted from"]
    code, latest = cli_json(capsys, "report", "latest", "--ledger", ledger)
    assert code == 0 and latest["facts"]["run"] == run_id


def test_a_run_without_exceptions_reconciles_in_every_format(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    run = night(tmp_path / "n1", [line("A1")], ledger)
    for out in (None, tmp_path / "r.xlsx", tmp_path / "r.html", tmp_path / "r.json", tmp_path / "csv"):
        code, printed = cli(capsys, "report", run.out, "--ledger", ledger, *(["--out", out] if out else []))
        assert code == 0 and "RECONCILED: 1 lines in = 1 clean + 0 rejected" in printed


def test_an_unknown_run_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "report", tmp_path / "nowhere")[0] == 2
    _, ledger = _night(tmp_path)
    assert cli(capsys, "report", "run-000000000000", "--ledger", ledger)[0] == 2
