"""CM8: compliance over time (SPEC section 10).

Most of these requirements concern a member or a staff member over weeks and
months, not one line: a month without a contact has no line to flag. They are
registered here so that `cmclaims rule CM810` explains them like any rule, and
checked by `cmclaims compliance` over the ledger (cmclaims/compliance/).

Two concern a billed line, so validate checks them too: a line billed while the
member's plan is missing (CM801) or overdue for review (CM802). Their severity
is the profile's (`[compliance] line_severity`): a warning unless it says error.
Which plans, and how often reviewed, is data in the profile's `[compliance]`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cmclaims.compliance.calendar import days_text
from cmclaims.compliance.plans import PlanStatus, plan_status, plan_words
from cmclaims.rules.context import Context
from cmclaims.rules.describe import service_text, when
from cmclaims.rules.registry import Flags, requirement, rule
from cmclaims.tables import Profile
from cmclaims.tables.compliance import PlanRequirement


def _days(count: np.ndarray) -> np.ndarray:
    return np.where(count == 1, "1 day", np.asarray(count).astype(str).astype(object) + " days")


def _statuses(ctx: Context) -> list[tuple[PlanRequirement, PlanStatus]]:
    """Per plan requirement of the profile, the status of every line (computed once for both rules)."""

    def compute() -> list[tuple[PlanRequirement, PlanStatus]]:
        assert ctx.side.plans is not None
        members = ctx.lines.text["member_id"]
        values = pd.Index(members.values.to_numpy(zero_copy_only=False))
        days = ctx.column("service_day").astype(np.int64)
        out = []
        for required in ctx.profile.compliance.plans:
            exempt = ctx.lines.text["activity"].isin(required.exempt_activities) if required.exempt_activities \
                else None
            status = plan_status(values, members.codes, days, ctx.side.plans.of_type(required.plan_type),
                                 required, exempt)
            out.append((required, status))
        return out

    return ctx.shared("compliance.plan_status", compute)


def _flags(ctx: Context, pick: str) -> Flags:
    rows_parts, fields_parts = [], []
    for required, status in _statuses(ctx):
        mask = ctx.checkable & getattr(status, pick)
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            continue
        first = status.first_signed[rows]
        later = np.where(first > ctx.column("service_day")[rows], "the first on file is signed ", "")
        fields_parts.append(pd.DataFrame({
            "plan": plan_words(required.plan_type),
            "signed": days_text(np.maximum(status.signed_day[rows], 0)),
            "due": days_text(np.maximum(status.due_day[rows], 0)),
            "late": _days(ctx.column("service_day")[rows].astype(np.int64) - status.due_day[rows]),
            "interval": required.interval,
            "first": np.where(later != "", later + days_text(np.maximum(first, 0)), "none is on file earlier"),
            "source": required.source,
        }))
        rows_parts.append(rows)
    if not rows_parts:
        return Flags.none()
    rows = np.concatenate(rows_parts)
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    table = pd.concat(fields_parts, ignore_index=True).iloc[order]
    fields: dict[str, object] = {name: table[name].to_numpy() for name in table.columns}
    fields["service"] = service_text(ctx, rows)
    fields["when"] = when(ctx, rows)
    return Flags(rows, fields)


def _has_plans(profile: Profile) -> bool:
    return bool(profile.compliance.plans)


@rule(
    "CM801",
    "compliance.plan_missing",
    severity="warning",
    profile_severity=True,
    message="{service} on {when}: no {plan} signed on or before the service date ({first}); "
    "the payer bills case management against a signed {plan} ({source})",
    needs=("plans",),
    applies=_has_plans,
)
def plan_missing(ctx: Context) -> Flags:
    """A line billed before the member has the plan the payer requires.

    What it checks:
        Each line against the plans file (`--plans`): a plan of the type the
        profile requires (`[[compliance.plans]]`: ok-soonercare service_plan,
        id-optum treatment_plan, mi-dwihn ipos, az-ahcccs crisis_plan) must be
        signed on or before the service date. Lines whose activity is the
        plan's own development (assessment, planning) need no plan yet.
        A warning (the line is billed) unless the profile's `[compliance]
        line_severity` is error.
    Why it matters:
        Progress notes must relate to the plan and the services it lists; a
        service billed with no plan behind it is recouped in an audit.
    Example:
        ok-soonercare, T1017 HE HN on 2026-03-04, activity linkage; the
        member's only service plan is signed 2026-03-10.
    How to fix:
        Have the plan signed (member, case manager, licensed professional) and
        add its row to the plans file; if it was signed, the plans file is
        missing the row. `cmclaims compliance` lists every member concerned.
    Source:
        seeds/002 Documentation Requirements (service plan); seeds/001 Job
        Responsibilities (treatment plan); seeds/000 Documentation
        Requirements 4 (IPOS); seeds/003 III.A.12.e (crisis and safety plan);
        SPEC section 10.
    """
    return _flags(ctx, "missing")


@rule(
    "CM802",
    "compliance.plan_overdue",
    severity="warning",
    profile_severity=True,
    message="{service} on {when}: the {plan} signed {signed} was due for review by {due} "
    "(every {interval}), {late} before this service ({source})",
    needs=("plans",),
    applies=lambda profile: any(p.reviewed for p in profile.compliance.plans),
)
def plan_overdue(ctx: Context) -> Flags:
    """A line billed while the member's plan is overdue for its review.

    What it checks:
        Each line against the latest signature of the required plan on or
        before its date: with a review every 90 days (id-optum treatment
        plan) the 90th day after the signature is the last day covered and
        the 91st is overdue; with a review every 12 months (mi-dwihn IPOS,
        az-ahcccs crisis and safety plan) the same date a year later is the
        last day covered. A warning unless the profile says error.
    Why it matters:
        The payer pays case management that follows a current plan; services
        billed past the review date are what an auditor recoups first.
    Example:
        id-optum, T1016 on 2026-04-06 (day 91); the treatment plan was signed
        2026-01-05 and not reviewed since.
    How to fix:
        Hold the review with the member, record its date as a new row of the
        plans file, and validate again.
    Source:
        seeds/001 Job Responsibilities ("Completing a 90 day treatment plan
        review"); seeds/000 Documentation Requirements 4 ("not less than
        annually"); seeds/003 III.A.12.e (annual crisis and safety plan);
        SPEC section 10.
    """
    return _flags(ctx, "overdue")


# --- requirements over time: checked by `cmclaims compliance`, not by validate ---------------

requirement(
    "CM810",
    "compliance.monthly_contact",
    message="no {contact} in {month} while served (billed {before} and {after})",
    needs=("ledger",),
    applies=lambda profile: profile.compliance.monthly_contact is not None,
    doc="""A calendar month in which a member being served had no community or home contact.

    What it checks:
        For every member, each calendar month from the first to the last month
        the ledger shows them billed (within --from and --as-of, months that
        have ended) must hold at least one qualifying contact: under
        ok-soonercare a face-to-face line at home or in the community (the
        places of service in `[compliance.monthly_contact]`). A month the
        member spent wholly in a stay on the stays file is not counted, nor
        (with --enrollment) one spent wholly in an enrollment the profile bars.
    Why it matters:
        The payer requires community/home based case management not less than
        once a month; a month without it is a gap in the service the payer
        pays for, and auditors recoup the surrounding months.
    Example:
        A member billed 2026-01-14 (home visit) and 2026-03-03 (home visit)
        and nothing in between: 2026-02 is a finding.
    How to fix:
        Schedule the monthly community or home contact; if one happened and was
        not billed or was billed with the office as place of service, correct
        the record. Plan outreach for members approaching month end without one.
    Source:
        seeds/002 Service Requirement ("Community/home based case management
        ... not less than one time per month"); SPEC section 10.
    """,
)

requirement(
    "CM811",
    "compliance.discharge_followup",
    message="discharged from {setting} {discharged}; {outcome}; the policy asks for contact within {deadline}",
    needs=("ledger", "stay_dates"),
    applies=lambda profile: bool(profile.compliance.followups),
    doc="""A discharge from a crisis setting or a hospital with no contact in time after it.

    What it checks:
        For every stay on the stays file whose setting has a follow-up
        requirement and whose discharge falls within --from and --as-of, the
        first contact with the member billed after the discharge (face to
        face, telephone or video) must come within the deadline:
        az-ahcccs 24 hours after discharge from a crisis setting (with a
        discharge_time; without one the discharge counts at the end of its
        day, so a contact the next day is in time); pa-performcare 2
        business days after discharge from inpatient or partial
        hospitalization (weekends and US federal holidays do not count).
        With --enrollment, a discharge on a day an enrollment the profile
        bars covers (pa MA_FFS, az FES/ALTCS) is not judged.
        Stays that follow one another without a gap count as one stay.
    Why it matters:
        The days after a discharge are when members are most at risk; the
        payer requires prompt follow-up and audits it.
    Example:
        pa-performcare: discharged from inpatient Fri 2021-07-02; the first
        contact on Thu 2021-07-08 is 3 business days later (Mon 2021-07-05
        is a federal holiday).
    How to fix:
        Contact the member now and record the contact; set up a daily check of
        discharges (the stays file) so follow-ups are scheduled before they
        are due.
    Source:
        seeds/003 III.A.12.c (24 hours after a crisis setting); seeds/004
        1.2.2.1 (two business days); SPEC section 10.
    """,
)

requirement(
    "CM812",
    "compliance.contact_during_stay",
    message="no contact during the {setting} stay {admitted} to {discharged} ({days} days)",
    needs=("ledger", "stay_dates"),
    applies=lambda profile: any(f.contact_during_stay for f in profile.compliance.followups),
    doc="""An inpatient or partial-hospitalization stay with no contact with the member during it.

    What it checks:
        For every finished stay in a setting whose follow-up requirement asks
        for contact during the stay (pa-performcare: inpatient, php) and whose
        discharge falls within --from and --as-of, at least one contact with
        the member (face to face, telephone or video) billed from the
        admission day to the discharge day. With --enrollment, a stay
        discharged while an enrollment the profile bars covers the member
        (pa MA_FFS) is not judged.
    Why it matters:
        The case manager is to take part in discharge planning; no contact
        during the stay means the member leaves hospital without it.
    Example:
        pa-performcare: inpatient 2026-03-02 to 2026-03-09, no line billed for
        the member in those days.
    How to fix:
        For current stays, contact the member and the unit's discharge
        planner now; record contacts billed during the stay with their date.
    Source:
        seeds/004 1.2.2 ("at least one (1) contact ... with a Member and be an
        active participant in discharge planning"); SPEC section 10.
    """,
)

requirement(
    "CM820",
    "compliance.staff_annual_hours",
    message="{hours} hours billed in {year} by a {staff_class}, over the classification's {limit} annual hours",
    needs=("ledger", "staff_file"),
    applies=lambda profile: any(c.annual_hours for c in profile.compliance.staff_classes),
    doc="""A staff member whose billed hours in a calendar year exceed their classification's annual hours.

    What it checks:
        Per staff member and calendar year (those within --from and --as-of,
        counted up to --as-of), the hours of the units billed (units times the
        code's unit length) against the annual hours of the staff member's
        classification, taken from the staff file's credentials, most
        specific first (ok-soonercare: Case Manager II Wraparound Facilitator
        and Intensive 812, Case Manager II and I 1141). At the figure is
        within it; over it is a finding.
    Why it matters:
        The payer's rates assume the annual hours of each classification;
        a case manager billing beyond them suggests billing that the hours in
        a year cannot support, which auditors examine.
    Example:
        A CM2_INTENSIVE case manager with 3,300 units (825 hours) of T1017 in
        2026, over 812.
    How to fix:
        Check the staff member's lines for time billed twice or under the
        wrong staff id; rebalance the caseload for the rest of the year.
    Source:
        seeds/002 Staffing Requirements (annual hours per provider by
        classification); SPEC section 10.
    """,
)

requirement(
    "CM821",
    "compliance.staff_caseload",
    message="caseload of {members} members in {month} for a {staff_class}, over the classification's {limit}",
    needs=("ledger", "staff_file"),
    applies=lambda profile: any(c.caseload for c in profile.compliance.staff_classes),
    doc="""A staff member who served more members in a month than their classification's caseload.

    What it checks:
        Per staff member and calendar month within --from and --as-of, the
        members billed by that staff member (the caseload the ledger shows)
        against the caseload of their classification from the staff file
        (ok-soonercare: 35 standard CM I and CM II, 15 intensive, 10
        wraparound). 35 is within a caseload of 35; 36 is a finding.
    Why it matters:
        The payer defines each type of case management by its caseload; a
        caseload above it is not the service the payer pays for.
    Example:
        A CM2 case manager who billed lines for 36 different members in
        2026-03.
    How to fix:
        Reassign members to bring the caseload within the figure; if lines
        were billed under the wrong staff id, correct them.
    Source:
        seeds/002 Types of Case management (standard 30-35, intensive 10-15,
        wraparound 8-10 families); SPEC section 10.
    """,
)
