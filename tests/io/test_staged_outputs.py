"""A killed run leaves no PHI behind and no ambiguity (SPEC section 3)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cmclaims.cli import main
from tests.helpers import write_csv
from tests.test_hardening import LINE

ROOT = Path(__file__).resolve().parents[2]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _validate(export: Path, out: Path, *extra: str) -> int:
    return main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(out), "--no-ledger", *extra])


def test_the_next_run_removes_what_a_killed_run_left_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = _dead_pid()
    leftovers = [out / f".clean.csv.{dead}-abc123.tmp", out / f".exceptions.parquet.{dead}-x_9.tmp",
                 out / f".summary.json.{dead}-q.tmp"]
    for path in leftovers:
        path.write_text("MBR1001,1980-05-01")
    live = out / f".clean.csv.{os.getppid()}-live.tmp"  # a run still writing (its process is alive)
    live.write_text("x")
    mine = out / "notes.tmp"  # not ours at all
    mine.write_text("x")
    assert _validate(write_csv(tmp_path / "export.csv", [LINE]), out) == 0
    assert [p for p in leftovers if p.exists()] == []
    assert live.exists() and mine.exists()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_summary_vouches_for_the_clean_and_exceptions_files(tmp_path: Path, fmt: str) -> None:
    export = write_csv(tmp_path / "export.csv", [LINE, {**LINE, "claim_id": "A2", "start_time": "10:00",
                                                        "end_time": "10:05"}])
    assert _validate(export, tmp_path / "out", "--format", fmt) == 1
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    for role in ("clean", "exceptions"):
        recorded = summary["files"][role]
        path = tmp_path / "out" / recorded["name"]
        assert recorded["name"] == f"{role}.{fmt}"
        assert recorded["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        rows = pq.read_table(path).num_rows if fmt == "parquet" else pacsv.read_csv(path).num_rows
        assert recorded["rows"] == rows
    assert not list((tmp_path / "out").glob(".*"))  # no temporary, no pending note after a whole run


def _subprocess_validate(export: Path, out: Path, crash_at: str | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CMCLAIMS_CRASH_AT", None)
    if crash_at:
        env["CMCLAIMS_CRASH_AT"] = crash_at
    command = [sys.executable, "-m", "cmclaims", "validate", str(export), "--profile", "ok-soonercare",
               "--out", str(out), "--no-ledger", "--quiet"]
    return subprocess.run(command, env=env, capture_output=True, timeout=120).returncode


def test_a_kill_between_renames_is_reported_as_a_mixed_folder_and_a_rerun_completes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    first = write_csv(tmp_path / "monday.csv", [LINE])
    later = {**LINE, "claim_id": "B2", "start_time": "10:00", "end_time": "10:30"}
    second = write_csv(tmp_path / "tuesday.csv", [{**LINE, "claim_id": "B1"}, later])
    assert _subprocess_validate(first, out) == 0
    assert _subprocess_validate(second, out, crash_at="between-renames") == -9
    capsys.readouterr()
    assert main(["report", str(out)]) == 1
    printed = capsys.readouterr()
    assert "mixed folder" in printed.out and "clean.csv" in printed.out
    assert _subprocess_validate(second, out) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    assert not list(out.glob(".*"))


def test_a_file_changed_after_the_run_is_reported_as_changed(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _subprocess_validate(write_csv(tmp_path / "export.csv", [LINE]), out) == 0
    with (out / "clean.csv").open("a") as handle:
        handle.write("\n")
    capsys.readouterr()
    assert main(["report", str(out)]) == 1
    assert "clean.csv is not the file summary.json describes" in capsys.readouterr().out
