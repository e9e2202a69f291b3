"""PHI stays in the files: canaries planted in every column and side file never reach stdout or stderr."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from cmclaims.cli import main
from tests.helpers import new_ledger, write_csv

MEMBER = "ZQCANARYMEMBER7"
BIRTH = "1911-11-11"
BAD_BIRTH = "CANARYDOB77"
NOTE = "ZQCANARYNOTE"
CANARIES = (MEMBER, BIRTH, BAD_BIRTH, "CANARYDOB", NOTE, "ZQCANARYSTAFF", "1931-03-03")


def _line(claim: str, **extra: str) -> dict:
    return {"claim_id": claim, "member_id": MEMBER, "member_dob": BIRTH, "service_date": "2026-03-04",
            "start_time": "09:00", "end_time": "09:30", "hcpcs": "T1017", "modifier1": "HE", "modifier2": "TF",
            "staff_id": "S1", "program": "111", "note": NOTE, **extra}


def _run(*args: object) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def night(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CMCLAIMS_LEDGER", raising=False)
    lines = [_line("A1"), _line("A2", member_dob=BAD_BIRTH, start_time="10:00", end_time="10:30"),
             _line("A3", start_time="11:00", end_time="11:05"), _line("A4", start_time="25:00"),
             _line("A5", member_dob="2030-01-01", start_time="12:00", end_time="12:30")]
    export = write_csv(tmp_path / "export.csv", lines)
    with export.open("a") as handle:
        handle.write(f"A6,{MEMBER},{BIRTH},2026-03-04,13:00,13:30,T1017,HE,TF,S1,111,{NOTE},extra\n")
        handle.write(f'A7,{MEMBER},{BIRTH},2026-03-04,14:00,14:30,T1017,HE,TF,S1,111,"{NOTE}\n')
    return {
        "export": export,
        "stays": write_csv(tmp_path / "stays.csv", [{"member_id": MEMBER, "setting": "jail", "admit_date": "2026-03-09",
                                                     "discharge_date": "2026-03-01"}]),
        "staff": write_csv(tmp_path / "staff.csv", [{"staff_id": "ZQCANARYSTAFF", "credentials": "CM1",
                                                     "trainings": "", "birth_date": "1931-03-03"},
                                                    {"staff_id": "S1", "credentials": "NOPE", "trainings": "",
                                                     "birth_date": "1931-03-03x"}]),
        "ledger": new_ledger(tmp_path / "ledger.sqlite3"),
        "out": tmp_path / "out",
    }


def test_no_canary_reaches_the_terminal_from_any_command(night: dict[str, Path], tmp_path: Path) -> None:
    export, out, ledger = night["export"], night["out"], night["ledger"]
    side = ["--stays", night["stays"], "--staff", night["staff"], "--max-input-errors", "1"]
    commands = [
        ["validate", export, "--profile", "ok-soonercare", "--out", out, "--ledger", ledger, *side],
        ["validate", export, "--profile", "ok-soonercare", "--out", out, "--ledger", ledger, "--json", *side],
        ["validate", export, "--profile", "ok-soonercare", "--out", out, "--dry-run", "--ledger", ledger],
        ["validate", export, "--profile", "no-such-payer", "--out", out, "--no-ledger"],
        ["validate", export, export, "--profile", "ok-soonercare", "--out", out, "--no-ledger"],
        ["report", out, "--ledger", ledger],
        ["report", out, "--ledger", ledger, "--json"],
        ["report", "open", "--ledger", ledger],
        ["report", "open", "--ledger", ledger, "--json"],
        ["ledger", "runs", "--ledger", ledger],
        ["ledger", "check", "--ledger", ledger],
    ]
    missing = write_csv(tmp_path / "missing.csv", [{k: v for k, v in _line("B1").items() if k != "staff_id"}])
    commands.append(["validate", missing, "--profile", "ok-soonercare", "--out", tmp_path / "o2", "--no-ledger"])
    leaks = {}
    codes = []
    for command in commands:
        code, printed = _run(*command)
        codes.append(code)
        found = [c for c in CANARIES if c in printed]
        if found:
            leaks[" ".join(map(str, command[:3]))] = found
        assert code != 70 and "Traceback" not in printed, (command, printed[-500:])
    assert leaks == {}
    assert codes[0] == 1 and codes[3] == 2 and codes[4] == 2 and codes[-1] == 65
    assert os.path.getsize(out / "exceptions.csv") > 0  # the canaries are in the files, where they belong
    assert MEMBER in (out / "exceptions.csv").read_text()
