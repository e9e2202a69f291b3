"""The loop: a night validated, its 835 posted, `cmclaims report remit` checked to the cent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cmclaims.cli import main
from tests.helpers import new_ledger
from tests.remit.builders import clp, svc, write
from tests.test_report_support import cli, cli_json, isolated, line, night, rows  # noqa: F401

APRIL_6 = dt.date(2026, 4, 6)
pytestmark = pytest.mark.usefixtures("isolated")


def _loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    first = night(tmp_path / "n1", [
        line("A1"), line("A2", start="10:00"), line("A3", member="MBR2002", start="12:00"),
        line("A4", member="MBR3003", start="14:00", units=2), line("A5", member="MBR4004", start="16:00"),
        line("A9", member="MBR5005", start="18:00", activity="transport"),  # held back: not billable
    ], ledger, days_ago=2)
    assert first.dispositions()["A9"] == "rejected"
    second = night(tmp_path / "n2", [line("A9", member="MBR5005", start="18:00"),  # corrected, sent again
                                     line("B1", member="MBR6006", date="2026-04-06")], ledger, days_ago=1)
    assert second.dispositions() == {"A9": "pass", "B1": "pass"}
    remit = write(
        tmp_path / "payer.835",
        clp("P1", "1", svc("A1", "80", "80"), svc("A2", "80", "72", ("CO", "45", "8"))),  # paid in full (fee cut)
        clp("P2", "4", svc("A3", "80", "0", ("CO", "197", "80"), remarks=("N54",)), member="MBR2002"),  # denied
        clp("P3", "1", svc("A4", "40", "30", ("PR", "1", "10"), units=2), member="MBR3003"),  # deductible
        clp("P4", "1", svc("A5", "80", "50", ("CO", "45", "5"), ("CO", "16", "25")), member="MBR4004"),  # partly
        clp("P5", "1", svc("A9", "80", "80"), member="MBR5005"),  # held back, corrected, paid
        clp("P6", "1", svc("B1", "80", "80", day=APRIL_6), member="MBR6006"),
        clp("P6", "22", svc("B1", "-80", "-80", day=APRIL_6), member="MBR6006"),
        clp("P7", "1", svc("X1", "60", "60", units=3), member="MBR7007"),  # billed outside cmclaims
    )
    capsys.readouterr()
    code = main(["remit", str(remit), "--ledger", str(ledger)])
    assert code == 1, capsys.readouterr().err  # X1 matches nothing
    return ledger


def test_the_report_tells_finance_what_was_paid_denied_and_missed(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _loop(tmp_path, capsys)
    code, report = cli_json(capsys, "report", "remit", "--ledger", ledger)
    assert code == 0
    months = {(r["month"], r["service"]): r for r in rows(report, "by_month_service")}
    march = months[("2026-03", "T1017")]
    # Every remitted line counts here, the one billed outside cmclaims (X1, $60 paid) too.
    assert (march["lines"], march["billed"], march["paid"], march["patient_responsibility"]) == (7, 500.0, 372.0, 10.0)
    assert (march["contractual"], march["denied_dollars"]) == (13.0, 105.0)
    assert (march["lines_paid_in_full"], march["lines_partly_paid"], march["lines_denied"]) == (5, 1, 1)
    april = months[("2026-04", "T1017")]
    assert (april["lines"], april["paid"], april["lines_reversed"]) == (1, 0.0, 1)
    # The line billed outside cmclaims is remitted, counted, and listed: nothing dropped.
    assert march["lines"] + april["lines"] == 8
    assert [(r["line_control"], r["charge"], r["paid"]) for r in rows(report, "unmatched")] == [("X1", 60.0, 60.0)]

    missed = rows(report, "missed_edits")
    assert [(r["primary_carc"], r["service"], r["lines"], r["billed"], r["remarks"], r["claim_ids"])
            for r in missed] == [("CO-197", "T1017", 1, 80.0, "N54", "A3")]
    carcs = {r["code"]: r for r in rows(report, "denials_by_carc")}
    assert carcs["CO-197"]["dollars"] == 80.0 and carcs["CO-197"]["lines_denied_for_it"] == 1
    assert carcs["PR-1"]["dollars"] == 10.0 and carcs["PR-1"]["group_name"] == "patient responsibility"
    assert carcs["CO-45"]["dollars"] == 13.0 and carcs["CO-16"]["dollars"] == 25.0

    measure = {r["month"]: r for r in rows(report, "paid_in_full_by_month")}
    # March: A1, A2 (fee cut only), A4 (member's deductible), A9 paid in full; A3 denied, A5 partly paid.
    assert (measure["2026-03"]["passed_lines_remitted"], measure["2026-03"]["paid_in_full"]) == (6, 4)
    assert measure["2026-03"]["share_paid_in_full"] == pytest.approx(4 / 6)
    corrected = rows(report, "corrected_then_paid")
    assert [(r["rule"], r["claims"], r["paid"]) for r in corrected] == [("CM302", 1, 80.0)]


def test_dates_of_service_bound_the_report_and_descriptions_come_from_the_user(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _loop(tmp_path, capsys)
    texts = tmp_path / "carc.csv"
    texts.write_text("code,description\n197,Precertification/authorization absent (our wording)\n")
    code, report = cli_json(capsys, "report", "remit", "--ledger", ledger, "--from", "2026-04-01",
                            "--carc-descriptions", texts)
    assert code == 0
    assert {r["month"] for r in rows(report, "by_month_service")} == {"2026-04"}
    code, report = cli_json(capsys, "report", "remit", "--ledger", ledger, "--carc-descriptions", texts)
    assert code == 0
    assert rows(report, "missed_edits")[0]["description"] == "Precertification/authorization absent (our wording)"


def test_every_format_and_no_member_id_anywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _loop(tmp_path, capsys)
    code, out = cli(capsys, "report", "remit", "--ledger", ledger)
    assert code == 0 and "edits cmclaims is missing" in out and "MBR" not in out
    for name in ("remit.html", "remit.xlsx", "remit.json"):
        assert cli(capsys, "report", "remit", "--ledger", ledger, "--out", tmp_path / name)[0] == 0
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    page = (tmp_path / "remit.html").read_text()
    assert "<svg" in page and "MBR" not in page
    assert cli(capsys, "report", "remit", "--ledger", ledger, "--out", tmp_path / "csv")[0] == 0
    assert (tmp_path / "csv" / "missed_edits.csv").exists()


def test_a_ledger_without_remittances_reports_nothing_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1")], ledger)
    code, report = cli_json(capsys, "report", "remit", "--ledger", ledger)
    assert code == 0 and rows(report, "by_month_service") == [] and report["facts"]["files posted"] == "0"
