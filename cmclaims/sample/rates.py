"""How often each problem occurs in a sample: the one place to make it cleaner or dirtier.

Rates are chosen so that a sample keeps about 80-90% of its lines in the clean
file while every family of rules has something to find. A problem a profile
has no rule for (an unsigned note where no signature is required) still
occurs, as it would in a real export; it simply does not fire.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProblemRates:
    """Shares of lines, extra lines or members that carry each problem."""

    # Each line carries at most one of these (shares of all lines).
    short_session: float = 0.015  # 5-7 minutes: no billable unit
    units_differ: float = 0.030  # the EHR's units disagree with the documented time
    travel_only: float = 0.010  # the line is travel, or its travel covers the whole session
    wrong_modifier: float = 0.008  # level modifier first, or another payer's modifier
    unknown_code: float = 0.003  # a code the payer does not pay, or no code at all
    bad_date: float = 0.003  # 2026-02-30, text, a date in the future
    missing_end_time: float = 0.004
    non_billable_activity: float = 0.020  # transport, shopping ... or forms without the member
    wrong_credential: float = 0.008  # staff whose credential does not fit the service
    unsigned_note: float = 0.010
    missing_contact: float = 0.005  # no contact type or place of service
    # Extra lines (shares of all lines).
    over_limit_day: float = 0.006  # long extra sessions the same day: over the daily or per diem limit
    duplicate_line: float = 0.002  # the same service entered twice under a new claim_id
    duplicate_claim_id: float = 0.001  # a claim_id used again
    # Members (shares of members).
    heavy_member: float = 0.025  # many lines, a busy month: monthly limits and the annual cap
    barred_member: float = 0.012  # lives where (or is enrolled how) the payer does not pay
    stay_member: float = 0.06  # an institutional stay, jail or detention during the period
    child_on_adult_service: float = 0.03  # of children: given an adults-only service
    # Of members above an annual cap: how many hold an authorization for part of the excess.
    authorized_over_cap: float = 0.6

    @property
    def per_line(self) -> dict[str, float]:
        """The line problems by name, in a fixed order."""
        return {name: getattr(self, name) for name in LINE_PROBLEMS}


LINE_PROBLEMS = (
    "short_session",
    "units_differ",
    "travel_only",
    "wrong_modifier",
    "unknown_code",
    "bad_date",
    "missing_end_time",
    "non_billable_activity",
    "wrong_credential",
    "unsigned_note",
    "missing_contact",
)

DEFAULT_RATES = ProblemRates()
