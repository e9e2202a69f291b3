"""Crash safety and the writer lock, with real processes.

A run is killed with SIGKILL at each named point of `cmclaims.faults`: the
ledger must never be half-updated, no output file half-written, and running
the same night again must give exactly what an uninterrupted run gives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmclaims.faults import POINTS
from cmclaims.ledger.admin import check_ledger
from cmclaims.ledger.store import SqliteLedger
from tests.helpers import new_ledger, write_csv

ROOT = Path(__file__).resolve().parent.parent


def _line(claim: str, member: str, date: str, units: int, start: str = "08:00", staff: str = "S1") -> dict:
    hours, minutes = map(int, start.split(":"))
    end = hours * 60 + minutes + units * 15
    return {"claim_id": claim, "member_id": member, "member_dob": "1980-05-01", "service_date": date,
            "start_time": start, "end_time": f"{end // 60:02d}:{end % 60:02d}", "hcpcs": "T1017",
            "staff_id": staff, "units": units}


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two nights for id-optum: the second crosses a member's 240-unit cap only with the first counted."""
    folder = tmp_path_factory.mktemp("inputs")
    first = [_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 10) for i in range(23)]
    second = [_line("B1", "M1", "2026-04-01", 8), _line("B2", "M1", "2026-04-02", 8),
              _line("B3", "M2", "2026-04-02", 8, staff="S2"), _line("A3", "M1", "2026-03-05", 10)]
    return write_csv(folder / "night1.csv", first), write_csv(folder / "night2.csv", second)


def _validate(export: Path, out: Path, ledger: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CMCLAIMS_CRASH_AT", None)
    if crash_at:
        env["CMCLAIMS_CRASH_AT"] = crash_at
    command = [sys.executable, "-m", "cmclaims", "validate", str(export), "--profile", "id-optum",
               "--out", str(out), "--ledger", str(ledger), "--quiet"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _ledger_state(ledger: Path) -> list[tuple]:
    table = SqliteLedger(ledger, read_only=True).lines(columns=["claim_id", "service", "service_day", "units"])
    return sorted(zip(*(table.column(c).to_pylist() for c in ("claim_id", "service", "service_day", "units",
                                                              "run_id")), strict=True))


@pytest.fixture(scope="module")
def reference(nights: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The uninterrupted run of both nights."""
    folder = tmp_path_factory.mktemp("reference")
    ledger = new_ledger(folder / "ledger.sqlite3")
    assert _validate(nights[0], folder / "out1", ledger).returncode == 0  # 230 units: all clean
    second = _validate(nights[1], folder / "out2", ledger)
    assert second.returncode == 1
    return {
        "night1": {name: (folder / "out1" / name).read_bytes() for name in ("clean.csv", "exceptions.csv")},
        "night2": {name: (folder / "out2" / name).read_bytes() for name in ("clean.csv", "exceptions.csv")},
        "ledger": _ledger_state(ledger),
    }


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_any_point_leaves_everything_whole(
    point: str, nights: tuple[Path, Path], reference: dict, tmp_path: Path
) -> None:
    ledger, out = new_ledger(tmp_path / "ledger.sqlite3"), tmp_path / "out"
    assert _validate(nights[0], out, ledger).returncode in (0, 1)
    runs_before = len(SqliteLedger(ledger, read_only=True).runs())

    killed = _validate(nights[1], out, ledger, crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    store = SqliteLedger(ledger, read_only=True)
    assert check_ledger(store) == []
    committed = point in ("ledger-committed", "between-renames")
    assert len(store.runs()) == runs_before + committed
    for name in ("clean.csv", "exceptions.csv"):
        written = (out / name).read_bytes()
        # Each output is whole: last night's, or tonight's finished file.
        assert written in (reference["night1"][name], reference["night2"][name]), name

    again = _validate(nights[1], out, ledger)
    assert again.returncode == 1, again.stderr
    for name in ("clean.csv", "exceptions.csv"):
        assert (out / name).read_bytes() == reference["night2"][name], name
    assert _ledger_state(ledger) == reference["ledger"]


def test_a_second_writer_exits_75_at_once_and_touches_nothing(nights: tuple[Path, Path], tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    assert _validate(nights[0], tmp_path / "out1", ledger).returncode in (0, 1)
    before = ledger.read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from cmclaims.ledger.lock import LedgerLock; "
         "lock = LedgerLock(Path(sys.argv[1])); lock.acquire(); print('held', flush=True); time.sleep(60)",
         str(ledger)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        second = _validate(nights[1], tmp_path / "out2", ledger)
        elapsed = time.monotonic() - started
        assert second.returncode == 75
        assert "holds the ledger lock" in second.stderr
        # The holder keeps the lock for 60 s: finishing well before that shows the second run did not wait.
        # (Under a second on a quiet machine; the bound leaves room for a loaded one.)
        assert elapsed < 30.0
        assert not (tmp_path / "out2").exists()
        assert ledger.read_bytes() == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # kill -9 freed the lock: the next run goes through.
    assert _validate(nights[1], tmp_path / "out2", ledger).returncode == 1
