"""A Dask run stopped by SIGTERM or SIGINT cleans up, then ends by that signal.

`cmclaims validate --engine dask` runs in a process of its own on a
LocalCluster; once the cluster's workers are up (or, once, while the cluster
is still starting) it is sent the signal. It must remove its spill folder
(spilled lines are PHI), stop its worker processes, leave the previous
night's outputs as they were with nothing half-written beside them, record
nothing in the ledger, and end by the signal it was sent (SPEC section 1
gives a stopped run no exit code of its own: the shell sees 128 + the
signal's number, as for any process a signal ends).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cmclaims.cli import main
from cmclaims.ledger.store import SqliteLedger
from cmclaims.sample import generate
from cmclaims.sample.output import write_sample_table
from tests.helpers import new_ledger

CLUSTER_UP = 60  # seconds a busy machine may take to start the workers


def _wait_for(scratch: Path, process: subprocess.Popen, when: str) -> list[psutil.Process]:
    """Wait until the run's spill folder exists ("starting") or holds a folder for every worker ("running");
    the run's processes then."""
    wanted = max(os.cpu_count() or 1, 1) if when == "running" else 0
    deadline = time.monotonic() + CLUSTER_UP
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        spill = list(scratch.glob("cmclaims-dask-*"))
        workers = [p for p in scratch.glob("cmclaims-dask-*/dask-scratch-space/worker-*") if p.is_dir()]
        if spill and len(workers) >= wanted:
            return psutil.Process(process.pid).children(recursive=True)
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"the LocalCluster did not start within {CLUSTER_UP} s")


@pytest.mark.parametrize(("sent", "when"), [(signal.SIGTERM, "running"), (signal.SIGINT, "running"),
                                           (signal.SIGTERM, "starting")],
                         ids=["SIGTERM", "SIGINT", "SIGTERM-while-the-cluster-starts"])
def test_a_stopped_dask_run_removes_its_spill_folder_and_ends_by_the_signal(tmp_path: Path, sent: int,
                                                                           when: str) -> None:
    export = tmp_path / "export.csv"
    write_sample_table(generate("az-ahcccs", 20_000, 15).export, export)  # long enough to be stopped mid-run
    out = tmp_path / "out"
    common = ["validate", str(export), "--profile", "az-ahcccs", "--out", str(out), "--quiet"]
    assert main([*common, "--no-ledger"]) == 1  # last night's outputs, by the local engine
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    scratch = tmp_path / "scratch"
    environment = {**os.environ, "DASK_TEMPORARY_DIRECTORY": str(scratch)}
    environment.pop("CMCLAIMS_CRASH_AT", None)

    run = subprocess.Popen([sys.executable, "-m", "cmclaims", *common, "--ledger", str(ledger), "--engine", "dask"],
                           env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    workers = _wait_for(scratch, run, when)
    if when == "running":
        time.sleep(0.5)  # past the cluster's start: the run is under way
    run.send_signal(sent)
    _, stderr = run.communicate(timeout=60)

    assert run.returncode == -sent, stderr.decode()
    assert f"stopped by {signal.Signals(sent).name}" in stderr.decode()
    assert not list(scratch.glob("cmclaims-dask-*"))  # no spilled lines left on disk
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary, part or half of a file
    deadline = time.monotonic() + 10
    while any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    store = SqliteLedger(ledger, read_only=True)
    try:
        assert store.runs() == []
    finally:
        store.close()
