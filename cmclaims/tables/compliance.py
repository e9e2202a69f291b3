"""The `[compliance]` section of a profile: the requirements over time (SPEC section 10, CM8xx).

Each requirement is data, and each names the passage of the payer's document
it comes from (`source`), so that a compliance officer can read the policy
behind a finding. A profile without the section has no such requirement.
The figures (90 days, 24 hours, 35 members ...) are never in code.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmclaims.errors import ConfigError
from cmclaims.tables.catalog import Catalog
from cmclaims.tables.toml_section import Section

SEVERITIES = ("warning", "error")


@dataclass(frozen=True)
class PlanRequirement:
    """A plan of `plan_type` signed on or before every billed line, and reviewed in time.

    `review_days` or `review_months` bound how old the latest signature may
    be on the line's date; neither means signed once, before billing.
    Lines of `exempt_activities` (the plan's own development) need no plan yet.
    """

    plan_type: str
    source: str
    review_days: int | None = None
    review_months: int | None = None
    exempt_activities: tuple[str, ...] = ()

    @property
    def reviewed(self) -> bool:
        """Whether the plan must be reviewed periodically (not only signed once)."""
        return self.review_days is not None or self.review_months is not None

    @property
    def interval(self) -> str:
        """The review interval in words: `90 days`, `12 months`."""
        if self.review_days is not None:
            return f"{self.review_days} days"
        if self.review_months is not None:
            return f"{self.review_months} months"
        return ""


@dataclass(frozen=True)
class MonthlyContact:
    """At least one qualifying contact in every calendar month the member is served."""

    source: str
    contact_types: tuple[str, ...]
    places_of_service: tuple[str, ...]
    description: str  # how the message names the contact: "community or home contact"


@dataclass(frozen=True)
class Followup:
    """Contact after a discharge from one of `settings`, within hours or business days; and during the stay."""

    settings: tuple[str, ...]
    source: str
    contact_types: tuple[str, ...]
    within_hours: int | None = None
    within_business_days: int | None = None
    contact_during_stay: bool = False
    during_stay_source: str = ""

    @property
    def deadline(self) -> str:
        """The deadline in words: `24 hours`, `2 business days`."""
        if self.within_hours is not None:
            return f"{self.within_hours} hours"
        return f"{self.within_business_days} business days"


@dataclass(frozen=True)
class StaffClass:
    """A staff classification: who is in it, their annual hours and monthly caseload."""

    name: str
    credentials: tuple[str, ...]  # a staff member holding one of these is in the class
    source: str
    annual_hours: int | None = None
    caseload: int | None = None


@dataclass(frozen=True)
class Compliance:
    """Every requirement over time a profile has; `line_severity` for CM8xx findings in validate."""

    line_severity: str = "warning"
    plans: tuple[PlanRequirement, ...] = ()
    monthly_contact: MonthlyContact | None = None
    followups: tuple[Followup, ...] = ()
    staff_classes: tuple[StaffClass, ...] = ()  # most specific first: a staff member is in the first that fits

    @property
    def any(self) -> bool:
        """Whether the profile has any requirement over time."""
        return bool(self.plans or self.monthly_contact or self.followups or self.staff_classes)


def _vocabulary(catalog: Catalog, where: str, values: tuple[str, ...], vocabulary: str) -> tuple[str, ...]:
    known = {v.lower(): v for v in catalog.vocabulary(vocabulary)}
    for value in values:
        if value.lower() not in known:
            raise ConfigError(f"{where}: '{value}' is not in the {vocabulary} vocabulary")
    return tuple(known[v.lower()] for v in values)


def _source(section: Section) -> str:
    source = section.text("source", "")
    if not source.strip():
        raise ConfigError(f"{section.where}: every requirement cites its document (source = \"...\")")
    return source


def _plans(section: Section, catalog: Catalog) -> tuple[PlanRequirement, ...]:
    plans = []
    for sub in section.sections("plans"):
        plan_type = _vocabulary(catalog, sub.where, (sub.text("plan_type"),), "plan_type")[0]
        days, months = sub.integer("review_days"), sub.integer("review_months")
        if days is not None and months is not None:
            raise ConfigError(f"{sub.where}: give review_days or review_months, not both")
        if days == 0 or months == 0:
            raise ConfigError(f"{sub.where}: a review interval is at least 1")
        plans.append(PlanRequirement(
            plan_type=plan_type, source=_source(sub), review_days=days, review_months=months,
            exempt_activities=_vocabulary(catalog, sub.where, sub.texts("exempt_activities"), "activity"),
        ))
        sub.finish()
    types = [p.plan_type for p in plans]
    if len(set(types)) != len(types):
        raise ConfigError(f"{section.where}: a plan type is required twice")
    return tuple(plans)


def _monthly_contact(section: Section, catalog: Catalog) -> MonthlyContact | None:
    sub = section.section("monthly_contact")
    if sub is None:
        return None
    contact = MonthlyContact(
        source=_source(sub),
        contact_types=_vocabulary(catalog, sub.where, sub.texts("contact_types"), "contact_type"),
        places_of_service=sub.texts("places_of_service"),
        description=sub.text("description", "qualifying contact"),
    )
    if not contact.contact_types and not contact.places_of_service:
        raise ConfigError(f"{sub.where}: say which contacts qualify (contact_types, places_of_service)")
    sub.finish()
    return contact


def _followups(section: Section, catalog: Catalog) -> tuple[Followup, ...]:
    followups = []
    for sub in section.sections("followups"):
        hours, business_days = sub.integer("within_hours"), sub.integer("within_business_days")
        if (hours is None) == (business_days is None):
            raise ConfigError(f"{sub.where}: give within_hours or within_business_days (one of them)")
        during = sub.flag("contact_during_stay")
        followup = Followup(
            settings=_vocabulary(catalog, sub.where, sub.texts("settings"), "setting"),
            source=_source(sub),
            contact_types=_vocabulary(catalog, sub.where, sub.texts("contact_types"), "contact_type"),
            within_hours=hours,
            within_business_days=business_days,
            contact_during_stay=during,
            during_stay_source=sub.text("during_stay_source", "") if during else "",
        )
        if not followup.settings:
            raise ConfigError(f"{sub.where}: name the settings whose discharge needs a follow-up")
        if during and not followup.during_stay_source.strip():
            raise ConfigError(f"{sub.where}: contact_during_stay cites its document (during_stay_source)")
        followups.append(followup)
        sub.finish()
    return tuple(followups)


def _staff_classes(section: Section, catalog: Catalog) -> tuple[StaffClass, ...]:
    classes = []
    for sub in section.sections("staff_classes"):
        staff_class = StaffClass(
            name=sub.text("name"),
            credentials=_vocabulary(catalog, sub.where, sub.texts("credentials"), "credential"),
            source=_source(sub),
            annual_hours=sub.integer("annual_hours"),
            caseload=sub.integer("caseload"),
        )
        if not staff_class.credentials:
            raise ConfigError(f"{sub.where}: a staff class names the credentials of its members")
        if staff_class.annual_hours is None and staff_class.caseload is None:
            raise ConfigError(f"{sub.where}: a staff class gives annual_hours, caseload or both")
        classes.append(staff_class)
        sub.finish()
    return tuple(classes)


def parse_compliance(profile: Section, catalog: Catalog) -> Compliance:
    """The profile's `[compliance]` section, checked against the catalogue (exit 2 when wrong)."""
    section = profile.section("compliance")
    if section is None:
        return Compliance()
    severity = section.text("line_severity", "warning")
    if severity not in SEVERITIES:
        raise ConfigError(f"{section.where}: line_severity must be warning or error, not '{severity}'")
    compliance = Compliance(
        line_severity=severity,
        plans=_plans(section, catalog),
        monthly_contact=_monthly_contact(section, catalog),
        followups=_followups(section, catalog),
        staff_classes=_staff_classes(section, catalog),
    )
    section.finish()
    return compliance
