"""Benchmark `validate --engine dask` on 5M, 20M and 50M lines of Parquet (`make bench-dask`).

The input is a folder of Parquet parts of 1M lines each: one generated night
(`cmclaims sample`, 1M lines) copied with every member, staff and claim id
suffixed by the copy's number, so that each part brings new members, as
years of claims do. Each run is `cmclaims validate FOLDER --engine dask
--format parquet --no-ledger` in a fresh process (a LocalCluster of its own),
beside the local engine where it fits in memory. A sampler walks the run's
process tree every half second: peak resident memory of each worker process
and of the whole tree (driver, nanny, workers).

    .venv/bin/python scripts/bench_dask.py --out bench-out/dask
    .venv/bin/python scripts/bench_dask.py --out bench-out/dask --sizes 5000000 --local-up-to 5000000

Run it under `flock /work/bench.lock` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "ok-soonercare"
SEED = 2026
PART_LINES = 1_000_000
DEFAULT_SIZES = (5_000_000, 20_000_000, 50_000_000)
GIB = 1 << 30


@dataclass
class Run:
    """One validate run: what it cost and what it found."""

    engine: str
    lines: int
    seconds: float
    exit_code: int
    peak_total_gib: float
    peak_worker_gib: list[float] = field(default_factory=list)
    lines_clean: int | None = None
    lines_rejected: int | None = None
    partitions: int | None = None
    spilled_gib: float | None = None  # what the workers wrote to disk when their memory filled


def make_input(out: Path, lines: int) -> Path:
    """A folder of `lines // PART_LINES` Parquet parts (reused when already there)."""
    base = out / "data" / "base.parquet"
    if not base.exists():
        base.parent.mkdir(parents=True, exist_ok=True)
        from cmclaims.sample import generate

        export = generate(PROFILE, PART_LINES, SEED).export
        pq.write_table(export, base)
    folder = out / "data" / f"lines-{lines}"
    parts = lines // PART_LINES
    if folder.exists() and len(list(folder.glob("*.parquet"))) == parts:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    table = pq.read_table(base)
    for copy in range(parts):
        columns = {}
        for name in table.column_names:
            column = table.column(name)
            if name in ("claim_id", "member_id", "staff_id", "original_claim_id"):
                column = pc.binary_join_element_wise(column.cast(pa.string()), pa.scalar(f"-{copy}"), "")
            columns[name] = column
        pq.write_table(pa.table(columns), folder / f"part-{copy:04d}.parquet")
    return folder


def measure(command: list[str], log: Path, env: dict[str, str]) -> tuple[float, int, float, list[float]]:
    """Wall seconds, exit code, peak RSS of the whole process tree and of each worker (GiB)."""
    peaks: dict[int, tuple[str, int]] = {}
    total_peak = 0
    done = threading.Event()
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, env=env)

        def sample() -> None:
            nonlocal total_peak
            root = psutil.Process(process.pid)
            while not done.is_set():
                try:
                    tree = [root, *root.children(recursive=True)]
                    total = 0
                    for proc in tree:
                        try:
                            rss = proc.memory_info().rss
                            cmd = " ".join(proc.cmdline())
                        except psutil.Error:
                            continue
                        total += rss
                        # LocalCluster workers are spawned Python processes; the resource tracker is not one
                        worker = "spawn_main" in cmd and "resource_tracker" not in cmd
                        kind = "worker" if worker else "other"
                        if rss > peaks.get(proc.pid, ("", 0))[1]:
                            peaks[proc.pid] = (kind, rss)
                    total_peak = max(total_peak, total)
                except psutil.Error:
                    pass
                done.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    workers = sorted((rss / GIB for kind, rss in peaks.values() if kind == "worker"), reverse=True)
    return seconds, code, total_peak / GIB, [round(w, 2) for w in workers]


def validate(engine: str, folder: Path, lines: int, out: Path) -> Run:
    """One `cmclaims validate` of the folder with an engine, measured."""
    result = out / f"{engine}-{lines}"
    shutil.rmtree(result, ignore_errors=True)
    cmclaims = str(Path(sys.executable).parent / "cmclaims")
    command = [cmclaims, "validate", str(folder), "--profile", PROFILE, "--out", str(result), "--no-ledger",
               "--format", "parquet", "--quiet", "--engine", engine]
    env = {**os.environ, "DASK_TEMPORARY_DIRECTORY": str(out / "dask-spill")}
    seconds, code, total, workers = measure(command, out / f"{engine}-{lines}.log", env)
    run = Run(engine, lines, round(seconds, 1), code, round(total, 2), workers)
    summary = result / "summary.json"
    if summary.exists():
        document = json.loads(summary.read_text())
        counts = document["counts"]
        run.lines_clean, run.lines_rejected = counts["lines_clean"], counts["lines_rejected"]
        cluster = document["options"].get("engine") or {}
        run.partitions = cluster.get("partitions")
        if "spilled_bytes" in cluster:
            run.spilled_gib = round(cluster["spilled_bytes"] / GIB, 2)
    return run


def main() -> None:
    """Every size with the Dask engine, and the local engine beside it where it fits."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "dask")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--local-up-to", type=int, default=20_000_000,
                        help="run the local engine beside up to this many lines (it holds the batch in memory)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    machine = {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
               "python": platform.python_version()}
    print(f"machine: {machine}", flush=True)
    for lines in args.sizes:
        folder = make_input(args.out, lines)
        engines = ["dask"] + (["local"] if lines <= args.local_up_to else [])
        for engine in engines:
            run = validate(engine, folder, lines, args.out)
            runs.append(run)
            print(json.dumps(asdict(run)), flush=True)
            (args.out / "results.json").write_text(json.dumps({"machine": machine,
                                                               "runs": [asdict(r) for r in runs]}, indent=2))
    print(f"{'lines':>11} {'engine':>6} {'seconds':>8} {'peak GiB':>9} {'workers GiB':>14} {'spilled GiB':>11} exit")
    for r in runs:
        spilled = "-" if r.spilled_gib is None else r.spilled_gib
        print(f"{r.lines:>11,} {r.engine:>6} {r.seconds:>8} {r.peak_total_gib:>9} "
              f"{r.peak_worker_gib or '-'!s:>14} {spilled!s:>11} {r.exit_code}")


if __name__ == "__main__":
    main()
