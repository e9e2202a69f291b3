"""A night that is wrong as a whole must not look like a normal night (SPEC section 1, --max-input-errors).

A changed date format or the wrong --profile rejects most lines with CM0
findings. The run still writes its outputs, but records nothing in the ledger,
says so on stderr even with --quiet and in summary.json, and exits 65; the
next good night is validated as if the broken one had never run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command

from cmclaims.cli import app, main
from tests.helpers import read_csv, write_csv
from tests.mapping.exports import ok_line


@pytest.fixture(autouse=True)
def _workplace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("CMCLAIMS_LEDGER", raising=False)


def _ledger(tmp_path: Path) -> Path:
    """A ledger ready for validate (created with `ledger init` where the command exists)."""
    path = tmp_path / "ledger.sqlite3"
    if "init" in get_command(app).commands["ledger"].commands:  # type: ignore[attr-defined]
        assert main(["ledger", "init", "--ledger", str(path)]) == 0
    return path


def _validate(export: Path, out: Path, ledger: Path, *options: str) -> int:
    return main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(out), "--ledger", str(ledger),
                 *options])


def _runs(ledger: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert main(["ledger", "runs", "--ledger", str(ledger), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _broken_night() -> list[dict]:
    """Two good lines, and eight whose dates the EHR started writing as 2026.03.04."""
    good = [ok_line("A1", "09:00", "11:30", staff_id="S1"), ok_line("A2", "09:00", "09:30", member_id="M2",
                                                                     staff_id="S2")]
    broken = [ok_line(f"X{i}", "13:00", "13:30", member_id=f"M{10 + i}", staff_id=f"S{10 + i}",
                      service_date="2026.03.04") for i in range(8)]
    return good + broken


def test_a_broken_night_exits_65_records_nothing_and_says_so_even_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _ledger(tmp_path)
    export = write_csv(tmp_path / "broken.csv", _broken_night())
    capsys.readouterr()
    assert _validate(export, tmp_path / "out", ledger, "--quiet", "--exit-zero") == 65
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert line.startswith("cmclaims: error: 8 of 10 lines (80%) were rejected by input checks, mostly CM003")
    assert "nothing was recorded in the ledger" in line
    # outputs are written for inspection, every line in exactly one place
    clean = read_csv(tmp_path / "out" / "clean.csv")
    assert sorted(r["claim_id"] for r in clean) == ["A1", "A2"]
    assert {r["claim_id"] for r in read_csv(tmp_path / "out" / "exceptions.csv")} == {f"X{i}" for i in range(8)}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["exit_code"] == 65
    assert summary["input_alarm"]["triggered"] is True
    assert summary["input_alarm"]["lines_rejected_by_input_checks"] == 8
    assert summary["ledger"]["lines_recorded"] == 0
    assert _runs(ledger, capsys) == []


def test_the_next_good_night_is_validated_as_if_the_broken_one_never_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _ledger(tmp_path)
    assert _validate(write_csv(tmp_path / "broken.csv", _broken_night()), tmp_path / "n1", ledger, "--quiet") == 65
    # M1 had 10 units in the broken night; had they been recorded, 10 more on the same day would cross 16.
    tonight = [ok_line("B1", "12:00", "14:30", staff_id="S3")]
    assert _validate(write_csv(tmp_path / "good.csv", tonight), tmp_path / "n2", ledger, "--quiet") == 0
    [billed] = read_csv(tmp_path / "n2" / "clean.csv")
    assert (billed["claim_id"], billed["billable_units"]) == ("B1", "10")
    [run] = _runs(ledger, capsys)
    assert run["lines_clean"] == 1


def test_the_wrong_profile_is_a_broken_night(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _ledger(tmp_path)
    capsys.readouterr()
    lines = [ok_line(f"P{i}", f"{8 + i:02d}:00", f"{8 + i:02d}:30", hcpcs="H0038", staff_id=f"S{i}")
             for i in range(5)]
    assert _validate(write_csv(tmp_path / "optum.csv", lines), tmp_path / "out", ledger, "--json") == 65
    captured = capsys.readouterr()
    assert json.loads(captured.out)["input_alarm"]["top_rules"][0]["rule"] == "CM006"
    assert "the wrong --profile?" in captured.err
    assert _runs(ledger, capsys) == []


@pytest.mark.parametrize(("threshold", "code"), [(None, 1), ("0.25", 1), ("0.24", 65), ("0", 65), ("1", 1)])
def test_the_alarm_goes_off_only_above_the_threshold(tmp_path: Path, threshold: str | None, code: int) -> None:
    # 1 of 4 lines has an unreadable date: exactly 25%
    lines = [ok_line(f"T{i}", f"{8 + i:02d}:00", f"{8 + i:02d}:30", staff_id=f"S{i}") for i in range(4)]
    lines[0]["service_date"] = "2026.03.04"
    options = [] if threshold is None else ["--max-input-errors", threshold]
    assert _validate(write_csv(tmp_path / "e.csv", lines), tmp_path / "out", _ledger(tmp_path), *options) == code


@pytest.mark.parametrize("value", ["1.5", "-0.1", "a quarter"])
def test_a_threshold_that_is_not_a_share_is_a_usage_error(tmp_path: Path, value: str) -> None:
    export = write_csv(tmp_path / "e.csv", [ok_line("A1", "09:00", "09:30")])
    assert _validate(export, tmp_path / "out", _ledger(tmp_path), "--max-input-errors", value) == 2
    assert not (tmp_path / "out").exists()
