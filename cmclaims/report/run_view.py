"""`cmclaims report RUN`: one run reconciled, and its findings broken down for finance.

RUN is a run's output folder, a run id from the ledger, or `latest` (the
ledger's last committed validate run). A folder is reconciled from its own
files and, when the ledger recorded the same execution, against the ledger
too; a run id whose folder is gone is reconciled from what the ledger kept.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cmclaims.errors import ConfigError
from cmclaims.ledger.store import LedgerStore
from cmclaims.report.breakdown import by_dimension, by_family, by_rule
from cmclaims.report.dates import local_time
from cmclaims.report.ledger_source import open_ledger
from cmclaims.report.model import Chart, Report, ReportTable
from cmclaims.report.reconcile import balance_table, reconcile
from cmclaims.report.run_files import RunFiles, latest_run_id, read_folder, read_ledger_run, run_id_of_folder

TOP_CHART_RULES = 12


def load_run(target: str, ledger: Path | None) -> RunFiles:
    """Read the run named by `target` from its folder and/or the ledger."""
    path = Path(target)
    run = RunFiles(label=target)
    if path.is_dir():
        read_folder(path, run)
        fallback = ((run.summary or {}).get("ledger") or {}).get("path")
        store = open_ledger(ledger, required=False, fallback=fallback)
        if store is None:
            run.ledger_note = "no ledger found: reconciled from the folder alone"
        elif run.run_id is not None:
            _add_ledger(store, run)
        else:
            # No summary.json: the ledger still knows which run wrote this folder, and what it claimed.
            run_id = run_id_of_folder(store, path)
            if run_id is not None:
                read_ledger_run(store, run_id, run)
                run.ledger_note = f"summary.json is missing; compared with the ledger's record of {run_id}"
            else:
                run.ledger_note = f"summary.json is missing, and no run in the ledger {store.path} wrote this folder"
        return run
    store = open_ledger(ledger, required=False)
    if store is None:
        raise ConfigError(f"{target}: there is no such run folder, and no ledger to look a run id up in",
                          hint="give the run's output folder, or --ledger PATH with a run id")
    run_id = latest_run_id(store) if target == "latest" else target
    read_ledger_run(store, run_id, run)
    if run.ledger_run is None:
        raise ConfigError(f"{target}: there is no such run folder, and no run {run_id} in the ledger {store.path}",
                          hint="`cmclaims ledger runs` lists the runs")
    out_dir = run.ledger_run.get("out_dir")
    if out_dir and (Path(out_dir) / "summary.json").exists():
        folder_run = RunFiles(label=target)
        read_folder(Path(out_dir), folder_run)
        if folder_run.run_id == run_id:
            _add_ledger(store, folder_run)
            return folder_run
    run.exceptions = run.ledger_findings
    run.ledger_note = (f"its output folder {out_dir or '(none recorded)'} is not here: reconciled from the "
                       f"ledger's record, recorded lines and kept exceptions")
    return run


def _add_ledger(store: LedgerStore, run: RunFiles) -> None:
    """Attach the ledger's record when it is of this very execution of the run."""
    assert run.run_id is not None
    read_ledger_run(store, run.run_id, run)
    if run.ledger_run is None:
        return
    finished = (run.summary or {}).get("finished_at")
    if finished is not None and run.ledger_run["finished_at"] != finished:
        # The same inputs were validated another time (a --no-ledger or --dry-run copy, or a re-run elsewhere):
        # the ledger holds that execution's record, not this folder's.
        run.ledger_note = (f"the ledger's record of {run.run_id} is of another execution of the same inputs "
                           f"(finished {run.ledger_run['finished_at']}, folder {run.ledger_run['out_dir']}): "
                           "not compared")
        run.ledger_run = run.ledger_findings = run.ledger_lines = None
    elif not run.ledger_note:
        run.ledger_note = f"compared with the ledger {store.path}"


def build_run_report(run: RunFiles) -> Report:
    """Reconcile the run and break its findings down."""
    result = reconcile(run)
    summary = run.summary or {}
    record = run.ledger_run or {}
    profile = (summary.get("profile") or {}).get("name") or record.get("profile") or "?"
    finished = summary.get("finished_at") or record.get("finished_at")
    facts = [
        ("run", run.run_id or "?"),
        ("profile", profile),
        ("finished", local_time(finished)),
        ("folder", str(run.folder) if run.folder else "(not here)"),
        ("counted from", result.counted_from or "nothing could be counted"),
        ("ledger", run.ledger_note or "not used"),
    ]
    exceptions = run.exceptions if run.exceptions is not None else None
    tables = [
        ReportTable("balance", "Balance: lines, units and dollars in = clean + rejected",
                    balance_table(result.figures or result.claimed), money=("dollars",),
                    note="adjusted lines are inside clean; their change in units and dollars is shown apart",
                    whole=True),
        ReportTable("checks", "Checks: counted from the lines against summary.json and the ledger",
                    result.checks, whole=True),
    ]
    charts: list[Chart] = []
    if exceptions is not None:
        rules = by_rule(exceptions)
        tables += [
            ReportTable("by_family", "Findings by rule family", by_family(exceptions), money=("dollars_held",)),
            ReportTable("by_rule", "Findings and dollars held by rule", rules, money=("dollars_held",),
                        note="a line flagged by two rules counts under both"),
            ReportTable("by_staff", "Findings by staff", by_dimension(exceptions, "staff_id", "staff_id"),
                        money=("dollars_held",)),
            ReportTable("by_program", "Findings by program", by_dimension(exceptions, "program", "program"),
                        money=("dollars_held",)),
            ReportTable("by_service", "Findings by service", by_dimension(exceptions, "service", "service"),
                        money=("dollars_held",)),
        ]
        most_held = rules.head(TOP_CHART_RULES)
        most_found = rules.nlargest(TOP_CHART_RULES, "findings") if len(rules) else rules
        charts += [
            Chart("exceptions_by_rule", "Exceptions by rule", _rule_labels(most_found),
                  most_found["findings"].astype(float).tolist()),
            Chart("held_by_rule", "Dollars held back by rule", _rule_labels(most_held),
                  most_held["dollars_held"].astype(float).tolist(), unit="money"),
        ]
    return Report("run", f"Run {run.run_id or run.label}: reconciliation", facts, tables, charts,
                  verdict=result.verdict, charts_after=2)


def _rule_labels(rules: pd.DataFrame) -> list[str]:
    return (rules["rule"].astype(str) + " " + rules["rule_name"].astype(str)).tolist()
