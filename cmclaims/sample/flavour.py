"""What a synthetic export looks like: the mix of services, people and habits of an agency.

This is not policy (that lives in the profiles, and the generator reads it from
there): it is how often each thing happens in a believable agency, so that a
demo or a benchmark sees the value mix a real EHR export has. Every number
here is a plausible guess, not a statistic.
"""

from __future__ import annotations

from dataclasses import dataclass

# Dollars per unit the EHR puts on a line: charge = units x rate.
RATE_PER_UNIT: dict[str, float] = {
    "T1016": 17.25,
    "T1017": 18.50,
    "H0038": 14.10,
    "H0046": 13.50,
    "H2035": 62.00,
    "H2036": 140.00,
    "H0023": 45.00,
}
DEFAULT_RATE = 20.00

# How often each service of a profile is a member's main service (service key -> weight, default 1).
SERVICE_WEIGHTS: dict[str, dict[str, float]] = {
    "ok-soonercare": {"T1017:TF": 2.0, "T1017:TG": 1.0, "T1017:HN": 3.0, "T1017:HM": 3.0, "T1017": 1.0},
    "id-optum": {"T1017": 3.0, "T1016": 1.0},
    "mi-dwihn": {
        "T1016": 3.0, "T1017": 3.0, "T1017:SE": 1.0, "H0038": 1.5, "H0038:HF": 1.0,
        "H0038:TJ": 0.7, "H0046": 0.7, "H2035": 1.0, "H2036": 0.5, "H0023": 0.5,
    },
}


@dataclass(frozen=True)
class Audience:
    """Who an agency gives a service to (beyond the profile's own age band and settings)."""

    ages: tuple[int, int] | None = None
    populations: tuple[str, ...] = ()  # empty: anyone


# Michigan's codes each serve one population; the others serve everyone.
AUDIENCES: dict[str, Audience] = {
    "H2035": Audience(populations=("SUD",)),
    "H2036": Audience(populations=("SUD",)),
    "H0038:HF": Audience(ages=(18, 120), populations=("SUD",)),
    "H0038:TJ": Audience(ages=(12, 17), populations=("SED",)),
    "H0038": Audience(ages=(18, 120), populations=("SMI",)),
    "H0046": Audience(populations=("IDD",)),
}

# Staff credentials when the profile names none for a service (service key, or code, -> credentials).
DEFAULT_CREDENTIALS: tuple[str, ...] = ("QMHP", "CMHP")
CREDENTIALS_BY_SERVICE: dict[str, tuple[str, ...]] = {"H0023": ("PEER_SPECIALIST",)}
STAFF_AGES = (23, 66)

# Members: share of children, and the population mix of children and adults.
CHILD_SHARE = 0.32
CHILD_POPULATIONS = {"SED": 0.80, "IDD": 0.12, "SUD": 0.08}
ADULT_POPULATIONS = {"SMI": 0.65, "SUD": 0.22, "IDD": 0.13}
SHELTER_SHARE = 0.02  # homeless members living in a shelter (billable everywhere)
NURSING_FACILITY_SHARE = 0.08  # of members aged 60 or more, where a profile has nursing facility services

# Enrollment (eligibility category) names; a profile's barred ones are added by the problems.
ENROLLMENTS: dict[str, tuple[str, ...]] = {"az-ahcccs": ("ACC", "ACC_RBHA", "DDD", "AIHP")}
DEFAULT_ENROLLMENTS = ("TXIX",)
CHILD_ENROLLMENT = "TXXI"  # CHIP, for some children where the default list is used

# The first modifier of a code that needs one (Oklahoma HE/HF/HV): the first listed is most common.
FIRST_MODIFIER_WEIGHTS = (0.85, 0.12, 0.03)

# Case management activities and how often a line records each.
ACTIVITIES: dict[str, float] = {
    "monitoring": 25, "planning": 15, "linkage": 14, "coordination": 12, "assessment": 8,
    "referral": 8, "advocacy": 5, "collateral": 4, "outreach": 3, "transition": 2,
    "crisis_diversion": 2, "form_filling": 2,
}
SOAR_SHARE = 0.04  # lines recording SOAR work, where the profile knows SOAR
SOAR_TRAINED_SHARE = 0.35  # staff trained in SOAR, where the profile knows SOAR

CONTACT_TYPES: dict[str, float] = {
    "face_to_face": 68, "telephone": 20, "video": 8, "email": 2, "voicemail": 1, "mail": 1,
}
# Places of service by contact type: office, home, community, CMHC; telehealth for calls.
PLACES: dict[str, dict[str, float]] = {
    "face_to_face": {"11": 30, "12": 40, "99": 20, "53": 10},
    "telephone": {"02": 60, "10": 40},
    "video": {"02": 40, "10": 60},
    "email": {"99": 1},
    "voicemail": {"99": 1},
    "mail": {"99": 1},
}
CORRECTIONAL_PLACE = "09"  # where a case manager meets a member held in jail or detention
# Share of lines with the member present, by contact type.
MEMBER_PRESENT: dict[str, float] = {
    "face_to_face": 0.93, "telephone": 0.6, "video": 0.9, "email": 0.0, "voicemail": 0.0, "mail": 0.0,
}

# Sessions: minutes, log-normal around 35 (most 15-75), clipped to 8..180.
SESSION_MEDIAN_MINUTES = 35
SESSION_SPREAD = 0.55
SESSION_RANGE = (8, 180)
HOURLY_SESSION_RANGE = (50, 130)  # hourly programs (Michigan H2035)
PER_DIEM_SESSION_RANGE = (90, 180)  # per diem programs: a morning or afternoon at the program
TRAVEL_SHARE = 0.25  # lines with some travel recorded (5-30 minutes)
BUSY_MONTH_SHARE = 0.35  # of a heavy member's lines: in one month (a crisis), against monthly limits
PRIMARY_STAFF_SHARE = 0.85  # lines given by the member's own case manager
PRIMARY_SERVICE_SHARE = 0.88  # lines of the member's main service (the rest: a second service)
WEEKEND_WEIGHT = 0.04  # a weekend day is this likely compared with a weekday
DAY_STARTS = (8 * 60, 9 * 60 + 30)  # a case manager's first session starts in this window
GAP_MINUTES = (0, 45)  # between two sessions of the same case manager
LINES_PER_MEMBER = 25
MEMBERS_PER_ROW = 1 / LINES_PER_MEMBER
UNITS_PER_LINE = 2.6  # what the session lengths above earn on average, in 15-minute units
STAFF_PER_ROW = 1 / 400
