"""What the ledger's tests share: lines that earn given units, two billed nights, real cmclaims processes, a held
lock."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

OPTUM = {"member_dob": "1980-05-01", "hcpcs": "T1017", "staff_id": "S1"}
# Oklahoma T1017 HE TF: CM II system of care, ages 0-20, 16 units a day, 56 a month, program 111, CM2 staff.
SOONER_TF = {"member_dob": "2012-05-01", "hcpcs": "T1017", "modifier1": "HE", "modifier2": "TF", "program": "111",
             "staff_credential": "CM2", "note_signed": "Y", "activity": "linkage", "contact_type": "face_to_face",
             "member_present": "Y", "place_of_service": "11"}


def end_time(start: str, units: int) -> str:
    """The end time that earns exactly `units` 15-minute units from `start`."""
    hours, minutes = map(int, start.split(":"))
    total = hours * 60 + minutes + units * 15
    return f"{total // 60:02d}:{total % 60:02d}"


def optum_line(claim: str, member: str, date: str, units: int, start: str = "08:00", **extra: object) -> dict:
    return {**OPTUM, "claim_id": claim, "member_id": member, "service_date": date, "start_time": start,
            "end_time": end_time(start, units), "units": units, **extra}


def sooner_line(claim: str, member: str, date: str, units: int, start: str = "08:00", staff: str = "S1",
                **extra: object) -> dict:
    return {**SOONER_TF, "claim_id": claim, "member_id": member, "service_date": date, "start_time": start,
            "end_time": end_time(start, units), "units": units, "staff_id": staff, **extra}


def validate_sooner(folder: Path, ledger: Path, lines: list[dict], out: Path | None = None) -> int:
    """An ok-soonercare night of `lines` (written to folder/export.csv), in this process; its exit code."""
    from cmclaims.cli import main
    from tests.helpers import write_csv

    folder.mkdir(parents=True, exist_ok=True)
    export = write_csv(folder / "export.csv", lines)
    return main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(out or folder / "out"),
                 "--ledger", str(ledger), "--quiet"])


def bill_two_nights(folder: Path, ledger: Path, lines: int) -> None:
    """Two ok-soonercare nights of `lines` lines each into `ledger`, the second voiding a line of the first."""
    for night, (claim, date) in enumerate((("A", "2026-03-04"), ("B", "2026-03-05"))):
        billed = [sooner_line(f"{claim}{i}", f"M{i}", date, 4, staff=f"S{i}") for i in range(lines)]
        if night == 1:
            billed.append(sooner_line("V0", "M0", "2026-03-04", 4, start="13:00", staff="S0", claim_frequency="8",
                                      original_claim_id="A0"))
        assert validate_sooner(folder / f"n{night + 1}", ledger, billed) == 0


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder` (root only: see `cannot_mount`), unmounted after."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def cannot_mount() -> str | None:
    """Why `small_disk` cannot be used here, or None."""
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root"
    if subprocess.run(["which", "mount"], capture_output=True).returncode != 0:
        return "no mount command"
    return None


def cmclaims(*args: object, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`cmclaims ARGS` as a real process (the installed package, not this process's imports)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    for name in ("CMCLAIMS_CRASH_AT", "CMCLAIMS_LEDGER", "CMCLAIMS_DEBUG"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "cmclaims", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def lock_held_by_another_process(ledger: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding the ledger's writer lock (through `ledger`, whatever path it is) until exit."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from cmclaims.ledger.lock import LedgerLock; "
         "lock = LedgerLock(Path(sys.argv[1])); lock.acquire(); print('locked', flush=True); sys.stdin.read()",
         str(ledger)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()
        assert line.strip() == "locked", holder.stderr.read() if holder.stderr else ""
        yield holder
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        holder.wait(timeout=30)
