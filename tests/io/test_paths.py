"""Only regular files are read, each once: a FIFO never holds the ledger lock (SPEC sections 1, 3)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from cmclaims.cli import main
from tests.helpers import new_ledger, write_csv
from tests.test_hardening import LINE


def _validate(tmp_path: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> int:
    return main(["validate", *map(str, inputs), "--profile", "ok-soonercare", "--out", str(tmp_path / "out"),
                 "--ledger", str(tmp_path / "ledger.sqlite3"), *extra])


def _special(tmp_path: Path, kind: str) -> Path:
    if kind == "fifo":
        os.mkfifo(tmp_path / "export.csv")
        return tmp_path / "export.csv"
    if kind == "socket":
        path = tmp_path / "export.csv"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        return path
    return Path("/dev/null")


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_a_special_file_is_refused_at_once_before_the_ledger_lock(tmp_path: Path, kind: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = _special(tmp_path, kind)
    started = time.monotonic()
    assert _validate(tmp_path, path) == 66
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert str(path) in err and "regular files only" in err
    assert not (tmp_path / "ledger.sqlite3").exists()  # the lock is the ledger's own: nothing was opened
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["--stays", "--staff", "--authorizations"])
def test_a_fifo_side_file_is_refused_too(tmp_path: Path, option: str) -> None:
    export = write_csv(tmp_path / "real.csv", [LINE])
    os.mkfifo(tmp_path / "side.csv")
    new_ledger(tmp_path / "ledger.sqlite3")
    started = time.monotonic()
    assert _validate(tmp_path, export, extra=(option, str(tmp_path / "side.csv"))) == 66
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
def test_the_same_export_given_twice_is_a_usage_error(tmp_path: Path, spelling: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    export = write_csv(tmp_path / "export.csv", [LINE])
    again = {"same": export, "dotted": tmp_path / "." / "export.csv", "symlink": tmp_path / "link.csv",
             "hardlink": tmp_path / "hard.csv"}[spelling]
    if spelling == "symlink":
        again.symlink_to(export)
    elif spelling == "hardlink":
        os.link(export, again)
    new_ledger(tmp_path / "ledger.sqlite3")
    assert _validate(tmp_path, export, again) == 2
    assert "given twice" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_two_different_exports_are_one_batch(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", [LINE])
    second = write_csv(tmp_path / "b.csv", [{**LINE, "claim_id": "B1", "start_time": "11:00", "end_time": "11:30"}])
    code = main(["validate", str(first), str(second), "--profile", "ok-soonercare", "--out", str(tmp_path / "out"),
                 "--no-ledger", "--json"])
    assert code == 0
