"""Finance's reports, from run folders and the ledger (`cmclaims report ...`).

Views (each builds a `model.Report`):
    run_view.py      one run reconciled (reconcile.py) and its findings broken down (breakdown.py)
    open_view.py     the open exceptions (open_items.py) with their age (aging.py)
    period.py        months of runs: billed, held, first-pass clean rate (first_pass.py), trend
    writeoff.py      finance writes a claim off

Reading: run_files.py (a run's folder or its ledger record), ledger_source.py, dates.py.

Formats (each renders any Report): terminal.py (rich), json_doc.py, tables_csv.py,
xlsx.py, html.py with charts.py (inline SVG); display.py formats numbers; output.py
chooses the format and writes files atomically, owner-readable only.
"""
