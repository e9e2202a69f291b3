"""`cmclaims report period`: lines, units and dollars billed and held per month of service, and the trend.

Every line counts in the month of its date of service, the month a payer
and a manager think in, whichever night it was validated: a new ledger shows
the months its lines fall in, and only those (a month without lines is left
out, not shown as a row of zeros). "Billed" is what the clean files bill
(after adjustments, as the ledger recorded it); "held" is what the runs kept
back: the rejected lines' dollars and the adjustments' cuts. Lines whose
date of service could not be read belong to no month; they are counted in a
note. Imported billing histories are not runs of cmclaims and are left out.
The open items at the end of the period are included, so that one file
answers a month-end meeting.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from cmclaims.errors import ConfigError
from cmclaims.ledger.store import LedgerStore
from cmclaims.report.breakdown import by_rule
from cmclaims.report.dates import service_days
from cmclaims.report.first_pass import first_pass_by_claim, first_pass_by_run
from cmclaims.report.model import Chart, Report, ReportTable
from cmclaims.report.open_items import aging_table, load_open_items, open_by_rule, runs_frame
from cmclaims.report.run_files import exceptions_frame

MONEY = ("dollars_in", "dollars_billed", "dollars_held", "dollars_rejected", "dollars_cut_back")
TOP_RULES = 12
_LINE_KEY = ["run_id", "source_file", "source_row"]


def default_start(end: dt.date) -> dt.date:
    """Twelve months back: the first day of the month eleven months before `end`'s."""
    month = end.year * 12 + end.month - 1 - 11
    return dt.date(month // 12, month % 12 + 1, 1)


def _totals(runs: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Runs and their counts summed per `key` (a run): from the runs' own records."""
    totals = runs.groupby(key).agg(
        runs=("run_id", "size"), lines_in=("lines_in", "sum"), lines_clean=("lines_clean", "sum"),
        lines_rejected=("lines_rejected", "sum"), lines_adjusted=("lines_adjusted", "sum"),
        units_in=("units_in", "sum"), units_billed=("units_billable", "sum"), dollars_in=("charge_in", "sum"),
        dollars_billed=("charge_billable", "sum"), dollars_rejected=("charge_rejected", "sum"),
        dollars_clean=("charge_clean", "sum"), first_seen=("first_seen", "sum"), first_clean=("first_clean", "sum"),
    )
    totals["dollars_held"] = (totals["dollars_in"] - totals["dollars_billed"]).round(2)
    totals["first_pass_clean_rate"] = totals["first_clean"] / totals["first_seen"].where(totals["first_seen"] > 0)
    return totals


def _in_period(days: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    return (days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))


def _by_service_month(lines: pd.DataFrame, findings: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Per month of service: runs, lines, units and dollars billed and held, first-pass clean rate."""
    held = findings.drop_duplicates(_LINE_KEY)  # a line with two findings is one line
    rejected = held[held["disposition"] == "rejected"]
    adjusted = held[held["disposition"] == "adjusted"]
    parts = {
        "lines_clean": lines.groupby("month").size(),
        "units_billed": lines.groupby("month")["units"].sum(),
        "dollars_billed": lines.groupby("month")["charge"].sum(),
        "lines_rejected": rejected.groupby("month").size(),
        "units_rejected": rejected.groupby("month")["units_billed"].sum(),
        "dollars_rejected": rejected.groupby("month")["charge"].sum(),
        "lines_adjusted": adjusted.groupby("month").size(),
        "units_cut_back": (adjusted["units_billed"] - adjusted["units_allowed"]).groupby(adjusted["month"]).sum(),
        "dollars_cut_back": adjusted.groupby("month")["charge_held"].sum(),
        "runs": pd.concat([lines[["month", "run_id"]], held[["month", "run_id"]]]).groupby("month")["run_id"]
        .nunique(),
        "first_seen": claims.groupby("month").size(),
        "first_clean": (1 - claims["rejected"]).groupby(claims["month"]).sum(),
    }
    monthly = pd.DataFrame(parts).fillna(0).sort_index()
    monthly["lines_in"] = monthly["lines_clean"] + monthly["lines_rejected"]
    monthly["units_held"] = monthly["units_rejected"] + monthly["units_cut_back"]
    monthly["units_in"] = monthly["units_billed"] + monthly["units_held"]
    monthly["dollars_held"] = (monthly["dollars_rejected"] + monthly["dollars_cut_back"]).round(2)
    monthly["dollars_in"] = (monthly["dollars_billed"] + monthly["dollars_held"]).round(2)
    for column in ("dollars_billed", "dollars_rejected", "dollars_cut_back"):
        monthly[column] = monthly[column].round(2)
    monthly["first_pass_clean_rate"] = monthly["first_clean"] / monthly["first_seen"].where(monthly["first_seen"] > 0)
    monthly = monthly[monthly["lines_in"] > 0]  # a month without lines is no row of zeros
    # The trend: this month against the month before it in the table, in percentage points and dollars.
    monthly["clean_rate_change"] = monthly["first_pass_clean_rate"].diff()
    monthly["dollars_held_change"] = monthly["dollars_held"].diff().round(2)
    return monthly.reset_index(names="month")


def build_period_report(store: LedgerStore, start: dt.date, end: dt.date, *, profile: str | None = None) -> Report:
    """The period's months of service, its runs, top rules and open items at its end."""
    if start > end:
        raise ConfigError(f"--from {start} is after --to {end}")
    runs = runs_frame(store)
    validate_runs = runs[(runs["status"] == "committed") & (runs["kind"] == "validate")]
    if profile is not None:
        validate_runs = validate_runs[validate_runs["profile"] == profile]
    ids = validate_runs["run_id"].tolist()

    lines = store.lines(columns=["claim_id", "service_day", "units", "charge"], run_ids=ids).to_pandas() if ids \
        else pd.DataFrame(columns=["claim_id", "service_day", "units", "charge", "run_id"])
    line_days = pd.to_datetime(lines["service_day"].astype("int64"), unit="D")
    lines = lines[_in_period(line_days, start, end)].assign(month=line_days.dt.strftime("%Y-%m"),
                                                            charge=lines["charge"].fillna(0.0))
    table = store.findings(ids) if ids else pa.table({})
    findings = exceptions_frame(table)
    findings["run_id"] = table.column("run_id").to_pandas() if table.num_rows else None
    finding_days = service_days(findings["service_date"])
    undated = findings[finding_days.isna() & findings["disposition"].isin(["rejected", "adjusted"])] \
        .drop_duplicates(_LINE_KEY)
    findings = findings[_in_period(finding_days, start, end)].assign(month=finding_days.dt.strftime("%Y-%m"))
    claims = first_pass_by_claim(store, runs[runs["profile"] == profile] if profile else runs)
    claims = claims[_in_period(claims["service_day"], start, end)]
    claims = claims.assign(month=claims["service_day"].dt.strftime("%Y-%m"))

    monthly = _by_service_month(lines, findings, claims)
    chosen = validate_runs[validate_runs["run_id"].isin(set(lines["run_id"]) | set(findings["run_id"]))]
    first = first_pass_by_run(store, runs)
    chosen = chosen.merge(first, on="run_id", how="left").fillna({"first_seen": 0, "first_clean": 0})
    per_run = _totals(chosen, chosen["run_id"]).reset_index() if len(chosen) else pd.DataFrame(columns=["run_id"])
    per_run = chosen[["run_id", "profile", "day"]].merge(per_run, on="run_id").assign(
        finished=lambda f: f["day"].dt.strftime("%Y-%m-%d"), claims_first_seen=lambda f: f["first_seen"])

    rules = by_rule(findings)
    by_month = _held_by_rule_month(findings)
    items = load_open_items(store, end, profile=profile)
    aging = aging_table(items)
    open_rules = open_by_rule(items)

    facts = [
        ("period", f"{start} to {end} (lines by their date of service)"),
        ("profile", profile or "all"),
        ("ledger", str(store.path)),
        ("runs", f"{len(chosen):,} (with lines of the period)"),
    ]
    if len(monthly):
        seen, clean = monthly["first_seen"].sum(), monthly["first_clean"].sum()
        facts += [
            ("lines in / clean / rejected", f"{monthly['lines_in'].sum():,.0f} / {monthly['lines_clean'].sum():,.0f}"
                                            f" / {monthly['lines_rejected'].sum():,.0f}"),
            ("dollars billed / held", f"${monthly['dollars_billed'].sum():,.2f} / "
                                      f"${monthly['dollars_held'].sum():,.2f}"),
            ("first-pass clean rate", f"{clean / seen:.1%}" if seen else "n/a"),
        ]
    facts.append(("open at period end", f"{len(items.claims):,} claim{'' if len(items.claims) == 1 else 's'}, "
                                        f"${items.claims['dollars_held'].sum():,.2f} held"))
    notes = []
    if len(undated):
        notes.append(f"{len(undated):,} held-back lines of these runs have no valid date of service and are in no "
                     "month (see `cmclaims report open`)")
    month_columns = ["month", "runs", "lines_in", "lines_clean", "lines_rejected", "lines_adjusted", "units_in",
                     "units_billed", "units_held", "dollars_in", "dollars_billed", "dollars_held",
                     "dollars_rejected", "dollars_cut_back", "first_pass_clean_rate", "clean_rate_change",
                     "dollars_held_change"]
    run_columns = ["run_id", "finished", "profile", "lines_in", "lines_clean", "lines_rejected", "units_billed",
                   "dollars_in", "dollars_billed", "dollars_held", "claims_first_seen", "first_pass_clean_rate"]
    tables = [
        ReportTable("months", "Per month of service: billed, held and first-pass clean rate",
                    monthly.reindex(columns=month_columns),
                    money=(*MONEY, "dollars_held_change"), percent=("first_pass_clean_rate", "clean_rate_change"),
                    note="months without lines are left out; clean rate change is against the month above, in "
                         "percentage points", whole=True,
                    brief=("month", "runs", "lines_in", "lines_clean", "lines_rejected", "dollars_billed",
                           "dollars_held", "first_pass_clean_rate", "clean_rate_change")),
        ReportTable("runs", "Runs with lines of the period (each run's whole totals)", per_run[run_columns]
                    if len(per_run) else pd.DataFrame(columns=run_columns), money=MONEY,
                    percent=("first_pass_clean_rate",),
                    brief=("run_id", "finished", "lines_in", "lines_rejected", "dollars_billed", "dollars_held",
                           "claims_first_seen", "first_pass_clean_rate")),
        ReportTable("top_rules", "Top rules in the period", rules, money=("dollars_held",),
                    note="a line flagged by two rules counts under both; the months above count it once"),
        ReportTable("held_by_rule_month", "Dollars held by rule and month of service", by_month,
                    money=tuple(c for c in by_month.columns if c not in ("rule", "rule_name")),
                    brief=("rule", "rule_name", *[c for c in by_month.columns if c[:2] == "20"][-3:], "total")),
        ReportTable("open_aging", f"Open at period end ({end}): age from the date of service", aging,
                    money=("dollars_held",), percent=("share_of_dollars",), whole=True),
        ReportTable("open_by_rule", f"Open at period end ({end}) by rule", open_rules,
                    money=tuple(c for c in open_rules.columns if c not in ("rule", "rule_name", "open_claims"))),
    ]
    return Report("period", f"Period {start} to {end}", facts, tables, _charts(monthly, rules, aging),
                  notes=notes, charts_after=1)


def _held_by_rule_month(findings: pd.DataFrame) -> pd.DataFrame:
    """Dollars each rule held, per month of service: rules down, months across."""
    if findings.empty:
        return pd.DataFrame(columns=["rule", "rule_name"])
    table = findings.assign(held=findings["charge_held"].fillna(0.0)).pivot_table(
        index=["rule", "rule_name"], columns="month", values="held", aggfunc="sum", fill_value=0.0)
    table["total"] = table.sum(axis=1)
    table = table.round(2).sort_values("total", ascending=False).reset_index()
    table.columns = [str(c) for c in table.columns]
    return table


def _charts(monthly: pd.DataFrame, rules: pd.DataFrame, aging: pd.DataFrame) -> list[Chart]:
    rated = monthly[monthly["first_pass_clean_rate"].notna()]
    by_findings = rules.nlargest(TOP_RULES, "findings") if len(rules) else rules
    by_dollars = rules.head(TOP_RULES)
    return [
        Chart("clean_rate", "First-pass clean rate by month of service", rated["month"].tolist(),
              [float(r) for r in rated["first_pass_clean_rate"]], kind="line", unit="percent"),
        Chart("held_by_month", "Dollars held per month of service", monthly["month"].tolist(),
              monthly["dollars_held"].astype(float).tolist(), unit="money"),
        Chart("exceptions_by_rule", "Exceptions by rule", _rule_labels(by_findings),
              by_findings["findings"].astype(float).tolist()),
        Chart("held_by_rule", "Dollars held back by rule", _rule_labels(by_dollars),
              by_dollars["dollars_held"].astype(float).tolist(), unit="money"),
        Chart("aging", "Open at period end: dollars by age (days from the date of service)",
              aging["age"].astype(str).tolist(), aging["dollars_held"].astype(float).tolist(), unit="money"),
    ]


def _rule_labels(rules: pd.DataFrame) -> list[str]:
    return (rules["rule"].astype(str) + " " + rules["rule_name"].astype(str)).tolist()
