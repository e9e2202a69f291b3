"""Owner-only files and folders whatever the umask (SPEC section 3): every path a command creates."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmclaims.cli import main
from cmclaims.io.private import private_file, private_folder
from tests.helpers import new_ledger, write_csv
from tests.test_hardening import LINE


@pytest.fixture(params=[0o000, 0o022, 0o077], ids=["umask000", "umask022", "umask077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _created(root: Path, before: set[Path]) -> list[Path]:
    return [p for p in root.rglob("*") if p not in before]


def test_every_folder_and_file_validate_creates_is_owner_only(tmp_path: Path, umask: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    export = write_csv(tmp_path / "export.csv", [LINE, {**LINE, "claim_id": "A2", "start_time": "10:00",
                                                        "end_time": "10:05"}])
    before = set(tmp_path.rglob("*"))
    ledger = tmp_path / "state" / "deep" / "ledger.sqlite3"
    assert main(["ledger", "init", "--ledger", str(ledger)]) == 0
    code = main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "a" / "b" / "out"),
                 "--ledger", str(ledger)])
    assert code == 1
    report = tmp_path / "reports" / "r" / "night.xlsx"
    assert main(["report", str(tmp_path / "a" / "b" / "out"), "--ledger", str(ledger), "--out", str(report)]) == 0
    assert main(["sample", "--rows", "5", "--out", str(tmp_path / "samples" / "s" / "x.csv")]) == 0
    created = _created(tmp_path, before)
    folders = [p for p in created if p.is_dir()]
    files = [p for p in created if p.is_file()]
    assert {tmp_path / "a", tmp_path / "a" / "b", tmp_path / "state", tmp_path / "state" / "deep",
            tmp_path / "reports", tmp_path / "reports" / "r", tmp_path / "samples"} <= set(folders)
    assert {p.name for p in files} >= {"clean.csv", "exceptions.csv", "summary.json", "ledger.sqlite3",
                                       "night.xlsx", "x.csv"}
    assert {str(p.relative_to(tmp_path)): oct(_mode(p)) for p in folders if _mode(p) != 0o700} == {}
    assert {str(p.relative_to(tmp_path)): oct(_mode(p)) for p in files if _mode(p) != 0o600} == {}


def test_a_ledger_left_readable_by_others_is_tightened_before_phi_goes_in(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        ledger = new_ledger(tmp_path / "ledger.sqlite3")
        ledger.chmod(0o644)  # copied in from a backup, say
        export = write_csv(tmp_path / "export.csv", [LINE])
        assert main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "out"),
                     "--ledger", str(ledger)]) == 0
        assert {p.name: oct(_mode(p)) for p in tmp_path.glob("ledger.sqlite3*") if _mode(p) != 0o600} == {}
    finally:
        os.umask(previous)


def test_an_empty_file_where_the_ledger_should_be_is_refused_and_never_written(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    ledger.touch()
    export = write_csv(tmp_path / "export.csv", [LINE])
    assert main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "out"),
                 "--ledger", str(ledger)]) == 73
    assert ledger.stat().st_size == 0


def test_private_folder_makes_each_missing_parent_0700_and_leaves_existing_ones(tmp_path: Path, umask: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    made = private_folder(shared / "x" / "y")
    assert made == shared / "x" / "y"
    assert (_mode(shared), _mode(shared / "x"), _mode(shared / "x" / "y")) == (0o755, 0o700, 0o700)


def test_private_file_creates_or_tightens_to_0600(tmp_path: Path, umask: int) -> None:
    fresh = private_file(tmp_path / "fresh")
    loose = tmp_path / "loose"
    loose.write_text("x")
    loose.chmod(0o666)
    private_file(loose)
    assert (_mode(fresh), _mode(loose), loose.read_text()) == (0o600, 0o600, "x")
