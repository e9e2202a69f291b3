"""CM811 and CM812: contact after a discharge, and during the stay (az-ahcccs seeds/003, pa-performcare seeds/004).

Stays come from the stays file. Stays of the requirement's settings that
follow one another without a gap (a transfer from inpatient to partial
hospitalization) are one stay: the follow-up is due after the last discharge.
A contact is a billed line with the member by a contact type the profile
names (face to face, telephone, video), not marked member_present N.
Contacts and stays are matched by binary search over (member, minute) keys.
A discharge on a day an enrollment the profile bars covers is not judged
(`elsewhere.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmclaims.compliance.calendar import add_business_days, business_days_between, days_text, holidays_between
from cmclaims.compliance.elsewhere import Elsewhere
from cmclaims.compliance.findings import Outcome, findings_frame, text
from cmclaims.compliance.history import History
from cmclaims.compliance.window import Window
from cmclaims.normalize.values import MISSING
from cmclaims.rules.words import clock
from cmclaims.tables.compliance import Followup

DAY = 1440
FOLLOWUP, FOLLOWUP_NAME = "CM811", "compliance.discharge_followup"
DURING, DURING_NAME = "CM812", "compliance.contact_during_stay"


@dataclass
class Episodes:
    """Continuous stays in the requirement's settings: member code, admission, discharge (day, minute)."""

    member_id: np.ndarray
    member: np.ndarray  # code into the history's members; -1 when the ledger never billed the member
    setting: np.ndarray
    admit: np.ndarray
    discharge: np.ndarray  # MISSING: still there
    discharge_minute: np.ndarray  # MISSING: time not known


def episodes(stays: pd.DataFrame, settings: tuple[str, ...], members: pd.Index) -> Episodes:
    """The stays of `settings`, joined where one follows another without a gap (SPEC section 2)."""
    frame = stays[stays["setting"].isin(settings)].sort_values(["member_id", "admit_day"], kind="stable")
    member_id = frame["member_id"].to_numpy(dtype=object)
    admit = frame["admit_day"].to_numpy().astype(np.int64)
    discharge = frame["discharge_day"].to_numpy().astype(np.int64)
    minute = frame["discharge_minute"].to_numpy().astype(np.int64) if "discharge_minute" in frame \
        else np.full(admit.size, MISSING, dtype=np.int64)
    end = np.where(discharge == MISSING, np.iinfo(np.int64).max // 2, discharge)
    if admit.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return Episodes(member_id, empty, member_id, empty, empty, empty)
    same = np.r_[False, member_id[1:] == member_id[:-1]]
    # A stay joins the one before when it starts no later than the day after the latest discharge so far.
    reach = pd.Series(end).groupby(pd.factorize(member_id)[0]).cummax().to_numpy()
    joined = same & (admit <= np.r_[0, reach[:-1]] + 1)
    group = np.cumsum(~joined) - 1
    first = np.flatnonzero(~joined)
    # The stay that ends an episode is the one with its latest discharge (still there counts as latest).
    order = np.lexsort((end, group))
    at_latest = order[np.r_[np.flatnonzero(np.diff(group[order])), order.size - 1]]
    ends_open = discharge[at_latest] == MISSING
    latest = end[at_latest]
    ids = member_id[first]
    return Episodes(
        member_id=ids,
        member=members.get_indexer(ids),
        setting=frame["setting"].to_numpy(dtype=object)[at_latest],
        admit=admit[first],
        discharge=np.where(ends_open, MISSING, latest),
        discharge_minute=np.where(ends_open, MISSING, minute[at_latest]),
    )


def _contact_keys(history: History, rule: Followup) -> np.ndarray:
    """Sorted (member << 32 | minute since the first day) keys of the lines that are contacts with the member."""
    texts = history.texts
    contact = ~(texts["member_present"].isin(("N",)))
    if rule.contact_types:
        contact &= texts["contact_type"].isin(rule.contact_types)
    minute = (history.day - _base(history)) * DAY + np.where(history.start == MISSING, 0, history.start)
    return np.sort((history.member[contact].astype(np.int64) << 32) | minute[contact])


def _base(history: History) -> int:
    return int(history.day.min()) - 1 if history.size else 0


def _when(days: np.ndarray, minutes: np.ndarray, with_time: bool) -> np.ndarray:
    words = days_text(days, weekday=True)
    if not with_time:
        return words
    known = minutes != MISSING
    return np.where(known, words + " " + clock(np.where(known, minutes, 0)).astype(object), words)


def _duration(minutes: np.ndarray) -> np.ndarray:
    hours, rest = np.divmod(minutes, 60)
    return np.where(rest == 0, text(hours) + " hours", text(hours) + " h " + text(rest) + " min")


def _stays_to_judge(history: History, window: Window, rule: Followup, stays: pd.DataFrame,
                    elsewhere: Elsewhere | None, outcome: Outcome) -> tuple[Episodes, np.ndarray] | None:
    """The requirement's stays, and which of them ended in the window and are judged.

    None, with the outcome marked skipped, when the ledger's lines cannot say
    which were contacts. A stay whose discharge day a barred enrollment covers
    is not judged (the member was another program's to serve).
    """
    if rule.contact_types and history.size and not history.texts["contact_type"].known.any():
        outcome.skipped = "the ledger's lines carry no contact_type (billed before cmclaims recorded it)"
        return None
    stay = episodes(stays, rule.settings, history.members)
    ended = (stay.discharge != MISSING) & (stay.discharge >= window.first) & (stay.discharge <= window.last)
    if elsewhere is not None:
        outcome.notes.append(elsewhere.note)
        ended &= ~elsewhere.covers(stay.member_id, stay.discharge.astype(np.int32))
    return stay, ended


def check_followup(history: History, window: Window, rule: Followup, stays: pd.DataFrame,
                   elsewhere: Elsewhere | None = None) -> Outcome:
    """Discharges in the window whose first contact came after the deadline, or not at all."""
    outcome = Outcome(FOLLOWUP, FOLLOWUP_NAME, rule.source, checked_what="discharges")
    if (judged := _stays_to_judge(history, window, rule, stays, elsewhere, outcome)) is None:
        return outcome
    stay, ended = judged
    base = _base(history)
    time_known = stay.discharge_minute != MISSING
    # Without a time, a discharge counts from the start of its day (a contact that day is after it)
    # and, for a deadline in hours, at the end of its day (the benefit of the doubt).
    after = (stay.discharge - base) * DAY + np.where(time_known, stay.discharge_minute, 0)
    if rule.within_hours is not None:
        clock_start = (stay.discharge - base) * DAY + np.where(time_known, stay.discharge_minute, DAY)
        deadline = clock_start + rule.within_hours * 60
        due = ended & (deadline <= (window.last + 1 - base) * DAY)
    else:
        deadline_day = add_business_days(np.where(ended, stay.discharge, 0), rule.within_business_days or 0)
        deadline = (deadline_day + 1 - base) * DAY - 1
        due = ended & (deadline_day <= window.last)
    outcome.checked = int(due.sum())
    keys = _contact_keys(history, rule)
    member = stay.member.astype(np.int64)
    at = np.searchsorted(keys, (member << 32) | np.maximum(after, 0), side="left")
    found = (member >= 0) & (at < keys.size)
    hit = keys[np.clip(at, 0, max(keys.size - 1, 0))] if keys.size else np.zeros(member.size, dtype=np.int64)
    found &= (hit >> 32) == member
    first_contact = np.where(found, hit & 0xFFFFFFFF, MISSING)
    within_window = found & (first_contact < (window.last + 1 - base) * DAY)
    late = due & (~within_window | (first_contact > deadline))
    rows = np.flatnonzero(late)
    if rows.size == 0:
        return outcome
    contact = first_contact[rows]
    has_contact = within_window[rows]
    contact_day = np.where(has_contact, contact // DAY + base, 0)
    contact_minute = np.where(has_contact, contact % DAY, 0)
    discharged = _when(stay.discharge[rows], stay.discharge_minute[rows], rule.within_hours is not None)
    if rule.within_hours is not None:
        elapsed = contact - clock_start[rows]
        later = _when(contact_day, contact_minute, True) + " is " + _duration(np.maximum(elapsed, 0)) + " later"
        observed = np.where(has_contact, text(np.round(elapsed / 60, 1)) + " hours", "none")
        expected = f"{rule.within_hours} hours"
    else:
        count = business_days_between(stay.discharge[rows], contact_day)
        holiday = holidays_between(stay.discharge[rows], np.where(has_contact, contact_day, window.last))
        later = (_when(contact_day, contact_minute, False) + " is " + text(count) + " business days later"
                 + np.where(holiday != "", " (" + holiday + ")", ""))
        observed = np.where(has_contact, text(count) + " business days", "none")
        expected = f"{rule.within_business_days} business days"
    outcome_text = np.where(has_contact, "first contact " + later,
                            "no contact since, as of " + days_text(np.full(rows.size, window.last)))
    message = ("discharged from " + stay.setting[rows].astype(object) + " " + discharged + "; " + outcome_text
               + "; the policy asks for contact within " + rule.deadline)
    outcome.findings = findings_frame(
        FOLLOWUP, FOLLOWUP_NAME, rule.source, subject="member", member_id=stay.member_id[rows],
        start=stay.discharge[rows], end=np.where(has_contact, contact_day, window.last),
        observed=observed, expected=expected, message=message,
    )
    return outcome


def check_contact_during_stay(history: History, window: Window, rule: Followup, stays: pd.DataFrame,
                              elsewhere: Elsewhere | None = None) -> Outcome:
    """Finished stays in the window with no contact with the member from admission to discharge."""
    outcome = Outcome(DURING, DURING_NAME, rule.during_stay_source, checked_what="stays")
    if (judged := _stays_to_judge(history, window, rule, stays, elsewhere, outcome)) is None:
        return outcome
    stay, ended = judged
    outcome.checked = int(ended.sum())
    base = _base(history)
    keys = _contact_keys(history, rule)
    member = stay.member.astype(np.int64)
    low = np.searchsorted(keys, (member << 32) | np.maximum((stay.admit - base) * DAY, 0), side="left")
    high = np.searchsorted(keys, (member << 32) | np.maximum((stay.discharge + 1 - base) * DAY, 0), side="left")
    none = ended & ((member < 0) | (high <= low))
    rows = np.flatnonzero(none)
    if rows.size == 0:
        return outcome
    length = stay.discharge[rows] - stay.admit[rows] + 1
    message = ("no contact during the " + stay.setting[rows].astype(object) + " stay "
               + days_text(stay.admit[rows]) + " to " + days_text(stay.discharge[rows]) + " ("
               + text(length) + " days); the policy asks for at least one")
    outcome.findings = findings_frame(
        DURING, DURING_NAME, rule.during_stay_source, subject="member", member_id=stay.member_id[rows],
        start=stay.admit[rows], end=stay.discharge[rows], observed=0, expected=1, message=message,
    )
    return outcome
