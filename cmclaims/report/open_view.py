"""`cmclaims report open`: the open exceptions, their age and dollars, by rule and staff.

Counts and dollars only, unless the user asks for the detail (`--detail`):
the list of open claims with member ids that is needed to work them.
"""

from __future__ import annotations

from cmclaims.report.model import Chart, Report, ReportTable
from cmclaims.report.open_items import BUCKET_ORDER, OpenItems, aging_table, open_by_rule, open_by_staff

TOP_CHART_RULES = 12


def build_open_report(items: OpenItems, *, detail: bool, ledger: str, include_adjusted: bool) -> Report:
    """The open items as of their day; with `detail`, one row per open claim with its member id."""
    aging = aging_table(items)
    rules = open_by_rule(items)
    staff = open_by_staff(items)
    held = float(items.claims["dollars_held"].sum())
    at_risk = items.claims["aging_bucket"].isin(["91-180", "over 180"])
    facts = [
        ("as of", f"{items.as_of} (runs, remittances and write-offs up to that day)"),
        ("ledger", ledger),
        ("open items", f"{len(items.claims):,} claim{'' if len(items.claims) == 1 else 's'}, ${held:,.2f} held back"),
        ("timely-filing risk", f"{int(at_risk.sum()):,} claims over 90 days old, "
                               f"${float(items.claims.loc[at_risk, 'dollars_held'].sum()):,.2f}"),
        ("resolved", f"{items.resolved_passed:,} passed in a later run, {items.written_off:,} written off"),
        ("what counts as open", "rejected lines" + (" and adjusted lines" if include_adjusted else "")
                                + ", and lines the payer denied (`cmclaims remit`) until paid or written off"),
        ("denied by the payer", f"{items.payer_denied:,} of the open claims (their rule is the denial's CARC)"),
    ]
    notes = []
    if items.untracked_lines:
        notes.append(f"{items.untracked_lines:,} rejected lines have no claim_id and cannot be followed from run "
                     "to run; they are not in this list (see their runs' exceptions files)")
    buckets = tuple(BUCKET_ORDER)
    tables = [
        ReportTable("aging", "Open items by age (days from the date of service)", aging, money=("dollars_held",),
                    percent=("share_of_dollars",), whole=True),
        ReportTable("by_rule", "Open items by rule", rules, money=("dollars_held", *buckets),
                    note="a claim held by two rules counts under both"),
        ReportTable("by_staff", "Open items by staff", staff, money=("dollars_held", *buckets)),
    ]
    if detail:
        tables.append(ReportTable("detail", "Open items: detail to work the list (holds member ids)",
                                  items.claims, money=("charge", "dollars_held"), phi=True,
                                  brief=("claim_id", "member_id", "service_date", "age_days", "hcpcs", "staff_id",
                                         "rules", "dollars_held", "times_rejected", "last_rejected")))
    top = rules.head(TOP_CHART_RULES)
    charts = [
        Chart("aging", "Open dollars by age (days from the date of service)", aging["age"].astype(str).tolist(),
              aging["dollars_held"].astype(float).tolist(), unit="money"),
        Chart("held_by_rule", "Open dollars held by rule",
              (top["rule"].astype(str) + " " + top["rule_name"].astype(str)).tolist(),
              top["dollars_held"].astype(float).tolist(), unit="money"),
    ]
    return Report("open", f"Open exceptions as of {items.as_of}", facts, tables, charts, notes=notes, charts_after=1)
