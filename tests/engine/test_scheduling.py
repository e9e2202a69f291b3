"""The Dask engine takes pieces out of a task's result while later reads and partitions still wait.

At 50M lines every input file was read before any piece was taken out of one:
each read file was spilled to disk, and each of thousands of piece-taking
tasks read a whole file back. Now every piece is asked for before the driver
waits on a read, and the piece-taking tasks run at a higher Dask priority
(`dask.TAKE`): a file is cut and freed as soon as it is read, and a
partition's output is cut into its ranges before its worker starts another
partition (save one already waiting on the worker when the partition ended).

These tests read Dask's task stream of a small run on one worker: its four
files' reads and their pieces wait side by side in the scheduler's queue, and
only the priority puts the pieces first (without it, all four files were
read before 2 of their 96 pieces were taken). With two workers and files this
small the scheduler may take pieces on the other worker (a file is cheap to
move), and the order is too loose to assert.

The worker is held at its first read until the driver first waits on a
result (`Client.gather`): the driver runs in the test's process, and on a
loaded machine it could otherwise still be submitting pieces while the
worker reads file after file. The old driver, which waited for every file's
description before it asked for any piece, opens the gate before asking and
still fails.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import cmclaims.engine.dask
from cmclaims.engine.dask import validate_on_dask
from cmclaims.engine.routing import read_routed
from cmclaims.pipeline.request import ValidateRequest
from tests.helpers import TODAY

distributed = pytest.importorskip("distributed")

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "az-ahcccs" / "export.csv"
PARTS = 8
TAKES = ("_piece", "_field", "_schema_and_rows")
Stream = list[tuple[str, str, float, float]]  # (function, worker, start, stop) of each task computed
DRIVER_WAITS = threading.Event()  # set when the driver first waits on a result


def gated_read(*args: Any) -> Any:
    """read_routed, once the driver has asked for everything it asks for before it waits."""
    assert DRIVER_WAITS.wait(timeout=60)
    return read_routed(*args)


gated_read.__name__ = "read_routed"  # the task stream names tasks by their function


def _run(tmp: Path, workers: int, files: int, monkeypatch: pytest.MonkeyPatch) -> Stream:
    header, *lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    size = -(-len(lines) // files)
    inputs = []
    for i in range(files):
        path = tmp / f"part{i}.csv"
        path.write_text(header + "".join(lines[i * size:(i + 1) * size]), encoding="utf-8")
        inputs.append(path)
    gather = distributed.Client.gather

    def gather_after_the_gate(client: Any, *args: Any, **kwargs: Any) -> Any:
        DRIVER_WAITS.set()
        return gather(client, *args, **kwargs)

    DRIVER_WAITS.clear()
    monkeypatch.setattr(distributed.Client, "gather", gather_after_the_gate)
    monkeypatch.setattr(cmclaims.engine.dask, "read_routed", gated_read)
    request = ValidateRequest(inputs=inputs, profile="az-ahcccs", out=tmp / "out", today=TODAY)
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as client, distributed.get_task_stream(client) as tasks:
        validate_on_dask(request, client=client, partitions=PARTS)
    return [(task["key"].split("-")[0], task["worker"], span["start"], span["stop"])
            for task in tasks.data for span in task["startstops"] if span["action"] == "compute"]


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Stream:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _run(tmp_path_factory.mktemp("scheduling"), workers=1, files=4, monkeypatch=monkeypatch)


def test_each_file_is_cut_into_its_pieces_before_the_last_file_is_read(stream: Stream) -> None:
    last_read = max(start for name, _, start, _ in stream if name == "read_routed")
    picked_before = [stop for name, _, _, stop in stream if name == "pick" and stop < last_read]
    assert len(picked_before) >= 3 * PARTS  # at least every piece of one file (by member, staff and claim_id)


def test_a_partition_output_is_cut_before_its_worker_starts_a_further_partition(stream: Stream) -> None:
    by_worker: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for name, worker, start, stop in stream:
        by_worker[worker].append((name, start, stop))
    after_a_cut = []
    for tasks in by_worker.values():
        first_take = min((stop for name, _, stop in tasks if name in TAKES), default=float("inf"))
        after_a_cut += [start for name, start, _ in tasks if name == "_validate_placed" and start > first_take]
    # A partition may start before the pieces of the one just ended reach its worker (it was waiting
    # there); the third of eight starts after the first one's output was cut.
    assert after_a_cut
