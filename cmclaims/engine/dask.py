"""The Dask engine: the same rules over partitions of members on a Dask cluster (SPEC section 12).

    driver: lock and open the ledger, read the side files, connect
    read:    one task per input file (the local reader), cut by member, staff, claim_id
    CM010:   claim partitions find the ids on several lines; those lines are checked together
    CM403:   staff partitions find one staff member with two members at once
    members: validate_partition on each member partition, with its members' earlier usage
    write:   each output cut by place in the batch, range by range, sorted, written in parts
    driver:  summary from the partitions' counts, ledger committed once, outputs renamed

Everything a partition needs of the ledger is read once here and shipped with
it; workers never open the ledger, so it only has to be on the driver's disk
(and the input and output folders on a disk every worker sees).
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cmclaims.engine.counting import combine_counts, combine_findings, rules_of
from cmclaims.engine.inputs import estimated_lines
from cmclaims.engine.layout import FILE, ROW, Layout, place, place_of, route, split_by
from cmclaims.engine.outputs import PlacedOutput, commit_folder, join_parts, range_bounds, validate_placed, write_part
from cmclaims.engine.partition import (
    GIVEN_SCHEMA,
    LedgerShare,
    PartitionPlan,
    claim_findings,
    staff_findings,
)
from cmclaims.engine.routing import RoutedFile, concat, pick, read_routed, repeated_claims
from cmclaims.errors import EXIT_INPUT_UNUSABLE, ClusterFailed, ConfigError, InputUnusable
from cmclaims.faults import checkpoint
from cmclaims.io.column_map import load_export_map
from cmclaims.io.reader import file_format
from cmclaims.io.writer import StagedOutputs, write_json
from cmclaims.ledger.view import LedgerView
from cmclaims.normalize.value_maps import check_value_targets
from cmclaims.pipeline.alarm import input_alarm_of_counts
from cmclaims.pipeline.ledger_entries import run_record
from cmclaims.pipeline.request import ValidateRequest
from cmclaims.pipeline.validate import ValidateResult, _check_request, _open_ledger, run_id_for, summary_document
from cmclaims.side.bundle import SideData
from cmclaims.stopping import deferred, stop_cleanly
from cmclaims.tables import load_profile

# Lines a member partition holds. A task's memory follows its partition (about 1 GiB at the peak
# of the rules for 0.4M lines), whatever the batch's size: more lines, more partitions.
LINES_A_PARTITION = 400_000
# Of this machine's memory, the share a LocalCluster's workers may use together; the rest is the
# driver's and the machine's.
LOCAL_MEMORY_SHARE = 0.7
# How a LocalCluster's workers use their share. Spilling starts at half of it (Dask: 60%) so that a
# task's own working set (reading a 1M-line file: about 1.5 GiB) fits below the pause at 80%. A
# worker busy writing gigabytes to disk on a busy machine answers late: the comm timeouts (Dask:
# 30 s) and the time a silent worker is kept (5 min) are long enough not to take it for dead.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.memory.target": 0.5,
    "distributed.worker.memory.spill": 0.6,
    "distributed.comm.timeouts.connect": "120s",
    "distributed.comm.timeouts.tcp": "600s",
    "distributed.scheduler.worker-ttl": "30 minutes",
}
# Dask priorities (higher runs first among the tasks ready on a worker). A task that takes pieces out of
# another task's result (a read file's pieces, a partition's output ranges) runs before the next read or
# partition starts: the result is cut and freed while it is still in memory, and each piece spills alone.
# At 50M lines, with every read run before any piece was taken, each of 18,750 piece-taking tasks read a
# whole spilled file back from disk, and the run thrashed.
MAKE = 0
TAKE = 1


@contextmanager
def connect(scheduler: str | None) -> Iterator[Any]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster on this machine."""
    from distributed import Client

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")  # a live scheduler answers within a second
        except OSError as exc:
            raise ConfigError(f"--scheduler {scheduler}: no Dask scheduler answers there ({exc})") from exc
        with client:
            yield client
        return
    with ExitStack() as stack:
        with deferred():  # SpecCluster does not close itself when its start is stopped half way
            cluster = stack.enter_context(local_cluster())
            client = stack.enter_context(Client(cluster))
        yield client


@contextmanager
def local_cluster() -> Iterator[Any]:
    """A LocalCluster of one single-threaded worker a core, within this machine's memory.

    Each worker may use its part of LOCAL_MEMORY_SHARE of the memory and spills
    beyond it, into a folder of this run (0700: spilled lines are PHI) under
    Dask's temporary-directory, removed at the end (also when SIGTERM or SIGINT
    stops the run: `cmclaims.stopping`).
    """
    import os
    import shutil
    import tempfile

    import dask
    import psutil
    from distributed import LocalCluster

    workers = max(os.cpu_count() or 1, 1)
    memory_limit = int(psutil.virtual_memory().total * LOCAL_MEMORY_SHARE / workers)
    base = dask.config.get("temporary-directory", None)
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix="cmclaims-dask-", dir=base))
    try:
        with dask.config.set(LOCAL_CLUSTER_CONFIG), \
                LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=memory_limit,
                             local_directory=str(spill), dashboard_address=None) as cluster:
            yield cluster
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def partition_count(paths: list[Path], workers: int) -> int:
    """Enough member partitions to keep every worker busy and each of them LINES_A_PARTITION lines at most."""
    lines = sum(estimated_lines(p) for p in paths)
    return max(2 * workers, math.ceil(lines / LINES_A_PARTITION), 1)


def _same(value: Any) -> Any:
    """A value as a task's result (see `_validate_on_dask`)."""
    return value


def _layout(routed: list[tuple[Any, pa.Schema]]) -> Layout:
    files = tuple(file for file, _ in routed)
    schema = routed[0][1]
    for file, own in routed[1:]:
        if not own.equals(schema) or file.columns != files[0].columns:
            raise InputUnusable(
                f"{file.name}: its columns differ from {files[0].name}'s",
                hint="--engine dask validates inputs that share one header (one export in parts); "
                "validate differing exports with --engine local",
            )
    return Layout(files, schema)


def _tasks(client: Any) -> Callable[..., Any]:
    """`client.submit(function, *args, priority=MAKE)` with every task its own key: tables are not hashed
    to name tasks (two equal pieces from different partitions must never be taken for one)."""

    def submit(function: Callable[..., Any], *args: Any, priority: int = MAKE) -> Any:
        return client.submit(function, *args, pure=False, priority=priority)

    return submit


ROUTED = ("by_member", "by_staff", "by_claim")


def _pieces(submit: Callable[..., Any], read: list[Any], kind: str, parts: int) -> list[list[Any]]:
    """Partition k of one partitioning: piece k of every file, each piece a task where its file was read.

    The pieces go as they are to the tasks that use a partition (which join them), not through a task
    that joins them first: its result would be a second copy of the partition to spill and read back.
    """
    return [[submit(pick, r, kind, k, priority=TAKE) for r in read] for k in range(parts)]


def _info(routed: RoutedFile) -> tuple[Any, pa.Schema, np.ndarray, pa.Array]:
    return routed.file, routed.schema, routed.service_days, routed.originals


def _select(pieces: list[pa.Table], places: np.ndarray) -> pa.Table:
    return concat([p.filter(pa.array(np.isin(place_of(p), places))) for p in pieces])


def _staff_findings(pieces: list[pa.Table], claim_given: pa.Table, plan: PartitionPlan, parts: int) -> list[pa.Table]:
    return staff_findings(concat(pieces), claim_given, plan, parts)


def _validate_placed(pieces: list[pa.Table], usage: pa.Table | None, given: pa.Table, plan: PartitionPlan,
                     bounds: np.ndarray) -> PlacedOutput:
    return validate_placed(concat(pieces), usage, given, plan, bounds)


def _share_ledger(client: Any, view: LedgerView, parts: int) -> tuple[LedgerShare, list[Any]]:
    """What every partition reads of the ledger, and each member partition's earlier usage (on the cluster).

    The driver read the ledger once; usage goes to the partition of its member only.
    """
    share = LedgerShare(view.run_id, view.mode, view.claims, view.retired, view.months, view.previous_executions,
                        view.run_dates(), view.changed_later, view.year_totals, view.carried, view.own_retired)
    assert view.usage is not None
    slices = split_by(view.usage, route(view.usage, "member_id", parts), parts)
    view.usage = None  # the driver keeps only what summary.json says of it
    return share, client.scatter(slices, hash=False)


def _claim_pass(client: Any, by_claim: list[list[Any]], by_member: list[list[Any]], plan: PartitionPlan) -> pa.Table:
    """CM010: the lines whose claim_id repeats anywhere in the batch (few), fetched and checked together."""
    submit = _tasks(client)
    places = pa.concat_tables(client.gather([submit(repeated_claims, c) for c in by_claim]))
    if not places.num_rows:
        return GIVEN_SCHEMA.empty_table()
    wanted = place(places.column(FILE).to_numpy(), places.column(ROW).to_numpy())
    chosen = client.gather([submit(_select, m, wanted) for m in by_member])
    return claim_findings(pa.concat_tables(chosen), plan)


def _given(claim_given: pa.Table, staff: list[pa.Table]) -> pa.Table:
    return pa.concat_tables([claim_given, *[s.cast(GIVEN_SCHEMA) for s in staff]])


def _field(placed: PlacedOutput, name: str) -> Any:
    return getattr(placed.output, name)


@dataclass
class TakenOutput:
    """The futures of all that is taken of one partition's output (its own future is let go)."""

    counts: Any
    findings: Any
    rules: Any
    shapes: dict[str, Any]  # output name -> (schema, rows)
    pieces: dict[str, list[Any]]  # output name -> range m's rows
    ledger_lines: Any = None
    retirements: Any = None


def _take(submit: Callable[..., Any], placed: Any, ranges: int, recording: bool) -> TakenOutput:
    def take(function: Callable[..., Any], *args: Any) -> Any:
        return submit(function, placed, *args, priority=TAKE)

    taken = TakenOutput(
        counts=take(_field, "counts"),
        findings=take(_field, "findings"),
        rules=take(_field, "rules"),
        shapes={name: take(_schema_and_rows, name) for name in ("clean", "exceptions")},
        pieces={name: [take(_piece, name, m) for m in range(ranges)] for name in ("clean", "exceptions")},
    )
    if recording:
        taken.ledger_lines = take(_field, "ledger_lines")
        taken.retirements = take(_field, "retirements")
    return taken


def validate_on_dask(request: ValidateRequest, on_stage: Callable[[str], None] | None = None,
                     client: Any = None, partitions: int | None = None) -> ValidateResult:
    """Validate on a Dask cluster (see `_validate_on_dask`); a lost worker or scheduler exits 75."""
    from distributed import KilledWorker
    from distributed.comm import CommClosedError

    try:
        with stop_cleanly():  # SIGTERM, SIGINT: the run unwinds (spill folder, temporaries), then ends
            return _validate_on_dask(request, on_stage, client, partitions)
    except MemoryError as exc:  # a task's allocation failed on a worker: the cluster is too small for it
        raise ClusterFailed(
            "a Dask worker ran out of memory during the run; nothing was written or committed",
            hint="give the workers more memory (or more workers) and run again: the same input is the same run",
        ) from exc
    except (KilledWorker, CommClosedError, TimeoutError) as exc:
        raise ClusterFailed(
            f"the Dask cluster failed during the run ({type(exc).__name__}); nothing was written or committed",
            hint="check the workers' memory and logs, then run again: the same input is the same run",
        ) from exc


def _validate_on_dask(request: ValidateRequest, on_stage: Callable[[str], None] | None,
                      client: Any, partitions: int | None) -> ValidateResult:
    """Validate on a Dask cluster; the same outputs, ledger records and exit code as a local run.

    `client` is an open Dask client to use (default: connect as the request says); `partitions`
    the number of member partitions (default: from the input's size and the workers).
    """
    _check_request(request)
    started = dt.datetime.now(dt.UTC)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        if on_stage is not None:
            on_stage(name)
        checkpoint(f"after-{name}")

    with ExitStack() as stack:
        # Closed after the cluster (LIFO): no worker still writes into what it removes.
        after_cluster = stack.enter_context(ExitStack())
        store = _open_ledger(request, stack)
        profile = load_profile(request.profile)
        export_map = load_export_map(request.column_map) if request.column_map else None
        if export_map is not None:
            check_value_targets(export_map, profile.catalog)
        column_map = export_map.columns if export_map is not None else None
        output_format = request.output_format or file_format(request.inputs[0])
        for path in request.inputs:
            file_format(path)  # a missing or foreign input stops the run before any work (66, 65)
        side = SideData.read(request, column_map)
        if client is None:
            client = stack.enter_context(connect(request.scheduler))
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        parts = partitions or partition_count(request.inputs, workers)
        submit = _tasks(client)

        # Read: one task per file, cut three ways; only the small descriptions come back. Every piece is
        # asked for before waiting on any read, so that each file is cut and freed as soon as it is read.
        read = [submit(read_routed, path, index, column_map, parts, request.today)
                for index, path in enumerate(request.inputs)]
        by_member, by_staff, by_claim = (_pieces(submit, read, kind, parts) for kind in ROUTED)
        info = [submit(_info, r, priority=TAKE) for r in read]
        del read  # no future of the driver holds a routed file: each is released once its pieces are taken
        described = client.gather(info)
        layout = _layout([(file, schema) for file, schema, _, _ in described])
        days = np.unique(np.concatenate([d for _, _, d, _ in described])) if described else np.empty(0, np.int32)

        run_id = run_id_for(profile.name, [f.sha256 for f in layout.files])
        view = None
        ledger_share = None
        usage: list[Any] = [None] * parts
        if request.ledger_mode != "off":
            view = LedgerView.load_for_days(store, days.astype(np.int32), profile, run_id, request.ledger_mode)
            named = [o for _, _, _, o in described]
            view.add_originals(pa.concat_arrays(named) if named else pa.array([], pa.string()))
            ledger_share, usage = _share_ledger(client, view, parts)
        plan = PartitionPlan(layout, profile.name, side, request.today, request.over_limit, ledger_share,
                             export_map.values if export_map is not None else None)
        staff_plan = replace(plan, layout=Layout(layout.files, _canonical_schema(layout)), ledger=None)
        # Shared values are tasks' results, not scattered data: a worker lost with them is
        # recomputed from the graph (scattered data would be lost for good), and each worker
        # fetches them once when it first needs them.
        plan_future, staff_plan_future = submit(_same, plan), submit(_same, staff_plan)
        lap("read")

        claim_given = _claim_pass(client, by_claim, by_member, replace(plan, ledger=None))
        del by_claim
        lap("normalise")
        # CM403 on partitions by staff member; its findings go to their members' partitions.
        staff = [submit(_staff_findings, s, claim_given, staff_plan_future, parts) for s in by_staff]
        del by_staff
        # Each partition's clean and exceptions rows come back cut by range of the batch (part m of
        # an output is range m of every partition); everything taken of a partition's output is
        # asked for as soon as it is made, so that the output is freed at once and each range piece
        # spills, travels and is freed alone (never the whole output read back from disk per range).
        bounds = range_bounds([f.lines for f in layout.files], parts)
        recording = view is not None and request.ledger_mode == "write"
        outputs = []
        for k in range(parts):
            given = submit(_given, claim_given, [submit(operator.getitem, s, k, priority=TAKE) for s in staff])
            placed = submit(_validate_placed, by_member[k], usage[k], given, plan_future, bounds)
            outputs.append(_take(submit, placed, bounds.size + 1, recording))
        del by_member, staff, placed
        counts = client.gather([o.counts for o in outputs])
        found = client.gather([o.findings for o in outputs])
        rules = client.gather(outputs[0].rules)
        lap("rules")

        staged = StagedOutputs(request.out)
        stack.callback(staged.discard)
        token = uuid.uuid4().hex[:8]
        written = {}
        for name in ("clean", "exceptions"):
            written[name] = _write_output(client, outputs, name, bounds, request.out, output_format, token,
                                          after_cluster)
        for o in outputs:
            o.pieces["clean"].clear()  # written: let the workers free them
        alarm = input_alarm_of_counts(int(combine_counts(counts)["counts"]["lines_in"]),
                                      sum(int(t.column("lines_rejected_by_input")[0].as_py()) for t in counts),
                                      found, request.max_input_errors)
        recorded = exceptions = retired = None
        if recording and not alarm["triggered"]:
            recorded = pa.concat_tables(client.gather([o.ledger_lines for o in outputs]))
            retired = pd.concat(client.gather([o.retirements for o in outputs]))
            retired = retired.drop_duplicates("claim_id")
            exceptions = pa.concat_tables(client.gather([p for o in outputs for p in o.pieces["exceptions"]]))
            exceptions = exceptions.drop_columns([FILE])
        del outputs
        applied, skipped = rules_of(rules)
        summary = summary_document(
            request, profile, [f.summary_entry() for f in layout.files], side.describe(), combine_counts(counts),
            combine_findings(found), applied, skipped, run_id, started, output_format, view,
            None if recorded is None else recorded.num_rows,
        )
        summary["input_alarm"] = alarm
        if alarm["triggered"]:
            summary["exit_code"] = EXIT_INPUT_UNUSABLE
            if view is not None and request.ledger_mode == "write":
                summary["ledger"]["lines_recorded"] = 0
                summary["ledger"]["not_recorded"] = "more than --max-input-errors of the lines failed the input checks"
        summary["options"]["engine"] = {"name": "dask", "scheduler": request.scheduler or "LocalCluster",
                                        "workers": workers, "partitions": parts}
        summary["outputs"] = {
            "clean": str(request.out / f"clean.{output_format}"),
            "exceptions": str(request.out / f"exceptions.{output_format}"),
            "summary": str(request.out / "summary.json"),
        }
        summary["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        folders: list[tuple[Path, Path]] = []
        for name in ("clean", "exceptions"):
            parts_written, folder = written[name]
            file_name = f"{name}.{output_format}"
            if output_format == "csv":
                staged.stage(file_name, partial(join_parts, parts_written))
            else:
                folders.append((folder, request.out / file_name))
        prepared = None
        if store is not None and recorded is not None:
            record = run_record(summary, "validate", str(request.out.resolve()), recorded)
            prepared = store.prepare_run(record, recorded, retired, exceptions, annual_caps=bool(profile.annual_caps))
        lap("write")
        summary["options"]["engine"]["spilled_bytes"] = _spilled_bytes(client)
        summary["timings"] = timings
        staged.stage("summary.json", lambda p: write_json(summary, p))
        staged.wait()
        checkpoint("outputs-staged")
        with deferred():  # the commit is over in moments: a SIGTERM waits for it rather than cut it in two
            if prepared is not None:
                assert store is not None
                store.record_run(prepared)
                checkpoint("ledger-committed")
            for folder, target in folders:
                commit_folder(folder, target)
            staged.commit(between=lambda: checkpoint("between-renames"))
    return ValidateResult(summary, summary["exit_code"])


def _piece(placed: PlacedOutput, name: str, m: int) -> pa.Table:
    return getattr(placed, name)[m]


def _schema_and_rows(placed: PlacedOutput, name: str) -> tuple[pa.Schema, int]:
    pieces = getattr(placed, name)
    return pieces[0].schema, sum(p.num_rows for p in pieces)


def _worker_spilled(dask_worker: Any) -> int:
    metrics = getattr(dask_worker.data, "cumulative_metrics", {})  # a SpillBuffer's, when memory is limited
    return int(metrics.get(("disk-write", "bytes"), 0))


def _spilled_bytes(client: Any) -> int:
    """Bytes the workers wrote to disk when their memory filled, over the whole run (0 when none)."""
    return sum(client.run(_worker_spilled).values())


def _canonical_schema(layout: Layout) -> pa.Schema:
    headers = list(dict.fromkeys(h for _, h in layout.files[0].columns)) if layout.files else []
    return pa.schema([layout.schema.field(h) for h in headers])


def _write_output(client: Any, outputs: list[TakenOutput], name: str, bounds: np.ndarray, out: Path,
                  fmt: str, token: str, stack: ExitStack) -> tuple[list[Path], Path]:
    """Write one output in parts, range by range of the batch; return the parts and their folder."""
    import shutil

    submit = _tasks(client)
    folder = out / f".{name}.{fmt}.parts-{token}"
    stack.callback(lambda: shutil.rmtree(folder, ignore_errors=True))
    schema = _output_schema(client, outputs, name)
    writes = []
    for m in range(bounds.size + 1):
        mine = [o.pieces[name][m] for o in outputs]
        path = folder / f"part-{m:05d}.{fmt}"
        writes.append(submit(write_part, mine, schema, path, fmt, m == 0, name == "exceptions"))
    done = client.gather(writes)
    return [Path(p) for p, _ in done if p], folder


def _output_schema(client: Any, outputs: list[TakenOutput], name: str) -> pa.Schema:
    """The output's columns as a local run types them: from a partition that has rows."""
    schemas = client.gather([o.shapes[name] for o in outputs])
    with_rows = [s for s, rows in schemas if rows]
    return with_rows[0] if with_rows else schemas[0][0]
