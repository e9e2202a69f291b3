"""CM801 and CM802 over the ledger: the lines billed while a member's plan was missing or overdue.

validate flags each line of a night; here the whole history is checked and
the flagged lines are told per member and plan signature, as a compliance
officer acts on them: "14 lines billed 2026-04-07 to 2026-06-30 while the
treatment plan signed 2026-01-05 was overdue (due by 2026-04-05)".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cmclaims.compliance.calendar import days_text
from cmclaims.compliance.findings import Outcome, findings_frame, text
from cmclaims.compliance.history import History
from cmclaims.compliance.plans import plan_status, plan_words
from cmclaims.compliance.window import Window
from cmclaims.normalize.values import MISSING
from cmclaims.tables.compliance import PlanRequirement

MISSING_RULE, MISSING_NAME = "CM801", "compliance.plan_missing"
OVERDUE_RULE, OVERDUE_NAME = "CM802", "compliance.plan_overdue"


def _runs(history: History, rows: np.ndarray, signed: np.ndarray, due: np.ndarray, first: np.ndarray) -> pd.DataFrame:
    """Flagged lines grouped by member and plan signature: first and last day, how many lines, due, first plan."""
    frame = pd.DataFrame({"member": history.member[rows], "signed": signed[rows], "day": history.day[rows],
                          "due": due[rows], "first": first[rows]})
    return frame.groupby(["member", "signed"], sort=False).agg(
        min=("day", "min"), max=("day", "max"), size=("day", "size"), due=("due", "first"),
        first_signed=("first", "first")).reset_index()


def _lines(count: np.ndarray) -> np.ndarray:
    return np.where(count == 1, "1 line", text(count) + " lines")


def check_plans(history: History, window: Window, required: PlanRequirement,
                signatures: pd.DataFrame) -> tuple[Outcome, Outcome]:
    """The missing-plan and overdue-plan findings of one plan requirement over the window's lines."""
    plan = plan_words(required.plan_type)
    missing = Outcome(MISSING_RULE, MISSING_NAME, required.source, checked_what="lines")
    overdue = Outcome(OVERDUE_RULE, OVERDUE_NAME, required.source, checked_what="lines")
    inside = (history.day >= window.first) & (history.day <= window.last)
    exempt = history.texts["activity"].isin(required.exempt_activities) if required.exempt_activities else None
    status = plan_status(history.members, history.member, history.day, signatures, required, exempt)
    missing.checked = overdue.checked = int(inside.sum())
    ids = history.members.to_numpy(dtype=object)

    rows = np.flatnonzero(inside & status.missing)
    if rows.size:
        runs = _runs(history, rows, np.full(history.size, MISSING, dtype=np.int64), status.due_day,
                     status.first_signed)
        first_signed = runs["first_signed"].to_numpy()
        member = runs["member"].to_numpy()
        later = np.where(first_signed == MISSING, "no " + plan + " is on file",
                         "the first " + plan + " on file is signed " + days_text(np.maximum(first_signed, 0)))
        message = (_lines(runs["size"].to_numpy()) + " billed " + days_text(runs["min"].to_numpy()) + " to "
                   + days_text(runs["max"].to_numpy()) + " with no " + plan + " signed on or before them ("
                   + later + ")")
        missing.findings = findings_frame(
            MISSING_RULE, MISSING_NAME, required.source, subject="member", member_id=ids[member],
            start=runs["min"].to_numpy(), end=runs["max"].to_numpy(), observed=_lines(runs["size"].to_numpy()),
            expected=f"a signed {plan}", message=message,
        )
    if required.reviewed:
        rows = np.flatnonzero(inside & status.overdue)
        overdue.checked = int((inside & ~status.missing & (status.signed_day != MISSING)).sum())
        if rows.size:
            runs = _runs(history, rows, status.signed_day, status.due_day, status.first_signed)
            signed = runs["signed"].to_numpy()
            due_day = runs["due"].to_numpy()
            message = (_lines(runs["size"].to_numpy()) + " billed " + days_text(runs["min"].to_numpy()) + " to "
                       + days_text(runs["max"].to_numpy()) + " while the " + plan + " signed " + days_text(signed)
                       + " was overdue for review (due by " + days_text(due_day) + ", every " + required.interval
                       + ")")
            overdue.findings = findings_frame(
                OVERDUE_RULE, OVERDUE_NAME, required.source, subject="member",
                member_id=ids[runs["member"].to_numpy()], start=runs["min"].to_numpy(), end=runs["max"].to_numpy(),
                observed="signed " + days_text(signed), expected="reviewed by " + days_text(due_day),
                message=message,
            )
    return missing, overdue
