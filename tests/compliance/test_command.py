"""`cmclaims compliance` from the command line, on the bundled samples (SPEC section 10)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from cmclaims.cli import main
from tests.helpers import new_ledger

SAMPLES = Path(__file__).parents[2] / "sample_data"


def _billed_ledger(folder: Path, profile: str) -> Path:
    """The profile's sample export validated into a new ledger, as the demo's night does."""
    data = SAMPLES / profile
    ledger = new_ledger(folder / "ledger.sqlite3")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(["validate", str(data / "export.csv"), "--profile", profile, "--out", str(folder / "night"),
              "--ledger", str(ledger), "--stays", str(data / "stays.csv"), "--staff", str(data / "staff.csv"),
              "--exit-zero"])
    return ledger


def _compliance(profile: str, ledger: Path, *extra: str) -> tuple[int, dict]:
    data = SAMPLES / profile
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        code = main(["compliance", "--profile", profile, "--from", "2026-01-01", "--as-of", "2026-10-31",
                     "--ledger", str(ledger), "--stays", str(data / "stays.csv"), "--staff", str(data / "staff.csv"),
                     "--plans", str(data / "plans.csv"), "--json", *extra])
    return code, json.loads(stdout.getvalue())


def _found(document: dict) -> list[tuple[str, str, str]]:
    return sorted((f["rule"], f["period_start"], f["message"]) for f in document["findings"])


@pytest.mark.parametrize("profile", ["pa-performcare", "ok-soonercare"])
def test_the_enrollment_file_only_takes_out_periods_another_program_served(tmp_path: Path, profile: str) -> None:
    ledger = _billed_ledger(tmp_path, profile)
    code, without = _compliance(profile, ledger)
    code_with, with_file = _compliance(profile, ledger, "--enrollment", str(SAMPLES / profile / "enrollment.csv"))
    assert code in (0, 1) and code_with in (0, 1)
    assert set(_found(with_file)) <= set(_found(without))  # never a finding more
    notes = {r["rule"]: r["note"] for r in with_file["requirements"]}
    assert with_file["side_files"]["files"][-1]["file"].endswith("enrollment.csv")
    if profile == "pa-performcare":  # bars MA_FFS: the follow-ups say so
        assert "MA_FFS" in notes["CM811"] and "MA_FFS" in notes["CM812"]
    else:  # bars nothing: the same findings, and the report says why
        assert _found(with_file) == _found(without)
        assert "bars no enrollment" in notes["CM810"]
