"""A night that is wrong as a whole must not look like a normal night (SPEC section 1).

A changed date format, a wrong profile or a shifted column rejects most lines
with CM0 findings. Billing the few lines left and recording them would let a
broken export pass for an ordinary night with many exceptions; instead the run
still writes its outputs for inspection, records nothing in the ledger and
exits 65, and the command line says so on stderr even with --quiet.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from cmclaims.pipeline.checks import Outcome
from cmclaims.rules.registry import Rule


def _rejects_input(rule: Rule) -> bool:
    """Whether the rule's findings are input (CM0) errors that reject their lines."""
    return rule.stage == "input" and rule.severity == "error" and rule.effect == "reject"


def _alarm(line_count: int, count: int, per_rule: Counter[str], names: dict[str, str], threshold: float) -> dict:
    share = count / line_count if line_count else 0.0
    top = [{"rule": code, "name": names[code], "lines": lines} for code, lines in per_rule.most_common(3)]
    return {
        "triggered": bool(line_count) and share > threshold,
        "lines_rejected_by_input_checks": count,
        "share": round(share, 4),
        "max_input_errors": threshold,
        "top_rules": top,
    }


def input_alarm(outcome: Outcome, line_count: int, threshold: float) -> dict:
    """The share of lines rejected by input (CM0) findings, and whether it is more than `threshold`."""
    rejected_by_input = np.zeros(line_count, dtype=bool)
    per_rule: Counter[str] = Counter()
    names: dict[str, str] = {}
    for finding in outcome.findings:
        rule = finding.rule
        if _rejects_input(rule):
            rejected_by_input[finding.rows] = True
            per_rule[rule.code] += int(finding.rows.size)
            names[rule.code] = rule.name
    return _alarm(line_count, int(rejected_by_input.sum()), per_rule, names, threshold)


def input_alarm_of_counts(line_count: int, count: int, findings: list[pa.Table], threshold: float) -> dict:
    """input_alarm from partitions' counts: lines rejected by input checks, and findings per rule."""
    from cmclaims.rules import rules_in_order

    totals: Counter[str] = Counter()
    for table in findings:
        for code, found in zip(table.column("rule").to_pylist(), table.column("findings").to_pylist(), strict=True):
            totals[code] += int(found)
    per_rule: Counter[str] = Counter()
    names: dict[str, str] = {}
    for rule in rules_in_order():  # the order a run finds them in, for ties
        if rule.code in totals and _rejects_input(rule):
            per_rule[rule.code] = totals[rule.code]
            names[rule.code] = rule.name
    return _alarm(line_count, count, per_rule, names, threshold)
