"""Members' stays: institutions, jail, juvenile detention, and nursing facility residents.

The kinds of stay come from the profile's policies (Oklahoma's discharge
windows, Idaho's 180 days before discharge, Pennsylvania's jail and detention
rules, Michigan's nursing facility residents), so each profile's sample has the
stays its rules are about. Stays end near the member's services on purpose:
case managers bill most around a discharge or an arrest, which is where the
rules have something to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmclaims.sample.calendar import Calendar
from cmclaims.sample.plan import ServicePlan
from cmclaims.sample.population import Members, a_share
from cmclaims.sample.rates import ProblemRates

NONE, INSTITUTION, JAIL, DETENTION, RESIDENT = 0, 1, 2, 3, 4
OPEN = np.iinfo(np.int32).max  # no discharge date yet: still there
JAILS = ("jail", "prison")
DETAINED_SHARE_OF_YOUTH_STAYS = 0.7  # youths with a stay, where the profile has a detention rule


@dataclass
class Stays:
    """Per member: the kind, setting (index into members.settings) and dates of their stay."""

    kind: np.ndarray  # int8: NONE, INSTITUTION, JAIL, DETENTION, RESIDENT
    setting: np.ndarray  # int8
    admit: np.ndarray  # int32 day number
    discharge: np.ndarray  # int32 day number, OPEN when still there
    focus_low: np.ndarray  # int32: window where many of the member's lines fall
    focus_high: np.ndarray  # int32

    def covers(self, member: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Lines whose member is in their stay on the line's day."""
        return (self.kind[member] != NONE) & (day >= self.admit[member]) & (day <= self.discharge[member])


def _kinds(plan: ServicePlan) -> dict[int, tuple[str, ...]]:
    """The stay kinds this profile has rules about, with their settings."""
    eligibility = plan.profile.eligibility
    kinds: dict[int, tuple[str, ...]] = {}
    if eligibility.institution is not None:
        kinds[INSTITUTION] = eligibility.institution.settings
    jails = tuple(s for s in JAILS if s in eligibility.barred_settings)
    if eligibility.incarceration is not None:
        jails = tuple(dict.fromkeys((*eligibility.incarceration.settings, *jails)))
    if jails:
        kinds[JAIL] = jails
    if eligibility.detention is not None:
        kinds[DETENTION] = (eligibility.detention.setting,)
    if not kinds:  # stays happen everywhere; a profile without rules about them still has a few
        kinds[INSTITUTION] = ("inpatient",)
    return kinds


def _longest_window(plan: ServicePlan) -> int:
    """The most days before discharge a profile bills during a stay (60 for Oklahoma, 180 for Idaho)."""
    institution = plan.profile.eligibility.institution
    return max((w.days_before_discharge for w in institution.windows), default=30) if institution else 30


def make_stays(rng: np.random.Generator, members: Members, plan: ServicePlan, calendar: Calendar,
               rates: ProblemRates) -> Stays:
    """Stays for a share of the members, and open stays for those living in an institution."""
    n = members.count
    settings = members.settings
    kinds = _kinds(plan)
    kind = np.zeros(n, np.int8)
    setting = np.zeros(n, np.int8)
    has_stay = a_share(rng, np.ones(n, dtype=bool), rates.stay_member)
    available = np.array(sorted(k for k in kinds if k != DETENTION) or [DETENTION], dtype=np.int8)
    kind[has_stay] = available[rng.integers(0, available.size, int(has_stay.sum()))]
    if DETENTION in kinds:  # juvenile detention: a share of the youths aged 10-17
        youth = (members.age >= 10) & (members.age <= 17)
        young = a_share(rng, youth, rates.stay_member * DETAINED_SHARE_OF_YOUTH_STAYS)
        has_stay |= young
        kind[young] = DETENTION
    for k, names in kinds.items():
        chosen = kind == k
        codes = np.array([settings.index(s) for s in names], dtype=np.int8)
        setting[chosen] = codes[rng.integers(0, codes.size, int(chosen.sum()))]

    anchor = calendar.draw(rng, n)
    length = np.where(rng.random(n) < 0.5, rng.integers(5, 121, n), rng.integers(180, 421, n))
    admit = np.where(kind == INSTITUTION, anchor - length, anchor).astype(np.int32)
    short = np.where(kind == JAIL, rng.integers(3, 121, n), rng.integers(20, 121, n))
    discharge = np.where(kind == INSTITUTION, anchor, anchor + short).astype(np.int32)
    still_there = rng.random(n) < np.where(kind == JAIL, 0.25, 0.1)
    discharge = np.where(still_there, OPEN, discharge).astype(np.int32)

    # Members living in a setting-only setting (Michigan nursing facilities) are in an open stay.
    resident = np.isin(members.setting, [settings.index(s) for s in plan.setting_only])
    kind[resident] = RESIDENT
    setting[resident] = members.setting[resident]
    admit[resident] = calendar.first - rng.integers(100, 2000, int(resident.sum()))
    discharge[resident] = OPEN

    # Institutions: the weeks before discharge; jail and detention: the weeks after admission.
    known_end = np.where(discharge == OPEN, admit + 120, discharge)
    focus_low = np.where(kind == INSTITUTION, known_end - _longest_window(plan) - 60, admit - 3).astype(np.int32)
    # Detention: past the 35 days Pennsylvania pays for, too.
    focus_high = np.where(kind == INSTITUTION, known_end + 14, np.where(kind == DETENTION, admit + 80, admit + 50))
    focus_high = focus_high.astype(np.int32)
    return Stays(kind, setting, admit, discharge, focus_low, focus_high)
