"""The running totals the annual caps read (cmclaims/ledger/totals.py): an older ledger gets them computed from its
lines, and `ledger check` compares every one with the lines, naming no member.

That they stay exact through nights, voids, replacements, re-runs and rollbacks is the model test's
(tests/ledger/test_model.py, the annual cap machine); a total edited by hand is in test_damage.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cmclaims.cli import main
from cmclaims.ledger.admin import check_ledger
from cmclaims.ledger.schema import SCHEMA_VERSION
from cmclaims.ledger.store import SqliteLedger
from tests.helpers import new_ledger, run_lines
from tests.ledger.support import optum_line

TOTALS = ("SELECT profile, member_id, hcpcs, year, authorization_id, units, auth_units FROM usage_totals "
          "ORDER BY 1, 2, 3, 4, 5")
RETIRED = "SELECT claim_id, original_run, units FROM retired ORDER BY 1, 2"


def _nights(folder: Path) -> Path:
    """Three Idaho nights over two years: lines, a void and a replacement of earlier lines, a re-run."""
    ledger = new_ledger(folder / "ledger.sqlite3")
    first = [optum_line(f"A{i}", f"M{i % 3}", f"2025-12-{10 + i}", 20 + i) for i in range(9)]
    run_lines(folder / "n1", first, "id-optum", ledger=ledger)
    second = [optum_line(f"B{i}", f"M{i % 3}", f"2026-02-{10 + i}", 30) for i in range(6)] + [
        optum_line("V1", "M1", "2025-12-11", 21, start="14:00", claim_frequency="8", original_claim_id="A1"),
        optum_line("R2", "M2", "2025-12-12", 12, start="14:00", claim_frequency="7", original_claim_id="A2"),
    ]
    run_lines(folder / "n2", second, "id-optum", ledger=ledger)
    run_lines(folder / "n1-again", first, "id-optum", ledger=ledger)
    return ledger


def _read(ledger: Path, query: str) -> list[tuple]:
    db = sqlite3.connect(ledger)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_an_older_ledger_gets_its_totals_from_its_lines(tmp_path: Path) -> None:
    ledger = _nights(tmp_path)
    totals, retired = _read(ledger, TOTALS), _read(ledger, RETIRED)
    assert totals and any(units for *_, units in retired)  # the nights did record totals and a retired original
    # The same ledger as cmclaims before running totals kept it (schema 2): no totals, no retired units.
    db = sqlite3.connect(ledger, isolation_level=None)
    db.execute("DROP TABLE usage_totals")
    db.execute("ALTER TABLE retired DROP COLUMN units")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.execute("PRAGMA user_version = 2")
    db.close()
    store = SqliteLedger(ledger)  # opened to write: upgraded in place
    try:
        assert check_ledger(store) == []
        assert store.identity()["schema_version"] == str(SCHEMA_VERSION)
    finally:
        store.close()
    assert _read(ledger, TOTALS) == totals
    assert _read(ledger, RETIRED) == retired


def test_ledger_check_finds_a_moved_total_and_names_no_member(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _nights(tmp_path)
    assert main(["ledger", "check", "--ledger", str(ledger)]) == 0
    # Units moved from one member's total to another's: every sum still agrees, the totals do not.
    db = sqlite3.connect(ledger, isolation_level=None)
    db.execute("UPDATE usage_totals SET units = units - 5 WHERE member_id = 'M0' AND year = 2025")
    db.execute("UPDATE usage_totals SET units = units + 5 WHERE member_id = 'M1' AND year = 2025")
    db.close()
    capsys.readouterr()
    assert main(["ledger", "check", "--ledger", str(ledger)]) == 1
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "2 running totals of id-optum for 2025 differ from its lines" in shown
    assert "M0" not in shown and "M1" not in shown  # PHI stays in the files
