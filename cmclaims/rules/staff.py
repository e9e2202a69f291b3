"""CM6: staff qualifications: the credential, training or age a service requires of its staff.

What a staff member holds comes from the staff file's row covering the date
of service when one is given (rows hold on their dates: a credential or a
training counts from its start_date), else from the line's staff_credential
column (`ctx.side_lines.quals`, a bit mask
over `lines.qualifications`). Lines whose staff member the staff file does
not know, or whose row in it was left out, are CM607's: the other rules do
not judge them on qualifications nobody has on file.
"""

from __future__ import annotations

import numpy as np

from cmclaims.normalize.lines import MISSING, age_in_years
from cmclaims.rules.context import Context
from cmclaims.rules.registry import Flags, rule
from cmclaims.rules.words import as_text, iso_date
from cmclaims.side.per_line import STAFF_LEFT_OUT, STAFF_NOT_ON_DATE, STAFF_ON_FILE, EpisodeMatch
from cmclaims.tables import Profile


def _staff_id(ctx: Context, rows: np.ndarray) -> np.ndarray:
    return np.asarray(ctx.lines.text["staff_id"].text(rows).to_pylist(), dtype=object)


def _held(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """What the staff member holds, in words: `holds QMHP, CAFAS (staff file)`."""
    names = ctx.lines.qualifications
    masks, inverse = np.unique(ctx.side_lines.quals[rows], return_inverse=True)
    held = [", ".join(n for i, n in enumerate(names) if int(m) >> i & 1) for m in masks.tolist()]
    source = "staff file" if ctx.side_lines.quals_from_file else "staff_credential on the line"
    words = np.array([f"holds {h} ({source})" if h else f"holds no credential ({source})" for h in held] or [""],
                     dtype=object)
    return words[inverse.reshape(-1)] if rows.size else np.empty(0, dtype=object)


def _on_file(ctx: Context) -> np.ndarray:
    """Lines whose staff member's qualifications are known (always, without a staff file)."""
    return ctx.checkable & (ctx.side_lines.staff_status == STAFF_ON_FILE)


def _lacks(ctx: Context, bits: np.ndarray | int) -> np.ndarray:
    """Lines whose staff holds none of `bits` (a per-line or a single mask)."""
    return (ctx.side_lines.quals & bits) == 0


def _has_staff_policy(profile: Profile) -> bool:
    return bool(
        any(s.credentials or s.staff_ages for s in profile.services)
        or profile.staff.barred_credentials or profile.staff.children or profile.activities.soar
        or profile.staff.by_enrollment
    )


@rule(
    "CM601",
    "staff.credential",
    severity="error",
    needs=("credentials",),
    applies=lambda p: any(s.credentials for s in p.services),
    message="{service} must be given by {wanted}; staff {staff} {held}",
)
def credential(ctx: Context) -> Flags:
    """Staff without the credential the service requires.

    What it checks:
        The staff member must hold one of the credentials the profile gives
        for the line's service. Oklahoma, by level: TF CM2 or
        WRAP_FACILITATOR, TG CM2_INTENSIVE, HN CM2, HM CM1, PACT PACT.
        Michigan, by code: T1017 QMHP or QIDP; T1016 SC, SC_ASSISTANT, BROKER,
        QMHP or QIDP; H0038 PEER_SPECIALIST (HF RECOVERY_COACH, TJ
        YOUTH_PEER); H0046 PEER_MENTOR; H2035 and H2036 SATS or SATP. The
        staff file's credentials are used when one is given, else the line's
        staff_credential.
    Why it matters:
        Each level of case management is paid only when a staff member of
        that classification delivers it; a service billed under a credential
        the staff member does not hold is recouped in an audit.
    Example:
        T1017 HE TG (intensive) by a staff member who holds CM2 only.
    How to fix:
        Bill the level the staff member is credentialed for, or correct the
        credential in the staff file if it is out of date.
    Source:
        seeds/002 (Staffing Requirements; the level modifiers); seeds/000
        (Case Management/Supports Coordination Procedure Codes: staff
        qualifications per code); SPEC section 8.
    """
    lines = ctx.lines
    wanted = np.array([lines.qualification_bits(s.credentials) for s in ctx.profile.services] + [0], dtype=np.int64)
    service = ctx.services.service_index
    rows = np.flatnonzero(_on_file(ctx) & (wanted[service] != 0) & _lacks(ctx, wanted[service]))
    words = np.array([" or ".join(s.credentials) for s in ctx.profile.services] + [""], dtype=object)
    return Flags(rows, {"service": ctx.service_text(rows), "wanted": words[service[rows]],
                        "staff": _staff_id(ctx, rows), "held": _held(ctx, rows)})


def _children(ctx: Context, population: str) -> np.ndarray:
    children = ctx.profile.staff.children
    assert children is not None
    age = ctx.column("age")
    return (
        _on_file(ctx) & ctx.lines.text["member_population"].has(population)
        & (age >= 0) & (age <= children.max_age) & ctx.services.code_of(children.codes)
    )


@rule(
    "CM602",
    "staff.child_sed",
    severity="error",
    needs=("member_population", "credentials"),
    applies=lambda p: p.staff.children is not None,
    message="the member is {age} with SED on {date}: {service} must be given by a {credential} trained in "
    "{training}; staff {staff} {held}",
)
def child_sed(ctx: Context) -> Flags:
    """A child with a serious emotional disturbance served by staff without the child credential and training.

    What it checks:
        For a member aged 17 or under on the date of service with population
        SED, on the codes the profile names (Michigan: T1016, T1017), the
        staff member must be a child mental health professional (CMHP)
        trained in the assessment for the child's age: CAFAS at 7 to 17,
        PECFAS at 4 to 6, DECA under 4 (ages on the date of service,
        birthdays exact).
    Why it matters:
        DWIHN requires services to children with SED to be provided by a CMHP
        trained in the age-appropriate assessment; a claim by other staff is
        not payable.
    Example:
        T1017 on 2026-03-04 for a child born 2020-03-05 (aged 5) by a CMHP
        trained in CAFAS only (PECFAS is needed at 4 to 6).
    How to fix:
        Assign a CMHP with the right training, or record the training in the
        staff file if the staff member has it.
    Source:
        seeds/000 (Credentialing Requirements 2 and 3a-3c; the T1017 staff
        qualifications); SPEC section 8.
    """
    children = ctx.profile.staff.children
    assert children is not None
    lines = ctx.lines
    age = ctx.column("age")
    # training bit per age 0..max_age, from the profile's age bands
    by_age = np.zeros(children.max_age + 1, dtype=np.int64)
    label = np.full(children.max_age + 1, "", dtype=object)
    for low, high, training in children.sed_trainings:
        by_age[low : high + 1] = lines.qualification_bits([training])
        label[low : high + 1] = training
    candidates = _children(ctx, "SED")
    child_age = np.clip(age, 0, children.max_age)
    need = lines.qualification_bits([children.sed_credential]) | by_age[child_age]
    rows = np.flatnonzero(candidates & ((ctx.side_lines.quals & need) != need))
    training = label[child_age[rows]]
    return Flags(rows, {"age": age[rows], "date": iso_date(ctx.column("service_day")[rows]),
                        "service": ctx.service_text(rows), "credential": children.sed_credential,
                        "training": np.where(training == "", "the child's assessment", training),
                        "staff": _staff_id(ctx, rows), "held": _held(ctx, rows)})


@rule(
    "CM603",
    "staff.child_idd",
    severity="error",
    needs=("member_population", "credentials"),
    applies=lambda p: p.staff.children is not None,
    message="the member is {age} with IDD on {date}: {service} must be given by a {credential}; staff {staff} {held}",
)
def child_idd(ctx: Context) -> Flags:
    """A child with an intellectual or developmental disability served by staff who is not a QIDP.

    What it checks:
        For a member aged 17 or under on the date of service with population
        IDD, on the codes the profile names (Michigan: T1016, T1017), the
        staff member must be a qualified intellectual disability professional
        (QIDP).
    Why it matters:
        DWIHN requires services to children with developmental disabilities
        to be provided by a QIDP.
    Example:
        T1016 for a child of 12 with IDD by a supports coordinator (SC).
    How to fix:
        Assign a QIDP, or record the QIDP credential in the staff file if the
        staff member holds it.
    Source:
        seeds/000 (Credentialing Requirements 2: services to children with
        developmental disabilities must be provided by a QIDP); SPEC section 8.
    """
    children = ctx.profile.staff.children
    assert children is not None
    need = ctx.lines.qualification_bits([children.idd_credential])
    rows = np.flatnonzero(_children(ctx, "IDD") & _lacks(ctx, need))
    return Flags(rows, {"age": ctx.column("age")[rows], "date": iso_date(ctx.column("service_day")[rows]),
                        "service": ctx.service_text(rows), "credential": children.idd_credential,
                        "staff": _staff_id(ctx, rows), "held": _held(ctx, rows)})


@rule(
    "CM604",
    "staff.age",
    severity="error",
    needs=("staff_birth_dates",),
    applies=lambda p: any(s.staff_ages for s in p.services),
    message="{detail}; {service} must be given by staff aged {low} to {high} on the date of service",
)
def staff_age(ctx: Context) -> Flags:
    """A service reserved for staff of an age band, given by staff outside it or of unknown age.

    What it checks:
        The staff member's age on the date of service (birthdays exact), from
        the staff file's birth_date, against the service's staff age band
        (Michigan: H0038 TJ, youth peer support, 18 to 26: a staff member is
        still 26 the day before the 27th birthday). A staff member without a
        birth date in the staff file cannot show the age, and the line is held
        back. Needs the staff file: the export carries no staff birth date.
    Why it matters:
        A youth peer support specialist is by definition a young adult aged
        18 through 26; DWIHN pays H0038 TJ only for them.
    Example:
        H0038 TJ on 2026-03-04 by a staff member born 1999-03-04 (27 that day).
    How to fix:
        Bill the service the staff member is qualified for (H0038 peer
        specialist services), or correct the birth date in the staff file.
    Source:
        seeds/000 (Procedure Codes, H0038/TJ: a young adult, ages 18 through
        age 26); SPEC section 8.
    """
    profile = ctx.profile
    low = np.array([s.staff_ages[0] if s.staff_ages else -1 for s in profile.services] + [-1], dtype=np.int64)
    high = np.array([s.staff_ages[1] if s.staff_ages else -1 for s in profile.services] + [-1], dtype=np.int64)
    service = ctx.services.service_index
    candidates = np.flatnonzero(_on_file(ctx) & (low[service] >= 0))
    birth = ctx.side_lines.staff_birth_day[candidates]
    day = ctx.column("service_day")[candidates]
    age = age_in_years(birth, day)
    s = service[candidates]
    flagged = (birth == MISSING) | (age < low[s]) | (age > high[s])
    rows, age, day = candidates[flagged], age[flagged], day[flagged]
    staff = _staff_id(ctx, rows)
    detail = np.where(
        age < 0,
        "the staff file has no birth date for staff " + staff,
        "staff " + staff + " is " + as_text(age) + " on " + iso_date(day).astype(object),
    )
    return Flags(rows, {"detail": detail, "service": ctx.service_text(rows),
                        "low": low[service[rows]], "high": high[service[rows]]})


@rule(
    "CM605",
    "staff.soar_training",
    severity="error",
    needs=("activity", "credentials"),
    applies=lambda p: p.activities.soar is not None,
    message="SOAR activity on {date} must be given by staff certified in {training}; staff {staff} {held}{later}",
)
def soar_training(ctx: Context) -> Flags:
    """SOAR activity by staff not certified in SOAR.

    What it checks:
        A line whose activity is the profile's SOAR activity (Arizona: soar)
        must be given by a staff member with the SOAR training on the date of
        service. With dated staff rows the certification counts from the
        start_date of the row that first holds it: a SOAR line the day before
        is rejected (the message says from when the staff member is
        certified), a line on that day is billable.
    Why it matters:
        "SOAR services shall only be provided by staff who have been
        certified in SOAR through SAMHSA SOAR Technical Assistance Center"
        (003, III.5.b).
    Example:
        T1016 with activity soar on 2026-02-28 by a staff member whose staff
        file row with SOAR starts 2026-03-01.
    How to fix:
        Record the staff member's SOAR certification in the staff file, or do
        not bill the contact as SOAR.
    Source:
        seeds/003 (AMPM 570, III.5.b: SOAR services shall only be provided by
        staff who have been certified in SOAR); SPEC section 8.
    """
    soar = ctx.profile.activities.soar
    assert soar is not None
    need = ctx.lines.qualification_bits([soar.training])
    rows = np.flatnonzero(_on_file(ctx) & ctx.lines.text["activity"].has(soar.activity) & _lacks(ctx, need))
    certified = ctx.side_lines.staff_first_day_with(rows, need)
    later = np.where(certified == MISSING, "",
                     " on that date (certified in " + soar.training + " from "
                     + iso_date(np.where(certified == MISSING, 0, certified)).astype(object) + ")")
    return Flags(rows, {"date": iso_date(ctx.column("service_day")[rows]), "training": soar.training,
                        "staff": _staff_id(ctx, rows), "held": _held(ctx, rows), "later": later.astype(object)})


@rule(
    "CM606",
    "staff.barred_credential",
    severity="error",
    needs=("credentials",),
    applies=lambda p: bool(p.staff.barred_credentials),
    message="staff {staff} {held}: case management given by a {barred} is not reimbursable",
)
def barred_credential(ctx: Context) -> Flags:
    """Case management given by staff whose role the payer does not reimburse.

    What it checks:
        The staff member must not hold a credential the profile bars
        (Arizona: DDD_CASE_MANAGER).
    Why it matters:
        For members enrolled in DDD, case management by the DDD case manager
        is part of DDD's own service; AHCCCS does not reimburse it as provider
        case management.
    Example:
        T1016 by a staff member whose credentials are DDD_CASE_MANAGER.
    How to fix:
        The contact is not billable as provider case management; if the
        credential is recorded wrongly, correct the staff file.
    Source:
        seeds/003 (AMPM 570, III: "Case management provided by a DDD Case
        Manager is not a reimbursable service"); SPEC section 8.
    """
    barred = ctx.profile.staff.barred_credentials
    rows = np.flatnonzero(_on_file(ctx) & ~_lacks(ctx, ctx.lines.qualification_bits(barred)))
    return Flags(rows, {"staff": _staff_id(ctx, rows), "held": _held(ctx, rows), "barred": " or ".join(barred)})


@rule(
    "CM608",
    "staff.enrollment_credential",
    severity="error",
    needs=("enrollment", "credentials"),
    applies=lambda p: bool(p.staff.by_enrollment),
    message="the member is enrolled in {enrollment} on {date} ({where}): {service} for members of {program} "
    "must be given by a {wanted}; staff {staff} {held}",
)
def enrollment_credential(ctx: Context) -> Flags:
    """A member of a program whose services need a credential, served by staff without it.

    What it checks:
        For a member whose enrollment episodes cover the date of service
        (the --enrollment file, else the line's enrollment column) in one of
        the programs the profile names (`[[staff.by_enrollment]]`), a line of
        the codes it names must be given by staff holding one of its
        credentials on that date. Michigan: members of the Habilitation
        Supports Waiver (HSW) or the Children's Waiver (CWP), on T1016 and
        T1017, by a QIDP. The day before the episode starts and the day
        after it ends, the member is not in the program.
    Why it matters:
        "Services for the Home and Community Based Habilitation Waiver and
        Children's Waiver programs must be provided by a QIDP" (000,
        Credentialing Requirements 4). The document names no age: every
        member of the programs, not only children.
    Example:
        T1016 on 2026-03-04 by a supports coordinator (SC) for a member whose
        enrollment file row says HSW from 2026-03-01.
    How to fix:
        Assign a QIDP to the member's case management, or record the QIDP
        credential in the staff file if the staff member holds it.
    Source:
        seeds/000 (Credentialing Requirements 4); SPEC sections 2
        (--enrollment) and 8.
    """
    lines = ctx.lines
    flagged = np.zeros(lines.size, dtype=bool)
    # Per policy, its flagged lines and their words: text is built for flagged lines only.
    found: list[tuple[np.ndarray, str, str, np.ndarray, np.ndarray]] = []
    for policy in ctx.profile.staff.by_enrollment:
        episode = ctx.side_lines.enrolled(policy.enrollments)
        scoped = ctx.services.code_of(policy.codes) if policy.codes else np.ones(lines.size, dtype=bool)
        wrong = _on_file(ctx) & scoped & episode.found & _lacks(ctx, lines.qualification_bits(policy.credentials))
        wrong &= ~flagged
        at = np.flatnonzero(wrong)
        flagged |= wrong
        found.append((at, policy.name, " or ".join(policy.credentials), episode.enrollment(at),
                      _episode_where(episode, at)))
    rows = np.flatnonzero(flagged)
    program, wanted, enrollment, where = (np.empty(rows.size, dtype=object) for _ in range(4))
    for at, name, credentials, names, places in found:
        put = np.searchsorted(rows, at)
        program[put], wanted[put], enrollment[put], where[put] = name, credentials, names, places
    return Flags(rows, {"enrollment": enrollment, "date": iso_date(ctx.column("service_day")[rows]),
                        "where": where, "service": ctx.service_text(rows), "program": program,
                        "wanted": wanted, "staff": _staff_id(ctx, rows), "held": _held(ctx, rows)})


def _episode_where(episode: EpisodeMatch, rows: np.ndarray) -> np.ndarray:
    start = episode.start_day[rows]
    dated = start != MISSING
    return (episode.where(rows) + np.where(dated, ", from " + iso_date(np.where(dated, start, 0)).astype(object),
                                           "")).astype(object)


def _needs_staff_data(ctx: Context) -> np.ndarray:
    """Lines whose service or activity has a staff requirement in this profile."""
    profile = ctx.profile
    service = ctx.services.service_index
    per_service = np.array([bool(s.credentials or s.staff_ages) for s in profile.services] + [False])
    needed = per_service[service]
    if profile.staff.barred_credentials:
        needed = np.ones(ctx.lines.size, dtype=bool)
    if profile.staff.children is not None:
        needed |= ctx.services.code_of(profile.staff.children.codes)
    if profile.activities.soar is not None:
        needed |= ctx.lines.text["activity"].has(profile.activities.soar.activity)
    for policy in profile.staff.by_enrollment:
        needed |= ctx.services.code_of(policy.codes) if policy.codes else True
    return needed


@rule(
    "CM607",
    "staff.not_on_file",
    severity="error",
    applies=_has_staff_policy,
    message="{detail}, so the qualifications {service} requires cannot be checked",
)
def not_on_file(ctx: Context) -> Flags:
    """A line whose staff member the staff file does not know, or whose row in it was left out.

    What it checks:
        When a staff file is given, it is the one record of what each staff
        member holds. A line of a service with a staff requirement whose
        staff_id is not in the file, whose rows do not cover the date of
        service (dated rows: start_date and end_date), or whose row was left
        out (an unknown credential or training, a bad date, the staff_id on
        two rows of overlapping dates that disagree), is held back: it is not judged as if the staff member
        held nothing, nor waved through. Without a staff file the line's
        staff_credential is the record, and there is nothing to check here.
    Why it matters:
        Without the staff member's record no credential, training or age
        requirement can be checked, and a claim by unqualified staff is
        recouped in an audit.
    Example:
        A T1017 line by staff S77 when the staff file has no row for S77.
    How to fix:
        Add or correct the staff member's row in the staff file (the problem
        with a left-out row is in summary.json and on the terminal) and
        validate the line again.
    Source:
        SPEC section 2 (--staff; a rule whose data is absent does not pass
        silently); the staff requirements of seeds/000, 002 and 003.
    """
    side = ctx.side_lines
    rows = np.flatnonzero(ctx.checkable & (side.staff_status != STAFF_ON_FILE) & _needs_staff_data(ctx))
    staff = _staff_id(ctx, rows)
    problem = side.staff_problem(rows, ctx.column("staff_key"))
    status = side.staff_status[rows]
    detail = np.where(
        status == STAFF_LEFT_OUT,
        "the staff file's row for staff " + staff + " was left out (" + problem.astype(object) + ")",
        np.where(status == STAFF_NOT_ON_DATE,
                 "the staff file's rows for staff " + staff + " do not cover "
                 + iso_date(ctx.column("service_day")[rows]).astype(object),
                 "staff " + staff + " is not in the staff file"),
    )
    return Flags(rows, {"detail": detail, "service": ctx.service_text(rows)})
