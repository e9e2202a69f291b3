"""The ledger across nights: caps that hold, re-runs, duplicates, voids, replacements, import, check."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cmclaims.cli import main
from cmclaims.errors import CannotWrite
from cmclaims.ledger.admin import check_ledger
from cmclaims.ledger.store import SqliteLedger
from tests.helpers import new_ledger, run_lines, write_csv

OPTUM = {"member_dob": "1980-05-01", "hcpcs": "T1017", "staff_id": "S1", "start_time": "09:00"}
SOONER = {"member_dob": "1980-05-01", "hcpcs": "T1017", "modifier1": "HE", "modifier2": "HN", "staff_id": "S1",
          "program": "110"}


def _end(units: int, start: str = "09:00") -> str:
    """The end time that earns exactly `units` 15-minute units from `start`."""
    hours, minutes = map(int, start.split(":"))
    total = hours * 60 + minutes + units * 15
    return f"{total // 60:02d}:{total % 60:02d}"


def optum_line(claim: str, member: str, date: str, units: int, start: str = "08:00") -> dict:
    return {**OPTUM, "claim_id": claim, "member_id": member, "service_date": date, "start_time": start,
            "end_time": _end(units, start), "units": units}


def test_the_second_night_crosses_the_annual_cap(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    first = [optum_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 10) for i in range(23)]  # 230 units
    night1 = run_lines(tmp_path / "n1", first, "id-optum", ledger=ledger)
    assert night1.summary["counts"]["lines_rejected"] == 0
    second = [optum_line("B1", "M1", "2026-04-01", 8), optum_line("B2", "M1", "2026-04-02", 8),
              {**optum_line("B3", "M2", "2026-04-02", 8), "staff_id": "S2"}]
    night2 = run_lines(tmp_path / "n2", second, "id-optum", ledger=ledger)
    assert night2.dispositions() == {"B1": "pass", "B2": "rejected", "B3": "pass"}
    assert night2.flagged("CM204") == {"B2": "rejected"}
    assert "(238 units billed so far that year" in night2.messages("CM204")["B2"]
    # With the ledger ignored, the second night alone is under the cap.
    alone = run_lines(tmp_path / "n2-alone", second, "id-optum")
    assert alone.dispositions() == {"B1": "pass", "B2": "pass", "B3": "pass"}


def test_a_late_line_counts_against_its_own_month(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    january = [{**SOONER, "claim_id": f"J{i}", "member_id": "M1", "service_date": f"2026-01-{i + 5:02d}",
                "start_time": "09:00", "end_time": _end(8), "units": 8} for i in range(3)]  # 24 of 25
    run_lines(tmp_path / "jan", january, "ok-soonercare", ledger=ledger)
    march = [
        {**SOONER, "claim_id": "LATE", "member_id": "M1", "service_date": "2026-01-28", "start_time": "09:00",
         "end_time": _end(2), "units": 2},
        {**SOONER, "claim_id": "MAR", "member_id": "M1", "service_date": "2026-03-03", "start_time": "09:00",
         "end_time": _end(2), "units": 2},
    ]
    night = run_lines(tmp_path / "mar", march, "ok-soonercare", ledger=ledger)
    assert night.flagged("CM202") == {"LATE": "rejected"}
    assert "in 2026-01" in night.messages("CM202")["LATE"]
    assert night.dispositions()["MAR"] == "pass"


def test_running_the_same_input_again_replaces_the_run_and_writes_the_same_files(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    lines = [optum_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 12) for i in range(22)]  # crosses 240
    first = run_lines(tmp_path / "a", lines, "id-optum", ledger=ledger)
    clean, exceptions = (first.out / "clean.csv").read_bytes(), (first.out / "exceptions.csv").read_bytes()
    again = run_lines(tmp_path / "a", lines, "id-optum", ledger=ledger)
    assert (again.out / "clean.csv").read_bytes() == clean
    assert (again.out / "exceptions.csv").read_bytes() == exceptions
    assert again.summary["run_id"] == first.summary["run_id"]
    store = SqliteLedger(ledger)
    [run] = store.runs()
    assert run["executions"] == 2
    assert store.lines().num_rows == first.summary["counts"]["lines_clean"]
    assert check_ledger(store) == []


def test_a_claim_billed_in_an_earlier_run_is_rejected_naming_that_run(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    first = run_lines(tmp_path / "n1", [optum_line("X1", "M1", "2026-03-02", 4)], "id-optum", ledger=ledger)
    second = run_lines(tmp_path / "n2", [optum_line("X1", "M1", "2026-03-02", 4),
                                         optum_line("X2", "M1", "2026-03-03", 4)], "id-optum", ledger=ledger)
    assert second.flagged("CM402") == {"X1": "rejected"}
    assert first.summary["run_id"] in second.messages("CM402")["X1"]
    assert second.dispositions()["X2"] == "pass"


def test_a_replacement_swaps_units_and_a_void_frees_them(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    day = {**SOONER, "member_id": "M1", "service_date": "2026-03-04"}
    run_lines(tmp_path / "n1", [{**day, "claim_id": "A", "start_time": "08:00", "end_time": _end(10, "08:00"),
                                 "units": 10}], "ok-soonercare", ledger=ledger)
    # Replacing A's 10 units by 12 leaves room for 4 more that day (limit 16), not 14.
    night2 = run_lines(tmp_path / "n2", [
        {**day, "claim_id": "A2", "claim_frequency": "7", "original_claim_id": "A", "start_time": "08:00",
         "end_time": _end(12, "08:00"), "units": 12},
        {**day, "claim_id": "B", "start_time": "13:00", "end_time": _end(4, "13:00"), "units": 4},
    ], "ok-soonercare", ledger=ledger)
    assert night2.dispositions() == {"A2": "pass", "B": "pass"}
    # Voiding A2 frees its 12 units: a 12-unit line fits beside B's 4.
    night3 = run_lines(tmp_path / "n3", [
        {**day, "claim_id": "V", "claim_frequency": "8", "original_claim_id": "A2", "start_time": "15:00",
         "end_time": _end(1, "15:00"), "units": 1},
        {**day, "claim_id": "C", "start_time": "16:00", "end_time": _end(12, "16:00"), "units": 12},
    ], "ok-soonercare", ledger=ledger)
    assert night3.dispositions() == {"V": "pass", "C": "pass"}
    store = SqliteLedger(ledger)
    assert check_ledger(store) == []
    code = main(["ledger", "usage", "--member", "M1", "--ledger", str(ledger), "--json"])
    assert code == 0


def test_a_replacement_takes_out_the_billed_line_not_a_void_that_reused_its_id(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    day = {**SOONER, "member_id": "M1", "service_date": "2026-03-04"}

    def line(claim: str, start: str, units: int, **values: str) -> dict:
        return {**day, "claim_id": claim, "start_time": start, "end_time": _end(units, start), "units": units,
                **values}

    run_lines(tmp_path / "n1", [line("X", "08:00", 10)], "ok-soonercare", ledger=ledger)
    run_lines(tmp_path / "n2", [line("X", "08:00", 10, claim_frequency="8", original_claim_id="X")],
              "ok-soonercare", ledger=ledger)
    rebilled = run_lines(tmp_path / "n3", [line("X", "09:00", 10)], "ok-soonercare", ledger=ledger)
    assert rebilled.dispositions() == {"X": "pass"}  # a voided claim may be billed again
    # Replacing the re-billed X (10 units) by 12 leaves the day at 12 of 16: it passes.
    replaced = run_lines(tmp_path / "n4", [line("R", "09:00", 12, claim_frequency="7", original_claim_id="X")],
                         "ok-soonercare", ledger=ledger)
    assert replaced.dispositions() == {"R": "pass"}
    assert check_ledger(SqliteLedger(ledger)) == []


def test_usage_reports_units_against_limits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    lines = [optum_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 10) for i in range(3)]
    run_lines(tmp_path / "n1", lines, "id-optum", ledger=ledger)
    assert main(["ledger", "usage", "--member", "M1", "--year", "2026", "--ledger", str(ledger), "--json"]) == 0
    usage = json.loads(capsys.readouterr().out)
    assert usage["lines"] == 3
    assert usage["annual"] == [{"profile": "id-optum", "cap": "Case management, 240 units a client a calendar year",
                                "period": 2026, "units": 30, "limit": 240, "authorized_units": 0}]


def test_dry_run_reads_the_ledger_and_changes_nothing(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    run_lines(tmp_path / "n1", [optum_line("A1", "M1", "2026-03-02", 4)], "id-optum", ledger=ledger)
    before = ledger.read_bytes()
    tonight = [optum_line("A1", "M1", "2026-03-02", 4), optum_line("A2", "M1", "2026-03-03", 4)]
    dry = run_lines(tmp_path / "n2", tonight, "id-optum", ledger=ledger, dry_run=True)
    assert dry.flagged("CM402") == {"A1": "rejected"}
    assert dry.summary["ledger"]["mode"] == "dry-run"
    assert ledger.read_bytes() == before
    assert len(SqliteLedger(ledger).runs()) == 1


def test_a_dry_run_without_a_ledger_refuses_and_creates_none(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    with pytest.raises(CannotWrite, match="there is no ledger here"):
        run_lines(tmp_path / "n1", [optum_line("A1", "M1", "2026-03-02", 4)], "id-optum", ledger=ledger,
                  dry_run=True)
    assert not ledger.exists()


def test_rollback_takes_a_run_out_of_the_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night = run_lines(tmp_path / "n1", [optum_line("A1", "M1", "2026-03-02", 4)], "id-optum", ledger=ledger)
    run_id = night.summary["run_id"]
    assert main(["ledger", "rollback", run_id, "--yes", "--ledger", str(ledger)]) == 0
    assert SqliteLedger(ledger).run(run_id)["status"] == "rolled_back"
    # The claim is no longer billed: another run may bill it.
    again = run_lines(tmp_path / "n2", [optum_line("A1", "M1", "2026-03-02", 4),
                                        optum_line("A2", "M1", "2026-03-03", 4)], "id-optum", ledger=ledger)
    assert again.flagged("CM402") == {}
    capsys.readouterr()
    assert main(["ledger", "runs", "--ledger", str(ledger), "--json"]) == 0
    statuses = {r["run_id"]: r["status"] for r in json.loads(capsys.readouterr().out)}
    assert statuses[run_id] == "rolled_back"
    assert main(["ledger", "rollback", run_id, "--yes", "--ledger", str(ledger)]) == 2  # already rolled back


def test_import_seeds_the_caps_for_the_first_night(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    history = write_csv(tmp_path / "history.csv", [
        {"claim_id": f"H{i}", "member_id": "M1", "service_date": f"2026-02-{i + 2:02d}", "hcpcs": "T1016",
         "units": 47} for i in range(5)  # 235 units
    ] + [{"claim_id": "BAD", "member_id": "M1", "service_date": "2026-02-31", "hcpcs": "T1016", "units": 4}])
    code = main(["ledger", "import", str(history), "--profile", "id-optum", "--ledger", str(ledger), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1  # one row was left out
    assert result["imported"] == 5 and result["units"] == 235
    assert result["left_out"]["unreadable_or_incomplete"] == 1 and result["left_out_rows"] == [6]
    night = run_lines(tmp_path / "n1", [optum_line("N1", "M1", "2026-03-02", 4),
                                        optum_line("N2", "M1", "2026-03-03", 4)], "id-optum", ledger=ledger)
    assert night.dispositions() == {"N1": "pass", "N2": "rejected"}
    assert night.flagged("CM204") == {"N2": "rejected"}


def test_check_finds_a_ledger_tampered_with_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    run_lines(tmp_path / "n1", [optum_line("A1", "M1", "2026-03-02", 4)], "id-optum", ledger=ledger)
    assert main(["ledger", "check", "--ledger", str(ledger)]) == 0
    with sqlite3.connect(ledger) as db:
        db.execute("UPDATE runs SET units_ledgered = units_ledgered + 5")
    capsys.readouterr()
    assert main(["ledger", "check", "--ledger", str(ledger), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and any("record says" in p for p in report["problems"])


def test_check_finds_an_altered_block(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    run_lines(tmp_path / "n1", [optum_line("A1", "M1", "2026-03-02", 4)], "id-optum", ledger=ledger)
    with sqlite3.connect(ledger) as db:
        db.execute("UPDATE line_blocks SET data = CAST(data || x'00' AS BLOB)")
    assert any("altered" in p for p in check_ledger(SqliteLedger(ledger, read_only=True)))


def test_no_ledger_skips_the_ledger_rules(tmp_path: Path) -> None:
    night = run_lines(tmp_path / "n1", [optum_line("A1", "M1", "2026-03-02", 4)], "id-optum")
    skipped = {s["rule"] for s in night.summary["rules_skipped"]}
    assert {"CM402", "CM405"} <= skipped
    assert night.summary["ledger"] == {"mode": "off"}
