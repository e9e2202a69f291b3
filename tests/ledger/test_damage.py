"""A damaged ledger is never written, and the damage never looks like a bug (SPEC section 6).

Each ledger below is damaged outside cmclaims as it happens in life (bytes of a
page overwritten, a table dropped, a total edited, a full disk); validate must
exit 73, leave the ledger's file byte for byte as it was and write no outputs,
and `ledger check` must say what is wrong without ever exiting 70.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from cmclaims.cli import main
from cmclaims.ledger.blocks import decode_block, encode_block
from tests.helpers import new_ledger, run_lines
from tests.ledger.support import bill_two_nights, cannot_mount, optum_line, small_disk, sooner_line, validate_sooner


def _billed_ledger(folder: Path) -> Path:
    """A ledger with two nights in it (the second voids a line of the first), its WAL folded into the file (as
    after the last run ended). And two Idaho nights, the second voiding a line of the first: Idaho caps a
    year, so the ledger keeps its running totals and checks them (and each retired original's units) against
    its lines; Oklahoma's, without an annual cap, it does not keep."""
    ledger = new_ledger(folder / "ledger.sqlite3")
    bill_two_nights(folder, ledger, 40)
    run_lines(folder / "idaho-1", [optum_line("I1", "M9", "2026-03-02", 4)], "id-optum", ledger=ledger)
    run_lines(folder / "idaho-2", [optum_line("I2", "M9", "2026-03-02", 4, start="14:00", claim_frequency="8",
                                              original_claim_id="I1"),
                                   optum_line("I3", "M9", "2026-03-03", 6)], "id-optum", ledger=ledger)
    db = sqlite3.connect(ledger)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return ledger


def _sql(*statements: str) -> Callable[[Path], None]:
    def damage(ledger: Path) -> None:
        db = sqlite3.connect(ledger, isolation_level=None)
        for statement in statements:
            db.execute(statement)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    return damage


def _overwrite_pages(ledger: Path) -> None:
    """Random bytes over every page but the first (the header stays: it still looks like SQLite), near the page's
    end: SQLite fills a b-tree page's cells from its end, so the bytes land on rows, not on a page's free space
    (a ledger's small blocks, each inside one page, leave the middle of most pages unused)."""
    data = bytearray(ledger.read_bytes())
    page = int.from_bytes(data[16:18], "big")  # the header's page size; 1 stands for 65,536
    page = 65536 if page == 1 else page
    noise = os.urandom(len(data))
    for start in range(page, len(data), page):
        data[start + page - 300:start + page - 100] = noise[start + page - 300:start + page - 100]
    ledger.write_bytes(bytes(data))


def _edit_totals(ledger: Path) -> None:
    """A member's running total raised by 4, its block re-encoded with a SHA-256 that matches: only the sums differ."""
    db = sqlite3.connect(ledger, isolation_level=None)
    profile, year, data = db.execute("SELECT profile, year, data FROM total_blocks").fetchone()
    totals = decode_block(data)
    units = totals.column("units").to_numpy().copy()
    units[0] += 4
    edited = totals.set_column(totals.schema.get_field_index("units"), "units", pa.array(units))
    blob = encode_block(edited)
    db.execute("UPDATE total_blocks SET data = ?, sha256 = ? WHERE profile = ? AND year = ?",
               (blob, hashlib.sha256(blob).hexdigest(), profile, year))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


DAMAGE = {
    "bytes of its pages overwritten": _overwrite_pages,
    "the blocks table dropped": _sql("DROP TABLE line_blocks"),
    "the retired table dropped": _sql("DROP TABLE retired"),
    "the table of payers keeping totals dropped": _sql("DROP TABLE kept_totals"),
    "a payer keeping totals forgotten": _sql("DELETE FROM kept_totals"),
    "a run's total edited": _sql("UPDATE runs SET units_ledgered = units_ledgered - 4 WHERE sequence = 1"),
    "a block's total edited": _sql("UPDATE line_blocks SET units = units + 8"),
    "a block of running totals edited": _edit_totals,
    "a block of running totals' sum edited": _sql("UPDATE total_blocks SET units = units + 4"),
    "a retired original's units edited": _sql("UPDATE retired SET units = units + 1"),
    "its identity removed": _sql("DELETE FROM meta"),
}


@pytest.mark.parametrize("how", list(DAMAGE))
def test_a_damaged_ledger_exits_73_and_is_not_written(how: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _billed_ledger(tmp_path)
    DAMAGE[how](ledger)
    before = ledger.read_bytes()
    capsys.readouterr()
    assert validate_sooner(tmp_path / "n3", ledger, [sooner_line("C1", "M1", "2026-03-06", 4)]) == 73
    err = capsys.readouterr().err
    assert "internal error" not in err
    assert "ledger" in err
    assert ledger.read_bytes() == before
    assert not (tmp_path / "n3" / "out" / "clean.csv").exists()
    checked = main(["ledger", "check", "--ledger", str(ledger)])
    assert checked in (1, 73)  # problems reported (1), or the file cannot even be opened (73); never 70
    assert ledger.read_bytes() == before


@pytest.mark.skipif(cannot_mount() is not None, reason=str(cannot_mount()))
def test_a_full_disk_exits_73_and_leaves_the_ledger_as_it_was(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with small_disk(tmp_path / "small", "4m") as disk:
        ledger = new_ledger(disk / "ledger.sqlite3")
        first = [sooner_line(f"A{i}", f"M{i}", "2026-03-04", 4, staff=f"S{i}") for i in range(50)]
        assert validate_sooner(tmp_path / "n1", ledger, first) == 0
        with contextlib.suppress(OSError), open(disk / "filler", "wb") as filler:  # fill the disk to the last byte
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        before = ledger.read_bytes()
        night = [sooner_line(f"B{i}", f"N{i}", "2026-03-05", 4, staff=f"S{i}") for i in range(3000)]
        capsys.readouterr()
        assert validate_sooner(tmp_path / "n2", ledger, night) == 73
        err = capsys.readouterr().err
        assert "internal error" not in err
        assert ledger.read_bytes() == before
        assert not (tmp_path / "n2" / "out" / "clean.csv").exists()
        (disk / "filler").unlink()
        assert main(["ledger", "check", "--ledger", str(ledger)]) == 0  # whole: the failed night left no trace
        assert validate_sooner(tmp_path / "n2", ledger, night) == 0  # with space again, the night goes through
