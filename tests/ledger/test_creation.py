"""A ledger is created only by `cmclaims ledger init`; nothing else starts one from zero (SPEC section 6).

A cron job started in the wrong folder, or a ledger truncated by mistake, must
not let last night's claims pass as clean again: validate and every command
that writes exit 73, say how a ledger is created, and change nothing.
"""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest

from cmclaims.cli import main
from cmclaims.ledger.identity import APPLICATION_ID
from cmclaims.ledger.schema import SCHEMA_VERSION
from cmclaims.ledger.store import PAGE_SIZE
from tests.helpers import write_csv
from tests.ledger.support import optum_line


def _night(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_csv(folder / "export.csv", [optum_line("A1", "M1", "2026-03-02", 4)])


def _validate(folder: Path, ledger: Path, *extra: str) -> int:
    return main(["validate", str(_night(folder)), "--profile", "id-optum", "--out", str(folder / "out"),
                 "--ledger", str(ledger), "--quiet", *extra])


def _foreign_sqlite(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE songs (title TEXT)")
    db.execute("INSERT INTO songs VALUES ('not a ledger')")
    db.commit()
    db.close()
    return path


KINDS = {
    "missing": lambda p: None,
    "empty": lambda p: p.write_bytes(b""),
    "text": lambda p: p.write_text("claim_id,units\nA1,4\n"),
    "foreign sqlite": _foreign_sqlite,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_validate_refuses_a_path_without_a_ledger_and_changes_nothing(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "cmclaims-ledger.sqlite3"
    KINDS[kind](ledger)
    before = ledger.read_bytes() if ledger.exists() else None
    for extra in ((), ("--dry-run",)):
        assert _validate(tmp_path / "night", ledger, *extra) == 73
        err = capsys.readouterr().err
        assert "cmclaims ledger init" in err  # says how to create one
        assert (ledger.read_bytes() if ledger.exists() else None) == before
        assert not (tmp_path / "night" / "out" / "clean.csv").exists()


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("command", [["ledger", "runs"], ["ledger", "check"], ["ledger", "rollback", "run-x", "--yes"],
                                     ["report", "writeoff", "A1", "--reason", "x"]])
def test_ledger_commands_refuse_it_too(kind: str, command: list[str], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    ledger = tmp_path / "cmclaims-ledger.sqlite3"
    KINDS[kind](ledger)
    before = ledger.read_bytes() if ledger.exists() else None
    assert main([*command, "--ledger", str(ledger)]) == 73
    assert "ledger init" in capsys.readouterr().err
    assert (ledger.read_bytes() if ledger.exists() else None) == before


def test_import_does_not_create_a_ledger(tmp_path: Path) -> None:
    history = write_csv(tmp_path / "history.csv", [optum_line("H1", "M1", "2025-03-02", 4)])
    ledger = tmp_path / "ledger.sqlite3"
    assert main(["ledger", "import", str(history), "--profile", "id-optum", "--ledger", str(ledger)]) == 73
    assert not ledger.exists()


def test_init_creates_a_ledger_with_its_identity_readable_by_its_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "billing" / "cmclaims-ledger.sqlite3"
    assert main(["ledger", "init", "--ledger", str(ledger), "--json"]) == 0
    identity = json.loads(capsys.readouterr().out)
    assert identity["ledger"] == str(ledger) and identity["schema_version"] == str(SCHEMA_VERSION)
    assert len(identity["ledger_id"]) == 36 and identity["created_at"].startswith("20")
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    db = sqlite3.connect(ledger)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    # Pages as large as SQLite allows: a night reads and writes its blobs in 16 times fewer system calls.
    assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 65536
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    # The first night then works, and the ledger is sound.
    assert _validate(tmp_path / "night", ledger) == 0
    assert main(["ledger", "check", "--ledger", str(ledger)]) == 0


@pytest.mark.parametrize("kind", ["empty", "text", "foreign sqlite", "a ledger"])
def test_init_never_overwrites_a_file(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = tmp_path / "cmclaims-ledger.sqlite3"
    if kind == "a ledger":
        assert main(["ledger", "init", "--ledger", str(ledger)]) == 0
    else:
        KINDS[kind](ledger)
    before = ledger.read_bytes()
    assert main(["ledger", "init", "--ledger", str(ledger)]) == 2
    assert "already there" in capsys.readouterr().err
    assert ledger.read_bytes() == before


def test_a_ledger_of_an_older_cmclaims_is_upgraded_and_keeps_its_runs(tmp_path: Path) -> None:
    from cmclaims.ledger.schema import MIGRATIONS

    ledger = tmp_path / "old.sqlite3"
    db = sqlite3.connect(ledger, isolation_level=None)
    for statement in MIGRATIONS[1] or []:
        db.execute(statement)
    db.execute("INSERT INTO meta VALUES ('created_at', '2026-01-01T00:00:00+00:00')")
    db.execute("PRAGMA user_version = 1")
    db.close()
    assert _validate(tmp_path / "night", ledger) == 0
    db = sqlite3.connect(ledger)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0].startswith("2026-01-01")
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    db.close()
