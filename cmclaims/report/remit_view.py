"""`cmclaims report remit`: what the payer did with what cmclaims passed (SPEC section 11).

Read from the ledger's remittance tables (cmclaims/remit/ledger_tables.py),
each claim line's fate across its remittances (cmclaims/remit/outcome.py):

- billed vs paid vs patient responsibility by month of service and service;
- adjustments by CARC group and code (codes only: X12 licenses the texts, so a
  user may pass a descriptions file, `code,description`);
- the lines cmclaims passed that the payer denied, by primary CARC and service:
  the edits cmclaims is missing;
- the lines cmclaims held back that were later passed and paid: its edits at work;
- the share of passed lines paid in full, per month of service: the validator's measure;
- the remitted lines that match nothing cmclaims passed.

Dates are dates of service (`--from`, `--to`). No member id is shown.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from cmclaims.errors import ConfigError, InputMissing
from cmclaims.ledger.store import SqliteLedger
from cmclaims.remit.ledger_tables import read_tables
from cmclaims.remit.outcome import DENIED, PAID_IN_FULL, PARTLY_PAID, REVERSED, line_outcomes
from cmclaims.report.model import Chart, Report, ReportTable
from cmclaims.report.open_items import runs_frame

GROUPS = {"CO": "contractual obligation", "PR": "patient responsibility", "OA": "other adjustment",
          "PI": "payer initiated reduction", "CR": "correction and reversal"}  # the standard's group names


def read_descriptions(path: Path | None) -> dict[str, str]:
    """A user's CARC descriptions: a CSV of `code,description` (codes like 197 or CO-197)."""
    if path is None:
        return {}
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputMissing(f"{path}: no such file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{path}: not a CSV of code,description ({type(exc).__name__})") from None
    columns = {c.strip().lower(): c for c in frame.columns}
    if "code" not in columns or "description" not in columns:
        raise ConfigError(f"{path}: needs the columns code and description")
    return dict(zip(frame[columns["code"]].str.strip(), frame[columns["description"]].str.strip(), strict=True))


def _dollars(cents: pd.Series) -> pd.Series:
    return (cents.astype("int64") / 100).round(2)


def build_remit_report(store: SqliteLedger, start: dt.date | None, end: dt.date | None,
                       descriptions: dict[str, str]) -> Report:
    """The remittance report over dates of service from `start` to `end` (either may be open)."""
    if start and end and start > end:
        raise ConfigError(f"--from {start} is after --to {end}")
    files, lines, adjustments = store.read(read_tables)
    outcomes = line_outcomes(lines, adjustments)
    days = pd.to_datetime(outcomes["service_date"], format="%Y-%m-%d", errors="coerce")
    keep = pd.Series(True, index=outcomes.index)
    if start:
        keep &= days >= pd.Timestamp(start)
    if end:
        keep &= days <= pd.Timestamp(end)
    outcomes = outcomes[keep].assign(month=days[keep].dt.strftime("%Y-%m").fillna("(no date)"))
    passed = outcomes[outcomes["claim_id"].notna()]
    passed = passed.assign(service=passed["service"].fillna(passed["hcpcs"]))

    months = _by_month_service(outcomes)
    carcs = _by_carc(lines, adjustments, outcomes, descriptions)
    missed = _missed_edits(passed, descriptions)
    corrected = _corrected_then_paid(store, passed)
    measure = _paid_in_full_by_month(passed)
    unmatched = _unmatched(lines, outcomes)

    billed, paid = outcomes["charge_cents"].sum() / 100, outcomes["paid_cents"].sum() / 100
    share = (passed["outcome"] == PAID_IN_FULL).mean() if len(passed) else float("nan")
    denied = passed[passed["outcome"] == DENIED]
    facts = [
        ("dates of service", f"{start or 'the first'} to {end or 'the last'}"),
        ("ledger", str(store.path)),
        ("files posted", f"{len(files):,}"),
        ("claim lines remitted", f"{len(outcomes):,} ({len(passed):,} passed by cmclaims, "
                                 f"{len(outcomes) - len(passed):,} matching nothing)"),
        ("billed / paid / patient responsibility", f"${billed:,.2f} / ${paid:,.2f} / "
                                                   f"${outcomes['patient_cents'].sum() / 100:,.2f}"),
        ("passed lines paid in full", "n/a" if pd.isna(share) else f"{share:.1%} (the validator's measure)"),
        ("passed lines denied", f"{len(denied):,}, ${denied['charge_cents'].sum() / 100:,.2f} billed: the edits "
                                f"cmclaims is missing"),
    ]
    tables = [
        ReportTable("by_month_service", "Billed, paid and patient responsibility by month of service and service",
                    months, money=("billed", "paid", "patient_responsibility", "contractual", "denied_dollars"),
                    whole=True),
        ReportTable("missed_edits", "Passed by cmclaims, denied by the payer: the edits cmclaims is missing "
                    "(by primary CARC and service)", missed, money=("billed",),
                    note="primary CARC: the largest adjustment that is not the member's share or CO-45"),
        ReportTable("denials_by_carc", "Adjustments by CARC group and code", carcs, money=("dollars",),
                    note="codes only; pass --carc-descriptions FILE (code,description) for the texts"),
        ReportTable("paid_in_full_by_month", "Share of passed lines paid in full, by month of service", measure,
                    percent=("share_paid_in_full",), whole=True),
        ReportTable("corrected_then_paid", "Held back by cmclaims, corrected, passed and paid (by the rule that "
                    "held them)", corrected, money=("paid",)),
        ReportTable("unmatched", "Remitted lines that match nothing cmclaims passed", unmatched,
                    money=("charge", "paid")),
    ]
    charts = [
        Chart("paid_in_full", "Share of passed lines paid in full, by month of service",
              measure["month"].tolist(), measure["share_paid_in_full"].astype(float).tolist(), kind="line",
              unit="percent"),
        Chart("paid_by_month", "Dollars paid by month of service", *_monthly(months, "paid"), unit="money"),
        Chart("missed_by_carc", "Passed lines the payer denied, by primary CARC",
              *_series(missed, "primary_carc", "lines")),
        Chart("denials_by_carc", "Dollars adjusted by CARC", *_series(carcs, "code", "dollars"), unit="money"),
    ]
    return Report("remit", "Remittances: what the payer did with what cmclaims passed", facts, tables, charts,
                  charts_after=1)


def _monthly(months: pd.DataFrame, column: str) -> tuple[list[str], list[float]]:
    totals = months.groupby("month", sort=True)[column].sum()
    return [str(m) for m in totals.index], [float(v) for v in totals.to_numpy()]


def _series(frame: pd.DataFrame, label: str, value: str) -> tuple[list[str], list[float]]:
    if frame.empty:
        return [], []
    totals = frame.groupby(label)[value].sum().sort_values(ascending=False).head(12)
    return [str(x) for x in totals.index], [float(v) for v in totals.to_numpy()]


def _by_month_service(outcomes: pd.DataFrame) -> pd.DataFrame:
    columns = ["month", "service", "lines", "billed", "paid", "patient_responsibility", "contractual",
               "denied_dollars", "lines_paid_in_full", "lines_partly_paid", "lines_denied", "lines_reversed"]
    if outcomes.empty:
        return pd.DataFrame(columns=columns)
    frame = outcomes.assign(
        service=outcomes["service"].fillna(outcomes["hcpcs"]).fillna("(no code)"),
        full=(outcomes["outcome"] == PAID_IN_FULL).astype(int), partly=(outcomes["outcome"] == PARTLY_PAID)
        .astype(int), denied=(outcomes["outcome"] == DENIED).astype(int),
        reversed=(outcomes["outcome"] == REVERSED).astype(int))
    table = frame.groupby(["month", "service"]).agg(
        lines=("key", "size"), billed=("charge_cents", "sum"), paid=("paid_cents", "sum"),
        patient_responsibility=("patient_cents", "sum"), contractual=("contractual_cents", "sum"),
        denied_dollars=("denied_cents", "sum"), lines_paid_in_full=("full", "sum"),
        lines_partly_paid=("partly", "sum"), lines_denied=("denied", "sum"),
        lines_reversed=("reversed", "sum")).reset_index()
    for column in ("billed", "paid", "patient_responsibility", "contractual", "denied_dollars"):
        table[column] = _dollars(table[column])
    return table[columns]


def _by_carc(lines: pd.DataFrame, adjustments: pd.DataFrame, outcomes: pd.DataFrame,
             descriptions: dict[str, str]) -> pd.DataFrame:
    columns = ["group", "group_name", "carc", "code", "description", "adjustments", "lines", "dollars",
               "lines_denied_for_it"]
    if adjustments.empty or outcomes.empty:
        return pd.DataFrame(columns=columns)
    own = lines["file_sha256"].astype(str) + "#" + lines["line_no"].astype(str)
    keys = lines.assign(key=lines["claim_id"].where(lines["claim_id"].notna(), own))[["file_sha256", "line_no",
                                                                                        "key"]]
    frame = adjustments.merge(keys, on=["file_sha256", "line_no"])
    frame = frame[frame["key"].isin(outcomes["key"])]
    frame = frame.assign(code=frame["group_code"] + "-" + frame["carc"])
    table = frame.groupby(["group_code", "carc", "code"]).agg(
        adjustments=("amount_cents", "size"), lines=("key", "nunique"), dollars=("amount_cents", "sum")).reset_index()
    primary = outcomes[outcomes["outcome"] == DENIED]["primary_carc"].value_counts()
    table["lines_denied_for_it"] = table["code"].map(primary).fillna(0).astype("int64")
    table["dollars"] = _dollars(table["dollars"])
    table = table.rename(columns={"group_code": "group"}).assign(
        group_name=lambda f: f["group"].map(GROUPS).fillna(""),
        description=lambda f: f["code"].map(descriptions).fillna(f["carc"].map(descriptions)).fillna(""))
    return table.sort_values(["dollars", "adjustments"], ascending=False)[columns].reset_index(drop=True)


def _missed_edits(passed: pd.DataFrame, descriptions: dict[str, str]) -> pd.DataFrame:
    columns = ["primary_carc", "description", "service", "lines", "billed", "remarks", "claim_ids"]
    denied = passed[passed["outcome"] == DENIED]
    if denied.empty:
        return pd.DataFrame(columns=columns)
    table = denied.groupby(["primary_carc", "service"]).agg(
        lines=("key", "size"), billed=("charge_cents", "sum"),
        remarks=("remarks", lambda r: " ".join(sorted({x for v in r for x in str(v).split()}))),
        claim_ids=("claim_id", lambda c: " ".join(sorted(c)[:5]) + (" ..." if len(c) > 5 else ""))).reset_index()
    table["billed"] = _dollars(table["billed"])
    table["description"] = table["primary_carc"].map(descriptions).fillna(
        table["primary_carc"].str.split("-").str[-1].map(descriptions)).fillna("")
    return table.sort_values(["lines", "billed"], ascending=False)[columns].reset_index(drop=True)


def _corrected_then_paid(store: SqliteLedger, passed: pd.DataFrame) -> pd.DataFrame:
    """Claims a run rejected that a later run passed and the payer paid, by the rule that had held them."""
    columns = ["rule", "rule_name", "claims", "paid"]
    paid = passed[passed["outcome"].isin([PAID_IN_FULL, PARTLY_PAID]) & passed["run_id"].notna()]
    if paid.empty:
        return pd.DataFrame(columns=columns)
    runs = runs_frame(store)
    order = runs.set_index("run_id")["order"]
    table = store.findings(runs.loc[runs["status"] == "committed", "run_id"].tolist())
    if table.num_rows == 0:
        return pd.DataFrame(columns=columns)
    findings = table.select(["claim_id", "rule", "rule_name", "disposition", "run_id"]).to_pandas()
    held = findings[(findings["disposition"] == "rejected") & findings["claim_id"].isin(paid["claim_id"])]
    held = held.merge(paid[["claim_id", "run_id", "paid_cents"]].rename(columns={"run_id": "passed_in"}),
                      on="claim_id")
    held = held[held["run_id"].map(order) < held["passed_in"].map(order)]
    held = held.drop_duplicates(["claim_id", "rule"])
    if held.empty:
        return pd.DataFrame(columns=columns)
    out = held.groupby(["rule", "rule_name"]).agg(claims=("claim_id", "nunique"), paid=("paid_cents", "sum"))
    out["paid"] = _dollars(out["paid"])
    return out.reset_index().sort_values("paid", ascending=False)[columns].reset_index(drop=True)


def _paid_in_full_by_month(passed: pd.DataFrame) -> pd.DataFrame:
    columns = ["month", "passed_lines_remitted", "paid_in_full", "share_paid_in_full", "denied"]
    if passed.empty:
        return pd.DataFrame(columns=columns)
    frame = passed.assign(full=(passed["outcome"] == PAID_IN_FULL).astype(int),
                          denied=(passed["outcome"] == DENIED).astype(int))
    table = frame.groupby("month").agg(passed_lines_remitted=("key", "size"), paid_in_full=("full", "sum"),
                                       denied=("denied", "sum")).reset_index()
    table["share_paid_in_full"] = table["paid_in_full"] / table["passed_lines_remitted"]
    return table[columns]


def _unmatched(lines: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    columns = ["file", "segment", "patient_control", "line_control", "service_date", "code", "charge", "paid",
               "claim_status"]
    missing = lines[lines["claim_id"].isna()]
    own = missing["file_sha256"].astype(str) + "#" + missing["line_no"].astype(str)
    missing = missing[own.isin(outcomes["key"])]
    if missing.empty:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({
        "file": missing["file_name"],
        "segment": missing["segment"], "patient_control": missing["patient_control"],
        "line_control": missing["line_control"], "service_date": missing["service_date"],
        "code": (missing["hcpcs"].fillna("") + " " + missing["modifiers"].fillna("")).str.strip(),
        "charge": _dollars(missing["charge_cents"]), "paid": _dollars(missing["paid_cents"]),
        "claim_status": missing["claim_status"],
    })[columns].reset_index(drop=True)
