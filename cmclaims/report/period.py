"""`cmclaims report period`: runs, lines, units and dollars billed and held per month, and the trend.

A run belongs to the local calendar month it finished in (the night it was
billed), not to its lines' dates of service. "Billed" is what the clean files
bill (after adjustments); "held" is what the runs kept back: the rejected
lines' dollars and the adjustments' cuts. Imported billing histories are not
runs of cmclaims and are left out. The open items at the end of the period
are included, so that one file answers a month-end meeting.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from cmclaims.errors import ConfigError
from cmclaims.ledger.store import LedgerStore
from cmclaims.report.breakdown import by_rule
from cmclaims.report.first_pass import first_pass_by_run
from cmclaims.report.model import Chart, Report, ReportTable
from cmclaims.report.open_items import aging_table, load_open_items, open_by_rule, runs_frame
from cmclaims.report.run_files import exceptions_frame

MONEY = ("dollars_in", "dollars_billed", "dollars_held", "dollars_rejected", "dollars_cut_back")
MOST_RUNS_CHARTED = 62  # more runs than about two months of nights: chart the months instead
TOP_RULES = 12


def default_start(end: dt.date) -> dt.date:
    """Twelve months back: the first day of the month eleven months before `end`'s."""
    month = end.year * 12 + end.month - 1 - 11
    return dt.date(month // 12, month % 12 + 1, 1)


def _totals(runs: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Runs and their counts summed per `key` (a month, a run)."""
    totals = runs.groupby(key).agg(
        runs=("run_id", "size"), lines_in=("lines_in", "sum"), lines_clean=("lines_clean", "sum"),
        lines_rejected=("lines_rejected", "sum"), lines_adjusted=("lines_adjusted", "sum"),
        units_in=("units_in", "sum"), units_billed=("units_billable", "sum"), dollars_in=("charge_in", "sum"),
        dollars_billed=("charge_billable", "sum"), dollars_rejected=("charge_rejected", "sum"),
        dollars_clean=("charge_clean", "sum"), first_seen=("first_seen", "sum"), first_clean=("first_clean", "sum"),
    )
    totals["units_held"] = totals["units_in"] - totals["units_billed"]
    totals["dollars_held"] = (totals["dollars_in"] - totals["dollars_billed"]).round(2)
    totals["dollars_cut_back"] = (totals["dollars_clean"] - totals["dollars_billed"]).round(2)
    share = totals["first_clean"] / totals["first_seen"].where(totals["first_seen"] > 0)
    totals["first_pass_clean_rate"] = share
    return totals


def build_period_report(store: LedgerStore, start: dt.date, end: dt.date, *, profile: str | None = None) -> Report:
    """The period's months, runs, top rules and open items at its end."""
    if start > end:
        raise ConfigError(f"--from {start} is after --to {end}")
    runs = runs_frame(store)
    first = first_pass_by_run(store, runs)
    runs = runs.merge(first, on="run_id", how="left").fillna({"first_seen": 0, "first_clean": 0})
    chosen = runs[(runs["status"] == "committed") & (runs["kind"] == "validate")
                  & (runs["day"] >= pd.Timestamp(start)) & (runs["day"] <= pd.Timestamp(end))]
    if profile is not None:
        chosen = chosen[chosen["profile"] == profile]
    months = pd.period_range(start, end, freq="M").astype(str)
    monthly = _totals(chosen, chosen["day"].dt.to_period("M").astype(str)).reindex(months)
    monthly[[c for c in monthly.columns if c != "first_pass_clean_rate"]] = monthly.drop(
        columns="first_pass_clean_rate").fillna(0)
    # The trend: this month against the month before, in percentage points and dollars.
    monthly["clean_rate_change"] = monthly["first_pass_clean_rate"].diff()
    monthly["dollars_held_change"] = monthly["dollars_held"].diff().round(2)
    monthly = monthly.reset_index(names="month")

    per_run = _totals(chosen, chosen["run_id"]).reset_index()
    per_run = chosen[["run_id", "profile", "day"]].merge(per_run, on="run_id").assign(
        finished=lambda f: f["day"].dt.strftime("%Y-%m-%d"), claims_first_seen=lambda f: f["first_seen"])

    table = store.findings(chosen["run_id"].tolist()) if len(chosen) else pa.table({})
    findings = exceptions_frame(table)
    findings["run_id"] = table.column("run_id").to_pandas() if table.num_rows else None
    rules = by_rule(findings)
    by_month = _held_by_rule_month(findings, chosen)
    items = load_open_items(store, end, profile=profile)
    aging = aging_table(items)
    open_rules = open_by_rule(items)

    total = _totals(chosen, pd.Series("all", index=chosen.index)) if len(chosen) else None
    facts = [
        ("period", f"{start} to {end} (runs by the local day they finished)"),
        ("profile", profile or "all"),
        ("ledger", str(store.path)),
        ("runs", f"{len(chosen):,}"),
    ]
    if total is not None:
        row = total.iloc[0]
        rate = row["first_pass_clean_rate"]
        facts += [
            ("lines in / clean / rejected", f"{row['lines_in']:,.0f} / {row['lines_clean']:,.0f} / "
                                            f"{row['lines_rejected']:,.0f}"),
            ("dollars billed / held", f"${row['dollars_billed']:,.2f} / ${row['dollars_held']:,.2f}"),
            ("first-pass clean rate", "n/a" if pd.isna(rate) else f"{rate:.1%}"),
        ]
    facts.append(("open at period end", f"{len(items.claims):,} claim{'' if len(items.claims) == 1 else 's'}, "
                                        f"${items.claims['dollars_held'].sum():,.2f} held"))
    month_columns = ["month", "runs", "lines_in", "lines_clean", "lines_rejected", "lines_adjusted", "units_in",
                     "units_billed", "units_held", "dollars_in", "dollars_billed", "dollars_held",
                     "dollars_rejected", "dollars_cut_back", "first_pass_clean_rate", "clean_rate_change",
                     "dollars_held_change"]
    run_columns = ["run_id", "finished", "profile", "lines_in", "lines_clean", "lines_rejected", "units_billed",
                   "dollars_in", "dollars_billed", "dollars_held", "claims_first_seen", "first_pass_clean_rate"]
    tables = [
        ReportTable("months", "Per month: billed, held and first-pass clean rate", monthly[month_columns],
                    money=(*MONEY, "dollars_held_change"), percent=("first_pass_clean_rate", "clean_rate_change"),
                    note="clean rate change is against the month before, in percentage points", whole=True,
                    brief=("month", "runs", "lines_in", "lines_clean", "lines_rejected", "dollars_billed",
                           "dollars_held", "first_pass_clean_rate", "clean_rate_change")),
        ReportTable("runs", "Runs in the period", per_run[run_columns] if len(per_run) else
                    pd.DataFrame(columns=run_columns), money=MONEY, percent=("first_pass_clean_rate",),
                    brief=("run_id", "finished", "lines_in", "lines_rejected", "dollars_billed", "dollars_held",
                           "claims_first_seen", "first_pass_clean_rate")),
        ReportTable("top_rules", "Top rules in the period", rules, money=("dollars_held",)),
        ReportTable("held_by_rule_month", "Dollars held by rule and month", by_month,
                    money=tuple(c for c in by_month.columns if c not in ("rule", "rule_name")),
                    brief=("rule", "rule_name", *[c for c in by_month.columns if c[:2] == "20"][-3:], "total")),
        ReportTable("open_aging", f"Open at period end ({end}): age from the date of service", aging,
                    money=("dollars_held",), percent=("share_of_dollars",), whole=True),
        ReportTable("open_by_rule", f"Open at period end ({end}) by rule", open_rules,
                    money=tuple(c for c in open_rules.columns if c not in ("rule", "rule_name", "open_claims"))),
    ]
    return Report("period", f"Period {start} to {end}", facts, tables, _charts(monthly, per_run, rules, aging),
                  charts_after=1)


def _held_by_rule_month(findings: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """Dollars each rule held, per month of the run: rules down, months across."""
    if findings.empty:
        return pd.DataFrame(columns=["rule", "rule_name"])
    month = findings["run_id"].map(chosen.set_index("run_id")["day"].dt.to_period("M").astype(str))
    table = findings.assign(month=month, held=findings["charge_held"].fillna(0.0)).pivot_table(
        index=["rule", "rule_name"], columns="month", values="held", aggfunc="sum", fill_value=0.0)
    table["total"] = table.sum(axis=1)
    table = table.round(2).sort_values("total", ascending=False).reset_index()
    table.columns = [str(c) for c in table.columns]
    return table


def _charts(monthly: pd.DataFrame, per_run: pd.DataFrame, rules: pd.DataFrame, aging: pd.DataFrame) -> list[Chart]:
    if 0 < len(per_run) <= MOST_RUNS_CHARTED:
        rated = per_run[per_run["claims_first_seen"] > 0]
        labels, rates = rated["finished"].tolist(), rated["first_pass_clean_rate"].tolist()
        over = "first-pass clean rate by run"
    else:
        rated = monthly[monthly["first_pass_clean_rate"].notna()]
        labels, rates = rated["month"].tolist(), rated["first_pass_clean_rate"].tolist()
        over = "first-pass clean rate by month"
    by_findings = rules.nlargest(TOP_RULES, "findings") if len(rules) else rules
    by_dollars = rules.head(TOP_RULES)
    return [
        Chart("clean_rate", f"Clean rate over time ({over})", labels, [float(r) for r in rates], kind="line",
              unit="percent"),
        Chart("held_by_month", "Dollars held per month", monthly["month"].tolist(),
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
