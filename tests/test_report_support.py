"""Shared by the report tests: small id-optum lines, nights validated against one ledger, the CLI's output.

(No tests here; the name keeps it among the report's test files.)
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from cmclaims.cli import main
from tests.helpers import Run, run_lines

BASE = {"member_dob": "1980-05-01", "hcpcs": "T1017", "staff_id": "S1", "activity": "monitoring"}


def line(claim: str, member: str = "MBR1001", date: str = "2026-03-02", units: int = 4, start: str = "08:00",
         charge: float | None = None, **extra: object) -> dict:
    """An id-optum line whose time earns exactly `units` (15-minute units), charged $20 a unit by default."""
    hours, minutes = map(int, start.split(":"))
    end = hours * 60 + minutes + units * 15
    return {**BASE, "claim_id": claim, "member_id": member, "service_date": date, "start_time": start,
            "end_time": f"{end // 60:02d}:{end % 60:02d}", "units": units,
            "charge": units * 20.0 if charge is None else charge, **extra}


def night(folder: Path, lines: list[dict], ledger: Path | None = None, days_ago: int = 0) -> Run:
    """Validate a night's lines (with the ledger when given), as the nightly job does.

    Runs record when they finished, to the second; tests run several nights within
    one second, so `days_ago` moves the ledger's record of the night back in time.
    """
    run = run_lines(folder, lines, "id-optum", **({"ledger": ledger} if ledger else {}))
    if ledger is not None and days_ago:
        when = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).isoformat(timespec="seconds")
        with sqlite3.connect(ledger) as db:
            db.execute("UPDATE runs SET started_at = ?, finished_at = ? WHERE run_id = ?",
                       (when, when, run.summary["run_id"]))
    return run


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `cmclaims ...`; its exit code and stdout."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().out


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code, out = cli(capsys, *args, "--json")
    return code, json.loads(out)


def rows(document: dict, table: str) -> list[dict]:
    return document["tables"][table]["rows"]


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ledger found by accident: no $CMCLAIMS_LEDGER, and the working folder is the test's own."""
    monkeypatch.delenv("CMCLAIMS_LEDGER", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
