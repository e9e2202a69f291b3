"""Findings broken down: by rule family, rule, staff, program and service, with the dollars held.

All of it is grouped in pandas over the exceptions rows, never looped over.
A line flagged by two rules appears under both rules (each rule held it back),
so per-rule dollars can add up to more than the dollars held; the tables by
staff, program and service count each line once.
"""

from __future__ import annotations

import pandas as pd

NONE_LABEL = "(none)"


def _fates(frame: pd.DataFrame) -> pd.DataFrame:
    """0/1 columns per disposition, so that groups can sum them."""
    fate = frame["disposition"]
    return frame.assign(
        rejected=(fate == "rejected").astype("int64"),
        adjusted=(fate == "adjusted").astype("int64"),
        warned=(fate == "warning").astype("int64"),
        held=frame["charge_held"].fillna(0.0),
    )


def _line_keys(frame: pd.DataFrame) -> list[str]:
    # Across runs a line is its run, file and row; inside one run its file and row.
    return [c for c in ("run_id", "source_file", "source_row") if c in frame.columns]


def family_labels() -> dict[str, str]:
    """CM0 -> 'input and schema: ...': the registry's words for each rule family."""
    from cmclaims.rules.registry import FAMILIES

    return {code: words.split(":")[0] for code, (_, words) in FAMILIES.items()}


def by_rule(exceptions: pd.DataFrame) -> pd.DataFrame:
    """Per rule: findings, lines rejected / adjusted / warned, dollars held; most dollars first."""
    columns = ["rule", "rule_name", "severity", "findings", "lines_rejected", "lines_adjusted", "lines_warned",
               "dollars_held"]
    if exceptions.empty:
        return pd.DataFrame(columns=columns)
    frame = _fates(exceptions)
    grouped = frame.groupby("rule", dropna=False).agg(
        rule_name=("rule_name", "first"), severity=("severity", "first"), findings=("rule", "size"),
        lines_rejected=("rejected", "sum"), lines_adjusted=("adjusted", "sum"), lines_warned=("warned", "sum"),
        dollars_held=("held", "sum"),
    ).reset_index()
    grouped["dollars_held"] = grouped["dollars_held"].round(2)
    return grouped.sort_values(["dollars_held", "findings", "rule"], ascending=[False, False, True])[columns]


def by_family(exceptions: pd.DataFrame) -> pd.DataFrame:
    """Per rule family: findings, distinct lines and dollars held (each line once per family)."""
    columns = ["family", "what", "findings", "lines", "lines_rejected", "dollars_held"]
    if exceptions.empty:
        return pd.DataFrame(columns=columns)
    frame = _fates(exceptions.assign(family=exceptions["rule_family"].fillna(exceptions["rule"].str[:3])))
    findings = frame.groupby("family").size().rename("findings")
    lines = frame.drop_duplicates(["family", *_line_keys(frame)])
    per_line = lines.groupby("family").agg(lines=("family", "size"), lines_rejected=("rejected", "sum"),
                                           dollars_held=("held", "sum"))
    table = per_line.join(findings).reset_index()
    table["what"] = table["family"].map(family_labels()).fillna("")
    table["dollars_held"] = table["dollars_held"].round(2)
    return table.sort_values("family")[columns]


def by_dimension(exceptions: pd.DataFrame, column: str, label: str) -> pd.DataFrame:
    """Per value of `column` (staff_id, program, service): lines flagged, their fates, dollars held."""
    columns = [label, "lines_flagged", "lines_rejected", "lines_adjusted", "lines_warned", "findings", "dollars_held"]
    if exceptions.empty:
        return pd.DataFrame(columns=columns)
    frame = _fates(exceptions)
    frame[label] = frame[column].fillna(NONE_LABEL).replace("", NONE_LABEL)
    findings = frame.groupby(label).size().rename("findings")
    lines = frame.drop_duplicates(_line_keys(frame))
    table = lines.groupby(label).agg(
        lines_flagged=(label, "size"), lines_rejected=("rejected", "sum"), lines_adjusted=("adjusted", "sum"),
        lines_warned=("warned", "sum"), dollars_held=("held", "sum"),
    ).join(findings).reset_index()
    table["dollars_held"] = table["dollars_held"].round(2)
    return table.sort_values(["dollars_held", "lines_flagged", label], ascending=[False, False, True])[columns]
