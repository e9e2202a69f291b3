"""Does a run add up? Counting its lines again and comparing with what it claimed.

The figures are counted from the lines themselves: the clean file's rows and
the distinct rejected, adjusted and warned lines of the exceptions file (a
line is its source file and row; it has one exceptions row per finding).
They must equal summary.json and, when the ledger recorded the same
execution, the ledger's run record. Every input line ends in exactly one
place, so lines, units and dollars in = clean + rejected; adjustments are
changes inside the clean side and are shown apart.

Units and dollars of the clean side are counted as the clean file bills them
(billable_units, billable_charge) less the adjustments, because an adjusted
line is the only clean line whose billed and billable amounts differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmclaims.report.model import Verdict
from cmclaims.report.run_files import RunFiles
from cmclaims.schema.columns import VOID

# figure -> the unit it is counted in; the order is the order of the checks table.
FIGURES = {
    "lines_in": "lines", "lines_clean": "lines", "lines_rejected": "lines", "lines_adjusted": "lines",
    "lines_warned": "lines",
    "units_in": "units", "units_clean": "units", "units_rejected": "units", "units_adjustment": "units",
    "units_billable": "units",
    "charge_in": "dollars", "charge_clean": "dollars", "charge_rejected": "dollars",
    "charge_adjustment": "dollars", "charge_billable": "dollars",
}  # fmt: skip
LEDGER_FIGURES = (
    "lines_in", "lines_clean", "lines_rejected", "lines_adjusted", "lines_warned", "units_in", "units_billable",
    "charge_in", "charge_clean", "charge_rejected", "charge_billable",
)  # fmt: skip
CENT = 0.005


@dataclass
class Reconciliation:
    """The counted figures, the checks against every record of the run, and the verdict."""

    figures: dict[str, float]  # counted from the lines (empty when they could not be read)
    claimed: dict[str, float]  # what summary.json (or else the ledger record) says
    checks: pd.DataFrame  # check, unit, counted, summary_json, ledger_record, result
    verdict: Verdict
    counted_from: str


def distinct_lines(exceptions: pd.DataFrame) -> pd.DataFrame:
    """One row per line of an exceptions table (its first finding): lines are file and row."""
    return exceptions.drop_duplicates(["source_file", "source_row"])


def count_figures(n_clean: int, units_billable: float, charge_billable: float,
                  exceptions: pd.DataFrame) -> dict[str, float]:
    """Lines, units and dollars in, clean, rejected and adjusted, counted from the lines."""
    lines = distinct_lines(exceptions)
    fate = lines["disposition"]
    rejected, adjusted = lines[fate == "rejected"], lines[fate == "adjusted"]
    units_adjustment = float((adjusted["units_allowed"].fillna(0) - adjusted["units_billed"].fillna(0)).sum())
    charge_adjustment = round(float((adjusted["charge_allowed"].fillna(0) - adjusted["charge"].fillna(0)).sum()), 2)
    units_rejected = float(rejected["units_billed"].fillna(0).sum())
    charge_rejected = round(float(rejected["charge"].fillna(0).sum()), 2)
    units_clean = units_billable - units_adjustment
    charge_clean = round(charge_billable - charge_adjustment, 2)
    return {
        "lines_in": n_clean + len(rejected),
        "lines_clean": n_clean,
        "lines_rejected": len(rejected),
        "lines_adjusted": len(adjusted),
        "lines_warned": int((fate == "warning").sum()),
        "units_in": units_clean + units_rejected,
        "units_clean": units_clean,
        "units_rejected": units_rejected,
        "units_adjustment": units_adjustment,
        "units_billable": units_billable,
        "charge_in": round(charge_clean + charge_rejected, 2),
        "charge_clean": charge_clean,
        "charge_rejected": charge_rejected,
        "charge_adjustment": charge_adjustment,
        "charge_billable": round(charge_billable, 2),
    }


def summary_figures(summary: dict) -> dict[str, float]:
    """The same figures as summary.json states them."""
    sections = {**summary.get("counts", {}), **summary.get("units", {}), **summary.get("dollars", {})}
    return {name: float(sections[name]) for name in FIGURES if name in sections}


def _same(a: float | None, b: float | None, unit: str) -> bool:
    if a is None or b is None:
        return True
    return abs(a - b) < CENT if unit == "dollars" else a == b


def _label(figure: str) -> str:
    """charge_rejected -> dollars rejected: the figure as finance says it."""
    return figure.replace("charge_", "dollars_").replace("_", " ")


def _check_row(check: str, unit: str, counted: float | None, summary: float | None, ledger: float | None,
               ok: bool | None = None) -> dict:
    """A row of the checks table; `ok` given for checks that are not a plain comparison of the three values."""
    if ok is None:
        present = [v for v in (counted, summary, ledger) if v is not None]
        ok = all(_same(present[0], v, unit) for v in present[1:]) if present else True
        result = ("ok" if ok else "FAILS") if len(present) >= 2 else "not compared"
    else:
        result = "ok" if ok else "FAILS"
    return {"check": check, "unit": unit, "counted": counted, "summary_json": summary, "ledger_record": ledger,
            "result": result}


def _stated(check: str, unit: str, total: float, stated: float, source: str) -> dict:
    """A record's total against the sum of its parts, in the record's own column."""
    in_summary = source == "summary.json"
    return _check_row(check, unit, total, stated if in_summary else None, None if in_summary else stated,
                      ok=_same(stated, total, unit))


def _self_consistency(claimed: dict[str, float], source: str) -> list[dict]:
    """The record's own arithmetic: in = clean + rejected, billable = clean + adjustment (counted = the sum)."""
    rows = []
    for unit, prefix in (("lines", "lines"), ("units", "units"), ("dollars", "charge")):
        names = (f"{prefix}_in", f"{prefix}_clean", f"{prefix}_rejected")
        if all(n in claimed for n in names):
            total = claimed[names[1]] + claimed[names[2]]
            rows.append(_stated(f"{source}: {_label(names[0])} = clean + rejected", unit, total, claimed[names[0]],
                                source))
    for unit, prefix in (("units", "units"), ("dollars", "charge")):
        names = (f"{prefix}_billable", f"{prefix}_clean", f"{prefix}_adjustment")
        if all(n in claimed for n in names):
            total = claimed[names[1]] + claimed[names[2]]
            rows.append(_stated(f"{source}: {_label(names[0])} = clean + adjustment", unit, total, claimed[names[0]],
                                source))
    return rows


def _findings_check(exceptions: pd.DataFrame, summary: dict) -> list[dict]:
    """Each rule's findings and dollars held, counted from the exceptions, against summary.json."""
    stated = pd.DataFrame(summary.get("findings") or [], columns=["rule", "findings", "charge_held"])
    counted = exceptions.groupby("rule", dropna=False).agg(findings=("rule", "size"),
                                                           charge_held=("charge_held", "sum"))
    both = stated.set_index("rule").add_suffix("_summary").join(counted, how="outer").fillna(0)
    wrong = both[(both["findings_summary"] != both["findings"])
                 | ((both["charge_held_summary"] - both["charge_held"]).abs() >= CENT)]
    rules = ", ".join(str(r) for r in wrong.index[:10])
    return [
        _check_row("findings per rule", "findings", float(len(exceptions)), float(both["findings_summary"].sum()),
                   None, ok=wrong.empty),
        _check_row("dollars held per rule", "dollars", round(float(both["charge_held"].sum()), 2),
                   round(float(both["charge_held_summary"].sum()), 2), None, ok=wrong.empty),
    ] + ([{"check": f"rules that disagree: {rules}", "unit": "", "counted": None, "summary_json": None,
           "ledger_record": None, "result": "FAILS"}] if not wrong.empty else [])


def _ledger_checks(run: RunFiles, figures: dict[str, float]) -> list[dict]:
    """The ledger kept the run's exceptions and recorded its clean lines: the same ones?"""
    rows: list[dict] = []
    record = run.ledger_run
    if record is None or run.ledger_findings is None or run.exceptions is None or run.ledger_lines is None:
        return rows
    if run.folder is not None:
        kept, here = run.ledger_findings, run.exceptions
        rows.append(_check_row("exceptions rows kept in the ledger", "findings", float(len(here)), None,
                               float(len(kept)), ok=len(here) == len(kept)))
        rows.append(_check_row("dollars held kept in the ledger", "dollars", round(float(here["charge_held"].sum()), 2),
                               None, round(float(kept["charge_held"].sum()), 2),
                               ok=_same(here["charge_held"].sum(), kept["charge_held"].sum(), "dollars")))
    if record["kind"] == "validate" and "lines_clean" in figures:
        # Every clean line is recorded (voids too, with 0 units): the ledger bills exactly the clean file.
        rows.append(_check_row("clean lines recorded in the ledger", "lines", figures["lines_clean"], None,
                               float(record["lines_ledgered"]), ok=figures["lines_clean"] == record["lines_ledgered"]))
    return rows


def reconcile(run: RunFiles) -> Reconciliation:
    """Count the run's lines again and compare with summary.json and the ledger's record."""
    figures: dict[str, float] = {}
    counted_from = ""
    if run.exceptions is not None and run.clean is not None:
        figures = count_figures(len(run.clean), float(run.clean["billable_units"].fillna(0).sum()),
                                float(run.clean["billable_charge"].fillna(0).sum()), run.exceptions)
        counted_from = f"the clean and exceptions files in {run.folder}"
    elif run.folder is None and run.ledger_lines is not None and run.exceptions is not None:
        lines = run.ledger_lines
        figures = count_figures(len(lines), float(lines["units"].fillna(0).sum()),
                                float(lines["charge"].fillna(0).sum()), run.exceptions)
        counted_from = "the lines and exceptions the ledger kept (the run's folder is not here)"
    summary = summary_figures(run.summary) if run.summary is not None else {}
    ledger = {n: float(run.ledger_run[n]) for n in LEDGER_FIGURES} if run.ledger_run and run.ledger_lines is not None \
        else {}
    voids = run.ledger_lines is not None and bool((run.ledger_lines["frequency"] == VOID).any())
    rows = [_check_row(f"problem: {p}", "", None, None, None, ok=False) for p in run.problems]
    for name, unit in FIGURES.items():
        counted = figures.get(name)
        if run.folder is None and voids and name.startswith("units") and name != "units_rejected":
            counted = None  # a void is recorded with 0 units: the ledger's lines cannot give billable units
        row = _check_row(_label(name), unit, counted, summary.get(name), ledger.get(name))
        if counted is None and not summary and not ledger:
            continue
        rows.append(row)
    rows += _self_consistency(summary or ledger, "summary.json" if summary else "ledger record")
    if run.exceptions is not None and run.summary is not None:
        rows += _findings_check(run.exceptions, run.summary)
    rows += _ledger_checks(run, figures)
    if run.clean is not None and figures:
        # The clean file marks its adjusted and warned lines too: the same count as the exceptions file.
        for fate, name in (("adjusted", "lines_adjusted"), ("warning", "lines_warned")):
            in_clean = float((run.clean["disposition"] == fate).sum())
            same = in_clean == figures[name] and _same(in_clean, summary.get(name), "lines")
            rows.append(_check_row(f"{_label(name)} marked in the clean file", "lines", in_clean, summary.get(name),
                                   None, ok=same))
    checks = pd.DataFrame(rows, columns=["check", "unit", "counted", "summary_json", "ledger_record", "result"])
    if not figures:
        checks = pd.concat([checks, pd.DataFrame([_check_row("lines counted from the files", "", None, None, None,
                                                             ok=False)])], ignore_index=True)
    failed = checks.loc[checks["result"] == "FAILS", "check"].tolist()
    agreeing = [name for name, present in (("summary.json", bool(summary)), ("the ledger", bool(ledger))) if present]
    verdict = _verdict(figures, failed, len(checks), agreeing)
    return Reconciliation(figures, summary or ledger, checks, verdict, counted_from)


def _verdict(figures: dict[str, float], failed: list[str], total: int, agreeing: list[str]) -> Verdict:
    if failed:
        named = "; ".join(failed[:4]) + (f"; and {len(failed) - 4} more" if len(failed) > 4 else "")
        return Verdict(False, f"DOES NOT RECONCILE: {len(failed)} of {total} checks fail ({named})", failed)
    line = (f"RECONCILED: {figures['lines_in']:,.0f} lines in = {figures['lines_clean']:,.0f} clean + "
            f"{figures['lines_rejected']:,.0f} rejected; units and dollars add up; "
            f"{' and '.join(agreeing)} agree{'s' if len(agreeing) == 1 else ''}")
    return Verdict(True, line)


def balance_table(figures: dict[str, float]) -> pd.DataFrame:
    """In, clean, rejected, adjusted (inside clean) and billable: lines, units, dollars."""
    rows = [
        ("in", "lines_in", "units_in", "charge_in"),
        ("clean", "lines_clean", "units_clean", "charge_clean"),
        ("rejected", "lines_rejected", "units_rejected", "charge_rejected"),
        ("adjusted (change inside clean)", "lines_adjusted", "units_adjustment", "charge_adjustment"),
        ("billable (clean after adjustments)", None, "units_billable", "charge_billable"),
    ]
    return pd.DataFrame(
        [{"what": label, "lines": figures.get(lines, np.nan) if lines else np.nan, "units": figures.get(units, np.nan),
          "dollars": figures.get(charge, np.nan)} for label, lines, units, charge in rows]
    )
