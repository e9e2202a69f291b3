"""`make bench`: cmclaims against an I/O floor and a DuckDB query, on realistic and terrible nights.

On the same generated files, in one run, each measured in a fresh process
(wall time, and the command's own peak RSS from os.wait4, through a small launcher):

- the I/O floor: pyarrow reads the CSV as text, writes every row to clean.csv
  and one row in ten to an exceptions CSV; and the same floor writing its files
  past the page cache, as cmclaims does (no target: it shows what the
  realistic night costs beyond reading and writing);
- the DuckDB peer (scripts/bench_peer.py): units and daily, monthly and annual
  running sums in one SQL query, the core of the work without cmclaims' rules;
- `cmclaims validate --no-ledger` on a realistic night and on a terrible one
  (random session times: most lines overlap another), Michigan's profile;
- the growth series: the realistic night at every size (1M, 5M, 20M lines),
  reported per million lines;
- the ledger case (a night against a ledger of five earlier nights' lines).

The nights come from scripts/bench_nights.py and are kept under OUT/data,
keyed by kind, size, seed and the generator's code. Targets at the reference
size (issue 13): realistic at most 0.8x the peer and 3x the floor, within
2 GiB; terrible at most 1.5x realistic, within 3 GiB; 20M within 8 GiB.

    .venv/bin/python scripts/bench.py --out bench-out                        # everything
    .venv/bin/python scripts/bench.py --sizes 1M --reference 1M --cases night  # a quick try
    .venv/bin/python scripts/bench.py --repeat 3                              # medians of three

A case is a function from (sizes, Setup) to rows of figures; CASES lists them.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
PROFILE = "ok-soonercare"  # the default payer of the data cases (it has daily and monthly limits)
NIGHT_PROFILE = "mi-dwihn"  # the nights' payer: Michigan codes
SEED = 2026
DEFAULT_SIZES = (1_000_000, 5_000_000, 20_000_000)
REFERENCE = 5_000_000
DEFAULT_LEDGER_BATCH = 1_000_000
GIB = 1 << 30
# Issue 13's targets at the reference size.
TARGETS = {
    "realistic_vs_peer": 0.8,  # realistic night at most 0.8x the DuckDB peer's wall time
    "realistic_vs_floor": 3.0,  # and at most 3x the I/O floor
    "realistic_peak_gib": 2.0,
    "terrible_vs_realistic": 1.5,  # a terrible night at most 1.5x the realistic one
    "terrible_peak_gib": 3.0,
    "largest_peak_gib": 8.0,  # the largest night of the growth series (20M lines) within 8 GiB
}
# Issue 8's targets for the ledger case: a 1M-line night against a 5M-line ledger at most this much slower
# than the same night with --no-ledger, per payer (id-optum reads its annual cap's running totals).
LEDGER_TARGETS = {
    "id-optum": 0.15,
    "ok-soonercare": 0.10,
}
OTHER_LEDGER_TARGET = 0.30  # a payer the issue names no target for


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
    repeat: int = 1
    reference: int = REFERENCE
    ledger_profiles: tuple[str, ...] = tuple(LEDGER_TARGETS)  # the ledger case's payers


# Linux keeps a process's peak RSS across fork and exec: a command this process started itself would
# report at least this process's own peak (gigabytes, after it split an export). A small launcher starts
# the command instead and reports the command's own wait4 figures (ru_maxrss in KiB) on its stdout.
_LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
with open(sys.argv[1], "wb") as sink:
    child = subprocess.Popen(sys.argv[2:], stdout=sink, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(child.pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status))
"""


def run_measured(command: list[str], log: Path) -> Measurement:
    """Run `command` in a fresh process; its stdout and stderr go to `log`; its own wall time and peak RSS.

    What the steps before wrote (a copied ledger, the last run's outputs) is flushed to disk first: its
    write-back would otherwise land in this run's time, and only in some runs (a ledger run follows a
    60 MB copy, a run without one does not)."""
    if hasattr(os, "sync"):
        os.sync()
    launched = subprocess.run([sys.executable, "-c", _LAUNCHER, str(log), *command], cwd=ROOT,
                              capture_output=True, text=True, check=True)
    seconds, peak, exit_code = launched.stdout.split()
    return Measurement(float(seconds), int(peak), int(exit_code))


def run_repeated(name: str, command: list[str], log: Path, setup: Setup) -> dict[str, object]:
    """Run `command` `setup.repeat` times: the median wall time and peak RSS, and every sample's time."""
    samples = []
    for _ in range(setup.repeat):
        measured = run_measured(command, log)
        if measured.exit_code != 0:
            raise SystemExit(f"bench: {name} failed (exit {measured.exit_code}); see {log}")
        samples.append(measured)
    return {
        "seconds": round(statistics.median(m.seconds for m in samples), 2),
        "peak_gib": round(statistics.median(m.peak_rss_bytes for m in samples) / GIB, 2),
        "samples_seconds": [round(m.seconds, 2) for m in samples],
    }


def cmclaims_command() -> list[str]:
    """The cmclaims beside this Python (the venv's), else `python -m cmclaims`."""
    script = Path(sys.executable).parent / "cmclaims"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cmclaims"]


def _fingerprint(paths: list[Path]) -> str:
    """A hash of a generator's code: a changed generator makes new data."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --- the nights ----------------------------------------------------------------------------


def night_for(kind: str, size: int, setup: Setup) -> Path:
    """The `kind` night of `size` lines, generated unless an identical one is kept in OUT/data."""
    data = setup.out / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"night-{kind}-{size}-seed{setup.seed}.csv"
    stamp = path.with_suffix(".json")
    wanted = {"kind": kind, "rows": size, "seed": setup.seed,
              "generator": _fingerprint([SCRIPTS / "bench_nights.py"])}
    if path.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return path
    stamp.unlink(missing_ok=True)
    print(f"bench: generating the {kind} night of {size:,} lines ...", file=sys.stderr, flush=True)
    command = [sys.executable, str(SCRIPTS / "bench_nights.py"), "--rows", str(size), "--kind", kind,
               "--seed", str(setup.seed), "--out", str(path)]
    measured = run_measured(command, data / f"night-{kind}-{size}.log")
    if measured.exit_code != 0:
        raise SystemExit(f"bench: generating the {kind} night failed; see {data}/night-{kind}-{size}.log")
    stamp.write_text(json.dumps(wanted) + "\n")
    return path


# --- the I/O floor and the DuckDB peer ---------------------------------------------------------


def io_floor(source: Path, folder: Path, direct: bool = False) -> None:
    """Read the CSV as text columns (as the validator does); write every row to clean.csv, 1 in 10 to exceptions.

    `direct`: the files are written past the page cache, as cmclaims writes them
    (cmclaims.io.direct), the text formatted a slice at a time.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as handle:
        names = handle.readline().decode("utf-8").strip().split(",")
    table = pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
    )
    outputs = {"clean.csv": table, "exceptions.csv": table.take(pa.array(range(0, table.num_rows, 10)))}
    for name, rows in outputs.items():
        if not direct:
            pacsv.write_csv(rows, folder / name)
            continue
        from cmclaims.io.direct import DirectFile

        with DirectFile(folder / name) as stream:
            for start in range(0, rows.num_rows, 1 << 16):
                sink = pa.BufferOutputStream()
                pacsv.write_csv(rows.slice(start, 1 << 16), sink, pacsv.WriteOptions(include_header=start == 0))
                stream.write(sink.getvalue())


def _remove_outputs(folder: Path) -> None:
    """Outputs of a measured run are not kept: a 20M-line clean file is gigabytes."""
    for written in folder.glob("*.csv"):
        written.unlink()


def floor_case(size: int, setup: Setup, direct: bool = False) -> dict[str, object]:
    """The I/O floor on the realistic night: files written through the page cache, or (`direct`) past it."""
    export = night_for("realistic", size, setup)
    case = "floor-direct" if direct else "floor"
    folder = setup.out / f"{case}-{size}"
    command = [sys.executable, str(Path(__file__).resolve()), "--floor", str(export), str(folder),
               *(["--direct"] if direct else [])]
    row = run_repeated(f"the I/O floor ({case})", command, setup.out / f"{case}-{size}.log", setup)
    _remove_outputs(folder)
    engine = "I/O floor, writing past the page cache" if direct else "I/O floor (pyarrow: read, write all + 10%)"
    return {"case": case, "engine": engine, "lines": size, **row}


def peer_case(size: int, setup: Setup) -> dict[str, object]:
    """The DuckDB query on the realistic night."""
    export = night_for("realistic", size, setup)
    folder = setup.out / f"peer-{size}"
    command = [sys.executable, str(SCRIPTS / "bench_peer.py"), str(export), str(folder)]
    row = run_repeated("the DuckDB peer", command, setup.out / f"peer-{size}.log", setup)
    _remove_outputs(folder)
    return {"case": "peer", "engine": "DuckDB SQL: units and running sums", "lines": size, **row}


def night_case(kind: str, size: int, setup: Setup) -> dict[str, object]:
    """`cmclaims validate --no-ledger` of the `kind` night of `size` lines."""
    export = night_for(kind, size, setup)
    run_out = setup.out / f"{kind}-{size}"
    command = [*setup.cmclaims, "validate", str(export), "--profile", NIGHT_PROFILE, "--out", str(run_out),
               "--no-ledger", "--quiet", "--exit-zero"]
    row = run_repeated(f"cmclaims validate ({kind}, {size:,})", command, setup.out / f"{kind}-{size}.log", setup)
    summary = json.loads((run_out / "summary.json").read_text())
    exceptions = run_out / "exceptions.csv"
    result = {
        "case": kind,
        "engine": f"cmclaims validate, {kind} night",
        "lines": size,
        **row,
        "stages": summary.get("timings", {}),
        "findings": sum(f["findings"] for f in summary.get("findings", [])),
        "lines_rejected": summary["counts"]["lines_rejected"],
        "exceptions_bytes": exceptions.stat().st_size if exceptions.exists() else None,
    }
    _remove_outputs(run_out)
    return result


# --- the cmclaims sample export (the ledger case) ------------------------------------------------


def generator_fingerprint() -> str:
    """A hash of `cmclaims sample`'s code: a changed generator makes new data."""
    return _fingerprint(list((ROOT / "cmclaims" / "sample").glob("*.py")))


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


def _median(samples: list[Measurement]) -> Measurement:
    """The median wall time and the median peak memory of several runs of one command."""
    return Measurement(statistics.median(m.seconds for m in samples),
                       int(statistics.median(m.peak_rss_bytes for m in samples)), 0)


def ledger_case(size: int, setup: Setup) -> dict[str, object]:
    """`cmclaims validate` of a `size`-line batch against a ledger of 5 x `size` earlier lines, and without it.

    One export of 6 x `size` lines is split by service date: the earlier 5/6 are
    loaded into a fresh ledger with `cmclaims ledger import` (timed, not judged),
    the latest 1/6 are tonight's batch, so members and months overlap as they
    do night after night. Target: with the ledger at most LEDGER_TARGETS[payer] slower.
    With --repeat N, each command runs N times (alternated; every ledger run on a
    fresh copy of the imported ledger, as each commits), after one round that is
    not counted, and the medians compare.
    """
    export, _ = export_for(size * (EARLIER_NIGHTS + 1), setup)
    folder = setup.out / f"ledger-{setup.profile}-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    history, batch = folder / "history.csv", folder / "batch.csv"
    if not history.exists() or not batch.exists() or history.stat().st_mtime < export.stat().st_mtime:
        _split_by_date(export, history, batch, size)
    imported_ledger = folder / "imported.sqlite3"
    for stale in [*folder.glob("imported.sqlite3*"), *folder.glob("ledger.sqlite3*")]:
        stale.unlink()
    created = run_measured([*setup.cmclaims, "ledger", "init", "--ledger", str(imported_ledger)], folder / "init.log")
    if created.exit_code != 0:  # validate and import never create a ledger (SPEC section 6)
        raise SystemExit(f"bench: ledger init failed (exit {created.exit_code}); see {folder}/init.log")
    imported = run_measured([*setup.cmclaims, "ledger", "import", str(history), "--profile", setup.profile,
                             "--ledger", str(imported_ledger), "--json"], folder / "import.log")
    if imported.exit_code not in (0, 1):  # 1: some history rows were left out, as in real histories
        raise SystemExit(f"bench: ledger import failed (exit {imported.exit_code}); see {folder}/import.log")
    common = [*setup.cmclaims, "validate", str(batch), "--profile", setup.profile, "--quiet", "--exit-zero"]
    ledger = folder / "ledger.sqlite3"
    runs: dict[str, list[Measurement]] = {"no-ledger": [], "ledger": []}
    # One round first, not counted: the first runs after the import (a process of several GiB) were the
    # slowest of every series, with and without the ledger (the machine backs fresh memory again).
    for counted in [False] + [True] * setup.repeat:  # alternated, so that a slow spell falls on both
        without = run_measured([*common, "--out", str(folder / "out-no-ledger"), "--no-ledger"],
                               folder / "validate-no-ledger.log")
        # Each run with the ledger commits to it: every one starts from a copy of the imported ledger.
        for stale in folder.glob("ledger.sqlite3*"):
            stale.unlink()
        shutil.copyfile(imported_ledger, ledger)
        with_ledger = run_measured([*common, "--out", str(folder / "out-ledger"), "--ledger", str(ledger)],
                                   folder / "validate-ledger.log")
        if counted or without.exit_code or with_ledger.exit_code:  # a failure is reported, never skipped
            runs["no-ledger"].append(without)
            runs["ledger"].append(with_ledger)
    for name, measured in runs.items():
        failed = [m.exit_code for m in measured if m.exit_code != 0]
        if failed:
            raise SystemExit(f"bench: validate ({name}) failed (exit {failed[0]}); see the log in {folder}")
    without, with_ledger = (_median(runs[name]) for name in ("no-ledger", "ledger"))
    slower = with_ledger.seconds / without.seconds - 1
    target = LEDGER_TARGETS.get(setup.profile, OTHER_LEDGER_TARGET)
    return {
        "case": "ledger",
        "profile": setup.profile,
        "lines": size,
        "ledger_lines": size * EARLIER_NIGHTS,
        "import_seconds": round(imported.seconds, 2),
        "no_ledger_seconds": round(without.seconds, 2),
        "ledger_seconds": round(with_ledger.seconds, 2),
        "slower_by": round(slower, 3),
        "no_ledger_peak_rss_gib": round(without.peak_rss_bytes / GIB, 2),
        "ledger_peak_rss_gib": round(with_ledger.peak_rss_bytes / GIB, 2),
        "no_ledger_samples_seconds": [round(m.seconds, 2) for m in runs["no-ledger"]],
        "ledger_samples_seconds": [round(m.seconds, 2) for m in runs["ledger"]],
        "target": target,
        "target_met": slower <= target,
    }


# --- the suite -----------------------------------------------------------------------------


def comparison(sizes: list[int], setup: Setup) -> list[dict[str, object]]:
    """At the reference size: the floor, the peer, the realistic and the terrible night; then the growth series."""
    size = setup.reference
    rows = [floor_case(size, setup), floor_case(size, setup, direct=True), peer_case(size, setup)]
    for kind in ("realistic", "terrible"):
        rows.append(night_case(kind, size, setup))
    for other in sizes:
        if other != size:
            rows.append(night_case("realistic", other, setup))
    return rows


CASES: dict[str, Callable[[list[int], Setup], list[dict[str, object]]]] = {
    "night": comparison,
    "ledger": lambda sizes, setup: [ledger_case(size, dataclasses.replace(setup, profile=profile))
                                    for profile in setup.ledger_profiles for size in sizes],
}


# --- report ------------------------------------------------------------------------------


def _yes(flag: object) -> str:
    return "yes" if flag else "NO"


def verdict(rows: list[dict[str, object]], setup: Setup) -> dict[str, object]:
    """Ratios at the reference size and per million lines, and whether each target holds."""
    at = {r["case"]: r for r in rows if r["lines"] == setup.reference and r["case"] != "ledger"}
    growth = sorted((r for r in rows if r["case"] == "realistic"), key=lambda r: r["lines"])
    if not {"floor", "peer", "realistic", "terrible"} <= at.keys():
        return {}
    real, bad = at["realistic"], at["terrible"]
    ratios = {
        "realistic_vs_peer": real["seconds"] / at["peer"]["seconds"],
        "realistic_vs_floor": real["seconds"] / at["floor"]["seconds"],
        "realistic_peak_gib": real["peak_gib"],
        "terrible_vs_realistic": bad["seconds"] / real["seconds"],
        "terrible_peak_gib": bad["peak_gib"],
        "largest_peak_gib": growth[-1]["peak_gib"] if growth else None,
    }
    return {
        "reference_lines": setup.reference,
        "largest_lines": growth[-1]["lines"] if growth else None,
        "ratios": {k: None if v is None else round(v, 2) for k, v in ratios.items()},
        "met": {k: v is not None and v <= TARGETS[k] for k, v in ratios.items()},
        # No target: the floor as the issue defines it writes through the page cache, cmclaims past it.
        "realistic_vs_direct_floor": round(real["seconds"] / at["floor-direct"]["seconds"], 2)
        if "floor-direct" in at else None,
        "growth": [
            {"lines": r["lines"], "seconds": r["seconds"], "peak_gib": r["peak_gib"],
             "seconds_per_million": round(r["seconds"] / (r["lines"] / 1e6), 2),
             "gib_per_million": round(r["peak_gib"] / (r["lines"] / 1e6), 3)}
            for r in growth
        ],
    }


def print_report(rows: list[dict[str, object]], judged: dict[str, object], setup: Setup) -> None:
    """The comparison at the reference size, the targets, the growth series, the ledger case."""
    compared = ("floor", "floor-direct", "peer", "realistic", "terrible")
    at = [r for r in rows if r["lines"] == setup.reference and r["case"] in compared]
    if at:
        by_case = {r["case"]: r for r in at}
        floor = by_case["floor"]["seconds"] if "floor" in by_case else float("nan")
        peer = by_case["peer"]["seconds"] if "peer" in by_case else float("nan")
        title = f"engine, {setup.reference:,} lines (median of {setup.repeat})"
        header = f"{title:<46} {'wall s':>7} {'peak GiB':>9} {'x floor':>8} {'x peer':>7}"
        print(header)
        print("-" * len(header))
        for r in at:
            print(f"{r['engine']:<46} {r['seconds']:>7.2f} {r['peak_gib']:>9.2f} {r['seconds'] / floor:>8.2f} "
                  f"{r['seconds'] / peer:>7.2f}")
        for r in at:
            if r.get("stages"):
                stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
                print(f"  {r['case']}: {stages} s; {r['findings']:,} findings, "
                      f"{(r['exceptions_bytes'] or 0) / 1e6:,.0f} MB of exceptions")
    if judged:
        print()
        print(f"{'target':<24} {'measured':>9} {'at most':>8} {'met':>4}")
        for name, value in judged["ratios"].items():
            shown = "-" if value is None else f"{value:.2f}"
            print(f"{name:<24} {shown:>9} {TARGETS[name]:>8.2f} {_yes(judged['met'][name]):>4}")
        if judged.get("realistic_vs_direct_floor") is not None:
            print(f"{'realistic_vs_direct_floor':<24} {judged['realistic_vs_direct_floor']:>9.2f}  (no target: "
                  "the floor writing past the page cache, as cmclaims does)")
        print()
        print(f"{'growth, realistic':<18} {'wall s':>8} {'peak GiB':>9} {'s per M':>8} {'GiB per M':>10}")
        for g in judged["growth"]:
            print(f"{g['lines']:>18,} {g['seconds']:>8.2f} {g['peak_gib']:>9.2f} {g['seconds_per_million']:>8.2f} "
                  f"{g['gib_per_million']:>10.3f}")
    ledger = [r for r in rows if r["case"] == "ledger"]
    if ledger:
        header = (f"{'payer':<14} {'batch':>10} {'ledger lines':>12} {'no ledger s':>11} {'ledger s':>9} "
                  f"{'slower':>7} {'at most':>7} {'peak RSS GiB':>12} {'met':>4}")
        print()
        print(header)
        print("-" * len(header))
        for row in ledger:
            print(f"{row['profile']:<14} {row['lines']:>10,} {row['ledger_lines']:>12,} "
                  f"{row['no_ledger_seconds']:>11.2f} {row['ledger_seconds']:>9.2f} {row['slower_by']:>7.1%} "
                  f"{row['target']:>7.0%} {row['ledger_peak_rss_gib']:>12.2f} {_yes(row['target_met']):>4}")


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
                        help="sizes of the growth series, e.g. 1M,5M,20M")
    parser.add_argument("--reference", type=lambda t: parse_sizes(t)[0], default=REFERENCE,
                        help="the size at which floor, peer and the two nights are compared (default 5M)")
    parser.add_argument("--ledger-sizes", type=parse_sizes, default=[DEFAULT_LEDGER_BATCH],
                        help="batch sizes for the ledger case (its ledger holds 5 times as many lines)")
    parser.add_argument("--cases", default="night,ledger", help=f"comma-separated, from: {', '.join(CASES)}")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the median is reported")
    parser.add_argument("--profile", default=",".join(LEDGER_TARGETS),
                        help="the ledger case's payer profile(s), comma-separated (default: each with a target)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--floor", nargs=2, type=Path, metavar=("CSV", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--direct", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:  # the child process of floor_case
        io_floor(*args.floor, direct=args.direct)
        return 0

    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    ledger_profiles = tuple(p.strip() for p in args.profile.split(",") if p.strip())
    setup = Setup(out=out, profile=ledger_profiles[0], seed=args.seed, cmclaims=cmclaims_command(),
                  repeat=max(1, args.repeat), reference=args.reference, ledger_profiles=ledger_profiles)
    cases = [c.strip() for c in args.cases.split(",")]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; the cases are {', '.join(CASES)}")
    rows: list[dict[str, object]] = []
    for case in cases:
        print(f"bench: {case} ...", file=sys.stderr, flush=True)
        rows.extend(CASES[case](args.ledger_sizes if case == "ledger" else args.sizes, setup))
    judged = verdict(rows, setup)
    print_report(rows, judged, setup)
    report = {
        "night_profile": NIGHT_PROFILE,
        "ledger_profiles": list(setup.ledger_profiles),
        "ledger_targets": LEDGER_TARGETS,
        "seed": setup.seed,
        "repeat": setup.repeat,
        "targets": TARGETS,
        "verdict": judged,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "results": rows,
    }
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"bench: figures written to {out / 'bench.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
