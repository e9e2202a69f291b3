"""Compliance over time (SPEC section 10, CM8xx): the requirements no single line can show.

    calendar.py    day numbers, months, business days (US federal holidays from `holidays`)
    window.py      the period checked: --from to --as-of
    plans.py       the plan in force on a line's date (shared with validate's CM801/CM802)
    history.py     what the ledger says was billed, as sorted numpy columns
    plan_lines.py  CM801/CM802 over the history, told per member and plan
    contacts.py    CM810 a qualifying contact in every month a member is served
    followups.py   CM811 contact after a discharge; CM812 contact during a stay
    staffing.py    CM820 staff annual hours; CM821 monthly caseloads
    findings.py    the one table every requirement's findings share
    engine.py      `cmclaims compliance`: read, check every requirement, gather
    output.py      JSON (no member ids), CSV or XLSX (with them)

calendar.py and plans.py use nothing above the code tables, so the rules may
use them; the rest reads the ledger and sits beside the reports.
"""
