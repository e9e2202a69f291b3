"""validate --engine and --scheduler: what a mistaken option gets (exit 2, nothing written)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from cmclaims.cli import main
from tests.helpers import read_csv

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


def test_a_folder_of_parquet_parts_is_read_from_the_command_line(tmp_path: Path) -> None:
    """SPEC section 12: INPUT may be a folder of Parquet files (read in name order), with either engine; the
    clean and exceptions files hold what the same lines give as one Parquet file."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    names = pacsv.read_csv(SAMPLE).column_names
    table = pacsv.read_csv(SAMPLE, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names,
                                                                                                   pa.string())))
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, start in enumerate(range(0, table.num_rows, 700)):
        pq.write_table(table.slice(start, 700), folder / f"part-{i:02d}.parquet")
    pq.write_table(table, tmp_path / "whole.parquet")

    def outcome(source: Path, out: Path, *args: str) -> tuple[list, list]:
        assert main(["validate", str(source), "--profile", "az-ahcccs", "--out", str(out), "--no-ledger",
                     "--format", "csv", "--quiet", "--exit-zero", *args]) == 0
        clean = sorted((r["claim_id"], r["disposition"], r["billable_units"]) for r in read_csv(out / "clean.csv"))
        found = sorted((r["claim_id"], r["rule"], r["disposition"]) for r in read_csv(out / "exceptions.csv"))
        return clean, found

    whole = outcome(tmp_path / "whole.parquet", tmp_path / "whole")
    assert whole[0] and whole[1]
    assert outcome(folder, tmp_path / "local") == whole
    assert outcome(folder, tmp_path / "dask", "--engine", "dask") == whole
