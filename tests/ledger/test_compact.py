"""`cmclaims ledger compact`: a ledger an older cmclaims created (4 KiB pages) rewritten with 64 KiB pages.

What a night finds in it does not change; it is refused, the ledger unchanged, while another program has the
ledger open (75), when the ledger is damaged (73) and when its disk has no room for the rewrite (73); a kill
before the rewrite leaves a ledger that works.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import cmclaims.ledger.store as store_module
from cmclaims.cli import main
from cmclaims.faults import COMPACT_POINTS
from cmclaims.ledger.store import PAGE_SIZE
from tests.helpers import new_ledger
from tests.ledger.support import ROOT, bill_two_nights, cannot_mount, small_disk, sooner_line, validate_sooner


@pytest.fixture
def older_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger with 4 KiB pages (as cmclaims made them before) and two nights in it, the second voiding a line
    of the first."""
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "PAGE_SIZE", 4096)
        ledger = new_ledger(tmp_path / "ledger.sqlite3")
    bill_two_nights(tmp_path, ledger, 30)
    assert _page_size(ledger) == 4096
    return ledger


def _page_size(ledger: Path) -> int:
    db = sqlite3.connect(ledger)
    try:
        return db.execute("PRAGMA page_size").fetchone()[0]
    finally:
        db.close()


def _runs(ledger: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert main(["ledger", "runs", "--ledger", str(ledger), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _third_night() -> list[dict]:
    """Re-sends a claim of night 1 (a duplicate), a claim night 2 voided (billable again), and a new one."""
    return [sooner_line("A5", "M5", "2026-03-04", 4, staff="S5"),
            sooner_line("A0", "M0", "2026-03-04", 4, staff="S0"),
            sooner_line("C1", "M1", "2026-03-06", 4, staff="S1")]


def test_an_older_ledger_is_rewritten_with_large_pages_and_bills_the_same(
        older_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    untouched = shutil.copy(older_ledger, tmp_path / "untouched.sqlite3")
    runs = _runs(older_ledger, capsys)
    assert main(["ledger", "compact", "--ledger", str(older_ledger), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["page_size_before"], result["page_size"]) == (4096, PAGE_SIZE)
    assert _page_size(older_ledger) == PAGE_SIZE
    assert main(["ledger", "check", "--ledger", str(older_ledger)]) == 0
    assert _runs(older_ledger, capsys) == runs
    # The same third night against the compacted ledger and against a copy of it as it was: the same files.
    for ledger, out in ((older_ledger, tmp_path / "compacted"), (Path(untouched), tmp_path / "as-it-was")):
        assert validate_sooner(tmp_path / "n3", ledger, _third_night(), out) == 1  # A5: billed before (CM402)
    for name in ("clean.csv", "exceptions.csv"):
        assert (tmp_path / "compacted" / name).read_bytes() == (tmp_path / "as-it-was" / name).read_bytes()
    assert "CM402" in (tmp_path / "compacted" / "exceptions.csv").read_text()
    assert main(["ledger", "check", "--ledger", str(older_ledger)]) == 0


def test_a_ledger_another_program_reads_is_left_as_it_is(older_ledger: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    runs = _runs(older_ledger, capsys)
    reader = sqlite3.connect(f"{older_ledger.as_uri()}?mode=ro", uri=True)
    try:
        assert reader.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
        assert main(["ledger", "compact", "--ledger", str(older_ledger)]) == 75
    finally:
        reader.close()
    assert "another program has the ledger open" in capsys.readouterr().err
    assert _page_size(older_ledger) == 4096
    assert main(["ledger", "check", "--ledger", str(older_ledger)]) == 0
    assert _runs(older_ledger, capsys) == runs


def test_a_damaged_ledger_is_not_rewritten(older_ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = sqlite3.connect(older_ledger, isolation_level=None)
    db.execute("UPDATE line_blocks SET units = units + 8")  # a block's sum edited outside cmclaims
    db.close()
    before = older_ledger.read_bytes()
    assert main(["ledger", "compact", "--ledger", str(older_ledger)]) == 73
    assert "damaged" in capsys.readouterr().err
    assert older_ledger.read_bytes() == before


@pytest.mark.parametrize("point", COMPACT_POINTS)
def test_a_compaction_killed_before_the_rewrite_leaves_a_ledger_that_works(point: str, older_ledger: Path,
                                                                          tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    runs = _runs(older_ledger, capsys)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CMCLAIMS_CRASH_AT": point}
    killed = subprocess.run([sys.executable, "-m", "cmclaims", "ledger", "compact", "--ledger", str(older_ledger)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert main(["ledger", "check", "--ledger", str(older_ledger)]) == 0
    assert _runs(older_ledger, capsys) == runs
    assert validate_sooner(tmp_path / "after", older_ledger, _third_night()) == 1
    assert main(["ledger", "compact", "--ledger", str(older_ledger)]) == 0
    assert _page_size(older_ledger) == PAGE_SIZE
    assert main(["ledger", "check", "--ledger", str(older_ledger)]) == 0


@pytest.mark.skipif(cannot_mount() is not None, reason=str(cannot_mount()))
def test_a_disk_too_full_to_rewrite_the_ledger_leaves_it_as_it_was(older_ledger: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The rewrite needs as much free space again (its rollback journal): without it, exit 73, never 70."""
    runs = _runs(older_ledger, capsys)
    with small_disk(tmp_path / "small", "4m") as disk:
        ledger = Path(shutil.copy(older_ledger, disk / "ledger.sqlite3"))
        with contextlib.suppress(OSError), open(disk / "filler", "wb") as filler:  # fill the disk to the last byte
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        assert main(["ledger", "compact", "--ledger", str(ledger)]) == 73
        assert "the disk is full" in capsys.readouterr().err  # SQLite says "disk I/O error"
        (disk / "filler").unlink()
        assert _page_size(ledger) == 4096
        assert main(["ledger", "check", "--ledger", str(ledger)]) == 0
        assert _runs(ledger, capsys) == runs
        assert main(["ledger", "compact", "--ledger", str(ledger)]) == 0  # with room again, it goes through
        assert _page_size(ledger) == PAGE_SIZE
