"""Which plan is in force on a billed line's date, and whether it was missing or overdue (CM801, CM802).

Shared by `validate` (each line of the night) and `cmclaims compliance` (every
line of the ledger): both hand over lines as member codes and day numbers, and
get per line the latest signature on or before its date. Signatures and lines
are matched with one sort and one binary search, member and day packed in one
64-bit key, whatever the number of lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmclaims.compliance.calendar import add_months
from cmclaims.normalize.values import MISSING
from cmclaims.tables.compliance import PlanRequirement

PLAN_WORDS = {"ipos": "IPOS", "crisis_plan": "crisis and safety plan"}
_DAY_BIAS = 2**31  # day numbers are int32: biased, they fill the low 32 bits of a key


def plan_words(plan_type: str) -> str:
    """How a message names the plan type: `treatment plan`, `IPOS`."""
    return PLAN_WORDS.get(plan_type, plan_type.replace("_", " "))


def _keys(members: np.ndarray, days: np.ndarray) -> np.ndarray:
    return (members.astype(np.int64) << 32) | (days.astype(np.int64) + _DAY_BIAS)


@dataclass
class PlanStatus:
    """Per line: the plan in force and whether the line breaks the requirement."""

    signed_day: np.ndarray  # the latest signature on or before the line's day; MISSING when none
    due_day: np.ndarray  # the review that plan was due by; MISSING when none is due or there is no plan
    first_signed: np.ndarray  # the member's first signature of this type at any date; MISSING when none
    missing: np.ndarray  # bool: no plan signed on or before the day (and the line is not exempt)
    overdue: np.ndarray  # bool: the plan in force was due for review before the day


def plan_status(
    member_values: pd.Index,
    member_codes: np.ndarray,
    days: np.ndarray,
    signatures: pd.DataFrame,
    requirement: PlanRequirement,
    exempt: np.ndarray | None = None,
) -> PlanStatus:
    """Check lines (member code into `member_values`, day) against one plan type's signatures.

    `signatures` has member_id and signed_day; `exempt` marks lines that need
    no plan yet (the plan's own development).
    """
    plan_member = member_values.get_indexer(signatures["member_id"].to_numpy())
    known = plan_member >= 0
    plan_keys = np.sort(_keys(plan_member[known], signatures["signed_day"].to_numpy()[known]))
    plan_codes = (plan_keys >> 32).astype(np.int64)
    plan_days = (plan_keys & 0xFFFFFFFF) - _DAY_BIAS
    codes = member_codes.astype(np.int64)
    has_member = codes >= 0

    at = np.searchsorted(plan_keys, _keys(codes, days), side="right") - 1
    safe = np.clip(at, 0, max(plan_keys.size - 1, 0))
    found = has_member & (at >= 0) & (plan_keys.size > 0) & (plan_codes[safe] == codes if plan_keys.size else False)
    signed = np.where(found, plan_days[safe] if plan_keys.size else MISSING, MISSING).astype(np.int64)

    first_at = np.clip(np.searchsorted(plan_keys, codes << 32, side="left"), 0, max(plan_keys.size - 1, 0))
    has_any = has_member & (plan_keys.size > 0) & (plan_codes[first_at] == codes if plan_keys.size else False)
    first = np.where(has_any, plan_days[first_at] if plan_keys.size else MISSING, MISSING).astype(np.int64)

    due = np.full(days.size, MISSING, dtype=np.int64)
    if requirement.review_days is not None:
        due[found] = signed[found] + requirement.review_days
    elif requirement.review_months is not None:
        due[found] = add_months(signed[found], requirement.review_months)
    missing = ~found & has_member
    if exempt is not None:
        missing &= ~exempt
    overdue = found & (due != MISSING) & (days > due)
    return PlanStatus(signed, due, first, missing, overdue)
