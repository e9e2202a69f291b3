"""Time `cmclaims compliance` on a year of a 100,000-member agency: about 5 million ledger lines.

    python scripts/bench_compliance.py --out bench-out/compliance [--members 100000] [--lines 5000000]

Builds (once; reused when present) a ledger of one calendar year of billed
lines for ok-soonercare, recorded month by month through the ledger's own
store API as validate records a night, with a plans, stays and staff file for
the same members; then runs the real command (`cmclaims compliance`, a new
process each time, its start-up included) three times and prints the median
wall time and the peak memory. The data is synthetic and drawn from a fixed
seed: about 4 lines a member a month, a share of them office visits, some
members with a gap month, plans with some signed late, 2,500 staff.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from cmclaims.ledger.store import LINE_SCHEMA, SqliteLedger
from cmclaims.normalize.values import day_number
from cmclaims.tables import load_profile

PROFILE = "ok-soonercare"
YEAR = 2026
SEED = 11


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return pa.array(np.char.add(prefix, np.char.zfill(numbers.astype(str), width)))


def build(folder: Path, members: int, lines: int) -> Path:
    """The ledger and side files, unless a finished build is already in `folder`."""
    ledger = folder / "ledger.sqlite3"
    done = folder / "built.json"
    if done.exists() and json.loads(done.read_text()) == {"members": members, "lines": lines}:
        return ledger
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("ledger.sqlite3*"):
        stale.unlink()
    rng = np.random.default_rng(SEED)
    first = day_number(dt.date(YEAR, 1, 1))
    staff_count = max(1, members // 40)
    member = rng.integers(0, members, lines)
    day = first + rng.integers(0, 365, lines)
    # A share of members skip a month: their lines of that month move to the next one.
    skipper = rng.random(members) < 0.05
    skipped_month = rng.integers(1, 11, members)
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - (YEAR - 1970) * 12
    moved = skipper[member] & (month == skipped_month[member])
    day = np.where(moved, day + 31, day)
    day = np.minimum(day, first + 364)
    order = np.lexsort((day, member))
    member, day = member[order], day[order]
    staff = (member % staff_count).astype(np.int64)
    start = (8 * 60 + rng.integers(0, 16, lines) * 30).astype(np.int16)
    units = rng.integers(1, 9, lines).astype(np.int32)
    places = np.array(["12", "11", "99", "02"], dtype=object)
    place = places[rng.choice(4, lines, p=[0.55, 0.3, 0.1, 0.05])]
    contacts = np.array(["face_to_face", "telephone", "video"], dtype=object)
    contact = contacts[rng.choice(3, lines, p=[0.7, 0.25, 0.05])]
    activities = np.array(["linkage", "monitoring", "planning", "assessment", "referral"], dtype=object)
    activity = activities[rng.choice(5, lines, p=[0.4, 0.3, 0.1, 0.1, 0.1])]
    services = np.array(["T1017:HN", "T1017:HM", "T1017:TG", "T1017:TF"], dtype=object)
    store = SqliteLedger.create(ledger)
    try:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        line_month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        for index, value in enumerate(np.unique(line_month).tolist()):
            rows = np.flatnonzero(line_month == value)
            table = pa.table({
                "claim_id": _ids(f"B{index:02d}-", rows, 8),
                "member_id": _ids("M", member[rows], 7),
                "service": pa.array(services[staff[rows] % 4]),
                "hcpcs": pa.array(np.full(rows.size, "T1017", dtype=object)),
                "service_day": pa.array(day[rows].astype(np.int32)),
                "units": pa.array(units[rows]),
                "charge": pa.nulls(rows.size, pa.float64()),
                "authorization_id": pa.nulls(rows.size, pa.string()),
                "auth_units": pa.array(np.zeros(rows.size, np.int32)),
                "frequency": pa.array(np.full(rows.size, "1", dtype=object)),
                "original_claim_id": pa.nulls(rows.size, pa.string()),
                "staff_id": _ids("S", staff[rows], 5),
                "program": pa.array(np.full(rows.size, "110", dtype=object)),
                "start_minute": pa.array(start[rows]),
                "contact_type": pa.array(contact[rows]),
                "place_of_service": pa.array(place[rows]),
                "member_present": pa.array(np.full(rows.size, "Y", dtype=object)),
                "activity": pa.array(activity[rows]),
            }).cast(pa.schema([LINE_SCHEMA.field(n) for n in LINE_SCHEMA.names]))
            total = int(units[rows].sum())
            run = {
                "run_id": f"bench-{index:02d}", "kind": "import", "status": "committed", "profile": PROFILE,
                "code_table_version": load_profile(PROFILE).table_version, "started_at": now, "finished_at": now,
                "executions": 0, "inputs": [], "options": {}, "out_dir": None, "lines_in": int(rows.size),
                "lines_clean": int(rows.size), "lines_rejected": 0, "lines_adjusted": 0, "lines_warned": 0,
                "units_in": total, "units_billable": total, "charge_in": 0.0, "charge_clean": 0.0,
                "charge_rejected": 0.0, "charge_billable": 0.0, "lines_ledgered": int(rows.size),
                "units_ledgered": total,
            }  # fmt: skip
            retired = {"claim_id": [], "month": [], "original_run": [], "how": []}
            store.record_run(store.prepare_run(run, table, pd.DataFrame(retired), pa.table({})))
    finally:
        store.close()
    # Plans: most members signed before the year, a share late in it, a few never.
    signed = first - rng.integers(1, 200, members)
    late = rng.random(members) < 0.08
    signed = np.where(late, first + rng.integers(10, 120, members), signed)
    has_plan = rng.random(members) >= 0.02
    who = np.flatnonzero(has_plan)
    pacsv.write_csv(pa.table({
        "member_id": _ids("M", who, 7),
        "plan_type": pa.array(np.full(who.size, "service_plan", dtype=object)),
        "signed_date": pa.array(signed[who].astype("datetime64[D]").astype(str)),
    }), folder / "plans.csv")
    # Stays: 2% of members spend a few weeks in hospital.
    stayers = rng.choice(members, members // 50, replace=False)
    admit = first + rng.integers(0, 330, stayers.size)
    pacsv.write_csv(pa.table({
        "member_id": _ids("M", stayers, 7),
        "setting": pa.array(np.full(stayers.size, "inpatient", dtype=object)),
        "admit_date": pa.array(admit.astype("datetime64[D]").astype(str)),
        "discharge_date": pa.array((admit + rng.integers(3, 40, stayers.size)).astype("datetime64[D]").astype(str)),
    }), folder / "stays.csv")
    credentials = np.array(["CM2", "CM1", "CM2_INTENSIVE", "CM2;WRAP_FACILITATOR"], dtype=object)
    pacsv.write_csv(pa.table({
        "staff_id": _ids("S", np.arange(staff_count), 5),
        "credentials": pa.array(credentials[np.arange(staff_count) % 4]),
    }), folder / "staff.csv")
    done.write_text(json.dumps({"members": members, "lines": lines}))
    return ledger


def main() -> int:
    """Build the data (once) and time the command."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out/compliance"))
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    began = time.perf_counter()
    ledger = build(args.out, args.members, args.lines)
    print(f"data: {args.lines:,} ledger lines, {args.members:,} members ({time.perf_counter() - began:.1f} s to "
          f"build or find)", flush=True)
    command = [str(Path(sys.executable).parent / "cmclaims"), "compliance", "--profile", PROFILE,
               "--as-of", f"{YEAR}-12-31", "--from", f"{YEAR}-01-01", "--ledger", str(ledger),
               "--plans", str(args.out / "plans.csv"), "--stays", str(args.out / "stays.csv"),
               "--staff", str(args.out / "staff.csv"), "--out", str(args.out / "findings.csv")]
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            return done.returncode
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rules = pacsv.read_csv(args.out / "findings.csv").column("rule").value_counts().to_pylist()
    counts = {item["values"]: item["counts"] for item in rules}
    print(f"cmclaims compliance: median {statistics.median(times):.2f} s of {len(times)} runs "
          f"(each {', '.join(f'{t:.2f}' for t in times)} s; findings written to findings.csv), "
          f"peak memory {peak:,.0f} MiB; findings {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
