"""summary.json's counts from partitions: summed exactly, to the same figures a local run gives.

Dollars are summed as whole cents (every charge is a dollar amount to the
cent), so the order in which partitions are added changes nothing.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cmclaims.pipeline.checks import ADJUSTED, PASS, REJECTED, WARNING, Outcome
from cmclaims.rules import rules_in_order
from cmclaims.rules.context import Context
from cmclaims.rules.registry import Rule

INPUT_REJECTED = "lines_rejected_by_input"
COUNTS = ("lines_in", "lines_clean", "lines_rejected", "lines_adjusted", "lines_warned", "lines_passed")
UNITS = ("units_in", "units_clean", "units_rejected", "units_billable")
CENTS = ("charge_in", "charge_clean", "charge_rejected", "charge_billable")


def _cents(values: np.ndarray) -> int:
    known = values[~np.isnan(values)]
    return int(np.round(known * 100).astype(np.int64).sum())


def partition_counts(ctx: Context, outcome: Outcome) -> pa.Table:
    """One row: the partition's lines, units and cents, as summary.json counts them."""
    disposition = outcome.disposition
    rejected = disposition == REJECTED
    clean = ~rejected
    units_in = np.where(ctx.column("parsed"), ctx.units.billed, 0).astype(np.int64)
    charge = ctx.column("charge_amount")
    allowed = outcome.charge_allowed
    row = {
        "lines_in": disposition.size,
        "lines_clean": int(clean.sum()),
        "lines_rejected": int(rejected.sum()),
        "lines_adjusted": int((disposition == ADJUSTED).sum()),
        "lines_warned": int((disposition == WARNING).sum()),
        "lines_passed": int((disposition == PASS).sum()),
        "units_in": int(units_in.sum()),
        "units_clean": int(units_in[clean].sum()),
        "units_rejected": int(units_in[rejected].sum()),
        "units_billable": int(outcome.billable.sum()),
        "charge_in": _cents(charge),
        "charge_clean": _cents(charge[clean]),
        "charge_rejected": _cents(charge[rejected]),
        "charge_billable": _cents(allowed[clean]),
        INPUT_REJECTED: int(_rejected_by_input(outcome).sum()),
    }
    return pa.table({name: pa.array([value], pa.int64()) for name, value in row.items()})


def _rejected_by_input(outcome: Outcome) -> np.ndarray:
    """Lines rejected by an input (CM0) check: what --max-input-errors weighs (pipeline/alarm.py)."""
    rejected = np.zeros(outcome.disposition.size, dtype=bool)
    for finding in outcome.findings:
        rule = finding.rule
        if rule.stage == "input" and rule.severity == "error" and rule.effect == "reject":
            rejected[finding.rows] = True
    return rejected


def combine_counts(tables: list[pa.Table]) -> dict[str, dict[str, float | int]]:
    """summary.json's counts, units and dollars from every partition's counts."""
    total = {name: sum(int(t.column(name)[0].as_py()) for t in tables) for name in COUNTS + UNITS + CENTS}
    dollars = {name: total[name] / 100 for name in CENTS}
    return {
        "counts": {name: total[name] for name in COUNTS},
        "units": {
            **{name: total[name] for name in UNITS},
            "units_adjustment": total["units_billable"] - total["units_clean"],
        },
        "dollars": {
            **dollars,
            "charge_adjustment": round(dollars["charge_billable"] - dollars["charge_clean"], 2),
        },
    }


def partition_findings(ctx: Context, outcome: Outcome) -> pa.Table:
    """Per rule that found something: its findings, the lines it rejected, the cents it held back."""
    charge = np.nan_to_num(ctx.column("charge_amount"))
    allowed = np.nan_to_num(outcome.charge_allowed)
    codes, found, rejected, adjusted, warned, held = [], [], [], [], [], []
    for finding in outcome.findings:
        rows = finding.rows
        codes.append(finding.rule.code)
        found.append(rows.size)
        rejected.append(int((outcome.disposition[rows] == REJECTED).sum()))
        adjusted.append(int((outcome.disposition[rows] == ADJUSTED).sum()))
        warned.append(int((outcome.disposition[rows] == WARNING).sum()))
        held.append(_cents(charge[rows]) - _cents(allowed[rows]))
    return pa.table({"rule": pa.array(codes, pa.string()), "findings": pa.array(found, pa.int64()),
                     "lines_rejected": pa.array(rejected, pa.int64()), "lines_adjusted": pa.array(adjusted, pa.int64()),
                     "lines_warned": pa.array(warned, pa.int64()), "charge_held": pa.array(held, pa.int64())})


def combine_findings(tables: list[pa.Table]) -> list[dict[str, object]]:
    """summary.json's findings per rule, from every partition's."""
    if not tables:
        return []
    frame = pa.concat_tables(tables).to_pandas().groupby("rule", sort=True).sum()
    by_code = {r.code: r for r in rules_in_order()}
    return [
        {
            "rule": code,
            "name": by_code[code].name,
            "severity": by_code[code].severity,
            "findings": int(row.findings),
            "lines_rejected": int(row.lines_rejected),
            "lines_adjusted": int(row.lines_adjusted),
            "lines_warned": int(row.lines_warned),
            "charge_held": int(row.charge_held) / 100,
        }
        for code, row in frame.iterrows()
    ]


def partition_rules(outcome: Outcome) -> pa.Table:
    """The rules the partition applied and skipped (with why), in the order they ran."""
    codes = [r.code for r in outcome.applied] + [r.code for r, _ in outcome.skipped]
    reasons = [None] * len(outcome.applied) + [why for _, why in outcome.skipped]
    return pa.table({"rule": pa.array(codes, pa.string()), "skipped": pa.array(reasons, pa.string())})


def rules_of(table: pa.Table) -> tuple[list[Rule], list[tuple[Rule, str]]]:
    """The applied and skipped rules of a partition's `rules` table."""
    by_code = {r.code: r for r in rules_in_order()}
    applied: list[Rule] = []
    skipped: list[tuple[Rule, str]] = []
    for code, why in zip(table.column("rule").to_pylist(), table.column("skipped").to_pylist(), strict=True):
        if why is None:
            applied.append(by_code[code])
        else:
            skipped.append((by_code[code], why))
    return applied, skipped
