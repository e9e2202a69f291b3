"""How the Dask engine sizes its work: partitions by lines, a LocalCluster within the machine's memory.

What an operator relies on: a CSV export and the same export as Parquet are
cut into as many partitions (a partition's memory follows its lines, not its
file's bytes), and `validate --engine dask` without `--scheduler` starts
workers that together stay within their share of the machine, spill into a
private folder of the run, and leave nothing behind.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import dask
import psutil
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cmclaims.cli import main
from cmclaims.engine import dask as dask_engine
from cmclaims.engine.inputs import estimated_lines

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "az-ahcccs" / "export.csv"


def _lines_of(csv: Path) -> int:
    return pacsv.read_csv(csv).num_rows


def test_a_csv_and_its_parquet_copy_are_cut_into_as_many_partitions(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    parquet = tmp_path / "export.parquet"
    pq.write_table(pacsv.read_csv(SAMPLE), parquet)
    lines = _lines_of(SAMPLE)

    assert estimated_lines(parquet) == lines
    assert abs(estimated_lines(SAMPLE) - lines) <= 0.05 * lines  # a CSV's lines from its first MiB

    monkeypatch.setattr(dask_engine, "LINES_A_PARTITION", max(lines // 10, 1))
    from_csv = dask_engine.partition_count([SAMPLE], workers=2)
    from_parquet = dask_engine.partition_count([parquet], workers=2)
    assert from_parquet >= 10
    assert abs(from_csv - from_parquet) <= 1


def test_a_file_that_cannot_be_opened_counts_no_lines_and_is_left_to_its_reader(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    assert estimated_lines(broken) == 0
    assert estimated_lines(tmp_path / "missing.csv") == 0


def test_a_local_cluster_stays_within_its_share_and_spills_into_a_private_folder(tmp_path: Path) -> None:
    with dask.config.set({"temporary-directory": str(tmp_path / "scratch")}), \
            dask_engine.local_cluster() as cluster:
        limits = [w.memory_manager.memory_limit for w in cluster.workers.values()]
        [spill] = list((tmp_path / "scratch").glob("cmclaims-dask-*"))
        mode = stat.S_IMODE(spill.stat().st_mode)
    assert sum(limits) <= dask_engine.LOCAL_MEMORY_SHARE * psutil.virtual_memory().total + len(limits)
    assert mode == 0o700  # spilled lines are PHI
    assert not spill.exists()


def test_validate_on_a_local_cluster_writes_what_a_local_run_writes(tmp_path: Path) -> None:
    common = ["validate", str(SAMPLE), "--profile", "az-ahcccs", "--no-ledger", "--quiet"]
    local_code = main([*common, "--out", str(tmp_path / "local")])
    with dask.config.set({"temporary-directory": str(tmp_path / "scratch")}):
        dask_code = main([*common, "--out", str(tmp_path / "dask"), "--engine", "dask"])
    assert dask_code == local_code
    for name in ("clean.csv", "exceptions.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    engine = json.loads((tmp_path / "dask" / "summary.json").read_text())["options"]["engine"]
    assert engine["scheduler"] == "LocalCluster"
    assert engine["spilled_bytes"] == 0  # a sample fits: nothing was written to disk
    assert not list((tmp_path / "scratch").glob("cmclaims-dask-*"))
