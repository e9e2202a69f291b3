"""CM810: a qualifying contact in every calendar month a member is served (ok-soonercare, seeds/002).

A member is served from the month of their first billed line to the month of
their last (the ledger's history up to --as-of): a month in between with no
line at all is the gap the requirement is about. Months that have not ended,
and months the member spent wholly in a stay of the stays file, are not
judged, nor months wholly under an enrollment the profile bars (`elsewhere.py`).
All (member, month) pairs are built and matched as packed integers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cmclaims.compliance.calendar import days_text, month_end, month_start, month_text
from cmclaims.compliance.elsewhere import Elsewhere
from cmclaims.compliance.findings import Outcome, findings_frame, text
from cmclaims.compliance.history import History
from cmclaims.compliance.window import Window
from cmclaims.normalize.values import MISSING, month_of
from cmclaims.tables.compliance import MonthlyContact

RULE, NAME = "CM810", "compliance.monthly_contact"


def _covered_months(stays: pd.DataFrame | None, members: pd.Index, last_month: int) -> np.ndarray:
    """Keys (member << 32 | month) of the months a member spent wholly in a stay."""
    if stays is None or stays.empty:
        return np.empty(0, dtype=np.int64)
    member = members.get_indexer(stays["member_id"].to_numpy())
    admit = stays["admit_day"].to_numpy().astype(np.int64)
    discharge = stays["discharge_day"].to_numpy().astype(np.int64)
    first = month_of(admit)
    first = np.where(month_start(first) == admit, first, first + 1)
    last = np.where(discharge == MISSING, last_month, month_of(np.where(discharge == MISSING, 0, discharge)))
    last = np.where((discharge == MISSING) | (month_end(last) == discharge), last, last - 1)
    count = np.where(member >= 0, np.maximum(last - first + 1, 0), 0)
    owner = np.repeat(member.astype(np.int64), count)
    month = np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    return (owner << 32) | month


def check_monthly_contact(history: History, window: Window, rule: MonthlyContact,
                          stays: pd.DataFrame | None, elsewhere: Elsewhere | None = None) -> Outcome:
    """Members' months in the window, served and without a qualifying contact."""
    outcome = Outcome(RULE, NAME, rule.source, checked_what="member-months")
    if elsewhere is not None:
        outcome.notes.append(elsewhere.note)
        stays = pd.concat([frame for frame in (stays, elsewhere.spans()) if frame is not None], ignore_index=True)
    texts = history.texts
    if rule.places_of_service and not texts["place_of_service"].known.any() and history.size:
        outcome.skipped = "the ledger's lines carry no place_of_service (billed before cmclaims recorded it)"
        return outcome
    low, high = window.whole_months
    if high < low or history.size == 0:
        return outcome
    member = history.member.astype(np.int64)
    month = month_of(history.day)
    qualifies = np.ones(history.size, dtype=bool)
    if rule.contact_types:
        qualifies &= texts["contact_type"].isin(rule.contact_types)
    if rule.places_of_service:
        qualifies &= texts["place_of_service"].isin(rule.places_of_service)

    # Each member's served months: from their first billed month to their last (lines are sorted by member).
    starts = np.flatnonzero(np.r_[True, member[1:] != member[:-1]])
    ends = np.r_[starts[1:], member.size] - 1
    who = member[starts]
    first = np.maximum(month[starts], low)
    last = np.minimum(month[ends], high)
    count = np.maximum(last - first + 1, 0)
    pair_member = np.repeat(who, count)
    pair_month = np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    pairs = (pair_member << 32) | pair_month

    # Dense flags over (member, month of the window): one slot each, no hashing.
    months = high - low + 1
    slot = pair_member * months + (pair_month - low)
    inside = (month >= low) & (month <= high)
    contacted = np.zeros(len(history.members) * months, dtype=bool)
    contacted[(member * months + (month - low))[qualifies & inside]] = True
    away = np.zeros(len(history.members) * months, dtype=bool)
    covered = _covered_months(stays, history.members, high)
    covered_member, covered_month = covered >> 32, covered & 0xFFFFFFFF
    keep = (covered_month >= low) & (covered_month <= high)
    away[covered_member[keep] * months + (covered_month[keep] - low)] = True
    judged = ~away[slot]
    outcome.checked = int(judged.sum())
    gap = judged & ~contacted[slot]
    pairs, pair_member, pair_month = pairs[gap], pair_member[gap], pair_month[gap]
    if pairs.size == 0:
        return outcome

    # The billed days around each month without a contact, and the lines billed inside it.
    line_key = (member << 32) | (history.day - int(history.day.min()))
    base = int(history.day.min())
    begin = (pair_member << 32) | (month_start(pair_month) - base)
    finish = (pair_member << 32) | (month_end(pair_month) - base)
    before_at = np.searchsorted(line_key, begin, side="left") - 1
    after_at = np.searchsorted(line_key, finish, side="right")
    inside = after_at - before_at - 1
    before = history.day[np.clip(before_at, 0, history.size - 1)]
    after = history.day[np.clip(after_at, 0, history.size - 1)]
    label = month_text(pair_month)
    around = "billed " + days_text(before) + " and " + days_text(after)
    in_month = np.where(inside == 1, "1 line", text(inside) + " lines") + " billed in the month, none of them one"
    message = ("no " + rule.description + " in " + label + " while served ("
               + np.where(inside > 0, in_month, around) + ")")
    outcome.findings = findings_frame(
        RULE, NAME, rule.source, subject="member",
        member_id=history.members.to_numpy(dtype=object)[pair_member],
        start=month_start(pair_month), end=month_end(pair_month),
        observed=0, expected=1, message=message,
    )
    return outcome
