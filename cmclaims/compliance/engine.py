"""`cmclaims compliance`: every requirement over time of a profile, checked over the ledger's history.

Reads what was billed (the ledger, read only) and the side files, runs each
requirement the profile has, and gathers the findings in one table. A
requirement whose data is missing (no --stays for the follow-ups, no --staff
for the staffing figures) is not passed silently: it is listed as skipped,
with the reason. The enrollment file, when given, takes out the periods a
member was another program's to serve (`elsewhere.py`).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cmclaims.compliance.contacts import check_monthly_contact
from cmclaims.compliance.elsewhere import Elsewhere
from cmclaims.compliance.findings import Outcome, empty_findings
from cmclaims.compliance.followups import check_contact_during_stay, check_followup
from cmclaims.compliance.history import History, read_history
from cmclaims.compliance.plan_lines import check_plans
from cmclaims.compliance.staffing import check_annual_hours, check_caseload, staff_classes
from cmclaims.compliance.window import Window
from cmclaims.errors import ConfigError
from cmclaims.io.column_map import ColumnMap
from cmclaims.ledger.store import SqliteLedger
from cmclaims.normalize.values import day_number
from cmclaims.side.common import SideFile
from cmclaims.side.enrollment import Enrollment, read_enrollment
from cmclaims.side.plans import Plans, read_plans
from cmclaims.side.staff import Staff, read_staff
from cmclaims.side.stays import Stays, read_stays
from cmclaims.tables import Profile, load_catalog, load_profile


@dataclass
class ComplianceRequest:
    """What `cmclaims compliance` was asked to check."""

    profile: str
    as_of: dt.date
    ledger: Path
    first: dt.date | None = None  # --from; by default a year before --as-of
    stays: Path | None = None
    plans: Path | None = None
    staff: Path | None = None
    enrollment: Path | None = None
    column_map: ColumnMap | None = None
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def window(self) -> Window:
        """--from to --as-of as day numbers."""
        first = self.first or (self.as_of.replace(year=self.as_of.year - 1) + dt.timedelta(days=1)
                               if not (self.as_of.month == 2 and self.as_of.day == 29)
                               else dt.date(self.as_of.year - 1, 3, 1))
        if first > self.as_of:
            raise ConfigError(f"--from {first.isoformat()} is after --as-of {self.as_of.isoformat()}")
        return Window(day_number(first), day_number(self.as_of))


@dataclass
class ComplianceReport:
    """Each requirement's outcome, the findings of all of them, and what was read."""

    profile: Profile
    window: Window
    outcomes: list[Outcome]
    files: list[SideFile]
    lines_read: int
    seconds: float

    @property
    def findings(self) -> pd.DataFrame:
        """Every finding, requirement by requirement (member ids included: for files only)."""
        frames = [o.findings for o in self.outcomes if not o.findings.empty]
        return pd.concat(frames, ignore_index=True) if frames else empty_findings()

    @property
    def met(self) -> bool:
        """Whether every requirement that could be checked was met."""
        return all(o.findings.empty for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 when every requirement checked is met, 1 when one is not."""
        return 0 if self.met else 1


def _side(request: ComplianceRequest) -> tuple[Stays | None, Staff | None, Plans | None, Enrollment | None]:
    catalog = load_catalog()
    stays = staff = plans = enrollment = None
    if request.stays is not None:
        stays = read_stays(request.stays, request.today, catalog.vocabulary("setting"), request.column_map)
    if request.staff is not None:
        qualifications = catalog.vocabulary("credential") + catalog.vocabulary("training")
        staff = read_staff(request.staff, request.today, qualifications, request.column_map)
    if request.plans is not None:
        plans = read_plans(request.plans, request.today, catalog.vocabulary("plan_type"), request.column_map)
    if request.enrollment is not None:
        enrollment = read_enrollment(request.enrollment, request.today, request.column_map)
    return stays, staff, plans, enrollment


def _history_span(window: Window) -> tuple[int, int]:
    """The days of history the checks need: whole years for annual hours, and the window."""
    first_year, _ = window.years
    return min(window.first, day_number(dt.date(first_year, 1, 1))), window.last


def _skipped(rule: str, name: str, source: str, reason: str) -> Outcome:
    outcome = Outcome(rule, name, source)
    outcome.skipped = reason
    return outcome


def check(profile: Profile, history: History, window: Window, stays: Stays | None, staff: Staff | None,
          plans: Plans | None, elsewhere: Elsewhere | None = None) -> list[Outcome]:
    """Run every requirement of the profile over the history; one outcome each, in rule order.

    `elsewhere`: the enrollment file's episodes of enrollments the profile bars (None: no file).
    """
    rules = profile.compliance
    outcomes: list[Outcome] = []
    for required in rules.plans:
        if plans is None:
            outcomes.append(_skipped("CM801", "compliance.plan_missing", required.source, "no --plans file was given"))
            if required.reviewed:
                outcomes.append(_skipped("CM802", "compliance.plan_overdue", required.source,
                                         "no --plans file was given"))
            continue
        missing, overdue = check_plans(history, window, required, plans.of_type(required.plan_type))
        outcomes += [missing, overdue] if required.reviewed else [missing]
    if rules.monthly_contact is not None:
        outcomes.append(check_monthly_contact(history, window, rules.monthly_contact,
                                              stays.frame if stays is not None else None, elsewhere))
    for followup in rules.followups:
        if stays is None:
            outcomes.append(_skipped("CM811", "compliance.discharge_followup", followup.source,
                                     "no --stays file was given"))
            if followup.contact_during_stay:
                outcomes.append(_skipped("CM812", "compliance.contact_during_stay", followup.during_stay_source,
                                         "no --stays file was given"))
            continue
        outcomes.append(check_followup(history, window, followup, stays.frame, elsewhere))
        if followup.contact_during_stay:
            outcomes.append(check_contact_during_stay(history, window, followup, stays.frame, elsewhere))
    classes = rules.staff_classes
    if classes:
        hours = any(c.annual_hours for c in classes)
        caseload = any(c.caseload for c in classes)
        if staff is None:
            reason = "no --staff file was given: the staff classifications are not known"
            if hours:
                outcomes.append(_skipped("CM820", "compliance.staff_annual_hours", classes[0].source, reason))
            if caseload:
                outcomes.append(_skipped("CM821", "compliance.staff_caseload", classes[0].source, reason))
        else:
            klass = staff_classes(staff.frame, staff.qualifications, classes, history.texts["staff_id"].values,
                                  window.last)
            if hours:
                outcomes.append(check_annual_hours(history, window, classes, klass))
            if caseload:
                outcomes.append(check_caseload(history, window, classes, klass))
            unclassified = int(np.sum(klass < 0))
            if unclassified:
                for outcome in outcomes[-(int(hours) + int(caseload)):]:
                    outcome.notes.append(f"{unclassified} staff ids billed lines but hold none of the classified "
                                         "credentials in the staff file (or are not in it): not counted")
    return sorted(outcomes, key=lambda o: o.rule)


def run_compliance(request: ComplianceRequest) -> ComplianceReport:
    """Read the ledger and the side files, and check every requirement of the profile."""
    began = time.perf_counter()
    profile = load_profile(request.profile)
    if not profile.compliance.any:
        raise ConfigError(f"profile {profile.name} has no requirements over time ([compliance] in its profile)")
    window = request.window
    stays, staff, plans, enrollment = _side(request)
    store = SqliteLedger(request.ledger, read_only=True)
    try:
        history = read_history(store, profile, *_history_span(window))
    finally:
        store.close()
    outcomes = check(profile, history, window, stays, staff, plans, Elsewhere.of(enrollment, profile))
    files = [side.file for side in (stays, staff, plans, enrollment) if side is not None]
    return ComplianceReport(profile, window, outcomes, files, history.size, time.perf_counter() - began)
