"""The issue's reproductions, each as it was made: from the command line, night after night.

Each would have billed a claim twice, broken a limit, or changed an old
night's outputs; each now cannot happen (SPEC sections 3, 5 and 6).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmclaims.cli import main
from tests.helpers import new_ledger, read_csv, write_csv
from tests.ledger.support import optum_line, sooner_line


def _night(folder: Path, ledger: Path, lines: list[dict], profile: str = "ok-soonercare", *extra: str) -> dict:
    """Validate `lines` as one night through the command line; returns its summary, with the fates per claim."""
    folder.mkdir(parents=True, exist_ok=True)
    export = write_csv(folder / "export.csv", lines)
    code = main(["validate", str(export), "--profile", profile, "--out", str(folder / "out"), "--ledger", str(ledger),
                 "--quiet", *extra])
    assert code in (0, 1)
    summary = json.loads((folder / "out" / "summary.json").read_text())
    fates = {row["claim_id"]: (row["disposition"], int(row["billable_units"]))
             for row in read_csv(folder / "out" / "clean.csv")}
    findings: dict[str, list[str]] = {}
    for row in read_csv(folder / "out" / "exceptions.csv"):
        fates.setdefault(row["claim_id"], (row["disposition"], 0))
        findings.setdefault(row["claim_id"], []).append(row["rule"])
    return {**summary, "fates": fates, "rules": findings, "exceptions": read_csv(folder / "out" / "exceptions.csv")}


def _check(ledger: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    code = main(["ledger", "check", "--ledger", str(ledger), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == (0 if report["ok"] else 1)
    return report


def test_1_a_claim_resent_under_another_month_is_a_duplicate(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    _night(tmp_path / "n1", ledger, [sooner_line("C1", "M1", "2026-04-07", 4)])
    _night(tmp_path / "n2", ledger, [sooner_line("C2", "M2", "2026-05-07", 4)])
    # A corrected re-export sends C1 again with a July date: still billed, in April.
    night3 = _night(tmp_path / "n3", ledger, [sooner_line("C1", "M1", "2026-07-07", 4),
                                              sooner_line("C3", "M1", "2026-07-08", 4)])
    assert night3["fates"]["C1"] == ("rejected", 0)
    assert night3["rules"]["C1"] == ["CM402"]
    [finding] = [r for r in night3["exceptions"] if r["claim_id"] == "C1"]
    assert "service date 2026-04-07" in finding["message"]
    assert night3["fates"]["C3"] == ("pass", 4)
    assert _check(ledger, capsys)["ok"]


def test_1_a_void_finds_its_original_in_another_month(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    _night(tmp_path / "n1", ledger, [sooner_line("C1", "M1", "2026-04-07", 4)])
    night2 = _night(tmp_path / "n2", ledger, [
        sooner_line("V1", "M1", "2026-06-01", 4, claim_frequency="8", original_claim_id="C1"),
        sooner_line("R9", "M1", "2026-06-02", 4, start="10:00", claim_frequency="7", original_claim_id="NOPE"),
    ])
    assert "V1" not in night2["rules"]  # the April original is known
    assert night2["rules"]["R9"] == ["CM405"]
    assert _check(ledger, capsys)["ok"]


def _o1_billed(tmp_path: Path) -> Path:
    """Night 1 bills O1: 10 units of T1017 HE TF (16 a day, 56 a month) on 2026-03-04."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    assert _night(tmp_path / "n1", ledger, [sooner_line("O1", "M1", "2026-03-04", 10)])["fates"]["O1"] == ("pass", 10)
    return ledger


def test_4_a_rejected_replacement_changes_nothing_its_original_keeps_counting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _o1_billed(tmp_path)
    # R1 replaces O1 with 17 units: over the daily limit by itself, so it is rejected and O1 stands.
    night2 = _night(tmp_path / "n2", ledger, [
        sooner_line("N1", "M1", "2026-03-04", 8, start="13:00", staff="S2"),
        sooner_line("R1", "M1", "2026-03-04", 17, start="15:00", claim_frequency="7", original_claim_id="O1"),
    ])
    assert night2["fates"]["R1"] == ("rejected", 0)
    assert night2["fates"]["N1"] == ("rejected", 0)  # O1's 10 still count: 10 + 8 > 16
    assert night2["rules"]["N1"] == ["CM201"]
    report = _check(ledger, capsys)
    assert report["ok"], report["problems"]
    capsys.readouterr()
    assert main(["ledger", "usage", "--member", "M1", "--ledger", str(ledger), "--json"]) == 0
    daily = json.loads(capsys.readouterr().out)["daily"]
    assert [(row["period"], row["units"]) for row in daily] == [("2026-03-04", 10)]


@pytest.mark.parametrize("replacement_first", [False, True])
def test_4_an_accepted_replacement_frees_its_original_only_once_accepted(
    replacement_first: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _o1_billed(tmp_path)
    n1_start, r1_start = ("16:00", "13:00") if replacement_first else ("13:00", "15:00")
    night2 = _night(tmp_path / "n2", ledger, [
        sooner_line("N1", "M1", "2026-03-04", 8, start=n1_start, staff="S2"),
        sooner_line("R1", "M1", "2026-03-04", 9, start=r1_start, claim_frequency="7", original_claim_id="O1"),
    ])
    # Taken in order (SPEC section 5): before R1 is accepted O1 counts (10 + 8 > 16); after, R1 counts (9 + 8).
    assert night2["fates"]["R1"] == ("pass", 9)
    assert night2["fates"]["N1"] == ("rejected", 0)
    assert _check(ledger, capsys)["ok"]


def test_4_the_same_holds_for_monthly_limits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    month = [sooner_line(f"O{i}", "M1", f"2026-03-{i + 2:02d}", 10) for i in range(5)]  # 50 of 56
    _night(tmp_path / "n1", ledger, month)
    night2 = _night(tmp_path / "n2", ledger, [
        sooner_line("N1", "M1", "2026-03-20", 8),
        sooner_line("R1", "M1", "2026-03-21", 17, claim_frequency="7", original_claim_id="O0"),  # 17 > 16 a day
    ])
    assert night2["fates"]["R1"] == ("rejected", 0)
    assert night2["fates"]["N1"] == ("rejected", 0)  # 50 + 8 > 56: O0 still counts
    assert night2["rules"]["N1"] == ["CM202"]
    assert _check(ledger, capsys)["ok"]


@pytest.mark.parametrize("replacement_id", ["R1", "O1"])
def test_5_rerunning_an_old_night_after_a_later_replacement_gives_its_same_outputs(
    replacement_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    first = [sooner_line("O1", "M1", "2026-03-04", 10), sooner_line("O2", "M1", "2026-03-04", 6, start="13:00")]
    night1 = _night(tmp_path / "n1", ledger, first)
    clean, exceptions = (tmp_path / "n1" / "out" / "clean.csv").read_bytes(), \
        (tmp_path / "n1" / "out" / "exceptions.csv").read_bytes()
    assert night1["fates"] == {"O1": ("pass", 10), "O2": ("pass", 6)}
    night2 = _night(tmp_path / "n2", ledger, [
        sooner_line(replacement_id, "M1", "2026-03-04", 9, start="15:00", claim_frequency="7", original_claim_id="O1"),
    ])
    assert night2["fates"][replacement_id] == ("pass", 9)
    again = _night(tmp_path / "n1", ledger, first)
    assert again["run_id"] == night1["run_id"]
    assert again["fates"] == night1["fates"]
    assert (tmp_path / "n1" / "out" / "clean.csv").read_bytes() == clean
    assert (tmp_path / "n1" / "out" / "exceptions.csv").read_bytes() == exceptions
    report = _check(ledger, capsys)
    assert report["ok"], report["problems"]
    # O1 stays replaced: the day holds O2's 6 and R1's 9.
    capsys.readouterr()
    main(["ledger", "usage", "--member", "M1", "--ledger", str(ledger), "--json"])
    assert json.loads(capsys.readouterr().out)["daily"][0]["units"] == 15


def test_5_rerunning_an_old_night_after_a_later_void_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    first = [sooner_line("O1", "M1", "2026-03-04", 10)]
    night1 = _night(tmp_path / "n1", ledger, first)
    _night(tmp_path / "n2", ledger, [sooner_line("V1", "M1", "2026-03-04", 10, claim_frequency="8",
                                                 original_claim_id="O1")])
    assert _night(tmp_path / "n1", ledger, first)["fates"] == night1["fates"]
    assert _check(ledger, capsys)["ok"]


def test_7_a_line_cut_back_to_the_exports_units_is_adjusted_and_says_what_it_bills(tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    # The export bills 16 units for 4h15 (earned: 17); the daily limit is 16: the clean file bills 16.
    line = {**sooner_line("A1", "M1", "2026-03-04", 17), "units": 16}
    night = _night(tmp_path / "n1", ledger, [line], "ok-soonercare", "--over-limit", "cutback")
    assert night["fates"]["A1"] == ("adjusted", 16)
    assert night["counts"]["lines_adjusted"] == 1
    rows = {row["rule"]: row for row in night["exceptions"]}
    assert set(rows) == {"CM102", "CM201"}
    assert {row["disposition"] for row in rows.values()} == {"adjusted"}
    assert rows["CM102"]["message"].endswith("the clean file bills 16 units")
    assert "17" not in rows["CM102"]["message"].split(";")[1]
    assert rows["CM201"]["units_allowed"] == "16"


def test_optum_cap_holds_across_nights_with_replacements(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    _night(tmp_path / "n1", ledger, [optum_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 10) for i in range(23)],
           "id-optum")  # 230 of 240
    night2 = _night(tmp_path / "n2", ledger, [
        optum_line("R0", "M1", "2026-03-02", 30, claim_frequency="7", original_claim_id="A0"),  # 230 - 10 + 30 > 240
        optum_line("B1", "M1", "2026-04-01", 8),
    ], "id-optum")
    assert night2["fates"]["R0"] == ("rejected", 0)
    assert night2["fates"]["B1"] == ("pass", 8)  # A0 still counts: 238
    assert _check(ledger, capsys)["ok"]


def test_a_void_is_not_rolled_back_once_its_claim_was_billed_again(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    _night(tmp_path / "n1", ledger, [sooner_line("C1", "M1", "2026-04-07", 4)])
    voided = _night(tmp_path / "n2", ledger, [sooner_line("C1", "M1", "2026-04-07", 4, claim_frequency="8",
                                                          original_claim_id="C1")])
    assert voided["fates"]["C1"] == ("pass", 4)
    billed_again = _night(tmp_path / "n3", ledger, [sooner_line("C1", "M1", "2026-04-08", 4)])
    assert billed_again["fates"]["C1"] == ("pass", 4)  # a voided claim may be billed again
    # Rolling the void back would bring the first C1 back beside the new one: billed twice. Refused.
    capsys.readouterr()
    assert main(["ledger", "rollback", voided["run_id"], "--yes", "--ledger", str(ledger)]) == 2
    assert "billed again" in capsys.readouterr().err
    assert _check(ledger, capsys)["ok"]
    assert main(["ledger", "rollback", billed_again["run_id"], "--yes", "--ledger", str(ledger)]) == 0
    assert main(["ledger", "rollback", voided["run_id"], "--yes", "--ledger", str(ledger)]) == 0
    assert _check(ledger, capsys)["ok"]


def test_a_replacement_is_not_rolled_back_once_the_units_it_freed_were_billed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hole the long property run found: night 2 replaces a 40-unit line by a 10-unit one, night 3 bills
    30 of the units that freed; rolling night 2 back would bring the 40 back: 270 of Idaho's 240."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night1 = _night(tmp_path / "n1", ledger, [optum_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 40)
                                              for i in range(6)], "id-optum")
    assert sum(units for _, units in night1["fates"].values()) == 240
    replaced = _night(tmp_path / "n2", ledger, [
        optum_line("R0", "M1", "2026-03-02", 10, claim_frequency="7", original_claim_id="A0")], "id-optum")
    assert replaced["fates"]["R0"] == ("pass", 10)
    later = _night(tmp_path / "n3", ledger, [optum_line("B1", "M1", "2026-05-04", 30)], "id-optum")
    assert later["fates"]["B1"] == ("pass", 30)
    before = ledger.read_bytes()
    capsys.readouterr()
    assert main(["ledger", "rollback", replaced["run_id"], "--yes", "--ledger", str(ledger)]) == 2
    err = capsys.readouterr().err
    assert "annual cap of 240" in err and later["run_id"] in err and "M1" not in err
    assert ledger.read_bytes() == before
    assert _check(ledger, capsys)["ok"]
    # Once the later night is rolled back, the replacement can be.
    assert main(["ledger", "rollback", later["run_id"], "--yes", "--ledger", str(ledger)]) == 0
    assert main(["ledger", "rollback", replaced["run_id"], "--yes", "--ledger", str(ledger)]) == 0
    assert _check(ledger, capsys)["ok"]


def test_the_same_holds_for_a_daily_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _o1_billed(tmp_path)  # O1: 10 of 16 units on 2026-03-04
    replaced = _night(tmp_path / "n2", ledger, [
        sooner_line("R1", "M1", "2026-03-04", 4, claim_frequency="7", original_claim_id="O1")])
    assert replaced["fates"]["R1"] == ("pass", 4)
    later = _night(tmp_path / "n3", ledger, [sooner_line("N1", "M1", "2026-03-04", 10, start="13:00")])
    assert later["fates"]["N1"] == ("pass", 10)  # 4 + 10 of 16
    capsys.readouterr()
    assert main(["ledger", "rollback", replaced["run_id"], "--yes", "--ledger", str(ledger)]) == 2
    assert "daily limit of 16" in capsys.readouterr().err
    assert _check(ledger, capsys)["ok"]
    # A rollback that brings nothing back over a limit is not refused: night 3 itself.
    assert main(["ledger", "rollback", later["run_id"], "--yes", "--ledger", str(ledger)]) == 0
    assert _check(ledger, capsys)["ok"]


def _usage(ledger: Path, capsys: pytest.CaptureFixture[str], period: str) -> list[tuple[str, int]]:
    """`ledger usage --member M1`: M1's (period, units) by day, month or year."""
    capsys.readouterr()
    assert main(["ledger", "usage", "--member", "M1", "--ledger", str(ledger), "--json"]) == 0
    return [(str(row["period"]), row["units"]) for row in json.loads(capsys.readouterr().out)[period]]


def test_rerunning_a_night_whose_replacement_a_later_night_voided_keeps_that_original_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hole the long property run found (soak3): night 2 replaces A0 and A1 by 10 units each; night 3 voids
    R1 and bills the units both replacements freed. Validated again, night 2 counted A1 as billed (R1, which
    took it out, stays voided: it is not decided again), so R0 no longer fitted under the cap; R0 held back
    brought A0's 40 back: 270 of Idaho's 240 in the ledger, and night 2's outputs changed."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    _night(tmp_path / "n1", ledger, [optum_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 40) for i in range(5)],
           "id-optum")  # 200 of 240
    second = [optum_line("R0", "M1", "2026-03-02", 10, claim_frequency="7", original_claim_id="A0"),
              optum_line("R1", "M1", "2026-03-03", 10, claim_frequency="7", original_claim_id="A1")]
    night2 = _night(tmp_path / "n2", ledger, second, "id-optum")
    assert night2["fates"] == {"R0": ("pass", 10), "R1": ("pass", 10)}  # 140
    night3 = _night(tmp_path / "n3", ledger, [
        optum_line("V1", "M1", "2026-03-03", 10, claim_frequency="8", original_claim_id="R1"),  # 130
        optum_line("B1", "M1", "2026-04-06", 40), optum_line("B2", "M1", "2026-04-07", 40),
        optum_line("B3", "M1", "2026-04-08", 30)], "id-optum")
    assert night3["fates"] == {"V1": ("pass", 10), "B1": ("pass", 40), "B2": ("pass", 40), "B3": ("pass", 30)}
    assert _usage(ledger, capsys, "annual") == [("2026", 240)]
    again = _night(tmp_path / "n2", ledger, second, "id-optum")
    assert again["run_id"] == night2["run_id"]
    assert again["fates"] == night2["fates"]
    report = _check(ledger, capsys)
    assert report["ok"], report["problems"]
    assert _usage(ledger, capsys, "annual") == [("2026", 240)]


def test_the_same_for_a_daily_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    _night(tmp_path / "n1", ledger, [sooner_line("O1", "M1", "2026-03-04", 10),
                                     sooner_line("O2", "M1", "2026-03-04", 6, start="13:00")])  # 16 of 16
    second = [sooner_line("R1", "M1", "2026-03-04", 4, claim_frequency="7", original_claim_id="O1"),
              sooner_line("R2", "M1", "2026-03-04", 2, start="13:00", claim_frequency="7", original_claim_id="O2")]
    night2 = _night(tmp_path / "n2", ledger, second)
    assert night2["fates"] == {"R1": ("pass", 4), "R2": ("pass", 2)}
    night3 = _night(tmp_path / "n3", ledger, [
        sooner_line("V2", "M1", "2026-03-04", 2, start="13:00", claim_frequency="8", original_claim_id="R2"),
        sooner_line("N1", "M1", "2026-03-04", 12, start="15:00", staff="S2")])
    assert night3["fates"] == {"V2": ("pass", 2), "N1": ("pass", 12)}  # 4 + 12
    again = _night(tmp_path / "n2", ledger, second)
    assert again["fates"] == night2["fates"]
    assert _check(ledger, capsys)["ok"]
    assert _usage(ledger, capsys, "daily") == [("2026-03-04", 16)]


def test_rerunning_a_night_whose_replacement_of_its_own_line_a_later_night_voided_gives_its_same_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same when the original is a line of that very night: O, replaced there by R, stays out, so the
    re-run does not count its 10 units again and holds nothing back."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    _night(tmp_path / "n1", ledger, [optum_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 40) for i in range(4)],
           "id-optum")  # 160 of 240
    second = [optum_line("O", "M1", "2026-03-10", 10),
              optum_line("R", "M1", "2026-03-11", 5, claim_frequency="7", original_claim_id="O"),
              optum_line("R0", "M1", "2026-03-12", 10, claim_frequency="7", original_claim_id="A0")]
    night2 = _night(tmp_path / "n2", ledger, second, "id-optum")
    assert night2["fates"] == {"O": ("pass", 10), "R": ("pass", 5), "R0": ("pass", 10)}  # 160 + 5 - 30 = 135
    _night(tmp_path / "n3", ledger, [
        optum_line("V", "M1", "2026-03-11", 5, claim_frequency="8", original_claim_id="R"),  # 130
        optum_line("B1", "M1", "2026-04-06", 40), optum_line("B2", "M1", "2026-04-07", 40),
        optum_line("B3", "M1", "2026-04-08", 30)], "id-optum")
    assert _usage(ledger, capsys, "annual") == [("2026", 240)]
    again = _night(tmp_path / "n2", ledger, second, "id-optum")
    assert again["fates"] == night2["fates"]
    assert _check(ledger, capsys)["ok"]
    assert _usage(ledger, capsys, "annual") == [("2026", 240)]
