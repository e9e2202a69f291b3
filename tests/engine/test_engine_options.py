"""validate --engine and --scheduler: what a mistaken option gets (exit 2, nothing written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmclaims.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "az-ahcccs" / "export.csv"


def _run(out: Path, *args: str) -> int:
    return main(["validate", str(SAMPLE), "--profile", "az-ahcccs", "--out", str(out), "--no-ledger", *args])


def test_an_unknown_engine_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path / "out", "--engine", "spark") == 2
    assert "--engine must be local or dask" in capsys.readouterr().err
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_scheduler_without_the_dask_engine_is_a_usage_error(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path / "out", "--scheduler", "tcp://127.0.0.1:1") == 2
    assert "--scheduler is for --engine dask" in capsys.readouterr().err


def test_a_scheduler_that_does_not_answer_is_a_usage_error(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path / "out", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9") == 2
    assert "no Dask scheduler answers" in capsys.readouterr().err
    assert not (tmp_path / "out" / "clean.csv").exists()
