"""Which exceptions are still open, and since when: the ledger's exceptions of every run, resolved.

An open item is a claim (claim_id) whose line was rejected (with
--include-adjusted also: billed for fewer units) and that nothing has
resolved since. It is resolved when

- the claim was accepted by another committed run: corrected and sent again,
  it is in that run's clean file, which the ledger records line by line. (A
  claim accepted by an *earlier* run can only be rejected again as already
  billed, CM402: nothing is held back then either.) An accepted void or
  replacement naming the claim as its original resolves it too;
- finance wrote it off (`cmclaims report writeoff`) after the run that last
  rejected it: a write-off closes what was open when it was made, and a later
  rejection of the same claim is new work.

A claim cmclaims passed and the payer denied (an 835 posted with `cmclaims
remit`) is open again, with the denial's CARC as its rule (`CO-197`), until a
later remittance pays it or finance writes it off (open_denials.py).

Everything is as of a day: only runs and write-offs of that day or before
count, so a month-end report run a few days late shows the month-end state.
Rejected lines without a claim_id cannot be followed from run to run; they
are counted, not listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.store import LedgerStore
from cmclaims.report.aging import BUCKET_ORDER, age_days, bucket_of
from cmclaims.report.dates import local_days, service_days
from cmclaims.report.run_files import exceptions_frame

DETAIL_COLUMNS = [
    "claim_id", "member_id", "service_date", "age_days", "aging_bucket", "hcpcs", "modifiers", "staff_id",
    "program", "service", "disposition", "rules", "messages", "charge", "dollars_held", "times_rejected",
    "first_rejected", "last_rejected", "last_run", "source_file", "source_row",
]  # fmt: skip


@dataclass
class OpenItems:
    """The open claims (detail, with member ids), their current findings, and what was resolved."""

    as_of: dt.date
    claims: pd.DataFrame  # one row per open claim: DETAIL_COLUMNS
    findings: pd.DataFrame  # the open claims' findings in the run that last rejected them, with aging_bucket
    resolved_passed: int
    written_off: int
    untracked_lines: int
    runs_counted: int
    payer_denied: int = 0  # open because the payer denied them (in `claims`, disposition "denied")


def runs_frame(store: LedgerStore) -> pd.DataFrame:
    """Every run with its local finishing day and its place in time (order)."""
    runs = pd.DataFrame(store.runs(), columns=["run_id", "sequence", "kind", "status", "profile", "finished_at",
                                                "out_dir",
                                                "lines_in", "lines_clean", "lines_rejected", "lines_adjusted",
                                                "units_in", "units_billable", "charge_in", "charge_clean",
                                                "charge_rejected", "charge_billable"])
    runs["finished"] = pd.to_datetime(runs["finished_at"], utc=True, errors="coerce", format="ISO8601")
    runs["day"] = local_days(runs["finished_at"])
    runs = runs.sort_values("sequence").reset_index(drop=True)  # the ledger numbers runs as they commit
    runs["order"] = np.arange(len(runs))
    return runs


def load_open_items(store: LedgerStore, as_of: dt.date, *, include_adjusted: bool = False,
                    profile: str | None = None) -> OpenItems:
    """Read the ledger and work out what is open on `as_of`."""
    runs = runs_frame(store)
    counted = runs[(runs["status"] == "committed") & (runs["day"] <= pd.Timestamp(as_of))]
    mine = counted if profile is None else counted[counted["profile"] == profile]
    table = store.findings(mine["run_id"].tolist()) if len(mine) else pa.table({})
    findings = exceptions_frame(table).assign(run_id=table.column("run_id").to_pandas() if table.num_rows else None)
    accepted = store.lines(columns=["claim_id", "original_claim_id"], run_ids=counted["run_id"].tolist()) \
        .to_pandas()[["claim_id", "original_claim_id", "run_id"]]
    writeoffs = store.writeoffs()
    items = resolve(findings, accepted, counted, writeoffs, as_of, include_adjusted=include_adjusted)
    return _with_denials(items, store, writeoffs, profile)


def _with_denials(items: OpenItems, store: LedgerStore, writeoffs: pd.DataFrame, profile: str | None) -> OpenItems:
    """The claims the payer denied, open again until paid or written off (open_denials.py)."""
    from cmclaims.report.open_denials import open_denials

    detail, denied = open_denials(store, items.as_of, items.claims, writeoffs, DETAIL_COLUMNS)
    if profile is not None and len(detail):
        runs = runs_frame(store).set_index("run_id")["profile"]
        mine = (detail["last_run"].map(runs) == profile).to_numpy()
        detail, denied = detail[mine], denied[mine]
    if detail.empty:
        return items
    claims = pd.concat([items.claims, detail], ignore_index=True).sort_values(
        ["age_days", "dollars_held"], ascending=[False, False], na_position="last").reset_index(drop=True)
    findings = pd.concat([items.findings, denied], ignore_index=True)
    return replace(items, claims=claims, findings=findings, payer_denied=len(detail))


def _joined(frame: pd.DataFrame, key: str, column: str, separator: str, distinct: bool) -> pd.Series:
    """The values of `column` per `key`, joined into one text (Arrow's grouped lists: no Python loop)."""
    table = pa.table({"key": pa.array(frame[key].to_numpy(dtype=object), pa.string()),
                      "value": pa.array(frame[column].fillna("").to_numpy(dtype=object), pa.string())})
    grouped = table.group_by("key", use_threads=False).aggregate([("value", "distinct" if distinct else "list")])
    joined = pc.binary_join(grouped.column(1), separator)
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=grouped.column("key").to_numpy(zero_copy_only=False))


def resolve(findings: pd.DataFrame, accepted: pd.DataFrame, runs: pd.DataFrame, writeoffs: pd.DataFrame,
            as_of: dt.date, *, include_adjusted: bool = False) -> OpenItems:
    """The open items among `findings` (exceptions rows with run_id), as of `as_of`.

    `accepted` holds claim_id, original_claim_id and run_id of the lines committed
    runs accepted; `runs` the runs that count (run_id, finished, day, order);
    `writeoffs` claim_id and written_off_at.
    """
    fates = ["rejected", "adjusted"] if include_adjusted else ["rejected"]
    held = findings[findings["disposition"].isin(fates)]
    no_claim = held["claim_id"].isna() | (held["claim_id"] == "")
    untracked = len(held[no_claim].drop_duplicates(["run_id", "source_file", "source_row"]))
    held = held[~no_claim].copy()
    order = runs.set_index("run_id")["order"]
    held["run_order"] = held["run_id"].map(order)
    by_claim = held.groupby("claim_id")["run_order"]
    held["times_rejected"] = held.groupby("claim_id")["run_id"].transform("nunique")
    held["first_order"] = by_claim.transform("min")
    latest = held[held["run_order"] == by_claim.transform("max")]

    # Claims accepted anywhere (as themselves, or named as the original of a void or replacement).
    passes = pd.concat([
        accepted[["claim_id", "run_id"]],
        accepted[["original_claim_id", "run_id"]].rename(columns={"original_claim_id": "claim_id"}),
    ]).dropna().drop_duplicates()
    claims = latest.drop_duplicates("claim_id")
    runs_accepting = claims["claim_id"].map(passes.groupby("claim_id")["run_id"].nunique()).fillna(0)
    accepted_here = pd.MultiIndex.from_frame(claims[["claim_id", "run_id"]]).isin(
        pd.MultiIndex.from_frame(passes[["claim_id", "run_id"]]))
    passed = runs_accepting.to_numpy() > accepted_here.astype(np.int64)

    finished = runs.set_index("run_id")["finished"]
    written = writeoffs.assign(at=pd.to_datetime(writeoffs["written_off_at"], utc=True, format="ISO8601"))
    written = written[local_days(written["written_off_at"]) <= pd.Timestamp(as_of)].set_index("claim_id")["at"]
    # reindex, not map: mapping onto an empty series of timestamps fails in pandas.
    off_at = written.reindex(claims["claim_id"].to_numpy()).reset_index(drop=True)
    rejected_at = finished.reindex(claims["run_id"].to_numpy()).reset_index(drop=True)
    written_off = (off_at.notna() & (off_at >= rejected_at)).to_numpy() & ~passed

    open_claims = claims[~passed & ~written_off]
    current = latest[latest["claim_id"].isin(open_claims["claim_id"])]
    detail = _detail(open_claims, current, runs, as_of)
    current = current.merge(detail[["claim_id", "aging_bucket"]], on="claim_id", how="left")
    return OpenItems(as_of, detail, current, int(passed.sum()), int(written_off.sum()), untracked, len(runs))


def _detail(claims: pd.DataFrame, current: pd.DataFrame, runs: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """One row per open claim: what it is, why it is held, how old, and how much."""
    if claims.empty:
        return pd.DataFrame(columns=DETAIL_COLUMNS)
    ordered = current.sort_values(["claim_id", "rule"])
    day_of = pd.Series(runs["day"].to_numpy(), index=runs["order"].to_numpy())
    lines = current.drop_duplicates(["claim_id", "source_file", "source_row"])
    detail = claims.set_index("claim_id")
    age = age_days(service_days(detail["service_date"]), as_of)
    detail = detail.assign(
        age_days=age,
        aging_bucket=bucket_of(age),
        rules=_joined(ordered, "claim_id", "rule", " ", distinct=True),
        messages=_joined(ordered, "claim_id", "message", " | ", distinct=True),
        dollars_held=lines.groupby("claim_id")["charge_held"].sum(min_count=1).round(2),
        charge=lines.groupby("claim_id")["charge"].sum(min_count=1).round(2),
        first_rejected=detail["first_order"].map(day_of).dt.strftime("%Y-%m-%d"),
        last_rejected=detail["run_order"].map(day_of).dt.strftime("%Y-%m-%d"),
        last_run=detail["run_id"],
    ).reset_index()
    return detail.sort_values(["age_days", "dollars_held"], ascending=[False, False], na_position="last")[
        DETAIL_COLUMNS].reset_index(drop=True)


def aging_table(items: OpenItems) -> pd.DataFrame:
    """Per aging bucket: open claims, dollars held, share of the dollars."""
    claims = items.claims
    grouped = claims.groupby("aging_bucket", observed=False).agg(
        open_claims=("claim_id", "size"), dollars_held=("dollars_held", "sum"))
    grouped = grouped.reindex(BUCKET_ORDER).fillna(0)
    total = grouped["dollars_held"].sum()
    grouped["share_of_dollars"] = grouped["dollars_held"] / total if total else 0.0
    grouped["dollars_held"] = grouped["dollars_held"].round(2)
    grouped["open_claims"] = grouped["open_claims"].astype("int64")
    return grouped.reset_index().rename(columns={"aging_bucket": "age"})


def _by_bucket(frame: pd.DataFrame, index: list[str], claims: str = "open_claims") -> pd.DataFrame:
    """Open claims and dollars per group, with the dollars of each aging bucket as columns."""
    frame = frame.assign(held=frame["charge_held"].fillna(0.0))
    totals = frame.groupby(index, dropna=False).agg(**{claims: ("claim_id", "nunique"),
                                                       "dollars_held": ("held", "sum")})
    buckets = frame.pivot_table(index=index, columns="aging_bucket", values="held", aggfunc="sum",
                                observed=False, fill_value=0.0, dropna=False)
    buckets = buckets.reindex(columns=BUCKET_ORDER, fill_value=0.0)
    buckets.columns = [str(c) for c in buckets.columns]
    table = totals.join(buckets).round(2).reset_index()
    return table.sort_values(["dollars_held", claims], ascending=False).reset_index(drop=True)


def open_by_rule(items: OpenItems) -> pd.DataFrame:
    """Per rule: open claims it holds back, their dollars, and the dollars by age."""
    if items.findings.empty:
        return pd.DataFrame(columns=["rule", "rule_name", "open_claims", "dollars_held", *BUCKET_ORDER])
    lines = items.findings.drop_duplicates(["claim_id", "rule", "source_file", "source_row"])
    return _by_bucket(lines, ["rule", "rule_name"])


def open_by_staff(items: OpenItems) -> pd.DataFrame:
    """Per staff member: open claims, their dollars, and the dollars by age."""
    if items.findings.empty:
        return pd.DataFrame(columns=["staff_id", "open_claims", "dollars_held", *BUCKET_ORDER])
    lines = items.findings.drop_duplicates(["claim_id", "source_file", "source_row"])
    lines = lines.assign(staff_id=lines["staff_id"].fillna("(none)"))
    return _by_bucket(lines, ["staff_id"])
