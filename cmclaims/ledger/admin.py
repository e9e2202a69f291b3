"""The ledger commands' work: history, a member's usage, rollback, import, and the integrity check."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cmclaims.errors import CmclaimsError, ConfigError
from cmclaims.io.batch import read_batch
from cmclaims.io.column_map import ColumnMap
from cmclaims.ledger.lookup import positions_in
from cmclaims.ledger.store import LINE_SCHEMA, LedgerStore
from cmclaims.normalize.lines import build_lines
from cmclaims.normalize.services import OK, resolve_services
from cmclaims.normalize.values import MISSING, month_of, year_of
from cmclaims.schema.columns import HISTORY, VOID
from cmclaims.tables import load_profile

_BLOCK_COLUMNS = ("run_id", "profile", "month", "block_row")  # every line gets these from its block


def active_lines(store: LedgerStore, columns: list[str] | None = None) -> pd.DataFrame:
    """Every line committed runs recorded and no void or replacement took out (only `columns`, if given)."""
    stored = None if columns is None else sorted({*columns, "claim_id"} - set(_BLOCK_COLUMNS))
    lines = _active(store.lines(columns=stored).to_pandas(), store.retired())
    return lines if columns is None else lines[columns]


def _active(lines: pd.DataFrame, retired: pd.DataFrame) -> pd.DataFrame:
    if len(retired):
        gone = pd.MultiIndex.from_arrays([retired["claim_id"], retired["original_run"]])
        lines = lines[~pd.MultiIndex.from_arrays([lines["claim_id"], lines["run_id"]]).isin(gone)]
    return lines.reset_index(drop=True)


def member_usage(store: LedgerStore, member_id: str, year: int | None) -> dict[str, object]:
    """One member's units by day, month and year, against each limit of the payer that billed them."""
    lines = active_lines(store)
    lines = lines[lines["member_id"] == member_id]
    days = lines["service_day"].to_numpy(np.int64).astype("datetime64[D]")
    lines = lines.assign(
        date=days.astype(str),
        month=days.astype("datetime64[M]").astype(str),
        year=year_of(lines["service_day"].to_numpy(np.int64)),
    )
    if year is not None:
        lines = lines[lines["year"] == year]
    rows: dict[str, list[dict]] = {"daily": [], "monthly": [], "annual": []}
    for profile_name, group in lines.groupby("profile"):
        profile = load_profile(str(profile_name))
        limits = {s.key: s for s in profile.services}
        for period, column in (("daily", "date"), ("monthly", "month")):
            field = "daily_units" if period == "daily" else "monthly_units"
            summed = group.groupby(["service", column], as_index=False)["units"].sum()
            for service, when, units in summed.itertuples(index=False):
                service_def = limits.get(service)
                limit = getattr(service_def, field) if service_def is not None else None
                rows[period].append({"profile": profile_name, "service": service, "period": when,
                                     "units": int(units), "limit": limit})
        for cap in profile.annual_caps:
            in_cap = group[group["hcpcs"].isin(cap.codes)]
            for cap_year, part in in_cap.groupby("year"):
                rows["annual"].append({"profile": profile_name, "cap": cap.name, "period": int(cap_year),
                                       "units": int(part["units"].sum()), "limit": cap.units,
                                       "authorized_units": int(part["auth_units"].sum())})
    return {"member_id": member_id, "year": year, "lines": len(lines), **rows}


def check_ledger(store: LedgerStore) -> list[str]:
    """Every problem found: database integrity, counts that must add up, claims billed twice, members over a limit.

    Never raises on a damaged ledger: what cannot be read is reported as a problem.
    """
    problems = store.integrity_problems()
    if problems:
        return problems  # the invariants below read the blocks; they cannot be trusted now
    try:
        return _invariant_problems(store)
    except CmclaimsError as exc:
        return [exc.message]


def _invariant_problems(store: LedgerStore) -> list[str]:
    problems: list[str] = []
    everything = store.lines().to_pandas()
    lines = _active(everything, store.retired())
    recorded = everything.groupby("run_id").size()
    for run in store.runs():
        if run["status"] == "committed" and run["kind"] == "validate" and \
                run["lines_clean"] < int(recorded.get(run["run_id"], 0)):
            problems.append(f"run {run['run_id']}: more lines recorded than its clean file held")
    billing = lines[lines["frequency"] != VOID]  # a void line bills nothing: its id may be billed again
    repeated = billing["claim_id"][billing["claim_id"].duplicated()]
    problems += [f"claim {claim} is billed twice" for claim in repeated.unique()[:20]]
    problems += _over_limits(lines)
    # The running totals the annual caps read, against the lines (cmclaims/ledger/totals.py).
    problems += store.total_problems()
    return problems


def _over_limits(lines: pd.DataFrame) -> list[str]:
    """Members whose recorded units exceed a daily, monthly or annual limit of their payer (counted per limit)."""
    over = limit_excess(lines)
    counts = over.groupby(["kind", "limit"], sort=False).size()
    return [f"{count} member-{kind} totals exceed the {limit}" for (kind, limit), count in counts.items()]


EXCESS_COLUMNS = ["kind", "limit", "member_id", "period", "excess", "runs"]


def limit_excess(lines: pd.DataFrame) -> pd.DataFrame:
    """Each member total of `lines` (active ledger lines) over a daily, monthly or annual limit of its payer:
    kind (daily, monthly, annual), limit (its words, no member id), member_id, period, excess (units over),
    and the runs whose lines make up that total."""
    found: list[pd.DataFrame] = []
    lines = lines.assign(month=month_of(lines["service_day"].to_numpy(np.int64)),
                         year=year_of(lines["service_day"].to_numpy(np.int64)))
    for profile_name, group in lines.groupby("profile"):
        profile = load_profile(str(profile_name))
        for service in profile.services:
            mine = group[group["service"] == service.key]
            for limit, period, kind in ((service.daily_units, "service_day", "daily"),
                                        (service.monthly_units, "month", "monthly")):
                if limit and not mine.empty:
                    found.append(_over(mine, period, mine["units"], limit, kind,
                                       f"{kind} limit of {limit} units of {service.label} ({profile_name})"))
        for cap in profile.annual_caps:
            mine = group[group["hcpcs"].isin(cap.codes)]
            if not mine.empty:  # authorized units are allowed beyond the cap (SPEC section 5)
                found.append(_over(mine, "year", mine["units"] - mine["auth_units"], cap.units, "annual",
                                   f"annual cap of {cap.units} units without authorization ({profile_name})"))
    over = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=EXCESS_COLUMNS)
    return over[EXCESS_COLUMNS]


def _over(lines: pd.DataFrame, period: str, counted: pd.Series, limit: int, kind: str, words: str) -> pd.DataFrame:
    key = ["member_id", period]
    lines = lines.assign(counted=counted)
    totals = lines.groupby(key, observed=True)["counted"].sum()
    totals = totals[totals > limit].rename("total").reset_index()
    # The runs are gathered for the few totals over a limit only.
    runs = lines.merge(totals[key], on=key).groupby(key, observed=True)["run_id"] \
        .agg(lambda ids: tuple(sorted(set(ids)))).rename("runs").reset_index()
    totals = totals.merge(runs, on=key, how="left")
    return pd.DataFrame({"kind": kind, "limit": words, "member_id": totals["member_id"],
                         "period": totals[period].astype(str), "excess": totals["total"] - limit,
                         "runs": totals["runs"]})


def rollback_run(store: LedgerStore, run_id: str) -> dict:
    """Undo a committed run (`cmclaims ledger rollback`).

    Its voids and replacements' originals count again, so the rollback is refused
    when they would take a member further over a limit: a replacement that billed
    fewer units freed room that a later run may have billed (SPEC section 5: no
    limit is exceeded, whatever the order of nights, re-runs and rollbacks).
    """
    return store.rollback(run_id, lambda originals: _excess_of_members(store, originals))


# What a member total's limit check reads of the ledger.
_LIMIT_COLUMNS = ["member_id", "service", "service_day", "hcpcs", "units", "auth_units", "profile", "run_id"]


def _excess_of_members(store: LedgerStore, originals: pd.DataFrame) -> pd.DataFrame:
    """limit_excess over the members of `originals` (claim_id, original_run, month: lines of the ledger)."""
    if originals.empty:
        return pd.DataFrame(columns=EXCESS_COLUMNS)
    named = store.lines(sorted({int(m) for m in originals["month"]}), ["claim_id", "member_id"],
                        sorted(set(originals["original_run"]))).to_pandas()
    members = set(named.loc[named["claim_id"].isin(set(originals["claim_id"])), "member_id"])
    lines = active_lines(store, _LIMIT_COLUMNS)
    return limit_excess(lines[lines["member_id"].isin(members)])


def import_history(
    store: LedgerStore, paths: list[Path], profile_name: str, column_map: ColumnMap | None, today: dt.date
) -> dict[str, object]:
    """Seed the ledger from an earlier billing history, so that caps hold from the first night.

    Each row needs claim_id, member_id, service_date, hcpcs (with its modifiers) and
    units; rows that cannot be read, name no service of the profile, or repeat a claim
    already in the ledger are left out and counted. Importing the same file again
    replaces the earlier import.
    """
    profile = load_profile(profile_name)
    batch = read_batch(paths, HISTORY, column_map)
    lines = build_lines(batch, profile.catalog, today)
    services = resolve_services(lines, profile)
    frame = lines.frame
    units = frame["units_export"].to_numpy()
    usable = (
        frame["parsed"].to_numpy()
        & lines.text["claim_id"].present
        & lines.text["member_id"].present
        & (frame["service_day"].to_numpy() != MISSING)
        & (services.problem == OK)
        & ~np.isnan(units)
    )
    claims = np.asarray(lines.text["claim_id"].text().to_pylist(), dtype=object)
    existing = active_lines(store, ["claim_id", "run_id"])
    digest = hashlib.sha256("".join(f.sha256 for f in batch.files).encode()).hexdigest()[:12]
    run_id = f"import-{digest}"
    existing = existing[existing["run_id"] != run_id]
    billed = positions_in(pa.array(existing["claim_id"], pa.string()), pa.array(claims.tolist(), pa.string())) >= 0
    repeated = pd.Series(claims).duplicated().to_numpy()
    keep = usable & ~billed & ~repeated
    rows = np.flatnonzero(keep)
    start = frame["start_minute"].to_numpy()
    start = np.where((start == MISSING) | (start < 0), MISSING, np.mod(start, 1440))
    services_keys = np.array([s.key for s in profile.services] + [""], dtype=object)
    recorded = pa.table(
        {
            "claim_id": pa.array(claims[rows].tolist(), pa.string()),
            "member_id": lines.text["member_id"].text(rows),
            "service": pa.array(services_keys[services.service_index[rows]].tolist(), pa.string()),
            "hcpcs": lines.text["hcpcs"].text(rows),
            "service_day": pa.array(frame["service_day"].to_numpy()[rows], pa.int32()),
            "units": pa.array(units[rows].astype(np.int32), pa.int32()),
            "charge": pa.array(frame["charge_amount"].to_numpy()[rows], pa.float64()),
            "authorization_id": lines.text["authorization_id"].text(rows),
            "auth_units": pa.array(np.zeros(rows.size, np.int32)),
            "frequency": pa.array(["1"] * rows.size, pa.string()),
            "original_claim_id": pa.nulls(rows.size, pa.string()),
            "staff_id": lines.text["staff_id"].text(rows),
            "program": lines.text["program"].text(rows),
            # history from an earlier system feeds the requirements over time as well
            "start_minute": pa.array(start[rows], pa.int16(), mask=start[rows] == MISSING),
            **{c: lines.text[c].text(rows) for c in ("contact_type", "place_of_service", "member_present", "activity")},
        }
    ).cast(LINE_SCHEMA)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    units_total = int(units[rows].sum())
    run = {
        "run_id": run_id, "kind": "import", "status": "committed", "profile": profile.name,
        "code_table_version": profile.table_version, "started_at": now, "finished_at": now, "executions": 0,
        "inputs": [{"file": f.name, "sha256": f.sha256, "lines": f.line_count} for f in batch.files],
        "options": {}, "out_dir": None, "lines_in": lines.size, "lines_clean": int(rows.size),
        "lines_rejected": int(lines.size - rows.size), "lines_adjusted": 0, "lines_warned": 0,
        "units_in": units_total, "units_billable": units_total, "charge_in": 0.0, "charge_clean": 0.0,
        "charge_rejected": 0.0, "charge_billable": 0.0, "lines_ledgered": int(rows.size),
        "units_ledgered": units_total,
    }  # fmt: skip
    no_retirements = pd.DataFrame(columns=["claim_id", "month", "original_run", "how"])
    prepared = store.prepare_run(run, recorded, no_retirements, pa.table({}), annual_caps=bool(profile.annual_caps))
    store.record_run(prepared)
    return {
        "run_id": run_id,
        "rows": lines.size,
        "imported": int(rows.size),
        "units": units_total,
        "left_out": {
            "unreadable_or_incomplete": int((~usable).sum()),
            "already_in_ledger": int((usable & billed).sum()),
            "repeated_in_file": int((usable & ~billed & repeated).sum()),
        },
        "left_out_rows": [int(r) for r in frame["source_row"].to_numpy()[~keep][:50]],
    }


def require_run(store: LedgerStore, run_id: str) -> dict:
    """The run's record; exit 2 naming the command that lists runs when there is none."""
    run = store.run(run_id)
    if run is None:
        raise ConfigError(f"there is no run {run_id} in {store.path}", hint="`cmclaims ledger runs` lists them")
    return run
