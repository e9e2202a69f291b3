"""CM3: travel and activities that are not billable case management (SPEC sections 4 and 8).

The `activity` column says what the case manager did on a line. Which
activities a payer refuses, and which it pays only with the member present,
is data: `[activities]` in each profile (`not_billable`, `need_member_present`,
`codes` to scope the policy to some codes, `[activities.soar]`). A line with
no activity value passes these rules: the column is optional (SPEC section 2),
and a batch without the column at all lists them under rules_skipped.
"""

from __future__ import annotations

import numpy as np

from cmclaims.rules.context import Context
from cmclaims.rules.describe import service_text, text_of, when
from cmclaims.rules.registry import Flags, rule
from cmclaims.tables import Profile

TRAVEL = "travel"
def _flag(ctx: Context, mask: np.ndarray, **fields: object) -> Flags:
    """Flag `mask` among line-stage lines, with the activity, code and time of each for the message.

    The rows are all line-stage lines (`ctx.checkable`), so the Arrow fields
    never need the subsetting the pipeline applies to rows outside the stage.
    """
    rows = np.flatnonzero(ctx.checkable & mask)
    base = {
        "activity": text_of(ctx, "activity", rows),
        "service": service_text(ctx, rows),
        "when": when(ctx, rows),
        "profile": ctx.profile.name,
    }
    return Flags(rows, {**base, **fields})


def _in_scope(ctx: Context) -> np.ndarray:
    """Lines of the codes the profile's activity policy covers (all its codes unless it names some)."""
    codes = ctx.profile.activities.codes
    return ctx.services.code_of(codes) if codes else np.ones(ctx.lines.size, dtype=bool)


def _need_member_present(profile: Profile) -> bool:
    return bool(profile.activities.need_member_present)


def _member_present_activity(ctx: Context) -> np.ndarray:
    return _in_scope(ctx) & ctx.lines.text["activity"].isin(ctx.profile.activities.need_member_present)


def _soar_contact_policy(profile: Profile) -> bool:
    return profile.activities.soar is not None and bool(profile.activities.soar.excluded_contact_types)


def _soar_lines(ctx: Context) -> np.ndarray:
    soar = ctx.profile.activities.soar
    assert soar is not None
    return _in_scope(ctx) & ctx.lines.text["activity"].has(soar.activity)


@rule(
    "CM301",
    "activity.travel",
    severity="error",
    message="{service} on {when} is travel time (activity travel); driving to or from the member "
    "(windshield time) is never billed",
    needs=("activity",),
)
def travel(ctx: Context) -> Flags:
    """A line whose activity is travel: windshield time is never billable.

    What it checks:
        Lines with activity `travel`, under every profile and for every code.
        Travel inside a billable session is taken off its time by
        travel_minutes (CM101); a line that is nothing but travel is refused
        here.
    Why it matters:
        The payer's rate already includes the case manager's travel to the
        member. Billing the drive as its own line bills it twice, and an audit
        recoups it.
    Example:
        T1017 HE HN, 2026-03-04 08:30-09:00, activity travel: the drive to the
        member's home before a 09:00 visit.
    How to fix:
        Do not bill the drive. If the line was mislabelled and the time was
        spent with or for the member, correct the activity in the note and
        re-export; if a visit included some driving, record it on the visit's
        line as travel_minutes.
    Source:
        seeds/002 "Case Manager Travel Time" (bill only the face-to-face time,
        not windshield time); SPEC section 4 (billable minutes exclude travel)
        and section 8.
    """
    return _flag(ctx, ctx.lines.text["activity"].has(TRAVEL))


@rule(
    "CM302",
    "activity.not_billable",
    severity="error",
    message="{service} on {when}: activity {activity} is not case management that {profile} pays",
    needs=("activity",),
    applies=lambda profile: bool(profile.activities.not_billable),
)
def not_billable(ctx: Context) -> Flags:
    """An activity the payer does not pay as case management.

    What it checks:
        Lines whose activity is on the profile's list of activities that are
        not case management (`[activities] not_billable` in the profile; where
        the profile names `codes`, only lines of those codes). Travel has its
        own rule, CM301.
        ok-soonercare: transport, escort, financial_monitoring, shopping,
        bill_paying, delivery, psychotherapy, rehabilitation, paperwork.
        id-optum: transport, escort, education, medical_monitoring,
        psychotherapy, rehabilitation, shopping, bill_paying, delivery.
        mi-dwihn (T1016 and T1017 only): transport, escort, shopping,
        bill_paying, delivery, psychotherapy, rehabilitation,
        medical_monitoring. Michigan pays education: educating the member on
        how to connect to resources is case management there (000,
        Procedure 7).
        az-ahcccs refuses none outright: its exclusions (copying or faxing,
        email, SOAR paperwork without the member) are the SOAR approach's
        only (003, III.5.b), checked on SOAR lines by CM305.
        The lists live in code_tables/profiles/<profile>.toml, [activities].
    Why it matters:
        Case management links, plans, coordinates and monitors; doing the
        service itself (driving the member, shopping, therapy, teaching,
        delivering tickets or money) is another service or none, and billing it
        as case management is recouped in an audit.
    Example:
        ok-soonercare, T1017 HE HN on 2026-03-04 10:00-11:00 with activity
        transport (driving the member to an appointment).
    How to fix:
        Do not bill the line as case management. If the activity was
        mislabelled, correct it in the note and re-export; a direct service
        belongs under its own code or program.
    Source:
        seeds/002 "Service/Reimbursement Limitations" (I)-(VI) and (X);
        seeds/001 "Scope of Practice" and "A Case Manager CANNOT";
        seeds/000 "Documentation Requirements" 7 ("Case management /
        supports coordination shall not include direct delivery of ongoing
        day-to-day supports and/or training, or provision of other Medicaid
        services"); SPEC section 8.
    """
    activity = ctx.lines.text["activity"]
    listed = activity.isin(ctx.profile.activities.not_billable) & ~activity.has(TRAVEL)
    return _flag(ctx, _in_scope(ctx) & listed)


@rule(
    "CM303",
    "activity.member_absent",
    severity="error",
    message="{service} on {when}: {activity} is paid by {profile} only with the member present, "
    "and member_present is N",
    needs=("activity", "member_present"),
    applies=_need_member_present,
)
def member_absent(ctx: Context) -> Flags:
    """An activity the payer pays only with the member present, done without the member.

    What it checks:
        Lines whose activity is on the profile's `need_member_present` list
        and whose member_present is N.
        ok-soonercare: form_filling.
    Why it matters:
        Filling out forms or completing paperwork for the member is case
        management only when done with the member; without the member it is
        clerical work the payer does not pay, and it is recouped in an audit.
    Example:
        ok-soonercare, T1017 HE HN on 2026-03-04 14:00-14:30, activity
        form_filling, member_present N.
    How to fix:
        Do not bill the line. If the member was in fact present, correct
        member_present in the note and re-export.
    Source:
        seeds/002 "Service/Reimbursement Limitations" (VII) ("filling out
        forms, applications, etc., on behalf of the member when the member is
        not present"); SPEC section 8.
    """
    return _flag(ctx, _member_present_activity(ctx) & ctx.lines.text["member_present"].has("N"))


@rule(
    "CM304",
    "activity.member_presence_unknown",
    severity="error",
    message="{service} on {when}: {activity} is paid by {profile} only with the member present, "
    "and member_present is blank",
    needs=("activity", "member_present"),
    applies=_need_member_present,
)
def member_presence_unknown(ctx: Context) -> Flags:
    """An activity paid only with the member present, on a line that does not say whether the member was.

    What it checks:
        Lines whose activity is on the profile's `need_member_present` list
        and whose member_present is blank. (N is CM303.)
    Why it matters:
        The payer pays these activities only when the member was there. A
        blank value is not proof that the member was present: billing the
        line would claim a service the record does not support, which an
        audit recoups. So the line is held, not passed, until the note says
        Y or N.
    Example:
        ok-soonercare, T1017 HE HN on 2026-03-04 10:00-10:45, activity
        form_filling, member_present empty.
    How to fix:
        Record in the note whether the member was present and re-export: Y
        bills the line, N means it is not billable.
    Source:
        seeds/002 "Service/Reimbursement Limitations" (VII); SPEC section 2
        (a rule's data must never pass silently).
    """
    return _flag(ctx, _member_present_activity(ctx) & ~ctx.lines.text["member_present"].present)


@rule(
    "CM305",
    "activity.soar_contact",
    severity="error",
    message="{service} on {when}: SOAR work by {contact_type} is not billable under {profile}",
    needs=("activity", "contact_type"),
    applies=_soar_contact_policy,
)
def soar_contact(ctx: Context) -> Flags:
    """SOAR benefits work done by a contact the payer excludes (Arizona: email or fax).

    What it checks:
        Lines with activity soar whose contact_type is one the profile
        excludes for SOAR (`[activities.soar] excluded_contact_types`;
        az-ahcccs: email, and fax, which is "copying or faxing paperwork").
    Why it matters:
        SOAR (SSI/SSDI Outreach, Access and Recovery) work is billable as
        face-to-face and telephone contact with the member and with records
        sources (003, III.5.a); "when using the SOAR approach, billable
        activities do not include: ... copying or faxing paperwork, ... and
        email" (003, III.5.b). These exclusions are the SOAR approach's: a
        case management line that is not SOAR work is not refused for its
        contact type.
    Example:
        az-ahcccs, T1016 on 2026-03-04 11:00-11:30, activity soar,
        contact_type email.
    How to fix:
        Do not bill the email. If the contact was in fact a call or a meeting,
        correct contact_type in the note and re-export.
    Source:
        seeds/003 III.5.a (SOAR activities) and III.5.b.iv (email); SPEC
        section 8.
    """
    soar = ctx.profile.activities.soar
    assert soar is not None
    flags = _flag(ctx, _soar_lines(ctx) & ctx.lines.text["contact_type"].isin(soar.excluded_contact_types))
    flags.fields["contact_type"] = text_of(ctx, "contact_type", flags.rows)
    return flags


@rule(
    "CM306",
    "activity.soar_contact_unknown",
    severity="warning",
    message="{service} on {when}: SOAR line without a contact_type; SOAR by "
    "{excluded} is not billable under {profile}, so record how the contact was made",
    needs=("activity", "contact_type"),
    applies=_soar_contact_policy,
)
def soar_contact_unknown(ctx: Context) -> Flags:
    """A SOAR line that does not say how the contact was made.

    What it checks:
        Lines with activity soar whose contact_type is blank, under a profile
        that excludes some contact types for SOAR (az-ahcccs: email).
    Why it matters:
        SOAR by email is not billable. A blank contact type cannot show the
        line is not an email, but it does not show that it is one either, and
        SOAR work is billable by default: the line is billed with a warning
        so the record gets completed before an audit asks.
    Example:
        az-ahcccs, T1016 on 2026-03-04 11:00-11:30, activity soar, no
        contact_type.
    How to fix:
        Record the contact type (face_to_face, telephone, ...) in the note. If
        the contact was an email, void the line.
    Source:
        seeds/003 III.5.a and III.5.b.iv; SPEC section 2 (a rule's data must
        never pass silently).
    """
    soar = ctx.profile.activities.soar
    assert soar is not None
    blank = ~ctx.lines.text["contact_type"].present
    return _flag(ctx, _soar_lines(ctx) & blank, excluded=" or ".join(soar.excluded_contact_types))
