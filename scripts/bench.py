"""Benchmark `cmclaims validate` on 1M and 5M lines against an I/O floor (`make bench`).

For each size: generate the export with `cmclaims sample` (kept in OUT/data and
reused while its parameters and the generator's code are unchanged), measure
the floor (pyarrow reads the CSV as text and writes the same rows to Parquet
and to CSV, in a fresh process), then run `cmclaims validate` in a fresh
process and measure its wall time and its own peak RSS (os.wait4 returns the
resource usage of that one child). Targets: validate within 3x the floor,
peak RSS within 4 GiB.

    .venv/bin/python scripts/bench.py --out bench-out                  # 1M and 5M
    .venv/bin/python scripts/bench.py --out bench-out --sizes 100000   # a quick try

A case is a function from (size, Setup) to a row of figures; CASES lists them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "ok-soonercare"
SEED = 2026
DEFAULT_SIZES = (1_000_000, 5_000_000)
DEFAULT_LEDGER_BATCH = 1_000_000
MAX_RATIO = 3.0  # validate may take 3 times what reading and writing the same rows takes
MAX_RSS_GIB = 4.0
MAX_LEDGER_SLOWDOWN = 0.30  # a ledger of earlier runs may slow a night by at most 30% ...
# ... and by less for these payers (the targets of issue 8)
LEDGER_SLOWDOWN_BY_PROFILE = {"id-optum": 0.15, "ok-soonercare": 0.10}
GIB = 1 << 30


@dataclass
class Measurement:
    """One child process: wall seconds, its own peak resident set, its exit code."""

    seconds: float
    peak_rss_bytes: int
    exit_code: int


@dataclass
class Setup:
    """What every case shares: where things go and how to run the tools."""

    out: Path
    profile: str
    seed: int
    cmclaims: list[str]


def run_measured(command: list[str], log: Path) -> Measurement:
    """Run `command` in a fresh process; its stdout and stderr go to `log`."""
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
        # wait4 reports this child's own rusage (ru_maxrss in KiB on Linux), unlike
        # RUSAGE_CHILDREN, which keeps the largest of every child waited for so far.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(seconds, usage.ru_maxrss * 1024, process.returncode)


def cmclaims_command() -> list[str]:
    """The cmclaims beside this Python (the venv's), else `python -m cmclaims`."""
    script = Path(sys.executable).parent / "cmclaims"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cmclaims"]


# --- the export --------------------------------------------------------------------------


def generator_fingerprint() -> str:
    """A hash of the generator's code: a changed generator makes new data."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "cmclaims" / "sample").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def export_for(size: int, setup: Setup) -> tuple[Path, float | None]:
    """The export of `size` lines, generated unless an identical one exists; seconds spent generating."""
    data = setup.out / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"export-{setup.profile}-{size}-seed{setup.seed}.csv"
    stamp = path.with_suffix(".json")
    wanted = {"rows": size, "profile": setup.profile, "seed": setup.seed, "generator": generator_fingerprint()}
    if path.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return path, None
    stamp.unlink(missing_ok=True)
    command = [*setup.cmclaims, "sample", "--rows", str(size), "--out", str(path), "--seed", str(setup.seed),
               "--profile", setup.profile]
    measured = run_measured(command, data / f"sample-{size}.log")
    if measured.exit_code != 0:
        raise SystemExit(f"bench: cmclaims sample failed (exit {measured.exit_code}); see {data}/sample-{size}.log")
    stamp.write_text(json.dumps(wanted) + "\n")
    return path, measured.seconds


# --- the I/O floor -----------------------------------------------------------------------


def io_floor(source: Path, folder: Path) -> None:
    """Read the CSV as text columns (as the validator does), write the rows to Parquet and CSV."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as handle:
        names = handle.readline().decode("utf-8").strip().split(",")
    table = pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
    )
    pq.write_table(table, folder / "floor.parquet")
    pacsv.write_csv(table, folder / "floor.csv")


def measure_floor(export: Path, size: int, setup: Setup) -> Measurement:
    """The floor's wall time and peak RSS, measured in a fresh process like validate's."""
    folder = setup.out / f"floor-{size}"
    command = [sys.executable, str(Path(__file__).resolve()), "--floor", str(export), str(folder)]
    measured = run_measured(command, setup.out / f"floor-{size}.log")
    if measured.exit_code != 0:
        raise SystemExit(f"bench: the I/O floor failed (exit {measured.exit_code}); see {setup.out}/floor-{size}.log")
    for written in folder.glob("floor.*"):
        written.unlink()
    return measured


# --- cases -------------------------------------------------------------------------------


def validate_case(size: int, setup: Setup) -> dict[str, object]:
    """`cmclaims validate` of one export without a ledger, against the I/O floor of the same file."""
    export, generated_seconds = export_for(size, setup)
    floor = measure_floor(export, size, setup)
    run_out = setup.out / f"validate-{size}"
    command = [*setup.cmclaims, "validate", str(export), "--profile", setup.profile, "--out", str(run_out),
               "--no-ledger", "--quiet", "--exit-zero"]
    log = setup.out / f"validate-{size}.log"
    measured = run_measured(command, log)
    if measured.exit_code != 0:
        raise SystemExit(f"bench: cmclaims validate failed (exit {measured.exit_code}); see {log}")
    summary_path = run_out / "summary.json"
    stages = json.loads(summary_path.read_text()).get("timings", {}) if summary_path.exists() else {}
    ratio = measured.seconds / floor.seconds
    rss_gib = measured.peak_rss_bytes / GIB
    return {
        "case": "validate",
        "lines": size,
        "validate_seconds": round(measured.seconds, 2),
        "peak_rss_gib": round(rss_gib, 2),
        "lines_per_second": round(size / measured.seconds),
        "floor_seconds": round(floor.seconds, 2),
        "floor_peak_rss_gib": round(floor.peak_rss_bytes / GIB, 2),
        "ratio": round(ratio, 2),
        "time_target_met": ratio <= MAX_RATIO,
        "memory_target_met": rss_gib <= MAX_RSS_GIB,
        "validate_stages": stages,
        "generated_seconds": None if generated_seconds is None else round(generated_seconds, 2),
        "export_bytes": export.stat().st_size,
    }


EARLIER_NIGHTS = 5  # the ledger holds five times the batch: 5M earlier lines for a 1M batch


def _split_by_date(export: Path, history: Path, batch: Path, batch_rows: int) -> None:
    """The latest `batch_rows` lines by service date become tonight's batch; the rest came before."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with export.open("rb") as handle:
        names = handle.readline().decode("utf-8").strip().split(",")
    table = pacsv.read_csv(export, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())))
    table = table.sort_by("service_date")
    pacsv.write_csv(table.slice(0, table.num_rows - batch_rows), history)
    pacsv.write_csv(table.slice(table.num_rows - batch_rows), batch)


def ledger_case(size: int, setup: Setup) -> dict[str, object]:
    """`cmclaims validate` of a `size`-line batch against a ledger of 5 x `size` earlier lines, and without it.

    One export of 6 x `size` lines is split by service date: the earlier 5/6 are
    loaded into a fresh ledger with `cmclaims ledger import` (timed, not judged),
    the latest 1/6 are tonight's batch, so members and months overlap as they
    do night after night. Target: with the ledger at most 30% slower.
    """
    export, _ = export_for(size * (EARLIER_NIGHTS + 1), setup)
    folder = setup.out / f"ledger-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    history, batch = folder / "history.csv", folder / "batch.csv"
    if not history.exists() or not batch.exists() or history.stat().st_mtime < export.stat().st_mtime:
        _split_by_date(export, history, batch, size)
    ledger = folder / "ledger.sqlite3"
    for stale in folder.glob("ledger.sqlite3*"):
        stale.unlink()
    created = run_measured([*setup.cmclaims, "ledger", "init", "--ledger", str(ledger)], folder / "init.log")
    if created.exit_code != 0:  # validate and import never create a ledger (SPEC section 6)
        raise SystemExit(f"bench: ledger init failed (exit {created.exit_code}); see {folder}/init.log")
    imported = run_measured([*setup.cmclaims, "ledger", "import", str(history), "--profile", setup.profile,
                             "--ledger", str(ledger), "--json"], folder / "import.log")
    if imported.exit_code not in (0, 1):  # 1: some history rows were left out, as in real histories
        raise SystemExit(f"bench: ledger import failed (exit {imported.exit_code}); see {folder}/import.log")
    common = [*setup.cmclaims, "validate", str(batch), "--profile", setup.profile, "--quiet", "--exit-zero"]
    without = run_measured([*common, "--out", str(folder / "out-no-ledger"), "--no-ledger"],
                           folder / "validate-no-ledger.log")
    with_ledger = run_measured([*common, "--out", str(folder / "out-ledger"), "--ledger", str(ledger)],
                               folder / "validate-ledger.log")
    for measured, name in ((without, "no-ledger"), (with_ledger, "ledger")):
        if measured.exit_code != 0:
            raise SystemExit(f"bench: validate ({name}) failed (exit {measured.exit_code}); see the log in {folder}")
    slower = with_ledger.seconds / without.seconds - 1
    return {
        "case": "ledger",
        "lines": size,
        "ledger_lines": size * EARLIER_NIGHTS,
        "import_seconds": round(imported.seconds, 2),
        "no_ledger_seconds": round(without.seconds, 2),
        "ledger_seconds": round(with_ledger.seconds, 2),
        "slower_by": round(slower, 3),
        "no_ledger_peak_rss_gib": round(without.peak_rss_bytes / GIB, 2),
        "ledger_peak_rss_gib": round(with_ledger.peak_rss_bytes / GIB, 2),
        "target": LEDGER_SLOWDOWN_BY_PROFILE.get(setup.profile, MAX_LEDGER_SLOWDOWN),
        "target_met": slower <= LEDGER_SLOWDOWN_BY_PROFILE.get(setup.profile, MAX_LEDGER_SLOWDOWN),
    }


CASES: dict[str, Callable[[int, Setup], dict[str, object]]] = {
    "validate": validate_case,
    "ledger": ledger_case,
}


# --- report ------------------------------------------------------------------------------


def _yes(flag: object) -> str:
    return "yes" if flag else "NO"


def print_table(rows: list[dict[str, object]]) -> None:
    """One line per size: the figures and whether the targets hold."""
    header = (f"{'lines':>10} {'validate s':>10} {'peak RSS GiB':>12} {'lines/s':>10} {'floor s':>8} "
              f"{'ratio':>6} {'<=3x floor':>10} {'<=4 GiB':>8}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['lines']:>10,} {row['validate_seconds']:>10.2f} {row['peak_rss_gib']:>12.2f} "
              f"{row['lines_per_second']:>10,} {row['floor_seconds']:>8.2f} {row['ratio']:>6.2f} "
              f"{_yes(row['time_target_met']):>10} {_yes(row['memory_target_met']):>8}")


def print_ledger_table(rows: list[dict[str, object]]) -> None:
    """One line per batch size: with and without the ledger of earlier runs."""
    if not rows:
        return
    header = (f"{'batch':>10} {'ledger lines':>12} {'no ledger s':>11} {'ledger s':>9} {'slower':>7} "
              f"{'peak RSS GiB':>12} {'<=30%':>6}")
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['lines']:>10,} {row['ledger_lines']:>12,} {row['no_ledger_seconds']:>11.2f} "
              f"{row['ledger_seconds']:>9.2f} {row['slower_by']:>7.1%} {row['ledger_peak_rss_gib']:>12.2f} "
              f"{_yes(row['target_met']):>6}")


def parse_sizes(text: str) -> list[int]:
    """`1000000,5000000` or `1M,5M` -> sizes."""
    sizes = []
    for part in text.split(","):
        part = part.strip().upper()
        multiplier = {"K": 1_000, "M": 1_000_000}.get(part[-1:], 1)
        sizes.append(int(float(part.rstrip("KM")) * multiplier))
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark cases; write OUT/bench.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"), help="folder for data, outputs and bench.json")
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="sizes for the validate case, e.g. 1000000,5000000 or 1M")
    parser.add_argument("--ledger-sizes", type=parse_sizes, default=[DEFAULT_LEDGER_BATCH],
                        help="batch sizes for the ledger case (its ledger holds 5 times as many lines)")
    parser.add_argument("--cases", default="validate,ledger", help=f"comma-separated, from: {', '.join(CASES)}")
    parser.add_argument("--profile", default=PROFILE)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--floor", nargs=2, type=Path, metavar=("CSV", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:  # the child process of measure_floor
        io_floor(*args.floor)
        return 0

    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    setup = Setup(out=out, profile=args.profile, seed=args.seed, cmclaims=cmclaims_command())
    cases = [c.strip() for c in args.cases.split(",")]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; the cases are {', '.join(CASES)}")
    rows: list[dict[str, object]] = []
    for case in cases:
        for size in args.ledger_sizes if case == "ledger" else args.sizes:
            print(f"bench: {case} at {size:,} lines ...", file=sys.stderr, flush=True)
            try:
                rows.append(CASES[case](size, setup))
            except NotImplementedError as exc:
                print(f"bench: {case}: {exc}", file=sys.stderr)
                return 2
    print_table([r for r in rows if r["case"] == "validate"])
    print_ledger_table([r for r in rows if r["case"] == "ledger"])
    report = {
        "profile": setup.profile,
        "seed": setup.seed,
        "targets": {"max_ratio_to_floor": MAX_RATIO, "max_peak_rss_gib": MAX_RSS_GIB},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "setup": {k: str(v) for k, v in asdict(setup).items()},
        "results": rows,
    }
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"bench: figures written to {out / 'bench.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
