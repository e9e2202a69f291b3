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
MAX_RATIO = 3.0  # validate may take 3 times what reading and writing the same rows takes
MAX_RSS_GIB = 4.0
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


def ledger_case(size: int, setup: Setup) -> dict[str, object]:
    """TODO(ledger): validate with a ledger that already holds 5M lines.

    When the ledger lands: pre-fill a ledger with a 5M-line export of other
    months (`cmclaims validate ... --ledger OUT/ledger.sqlite3`, not measured),
    then validate a 1M batch with that ledger and with `--no-ledger`, and report
    both times, the ratio between them, and the peak RSS of each, in the same
    form as `validate_case`.
    """
    raise NotImplementedError("the ledger case waits for the ledger (see the TODO in ledger_case)")


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
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES), help="e.g. 1000000,5000000 or 1M")
    parser.add_argument("--cases", default="validate", help=f"comma-separated, from: {', '.join(CASES)}")
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
        for size in args.sizes:
            print(f"bench: {case} at {size:,} lines ...", file=sys.stderr, flush=True)
            try:
                rows.append(CASES[case](size, setup))
            except NotImplementedError as exc:
                print(f"bench: {case}: {exc}", file=sys.stderr)
                return 2
    print_table([r for r in rows if r["case"] == "validate"])
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
