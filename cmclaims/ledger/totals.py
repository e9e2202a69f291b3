"""Running totals: each member's units per code and calendar year, kept up to date (table `usage_totals`).

An annual cap (Idaho: 240 units a client a calendar year) counts every unit
the member billed in the year, in every month. Summing a year of lines each
night costs more the longer the ledger runs; the ledger keeps the sums
instead, per profile, member, code, calendar year and authorization (units
billed beyond a cap against an authorization: `authorization_id` is '' for
the others), and the limit pass reads the few rows of tonight's members.

The totals hold exactly the units of the ledger's *active* lines: lines of
committed runs that no void or replacement took out (the same lines
`ledger check` and the model count). They change only in the transaction that
changes the lines, by a delta computed from what that change touches: the
run's earlier lines (a re-run replaces them), its new lines, and the
originals its voids and replacements retire, or retired in the execution
being replaced or rolled back. Nothing else changes whether a line is active.

Each retirement also keeps the units of the original it took out
(`retired.units`), so that the check before every commit can compare, per
profile and year, the totals' sum with the blocks' units less the retired
units (cheap SQL, no block read); `ledger check` recomputes every total from
the lines.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.blocks import LINE_SCHEMA, from_parquet
from cmclaims.normalize.values import year_of

TOTALS_TABLE = """CREATE TABLE usage_totals (
    profile TEXT NOT NULL,
    member_id TEXT NOT NULL,
    hcpcs TEXT NOT NULL,
    year INTEGER NOT NULL,             -- calendar year of the service dates
    authorization_id TEXT NOT NULL,    -- '' unless these units were billed beyond a cap against it
    units INTEGER NOT NULL,
    auth_units INTEGER NOT NULL,       -- of those, units billed against the authorization
    PRIMARY KEY (profile, member_id, hcpcs, year, authorization_id)
) WITHOUT ROWID"""

KEY = ["profile", "member_id", "hcpcs", "year", "authorization_id"]
# What the totals need of a recorded line.
LINE_COLUMNS = ["claim_id", "member_id", "hcpcs", "service_day", "units", "authorization_id", "auth_units"]


def empty() -> pd.DataFrame:
    """No totals."""
    return pd.DataFrame({**{k: pd.Series([], dtype=object) for k in KEY}, "year": np.empty(0, np.int64),
                         "units": np.empty(0, np.int64), "auth_units": np.empty(0, np.int64)})[[*KEY, "units",
                                                                                                "auth_units"]]


def summed(lines: pa.Table, profile: str | None = None) -> pd.DataFrame:
    """The lines' units per total (KEY, units, auth_units); `profile` when `lines` has no profile column."""
    if lines.num_rows == 0:
        return empty()
    text = {name: pc.fill_null(lines.column(name).cast(pa.string()), "") for name in ("member_id", "hcpcs")}
    auth_units = lines.column("auth_units").cast(pa.int64())
    billed_against = pc.greater(pc.fill_null(auth_units, 0), 0)
    authorization = pc.if_else(billed_against, pc.fill_null(lines.column("authorization_id").cast(pa.string()), ""),
                               "")
    profiles = lines.column("profile").cast(pa.string()) if profile is None else \
        pa.array(np.full(lines.num_rows, profile, dtype=object), pa.string())
    table = pa.table({
        "profile": profiles,
        **text,
        "year": pa.array(year_of(lines.column("service_day").to_numpy(zero_copy_only=False)), pa.int64()),
        "authorization_id": authorization,
        "units": pc.fill_null(lines.column("units").cast(pa.int64()), 0),
        "auth_units": pc.fill_null(auth_units, 0),
    })
    grouped = table.group_by(KEY).aggregate([("units", "sum"), ("auth_units", "sum")])
    return grouped.rename_columns([*KEY, "units", "auth_units"]).to_pandas()


def combined(parts: list[tuple[pd.DataFrame, int]]) -> pd.DataFrame:
    """Signed sum of several totals (+1 added, -1 taken out); rows that come to nothing are dropped."""
    frames = [frame.assign(units=frame["units"] * sign, auth_units=frame["auth_units"] * sign)
              for frame, sign in parts if len(frame)]
    if not frames:
        return empty()
    total = pd.concat(frames, ignore_index=True).groupby(KEY, as_index=False, sort=False)[["units", "auth_units"]].sum()
    return total[(total["units"] != 0) | (total["auth_units"] != 0)].reset_index(drop=True)


def add(db: sqlite3.Connection, delta: pd.DataFrame) -> None:
    """Add a delta to the totals (inside the caller's transaction); totals that come to zero are removed."""
    if not len(delta):
        return
    rows = zip(*(delta[c].tolist() for c in (*KEY, "units", "auth_units")), strict=True)
    db.executemany(
        f"INSERT INTO usage_totals ({', '.join(KEY)}, units, auth_units) VALUES (?, ?, ?, ?, ?, ?, ?) "
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET units = units + excluded.units, "
        "auth_units = auth_units + excluded.auth_units",
        rows,
    )
    db.execute("DELETE FROM usage_totals WHERE units = 0 AND auth_units = 0")


def committed_lines(db: sqlite3.Connection, where: str, params: list[object],
                    columns: list[str] = LINE_COLUMNS) -> pa.Table:
    """Lines of committed runs' blocks matching `where` (on line_blocks b), with run_id and profile."""
    tables = []
    query = "SELECT b.run_id, b.profile, CAST(b.data AS BLOB) FROM line_blocks b JOIN runs r USING (run_id) " \
            f"WHERE r.status = 'committed' AND {where}"
    for run_id, profile, data in db.execute(query, params):
        table = from_parquet(data, columns)
        tables.append(table.append_column("run_id", pa.array(np.full(table.num_rows, run_id, dtype=object),
                                                               pa.string()))
                      .append_column("profile", pa.array(np.full(table.num_rows, profile, dtype=object),
                                                         pa.string())))
    if not tables:
        schema = pa.schema([*(LINE_SCHEMA.field(c) for c in columns), ("run_id", pa.string()),
                            ("profile", pa.string())])
        return schema.empty_table()
    return pa.concat_tables(tables, promote_options="permissive")


def _keyed(lines: pa.Table) -> pd.Index:
    """Each line's identity as retirements name it: (claim_id, run_id)."""
    return pd.MultiIndex.from_arrays([lines.column("claim_id").to_numpy(zero_copy_only=False),
                                      lines.column("run_id").to_numpy(zero_copy_only=False)])


def _originals(db: sqlite3.Connection, wanted: pd.DataFrame) -> pa.Table:
    """The recorded lines of committed runs named by (claim_id, original_run, month)."""
    found = []
    for (run_id, month), group in wanted.groupby(["original_run", "month"]):
        block = committed_lines(db, "b.run_id = ? AND b.month = ?", [str(run_id), int(month)])
        hit = pc.is_in(block.column("claim_id"), value_set=pa.array(group["claim_id"].unique(), pa.string()))
        found.append(block.filter(hit))
    return pa.concat_tables(found) if found else committed_lines(db, "0", [])


def run_change(db: sqlite3.Connection, run_id: str, profile: str, new_lines: pa.Table | None,
               new_totals: pd.DataFrame | None, new_retired: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """What recording (new lines and retirements) or rolling back (None, nothing) run `run_id` changes in the
    totals, read before the run's old entries are replaced; and each new retirement's units.

    `new_retired`: claim_id, month, original_run (the run's voids' and replacements' originals);
    `new_totals`: `summed(new_lines)`, computed beforehand (off the transaction).
    """
    retired = pd.DataFrame(db.execute("SELECT claim_id, original_run, retired_by, month FROM retired").fetchall(),
                           columns=["claim_id", "original_run", "retired_by", "month"])
    before = pd.MultiIndex.from_frame(retired[["claim_id", "original_run"]])
    kept = retired[retired["retired_by"] != run_id]
    after = pd.MultiIndex.from_frame(pd.concat([kept[["claim_id", "original_run"]],
                                                new_retired[["claim_id", "original_run"]]]))
    parts: list[tuple[pd.DataFrame, int]] = []

    old = committed_lines(db, "b.run_id = ?", [run_id])  # the run's earlier execution, if any
    if old.num_rows:
        parts.append((summed(old.filter(pa.array(~_keyed(old).isin(before)))), -1))
    if new_lines is not None and new_totals is not None:
        parts.append((new_totals, +1))
        mine = new_lines.append_column("run_id", pa.array(np.full(new_lines.num_rows, run_id, dtype=object),
                                                           pa.string()))
        out = np.asarray(_keyed(mine).isin(after))
        if out.any():  # lines of the run a void or replacement takes out: not counted
            parts.append((summed(new_lines.filter(pa.array(out)), profile), -1))

    # Originals of other runs whose state the change may flip: retired by the old execution, or now.
    touched = pd.concat([retired.loc[retired["retired_by"] == run_id, ["claim_id", "original_run", "month"]],
                         new_retired[["claim_id", "original_run", "month"]]])
    touched = touched[touched["original_run"] != run_id].drop_duplicates()
    originals = _originals(db, touched) if len(touched) else committed_lines(db, "0", [])
    if originals.num_rows:
        keys = _keyed(originals)
        parts.append((summed(originals.filter(pa.array(~keys.isin(before)))), -1))
        parts.append((summed(originals.filter(pa.array(~keys.isin(after)))), +1))

    # Each new retirement's units: what its original (another run's line, or one of this run's) bills.
    units: dict[tuple[str, str], int] = {}
    sources = [originals]
    if new_lines is not None:
        sources.append(new_lines.select(["claim_id", "units"]).append_column(
            "run_id", pa.array(np.full(new_lines.num_rows, run_id, dtype=object), pa.string())))
    for source in sources:
        if source.num_rows:
            frame = pd.DataFrame({"claim_id": source.column("claim_id").to_numpy(zero_copy_only=False),
                                  "run_id": source.column("run_id").to_numpy(zero_copy_only=False),
                                  "units": source.column("units").to_numpy(zero_copy_only=False)})
            wanted = frame[frame["claim_id"].isin(set(new_retired["claim_id"]))]
            for (claim, run), value in wanted.groupby(["claim_id", "run_id"])["units"].sum().items():
                units[(claim, run)] = units.get((claim, run), 0) + int(value)
    retired_units = [units.get((c, r), 0) for c, r in zip(new_retired["claim_id"], new_retired["original_run"],
                                                          strict=True)]
    return combined(parts), retired_units


def from_lines(db: sqlite3.Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The totals and the retired originals' units as the lines say they must be (a migration, `ledger check`)."""
    lines = committed_lines(db, "1", [])
    retired = pd.DataFrame(db.execute("SELECT claim_id, original_run FROM retired").fetchall(),
                           columns=["claim_id", "original_run"])
    keys = _keyed(lines)
    gone = np.asarray(keys.isin(pd.MultiIndex.from_frame(retired))) if len(retired) else \
        np.zeros(lines.num_rows, bool)
    totals = summed(lines.filter(pa.array(~gone)))
    frame = pd.DataFrame({"claim_id": keys.get_level_values(0), "original_run": keys.get_level_values(1),
                          "units": lines.column("units").to_numpy(zero_copy_only=False)})[gone]
    units = retired.merge(frame.groupby(["claim_id", "original_run"], as_index=False)["units"].sum(),
                          how="left", on=["claim_id", "original_run"]).fillna({"units": 0})
    return totals, units.astype({"units": np.int64})


def fill(db: sqlite3.Connection) -> None:
    """The migration to running totals: compute them, and the retired originals' units, from the lines."""
    totals, units = from_lines(db)
    add(db, totals)
    db.executemany("UPDATE retired SET units = ? WHERE claim_id = ? AND original_run = ?",
                   zip(units["units"].tolist(), units["claim_id"], units["original_run"], strict=True))


def sum_problems(db: sqlite3.Connection) -> list[str]:
    """The quick check: per profile and year, the totals' units against the blocks' less the retired units."""
    blocks = db.execute(
        "SELECT b.profile, b.month / 12 + 1970, SUM(b.units) FROM line_blocks b JOIN runs r USING (run_id) "
        "WHERE r.status = 'committed' GROUP BY 1, 2").fetchall()
    retired = db.execute(
        "SELECT r.profile, t.month / 12 + 1970, SUM(t.units) FROM retired t JOIN runs r ON r.run_id = t.original_run "
        "WHERE r.status = 'committed' GROUP BY 1, 2").fetchall()
    totals = db.execute("SELECT profile, year, SUM(units) FROM usage_totals GROUP BY 1, 2").fetchall()
    expected: dict[tuple[str, int], int] = {}
    for profile, year, units in blocks:
        expected[(profile, year)] = expected.get((profile, year), 0) + units
    for profile, year, units in retired:
        expected[(profile, year)] = expected.get((profile, year), 0) - units
    held = {(profile, year): units for profile, year, units in totals}
    problems = []
    for key in sorted(set(expected) | set(held)):
        if expected.get(key, 0) != held.get(key, 0):
            problems.append(f"the running totals of {key[0]} for {key[1]} hold {held.get(key, 0)} units, its lines "
                            f"{expected.get(key, 0)}")
    return problems


def total_problems(db: sqlite3.Connection) -> list[str]:
    """`ledger check`: every total and every retired original's units against the lines (no member named)."""
    totals, units = from_lines(db)
    held = pd.DataFrame(db.execute(f"SELECT {', '.join(KEY)}, units, auth_units FROM usage_totals").fetchall(),
                        columns=[*KEY, "units", "auth_units"])
    both = totals.merge(held, how="outer", on=KEY, suffixes=("", "_held")).fillna(0)
    wrong = both[(both["units"] != both["units_held"]) | (both["auth_units"] != both["auth_units_held"])]
    problems = [f"{count} running totals of {profile} for {int(year)} differ from its lines"
                for (profile, year), count in wrong.groupby(["profile", "year"]).size().items()]
    stored = pd.DataFrame(db.execute("SELECT claim_id, original_run, units FROM retired").fetchall(),
                          columns=["claim_id", "original_run", "units_held"])
    if len(stored):
        off = int((stored.merge(units, on=["claim_id", "original_run"])
                   .pipe(lambda f: f["units"] != f["units_held"])).sum())
        if off:
            problems.append(f"{off} retired originals record other units than their lines")
    return problems
