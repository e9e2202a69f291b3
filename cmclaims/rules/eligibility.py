"""CM5: member eligibility: age, program, enrollment, where the member lives, stays, jail, detention.

The member's setting on the date of service comes from the stays file when a
stay covers the date, else from the line's member_setting, else (a stays file
was given and has no stay that day) the community (`ctx.side_lines`). A
requirement must be shown (T1017 SE needs a nursing facility on file); a bar
applies where the data shows it (a blank member_setting bars nothing).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike

from cmclaims.normalize.lines import MISSING
from cmclaims.rules.context import Context
from cmclaims.rules.registry import Flags, rule
from cmclaims.rules.words import as_text, counted, iso_date
from cmclaims.side.per_line import FROM_LINE, FROM_STAY, NO_STAY, EpisodeMatch
from cmclaims.tables import Profile, Service

_OLDEST = 150  # an upper age bound at or above this reads "and older"


def _where(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """Where the line's setting came from, in words a clerk can look up."""
    side = ctx.side_lines
    source = side.setting_source[rows]
    return np.where(
        source == FROM_STAY,
        "stays file row " + as_text(side.stay.row[rows]),
        np.where(source == FROM_LINE, "member_setting on the line",
                 np.where(source == NO_STAY, "no stay on file that day", "no member_setting on the line")),
    ).astype(object)


def _setting(ctx: Context, rows: np.ndarray) -> np.ndarray:
    return ctx.side_lines.setting_name(rows)


def _per_service(profile: Profile, value: Callable[[Service], object], default: object, dtype: DTypeLike) -> np.ndarray:
    """One value per service index, then `default` for lines without a service (index -1)."""
    return np.array([value(s) for s in profile.services] + [default], dtype=dtype)


def _band(low: int, high: int) -> str:
    return f"{low} and older" if high >= _OLDEST else f"{low} to {high}"


def _has_setting_policy(profile: Profile) -> bool:
    e = profile.eligibility
    return bool(
        e.barred_settings or e.institution or e.incarceration or e.detention or e.setting_only_services
        or any(s.settings for s in profile.services)
    )


# --- age, program, enrollment ----------------------------------------------------------------


@rule(
    "CM501",
    "eligibility.age",
    severity="error",
    applies=lambda p: any(s.ages for s in p.services),
    message="the member is {age} on {date}; {service} is for members aged {band}",
)
def age_band(ctx: Context) -> Flags:
    """A member outside the age band of the service billed.

    What it checks:
        The member's age on the date of service, in whole years with birthdays
        exact (a member turns 21 on the 21st birthday, not the day after),
        against the service's age band in the profile (Oklahoma: T1017 TF
        0 to 20, TG and PACT 18 and older).
    Why it matters:
        The age band is part of the service's definition; a line outside it
        is denied. A child's system-of-care case management (TF) ends the day
        the member turns 21.
    Example:
        T1017 HE TF on 2026-03-04 for a member born 2005-03-04 (21 that day).
    How to fix:
        Check the date of birth; if it is right, bill the service that fits the
        member's age (T1017 HE HN or HM for an adult in Oklahoma).
    Source:
        seeds/002 (SoonerCare T1017 modifier table, Age column); SPEC section 8.
    """
    services = ctx.profile.services
    low = _per_service(ctx.profile, lambda s: s.ages[0] if s.ages else -1, -1, np.int64)
    high = _per_service(ctx.profile, lambda s: s.ages[1] if s.ages else 10_000, 10_000, np.int64)
    service = ctx.services.service_index
    age = ctx.column("age")
    rows = np.flatnonzero(ctx.checkable & ((age < low[service]) | (age > high[service])))
    band = np.array([_band(*s.ages) if s.ages else "" for s in services] + [""], dtype=object)
    return Flags(rows, {"age": age[rows], "date": iso_date(ctx.column("service_day")[rows]),
                        "service": ctx.service_text(rows), "band": band[service[rows]]})


@rule(
    "CM502",
    "eligibility.program",
    severity="error",
    needs=("program",),
    applies=lambda p: any(s.programs for s in p.services),
    message="{detail}",
)
def program(ctx: Context) -> Flags:
    """A line billed under a program (contract type) its service does not belong to.

    What it checks:
        The line's program against the contract types the profile gives for
        its service (Oklahoma: TF and TG under 111 CMHC, HN under 110 OPBH,
        HM under 110 or 111, PACT under 114). A line without a program cannot
        show it belongs to the contract and is held back too.
    Why it matters:
        Each level of case management is paid under its contract type only;
        a CM II wraparound line from an OPBH (110) contract is denied.
    Example:
        T1017 HE TF with program 110.
    How to fix:
        Correct the program in the export, or bill the level the member's
        program provides (T1017 HE HN under 110).
    Source:
        seeds/002 (SoonerCare T1017 modifier table, Contract Type column); SPEC section 8.
    """
    profile = ctx.profile
    programs = ctx.lines.text["program"]
    values = programs.values.to_pylist()
    # allowed[service, program code]; the extra row and column stand for "none"
    allowed = np.zeros((len(profile.services) + 1, len(values) + 1), dtype=bool)
    for i, s in enumerate(profile.services):
        allowed[i, :-1] = [v in s.programs for v in values] if s.programs else True
        allowed[i, -1] = not s.programs
    allowed[-1, :] = True
    service = ctx.services.service_index
    rows = np.flatnonzero(ctx.checkable & ~allowed[service, programs.codes])
    wanted = _per_service(profile, lambda s: " or ".join(s.programs), "", object)[service[rows]]
    shown = ctx.service_text(rows)
    given = np.asarray(programs.text(rows).to_pylist(), dtype=object)
    blank = programs.codes[rows] < 0
    detail = np.where(
        blank,
        "program is empty; " + shown + " is billed only under program " + wanted,
        "program " + as_text(given) + " is not the program of " + shown + ", which is billed only under " + wanted,
    )
    return Flags(rows, {"detail": detail})


def _enrollment_policy(profile: Profile) -> bool:
    return bool(profile.eligibility.barred_enrollments or profile.staff.by_enrollment)


@rule(
    "CM503",
    "eligibility.enrollment",
    severity="error",
    needs=("enrollment",),
    applies=lambda p: bool(p.eligibility.barred_enrollments),
    message="the member is enrolled in {enrollment} on {date} ({where}); {reason}",
)
def enrollment(ctx: Context) -> Flags:
    """A member whose eligibility category or program on the date gets no case management from this payer.

    What it checks:
        The member's enrollment episodes covering the date of service (the
        --enrollment file: start_date and end_date both included, a blank
        end_date still open), else the line's enrollment column, against the
        enrollments the profile bars, each with its reason
        (`[eligibility.barred_enrollments]`):
        az-ahcccs: ALTCS_EPD and TRIBAL_ALTCS (their plan's or tribe's case
        manager provides it), FES (outside policy 570);
        id-optum: TCC (Targeted Care Coordination: duplication of services);
        pa-performcare: MA_FFS (Medical Assistance fee-for-service pays).
        A line the day before an episode starts, or the day after it ends, is
        judged without it. A blank enrollment bars nothing.
    Why it matters:
        "Provider case management is not a reimbursable service for ALTCS
        E/PD or Tribal ALTCS" (003, III), and policy 570 applies to its
        programs "excluding Federal Emergency Services (FES)" (003, I).
        "Youth engaged in Targeted Care Coordination should not be receiving
        Behavioral Health Case Management ..., as this is duplication of
        services" (001). "A Member's eligibility changes to Medical
        Assistance Fee-for-Service when in Juvenile Detention beyond 35 days"
        (004, 1.4.2.2): PerformCare does not pay for an MA_FFS member.
    Example:
        az-ahcccs, T1016 on 2026-03-04 for a member whose enrollment file row
        says ALTCS_EPD from 2026-03-01: rejected; the same member's line on
        2026-02-28 is billable.
    How to fix:
        Check the member's episodes in the enrollment file (or the line's
        enrollment); if they are right, the service is not billable to this
        payer: coordinate with the plan's, tribe's or program's case manager,
        or bill the payer the member belongs to.
    Source:
        seeds/003 (AMPM 570, I. Purpose and III); seeds/001 (Scope of
        Practice: Targeted Care Coordination); seeds/004 (CM-040 1.4.2.2);
        SPEC sections 2 (--enrollment) and 8.
    """
    barred = ctx.profile.eligibility.barred_enrollments
    episode = ctx.side_lines.enrolled(tuple(barred))
    rows = np.flatnonzero(ctx.checkable & episode.found)
    names = episode.enrollment(rows)
    reason = np.array([barred.get(str(n), "") for n in names.tolist()], dtype=object)
    return Flags(rows, {"enrollment": names, "date": iso_date(ctx.column("service_day")[rows]),
                        "where": _episode_text(episode, rows), "reason": reason})


def _episode_text(episode: EpisodeMatch, rows: np.ndarray) -> np.ndarray:
    """Where the episode came from and its dates: `enrollment file row 2, from 2026-03-01 to 2026-03-31`."""
    start, end = episode.start_day[rows], episode.end_day[rows]
    dated = start != MISSING
    span = np.where(
        end == MISSING,
        ", from " + iso_date(np.where(dated, start, 0)).astype(object) + ", still open",
        ", from " + iso_date(np.where(dated, start, 0)).astype(object) + " to "
        + iso_date(np.where(end == MISSING, 0, end)).astype(object),
    )
    return (episode.where(rows) + np.where(dated, span, "")).astype(object)


@rule(
    "CM504",
    "eligibility.enrollment_row_unusable",
    severity="error",
    applies=_enrollment_policy,
    message="row {row} of the enrollment file names this member and could not be used ({problem}), so the "
    "member's enrollment on {date} cannot be checked",
)
def enrollment_row_unusable(ctx: Context) -> Flags:
    """A line whose member has an enrollment file row that was left out, possibly covering the date.

    What it checks:
        An enrollment file row that could not be used (a date that is not a
        date, an end before the start, no enrollment) is left out and
        reported. The lines of that member whose date the row may have
        covered (between its start and end as far as they are known; every
        date when neither is) are held back rather than judged as if the
        episode did not exist. Without an enrollment file there is nothing to
        check here. Only profiles with an enrollment policy (CM503, CM608).
    Why it matters:
        The bad row may be the episode that bars the line (ALTCS E/PD,
        Targeted Care Coordination, Medical Assistance fee-for-service) or
        that requires a QIDP; billing around it would bill exactly the lines
        the payer denies.
    Example:
        Row 3 of the enrollment file: ALTCS_EPD from 2026-13-01 (not a date);
        every line of that member is held back.
    How to fix:
        Correct the row in the enrollment file (the problem is in
        summary.json and on the terminal) and validate the lines again.
    Source:
        SPEC section 2 (--enrollment; a rule whose data is absent does not
        pass silently); the enrollment rules of seeds/000, 001, 003 and 004.
    """
    side = ctx.side_lines
    rows = np.flatnonzero(ctx.checkable & (side.enrollment_left_out >= 0))
    if rows.size == 0:
        return Flags.none()
    assert ctx.side.enrollment is not None  # a left-out row means there was an enrollment file
    left = ctx.side.enrollment.left_out.iloc[side.enrollment_left_out[rows]]
    return Flags(rows, {"row": left["row"].to_numpy(), "problem": left["problem"].to_numpy(dtype=object),
                        "date": iso_date(ctx.column("service_day")[rows])})


# --- where the member lives ------------------------------------------------------------------


@rule(
    "CM511",
    "eligibility.barred_setting",
    severity="error",
    needs=("setting",),
    applies=lambda p: bool(p.eligibility.barred_settings),
    message="the member's setting on {date} is {setting} ({where}); case management is not billable "
    "for members living there",
)
def barred_setting(ctx: Context) -> Flags:
    """A member living where the payer pays no case management.

    What it checks:
        The member's setting on the date of service (the stays file when a
        stay covers the date, else the line's member_setting) against the
        settings the profile bars (Oklahoma: group_home, foster_home, rbms
        (residential behavior management services), jail, prison,
        juvenile_detention). The admission day and the discharge day are days
        there; the day after the discharge is not.
    Why it matters:
        "SoonerCare members who reside in nursing facilities, residential
        behavior management services, group or foster homes or ICF/MRs may
        not receive SoonerCare compensable case management services" (002).
        Inmates of public institutions (jail, prison, juvenile detention)
        are excluded even from transition case management (002, (VIII):
        "except ... individuals who are inmates of public institutions").
    Example:
        T1017 HE HN on 2026-03-04 for a member whose stay in a foster_home
        began 2026-02-01; or for a youth in juvenile_detention since
        2026-03-01.
    How to fix:
        Check the member's residence on the date; if it is right, the
        service is not billable to this payer.
    Source:
        seeds/002 ("SoonerCare members who reside in ... residential behavior
        management services, group or foster homes ... may not receive
        SoonerCare compensable case management"; (VIII): inmates of public
        institutions); SPEC section 8.
    """
    rows = np.flatnonzero(ctx.checkable & ctx.side_lines.setting_is(ctx.profile.eligibility.barred_settings))
    return Flags(rows, {"date": iso_date(ctx.column("service_day")[rows]), "setting": _setting(ctx, rows),
                        "where": _where(ctx, rows)})


def _imd_excluded(ctx: Context) -> np.ndarray:
    institution = ctx.profile.eligibility.institution
    if institution is None or institution.imd_excluded_ages is None:
        return np.zeros(ctx.lines.size, dtype=bool)
    low, high = institution.imd_excluded_ages
    age = ctx.column("age")
    return ctx.side_lines.setting_is(("imd",)) & (age >= low) & (age <= high)


def _windows_text(profile: Profile) -> str:
    institution = profile.eligibility.institution
    assert institution is not None
    parts = []
    for window in institution.windows:
        days = window.days_before_discharge
        if window.min_stay_days:
            parts.append(f"the last {days} days of a stay of {window.min_stay_days} days or more")
        elif parts:
            parts.append(f"the last {days} days of a shorter stay")
        else:
            parts.append(f"the {days} days before discharge")
    return ", ".join(parts)


@rule(
    "CM512",
    "eligibility.institution_stay",
    severity="error",
    needs=("setting",),
    applies=lambda p: p.eligibility.institution is not None,
    message="{detail}; during an institutional stay case management is billable only in {windows}",
)
def institution_stay(ctx: Context) -> Flags:
    """A member in an institution, outside the days before discharge when case management is billable.

    What it checks:
        For a member whose setting on the date of service is an institution of
        the profile, the covering stay of the stays file: its length
        (discharge day minus admission day) picks the window, and the date of
        service must fall within that many days before the discharge (the
        discharge day itself included). Oklahoma: the last 60 days of a stay
        of 180 days or more, the last 14 days of a shorter stay (day 60 before
        discharge is billable, day 61 is not; a 179-day stay is a short one).
        Idaho: the 180 days before discharge from inpatient or residential
        treatment. A stay without a discharge date, or a setting known only
        from the line's member_setting (no dates at all), cannot show the date
        falls in the window, and the line is held back. Stays in the
        profile's institutions that follow one another without a gap (the
        next admission on the discharge day or the day after: a hospital stay
        followed by a nursing facility stay) are one stay: its length runs
        from the first admission to the last discharge.
    Why it matters:
        The institution's own discharge planning covers its residents; case
        management is paid only to transition a member to the community, in
        the days just before a known discharge. Oklahoma: "the last 60
        consecutive days of a covered, long-term, institutional stay that is
        180 consecutive days or longer"; Idaho: "Case Management can be
        provided up to 180 days prior to the client's discharge from the
        inpatient or residential facility".
    Example:
        Oklahoma, a member admitted to a nursing facility 2025-10-01 and
        discharged 2026-03-31 (181 days): a line on 2026-01-30 (60 days
        before) is billable, a line on 2026-01-29 (61 days before) is not.
        A 100-day hospital stay followed the next day by a 100-day nursing
        facility stay is a 200-day stay: only its last 60 days are billable.
    How to fix:
        Check the stay's dates in the stays file. A service before the window
        is not billable; a service in a stay whose discharge date is not yet
        known is billed once the discharge is recorded and falls within the
        window.
    Source:
        seeds/002 (reimbursable services (VIII): transitioning from
        institutions to the community); seeds/001 (up to 180 days prior to
        discharge from the inpatient or residential facility); SPEC section 8.
    """
    institution = ctx.profile.eligibility.institution
    assert institution is not None
    side = ctx.side_lines
    day = ctx.column("service_day")
    candidates = ctx.checkable & side.setting_is(institution.settings) & ~_imd_excluded(ctx)
    rows = np.flatnonzero(candidates)
    stay = side.chained(institution.settings)
    admit, discharge, at = stay.admit_day[rows], stay.discharge_day[rows], day[rows]
    covered = stay.found[rows] & (side.setting_source[rows] == FROM_STAY)
    known = covered & (discharge != MISSING)
    length = discharge.astype(np.int64) - admit
    window = np.zeros(rows.size, dtype=np.int64)
    chosen = np.zeros(rows.size, dtype=bool)
    for w in institution.windows:  # longest minimum stay first
        takes = ~chosen & (length >= w.min_stay_days)
        window[takes] = w.days_before_discharge
        chosen |= takes
    before = discharge.astype(np.int64) - at
    inside = known & (before <= window)
    rows, keep = rows[~inside], ~inside
    admit, discharge, at, covered, known = admit[keep], discharge[keep], at[keep], covered[keep], known[keep]
    setting = _setting(ctx, rows)
    where = np.where(stay.found[rows] & (side.setting_source[rows] == FROM_STAY), stay.where(rows), _where(ctx, rows))
    detail = np.where(
        known,
        iso_date(at).astype(object) + " is " + counted(before[keep], "day") + " before the discharge on "
        + iso_date(np.where(known, discharge, 0)) + " from a " + as_text(length[keep]) + "-day " + setting
        + " stay (" + where + "), outside its last " + as_text(window[keep]) + " days",
        np.where(
            covered,
            "the member has been in " + setting + " since " + iso_date(np.where(covered, admit, 0)) + " ("
            + where + ") and the stay has no discharge date, so the date " + iso_date(at)
            + " cannot be placed before a discharge",
            "the member's setting on " + iso_date(at) + " is " + setting + " (" + where
            + ") and no stay with admission and discharge dates is on file",
        ),
    )
    return Flags(rows, {"detail": detail, "windows": _windows_text(ctx.profile)})


@rule(
    "CM513",
    "eligibility.imd_age",
    severity="error",
    needs=("setting",),
    applies=lambda p: p.eligibility.institution is not None and p.eligibility.institution.imd_excluded_ages is not None,
    message="the member is {age} and lives in an IMD on {date} ({where}); case management is not billable "
    "for IMD residents aged {low} to {high}, not even to transition to the community",
)
def imd_age(ctx: Context) -> Flags:
    """A member aged 22 to 64 living in an institution for mental diseases (IMD).

    What it checks:
        The member's age on the date of service (birthdays exact) when the
        setting on that date is imd, against the ages the profile excludes
        (Oklahoma: 22 to 64). The transition window (CM512) does not apply to
        them: a member of 21 or 65 is judged by CM512 instead.
    Why it matters:
        Medicaid does not pay for IMD residents aged 22 to 64; SoonerCare
        excludes them from transition case management by name.
    Example:
        A member born 1990-05-01 in an IMD on 2026-03-04 (aged 35).
    How to fix:
        Check the member's setting and date of birth; if both are right, the
        service is not billable.
    Source:
        seeds/002 (reimbursable services (VIII): "except individuals ages 22
        to 64 who reside in an institution for mental diseases (IMD)"); SPEC section 8.
    """
    institution = ctx.profile.eligibility.institution
    assert institution is not None and institution.imd_excluded_ages is not None
    rows = np.flatnonzero(ctx.checkable & _imd_excluded(ctx))
    low, high = institution.imd_excluded_ages
    return Flags(rows, {"age": ctx.column("age")[rows], "date": iso_date(ctx.column("service_day")[rows]),
                        "where": _where(ctx, rows), "low": low, "high": high})


@rule(
    "CM514",
    "eligibility.setting_only_services",
    severity="error",
    needs=("setting",),
    applies=lambda p: bool(p.eligibility.setting_only_services),
    message="the member's setting on {date} is {setting} ({where}); as case management a member living there "
    "may receive only {allowed}, not {service}",
)
def setting_only_services(ctx: Context) -> Flags:
    """A member living where only certain case management may be billed, billed for another.

    What it checks:
        For each setting the profile limits (Michigan: nursing_facility), a
        line of the codes the restriction concerns (Michigan: the case
        management codes T1016 and T1017) whose member lives there on the
        date of service must be one of the services allowed there (Michigan:
        T1017 SE, nursing facility mental health monitoring). Other codes are
        not limited by it: peer services (H0038, H0046), the drop-in center
        (H0023) and substance use outpatient care (H2035, H2036) for a
        nursing facility resident are billable as for anyone.
    Why it matters:
        A nursing facility provides its residents' care coordination; DWIHN
        pays case management for a resident only as "Nursing Facility Mental
        Health Monitoring, T1017/SE, Targeted Case Management" (000).
    Example:
        T1016 supports coordination on 2026-03-04 for a member in a nursing
        facility since 2026-01-10 (H0038 for the same member that day is
        billable).
    How to fix:
        Bill the contact as T1017 SE if it was nursing facility mental health
        monitoring; otherwise it is not billable while the member lives there.
    Source:
        seeds/000 (Case Management/Supports Coordination Procedure Codes:
        Nursing Facility Mental Health Monitoring, T1017 SE); SPEC section 8
        (the nursing-facility restriction concerns case management only).
    """
    profile = ctx.profile
    service = ctx.services.service_index
    flagged = np.zeros(ctx.lines.size, dtype=bool)
    allowed_text = np.full(ctx.lines.size, "", dtype=object)
    for setting, only in profile.eligibility.setting_only_services.items():
        there = ctx.checkable & ctx.side_lines.setting_is((setting,))
        if only.codes:
            there &= ctx.services.code_of(only.codes)
        allowed = [i for i, s in enumerate(profile.services) if s.key in only.services]
        wrong = there & ~np.isin(service, allowed)
        flagged |= wrong
        allowed_text[wrong] = " or ".join(profile.service(k).label for k in only.services)
    rows = np.flatnonzero(flagged)
    return Flags(rows, {"date": iso_date(ctx.column("service_day")[rows]), "setting": _setting(ctx, rows),
                        "where": _where(ctx, rows), "allowed": allowed_text[rows], "service": ctx.service_text(rows)})


@rule(
    "CM515",
    "eligibility.service_setting",
    severity="error",
    needs=("setting",),
    applies=lambda p: any(s.settings for s in p.services),
    message="{service} is only for members living in {wanted}; the member's setting on {date} is {setting} ({where})",
)
def service_setting(ctx: Context) -> Flags:
    """A service reserved for residents of a setting, billed for a member who does not live there.

    What it checks:
        A service with settings in the profile (Michigan: T1017 SE, nursing
        facility mental health monitoring, for nursing_facility residents)
        needs the member's setting on the date of service to be one of them.
        A setting that is not given (no stay on file, no member_setting on the
        line) does not show it, and the line is held back.
    Why it matters:
        T1017 SE is nursing facility mental health monitoring; billed for a
        member in the community it is the wrong service and is denied.
    Example:
        T1017 SE on 2026-03-04 for a member whose member_setting is community.
    How to fix:
        Bill the service the member received (T1017 without SE for targeted
        case management), or record the nursing facility stay.
    Source:
        seeds/000 (Procedure Codes: T1017/SE Nursing Facility Mental Health
        Monitoring); SPEC section 8.
    """
    profile = ctx.profile
    service = ctx.services.service_index
    flagged = np.zeros(ctx.lines.size, dtype=bool)
    for index, s in enumerate(profile.services):
        if s.settings:
            flagged |= ctx.checkable & (service == index) & ~ctx.side_lines.setting_is(s.settings)
    rows = np.flatnonzero(flagged)
    wanted = _per_service(profile, lambda s: " or ".join(s.settings), "", object)
    return Flags(rows, {"service": ctx.service_text(rows), "wanted": wanted[service[rows]],
                        "date": iso_date(ctx.column("service_day")[rows]),
                        "setting": np.where(ctx.side_lines.setting[rows] < 0, "not given", _setting(ctx, rows)),
                        "where": _where(ctx, rows)})


# --- jail and juvenile detention -------------------------------------------------------------


@rule(
    "CM521",
    "eligibility.jail",
    severity="error",
    needs=("setting",),
    applies=lambda p: p.eligibility.incarceration is not None,
    message="{detail}; a member placed in jail loses eligibility from the day before admission until release",
)
def jail(ctx: Context) -> Flags:
    """A member in jail, or admitted to jail the next day.

    What it checks:
        Lines whose member is in one of the profile's incarceration settings
        on the date of service (Pennsylvania: jail), and, from the stays file,
        lines dated the day before a jail admission. The release day still
        counts as a day in jail (a stay covers its discharge day, and the file
        does not say whether the service came before the release).
    Why it matters:
        PerformCare members placed in jail lose their HealthChoices
        eligibility the day before they are admitted; services until their
        release are not billable to PerformCare.
    Example:
        A jail stay admitted 2026-03-05: lines on 2026-03-04 and 2026-03-05
        are held back; a line on 2026-03-03 is billable, and so is a line the
        day after the release.
    How to fix:
        Check the admission and release dates in the stays file. Services in
        that period are not billable to this payer.
    Source:
        seeds/004 (CM-040 1.4.2.1: members placed in jail lose their
        eligibility the day before they are admitted to jail); SPEC section 8.
    """
    incarceration = ctx.profile.eligibility.incarceration
    assert incarceration is not None
    side = ctx.side_lines
    ahead = side.stays_within(incarceration.settings, incarceration.days_before_admission)
    in_setting = side.setting_is(incarceration.settings)
    rows = np.flatnonzero(ctx.checkable & (in_setting | ahead.found))
    day = ctx.column("service_day")[rows]
    admit, release = ahead.admit_day[rows], ahead.discharge_day[rows]
    found = ahead.found[rows]
    stay_text = "stays file row " + as_text(ahead.row[rows])
    released = np.where(release == MISSING, "not yet released",
                        "released " + iso_date(np.where(release == MISSING, 0, release)).astype(object))
    ahead_days = np.where(found, admit.astype(np.int64) - day, 0)
    before = np.where(ahead_days == 1, "the day", as_text(ahead_days) + " days")
    detail = np.where(
        found & (day < admit),
        iso_date(day).astype(object) + " is " + before + " before the member's admission to " + ahead.setting(rows)
        + " on " + iso_date(np.where(found, admit, 0)) + " (" + stay_text + ")",
        np.where(
            found,
            "the member is in " + ahead.setting(rows) + " on " + iso_date(day) + " (" + stay_text + ", admitted "
            + iso_date(np.where(found, admit, 0)) + ", " + released + ")",
            "the member's setting on " + iso_date(day) + " is " + _setting(ctx, rows) + " (" + _where(ctx, rows) + ")",
        ),
    )
    return Flags(rows, {"detail": detail})


def _in_detention(ctx: Context) -> np.ndarray:
    detention = ctx.profile.eligibility.detention
    assert detention is not None
    return ctx.checkable & ctx.side_lines.setting_is((detention.setting,))


@rule(
    "CM522",
    "eligibility.detention_days",
    severity="error",
    needs=("setting",),
    applies=lambda p: p.eligibility.detention is not None,
    message="{detail}; case management in juvenile detention is billable to this payer only in the first "
    "{days} days{then}",
)
def detention_days(ctx: Context) -> Flags:
    """A member in juvenile detention beyond the days the payer keeps paying.

    What it checks:
        For a member whose setting on the date of service is juvenile
        detention, the day of the detention placement (the admission day is
        day 1) against the profile's limit (Pennsylvania: 35 days; day 35 is
        billable, day 36 is not). A transfer between detention centers (the
        next admission on the discharge day or the day after) is one
        placement: its days count from the first admission. Without a stays
        file row covering the date, the day cannot be counted, and the line
        is held back. Shelters are not detention and change nothing. From day
        36 the message names the member's eligibility then (MA_FFS).
    Why it matters:
        "During the first 35 days of detention placement, Members may
        continue to receive TCM services if delivered offsite from the
        detention center. Per Appendix V, a Member's eligibility changes to
        Medical Assistance Fee-for-Service when in Juvenile Detention beyond
        35 days" (004, 1.4.2.2): PerformCare denies the claim from day 36.
    Example:
        A detention stay admitted 2026-02-01: a line on 2026-03-07 (day 35)
        is billable, a line on 2026-03-08 (day 36) is not. Stays admitted
        2026-05-01 (discharged 2026-05-20) and 2026-05-20 (a transfer): a
        line on 2026-06-04 is day 35, on 2026-06-05 day 36.
    How to fix:
        Check the admission dates in the stays file; services from day 36 are
        billed to Medical Assistance fee-for-service (MA_FFS), not to this
        payer.
    Source:
        seeds/004 (CM-040 1.4.2.2: during the first 35 days of detention
        placement ...; eligibility changes when in juvenile detention beyond
        35 days; 1.4.2.2.1: shelters); SPEC section 8.
    """
    detention = ctx.profile.eligibility.detention
    assert detention is not None
    side = ctx.side_lines
    candidates = np.flatnonzero(_in_detention(ctx))
    placement = side.chained((detention.setting,))
    from_stay = (side.setting_source[candidates] == FROM_STAY) & placement.found[candidates]
    day = ctx.column("service_day")[candidates]
    admit = placement.admit_day[candidates]
    nth = np.where(from_stay, day.astype(np.int64) - admit + 1, 0)
    flagged = ~from_stay | (nth > detention.billable_days)
    rows, nth, day, admit, from_stay = (candidates[flagged], nth[flagged], day[flagged], admit[flagged],
                                        from_stay[flagged])
    where = np.where(from_stay, placement.where(rows), _where(ctx, rows))
    beyond = np.full(rows.size, "", dtype=object)
    if detention.then_enrollment:  # 004, 1.4.2.2: beyond 35 days the member is Medical Assistance FFS
        named = f" ({detention.then_enrollment_name})" if detention.then_enrollment_name else ""
        then = (f"; from day {detention.billable_days + 1} the member's eligibility is "
                f"{detention.then_enrollment}{named}, not this payer")
        beyond[from_stay & (nth > detention.billable_days)] = then
    detail = np.where(
        from_stay,
        iso_date(day).astype(object) + " is day " + as_text(nth) + " of the member's juvenile detention (admitted "
        + iso_date(np.where(from_stay, admit, 0)) + ", " + where + ")",
        "the member is in juvenile detention on " + iso_date(day) + " (" + where
        + ") and no stay with the admission date is on file to count the days",
    )
    return Flags(rows, {"detail": detail, "days": detention.billable_days, "then": beyond.astype(object)})


@rule(
    "CM523",
    "eligibility.detention_onsite",
    severity="error",
    needs=("setting", "place_of_service"),
    applies=lambda p: p.eligibility.detention is not None,
    message="the member is in juvenile detention on {date} and {detail}; case management in detention is "
    "billable only when delivered away from the detention center",
)
def detention_onsite(ctx: Context) -> Flags:
    """Case management for a detained member delivered at the detention center, or with no place of service.

    What it checks:
        For a member whose setting on the date of service is juvenile
        detention, the line's place of service must be given and must not be
        the detention center's (Pennsylvania: 09, prison/correctional
        facility). Place of service 11 (office), for instance, is billable.
    Why it matters:
        PerformCare pays case management during the first 35 days of
        detention only when it is delivered offsite from the detention center.
    Example:
        T1017 on 2026-03-04 with place_of_service 09 for a member detained
        since 2026-02-20.
    How to fix:
        Check where the contact took place; a contact at the detention center
        is not billable to this payer. Give the place of service on every
        line for a detained member.
    Source:
        seeds/004 (CM-040 1.4.2.2: "Members may continue to receive TCM
        services if delivered offsite from the detention center"); SPEC section 8.
    """
    detention = ctx.profile.eligibility.detention
    assert detention is not None
    place = ctx.lines.text["place_of_service"]
    onsite = place.isin(detention.onsite_place_of_service)
    rows = np.flatnonzero(_in_detention(ctx) & (onsite | ~place.present))
    given = np.asarray(place.text(rows).to_pylist(), dtype=object)
    detail = np.where(
        place.codes[rows] < 0,
        "the line has no place of service to show it was delivered away from the detention center",
        "the service was delivered at the detention center (place of service " + as_text(given) + ")",
    )
    return Flags(rows, {"date": iso_date(ctx.column("service_day")[rows]), "detail": detail})


# --- the stays file's own problems -----------------------------------------------------------


@rule(
    "CM531",
    "eligibility.stay_row_unusable",
    severity="error",
    applies=_has_setting_policy,
    message="row {row} of the stays file names this member and could not be used ({problem}), so the "
    "member's setting on {date} cannot be checked",
)
def stay_row_unusable(ctx: Context) -> Flags:
    """A line whose member has a stays file row that was left out, possibly covering the date.

    What it checks:
        A stays file row that could not be used (an unknown setting, a date
        that is not a date, a discharge before the admission, a stay that
        overlaps another of the same member) is left out and reported. The
        lines of that member whose date the row may have covered (between its
        admission and discharge as far as they are known; every date when
        neither is) are held back rather than judged as if the stay did not
        exist. Without a stays file there is nothing to check.
    Why it matters:
        A bad stays row may be the one that makes a line ineligible (a jail
        stay, a nursing facility stay); billing around it would bill exactly
        the lines the payer denies.
    Example:
        Row 4 of the stays file: setting 'hospitl', admitted 2026-02-01,
        discharged 2026-02-20; the member's line on 2026-02-10 is held back.
    How to fix:
        Correct the row in the stays file (the problem is in summary.json
        and on the terminal) and validate the line again.
    Source:
        SPEC section 2 (side files; a rule whose data is absent does not pass
        silently); the setting rules of seeds/000, 001, 002 and 004.
    """
    side = ctx.side_lines
    rows = np.flatnonzero(ctx.checkable & (side.stay_left_out >= 0))
    if rows.size == 0:
        return Flags.none()
    assert ctx.side.stays is not None  # a left-out row means there was a stays file
    left = ctx.side.stays.left_out.iloc[side.stay_left_out[rows]]
    return Flags(rows, {"row": left["row"].to_numpy(), "problem": left["problem"].to_numpy(dtype=object),
                        "date": iso_date(ctx.column("service_day")[rows])})
