"""One writer per ledger file, whatever the path it is given by (SPEC section 6), with real processes.

The lock belongs to the ledger's own file: a symlink, a `../` spelling or a
deleted lock file does not let a second writer in (exit 75, nothing changed),
and readers keep working while a run holds it.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from cmclaims.ledger import lock
from cmclaims.ledger.identity import LedgerUnusable
from tests.helpers import new_ledger, write_csv
from tests.ledger.support import cmclaims, lock_held_by_another_process, optum_line


@pytest.fixture
def billed(tmp_path: Path) -> tuple[Path, Path]:
    """A ledger with one night in it, and a second night's export."""
    ledger = new_ledger(tmp_path / "real" / "ledger.sqlite3")
    first = write_csv(tmp_path / "n1.csv", [optum_line("A1", "M1", "2026-03-02", 4)])
    assert cmclaims("validate", first, "--profile", "id-optum", "--out", tmp_path / "o1", "--ledger", ledger,
                    "--quiet").returncode == 0
    second = write_csv(tmp_path / "n2.csv", [optum_line("B1", "M1", "2026-03-03", 4)])
    return ledger, second


def _spellings(ledger: Path, tmp_path: Path) -> dict[str, Path]:
    link = tmp_path / "link.sqlite3"
    link.symlink_to(ledger)
    (tmp_path / "elsewhere").mkdir()
    return {"real path": ledger, "symlink": link,
            "../ spelling": tmp_path / "elsewhere" / ".." / "real" / ".." / "real" / ledger.name}


@pytest.mark.parametrize(("held_by", "written_by"), [("symlink", "real path"), ("real path", "symlink"),
                                                      ("real path", "../ spelling")])
def test_a_second_writer_is_refused_whatever_path_it_uses(
    held_by: str, written_by: str, billed: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger, night = billed
    paths = _spellings(ledger, tmp_path)
    before = ledger.read_bytes()
    with lock_held_by_another_process(paths[held_by]):
        second = cmclaims("validate", night, "--profile", "id-optum", "--out", tmp_path / "o2", "--ledger",
                          paths[written_by], "--quiet")
        assert second.returncode == 75, second.stderr
        assert "holds the ledger lock" in second.stderr
        assert ledger.read_bytes() == before
        assert not (tmp_path / "o2" / "clean.csv").exists()
    # Once the first writer is gone, the second night goes through.
    assert cmclaims("validate", night, "--profile", "id-optum", "--out", tmp_path / "o2", "--ledger",
                    paths[written_by], "--quiet").returncode == 0


def test_deleting_a_lock_file_lets_no_second_writer_in(billed: tuple[Path, Path], tmp_path: Path) -> None:
    ledger, night = billed
    with lock_held_by_another_process(ledger):
        for leftover in ledger.parent.glob("*.lock"):  # an older cmclaims kept its lock in such a file
            leftover.unlink()
        second = cmclaims("validate", night, "--profile", "id-optum", "--out", tmp_path / "o2", "--ledger", ledger)
        assert second.returncode == 75
        assert cmclaims("ledger", "rollback", "run-x", "--yes", "--ledger", ledger).returncode == 75
        assert cmclaims("ledger", "import", night, "--profile", "id-optum", "--ledger", ledger).returncode == 75


def test_readers_keep_working_while_a_run_holds_the_lock(billed: tuple[Path, Path], tmp_path: Path) -> None:
    ledger, night = billed
    with lock_held_by_another_process(tmp_path / "real" / ".." / "real" / ledger.name):
        runs = cmclaims("ledger", "runs", "--ledger", ledger, "--json")
        assert runs.returncode == 0 and '"kind": "validate"' in runs.stdout
        assert cmclaims("ledger", "check", "--ledger", ledger).returncode == 0
        dry = cmclaims("validate", night, "--profile", "id-optum", "--out", tmp_path / "dry", "--ledger", ledger,
                       "--dry-run", "--quiet")
        assert dry.returncode == 0, dry.stderr
        assert cmclaims("report", "open", "--ledger", ledger).returncode == 0


def test_a_ledger_on_a_network_file_system_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    for kind in ("nfs4", "cifs", "smb3"):
        monkeypatch.setattr(lock, "file_system_of", lambda path, kind=kind: kind)
        with pytest.raises(LedgerUnusable, match="network file system"):
            lock.LedgerLock(ledger).acquire()
    monkeypatch.setattr(lock, "file_system_of", lambda path: "ext4")
    with lock.LedgerLock(ledger):
        pass


def test_the_file_system_of_a_path_is_read_from_the_mount_table(tmp_path: Path) -> None:
    if not Path("/proc/self/mountinfo").exists():
        pytest.skip("no /proc/self/mountinfo on this system (Linux only)")
    assert lock.file_system_of(Path("/proc/self")) == "proc"
    assert lock.file_system_of(tmp_path) not in (None, "")


def test_lock_module_imports_fcntl_only_on_posix() -> None:
    """Windows has no fcntl: the module must not import it unconditionally (it would fail at start)."""
    tree = ast.parse(Path(lock.__file__).read_text())
    top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    names = {alias.name for node in top_level for alias in node.names}
    assert "fcntl" not in names and "msvcrt" not in names
    guarded = [node for node in tree.body if isinstance(node, ast.If) and "sys.platform" in ast.unparse(node.test)]
    assert guarded, "fcntl and msvcrt are imported under a sys.platform test"
    assert os.name != "posix" or hasattr(lock, "fcntl")
