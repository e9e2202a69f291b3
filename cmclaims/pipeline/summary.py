"""summary.json: what the run read, what it found, and what it billed (SPEC section 3).

Counts always add up: lines_in = lines_clean + lines_rejected, and likewise
for units and dollars (the clean side at the export's units and charges;
`*_billable` is what the clean file bills after adjustments).
"""

from __future__ import annotations

import numpy as np

from cmclaims.pipeline.checks import ADJUSTED, PASS, REJECTED, WARNING, Outcome
from cmclaims.rules.context import Context


def _money(values: np.ndarray) -> float:
    return round(float(np.nansum(values)), 2)


def totals(ctx: Context, outcome: Outcome) -> dict[str, dict[str, float | int]]:
    """Lines, units and dollars in, clean, rejected, adjusted."""
    disposition = outcome.disposition
    rejected = disposition == REJECTED
    clean = ~rejected
    units_in = np.where(ctx.column("parsed"), ctx.units.billed, 0).astype(np.int64)
    charge = ctx.column("charge_amount")
    allowed_charge = outcome.charge_allowed
    return {
        "counts": {
            "lines_in": int(disposition.size),
            "lines_clean": int(clean.sum()),
            "lines_rejected": int(rejected.sum()),
            "lines_adjusted": int((disposition == ADJUSTED).sum()),
            "lines_warned": int((disposition == WARNING).sum()),
            "lines_passed": int((disposition == PASS).sum()),
        },
        "units": {
            "units_in": int(units_in.sum()),
            "units_clean": int(units_in[clean].sum()),
            "units_rejected": int(units_in[rejected].sum()),
            "units_billable": int(outcome.billable.sum()),
            "units_adjustment": int(outcome.billable[clean].sum() - units_in[clean].sum()),
        },
        "dollars": {
            "charge_in": _money(charge),
            "charge_clean": _money(charge[clean]),
            "charge_rejected": _money(charge[rejected]),
            "charge_billable": _money(allowed_charge[clean]),
            "charge_adjustment": round(_money(allowed_charge[clean]) - _money(charge[clean]), 2),
        },
    }


def findings_by_rule(ctx: Context, outcome: Outcome) -> list[dict[str, object]]:
    """Per rule that found something: findings, lines, and dollars it held back."""
    charge = np.nan_to_num(ctx.column("charge_amount"))
    held = charge - np.nan_to_num(outcome.charge_allowed)
    result = []
    for finding in sorted(outcome.findings, key=lambda f: f.rule.code):
        rows = finding.rows
        result.append(
            {
                "rule": finding.rule.code,
                "name": finding.rule.name,
                "severity": finding.rule.severity_in(ctx.profile),
                "findings": int(rows.size),
                "lines_rejected": int((outcome.disposition[rows] == REJECTED).sum()),
                "lines_adjusted": int((outcome.disposition[rows] == ADJUSTED).sum()),
                "lines_warned": int((outcome.disposition[rows] == WARNING).sum()),
                "charge_held": round(float(held[rows].sum()), 2),
            }
        )
    return result
