"""A payer profile: the codes, services, limits and policies one payer enforces.

Profiles are TOML files under `code_tables/profiles/`. Loading one checks every
reference against the catalogue (a service naming an unknown code or modifier,
a credential outside the vocabulary, a misspelt key) and fails with exit 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cmclaims.errors import ConfigError
from cmclaims.tables.catalog import Catalog, CodeDef, _read_toml, load_catalog
from cmclaims.tables.compliance import Compliance, parse_compliance
from cmclaims.tables.location import code_tables_dir
from cmclaims.tables.toml_section import Section

ROUNDINGS = ("midpoint", "completed")
FAMILIES = tuple(f"CM{d}" for d in range(9))


@dataclass(frozen=True)
class CodeRule:
    """How one procedure code is billed under this payer."""

    code: CodeDef
    first_modifier: tuple[str, ...] = ()  # modifier1 must be one of these, when given
    levels: tuple[str, ...] = ()  # modifiers that name the service level
    also_allowed: tuple[str, ...] = ()  # informational modifiers the payer accepts

    @property
    def hcpcs(self) -> str:
        """The procedure code."""
        return self.code.hcpcs

    @property
    def allowed_modifiers(self) -> tuple[str, ...]:
        """Every modifier the payer accepts with this code."""
        return self.first_modifier + self.levels + self.also_allowed


@dataclass(frozen=True)
class Service:
    """A code with its level modifier, the unit every daily and monthly limit belongs to."""

    hcpcs: str
    level: str
    name: str
    ages: tuple[int, int] | None = None
    daily_units: int | None = None
    monthly_units: int | None = None
    programs: tuple[str, ...] = ()
    credentials: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()  # the member must live in one of these
    staff_ages: tuple[int, int] | None = None

    @property
    def key(self) -> str:
        """Stable identifier, also stored in the ledger: `T1017:TF`, `T1017`."""
        return f"{self.hcpcs}:{self.level}" if self.level else self.hcpcs

    @property
    def label(self) -> str:
        """How a clerk writes it: `T1017 TF`."""
        return f"{self.hcpcs} {self.level}".strip()


@dataclass(frozen=True)
class AnnualCap:
    """Units a member may get across `codes` in a calendar year, before authorizations."""

    name: str
    codes: tuple[str, ...]
    units: int


@dataclass(frozen=True)
class DischargeWindow:
    """Billable during the last `days_before_discharge` days of a stay of `min_stay_days` or more."""

    min_stay_days: int
    days_before_discharge: int


@dataclass(frozen=True)
class InstitutionPolicy:
    """Institutional stays: billable only in a window before discharge."""
    settings: tuple[str, ...]
    windows: tuple[DischargeWindow, ...]  # longest minimum stay first
    imd_excluded_ages: tuple[int, int] | None = None


@dataclass(frozen=True)
class IncarcerationPolicy:
    """Jail: not eligible from some days before admission until release."""
    settings: tuple[str, ...]
    days_before_admission: int = 0


@dataclass(frozen=True)
class DetentionPolicy:
    """Juvenile detention: billable for the first days only, and only off site."""
    setting: str
    billable_days: int
    onsite_place_of_service: tuple[str, ...]
    then_enrollment: str = ""  # the eligibility the member has beyond `billable_days` (Pennsylvania: MA_FFS)
    then_enrollment_name: str = ""  # how a clerk reads it (Medical Assistance fee-for-service)


@dataclass(frozen=True)
class SettingOnlyServices:
    """Members living in a setting may receive, of `codes`, only `services`."""
    services: tuple[str, ...]  # service keys (`T1017:SE`)
    codes: tuple[str, ...] = ()  # the codes the restriction concerns; empty: every code


@dataclass(frozen=True)
class Eligibility:
    """Who may receive the payer's case management, by setting, enrollment and stay."""
    barred_settings: tuple[str, ...] = ()
    # enrollment -> why the payer pays no case management for its members (a clause of the message)
    barred_enrollments: dict[str, str] = field(default_factory=dict)
    institution: InstitutionPolicy | None = None
    incarceration: IncarcerationPolicy | None = None
    detention: DetentionPolicy | None = None
    # setting -> the only services a member living there may receive (of some codes)
    setting_only_services: dict[str, SettingOnlyServices] = field(default_factory=dict)


@dataclass(frozen=True)
class SoarPolicy:
    """SOAR benefits work: who may do it and by which contacts it is not paid."""
    activity: str
    training: str
    excluded_contact_types: tuple[str, ...]


@dataclass(frozen=True)
class Activities:
    """Activities the payer does not pay for, and those it pays only with the member present."""
    not_billable: tuple[str, ...] = ()
    need_member_present: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # empty: every code of the profile
    soar: SoarPolicy | None = None


@dataclass(frozen=True)
class ChildStaffing:
    """Who may serve children with SED or IDD, by age and training."""
    codes: tuple[str, ...]
    max_age: int
    sed_credential: str
    sed_trainings: tuple[tuple[int, int, str], ...]
    idd_credential: str


@dataclass(frozen=True)
class EnrollmentStaffing:
    """Members enrolled in one of `enrollments` are served, on `codes`, only by staff holding one of `credentials`."""
    enrollments: tuple[str, ...]
    codes: tuple[str, ...]
    credentials: tuple[str, ...]
    name: str  # how a clerk reads the programs (Habilitation Supports Waiver or Children's Waiver)


@dataclass(frozen=True)
class StaffPolicy:
    """Staff the payer does not pay for, the rules for serving children, and for members of some programs."""
    barred_credentials: tuple[str, ...] = ()
    children: ChildStaffing | None = None
    by_enrollment: tuple[EnrollmentStaffing, ...] = ()


@dataclass(frozen=True)
class Documentation:
    """What every line must document."""
    signed_note: bool = False
    contact_type: bool = False
    place_of_service: bool = False


@dataclass(frozen=True)
class Profile:
    """One payer's whole policy, as code_tables/profiles/<name>.toml gives it."""
    name: str
    title: str
    payer: str
    source: str
    source_title: str
    rounding: str
    families: tuple[str, ...]
    codes: dict[str, CodeRule]
    services: tuple[Service, ...]
    annual_caps: tuple[AnnualCap, ...]
    activities: Activities
    eligibility: Eligibility
    staff: StaffPolicy
    documentation: Documentation
    catalog: Catalog
    compliance: Compliance = field(default_factory=Compliance)  # requirements over time (CM8xx)

    @property
    def table_version(self) -> str:
        """The code-table version the profile was loaded from."""
        return self.catalog.version

    def enforces(self, family: str) -> bool:
        """Whether the profile applies this rule family (`CM5`)."""
        return family in self.families

    def service(self, key: str) -> Service:
        """The service with this key (`T1017:TF`)."""
        return next(s for s in self.services if s.key == key)


# --- reading -----------------------------------------------------------------------------


class _Checker:
    """Cross-references a profile's values against the catalogue, naming the file."""

    def __init__(self, catalog: Catalog, where: str) -> None:
        self.catalog = catalog
        self.where = where

    def values(self, values: tuple[str, ...], vocabulary: str, what: str) -> tuple[str, ...]:
        known = {v.upper(): v for v in self.catalog.vocabulary(vocabulary)}
        out = []
        for value in values:
            if value.upper() not in known:
                raise ConfigError(f"{self.where}: {what} '{value}' is not in the {vocabulary} vocabulary")
            out.append(known[value.upper()])
        return tuple(out)

    def modifiers(self, values: tuple[str, ...], what: str) -> tuple[str, ...]:
        for value in values:
            if value.upper() not in self.catalog.modifiers:
                raise ConfigError(f"{self.where}: {what} names modifier '{value}', which modifiers.csv does not define")
        return tuple(v.upper() for v in values)


def _code_rules(profile: Section, check: _Checker) -> dict[str, CodeRule]:
    table = profile.section("codes")
    if table is None:
        raise ConfigError(f"{check.where}: a profile needs a [codes] table")
    rules: dict[str, CodeRule] = {}
    for hcpcs in table.names():
        section = table.section(hcpcs)
        assert section is not None
        code = check.catalog.codes.get(hcpcs.upper())
        if code is None:
            raise ConfigError(f"{check.where}: code {hcpcs} is not defined in codes.csv")
        rules[code.hcpcs] = CodeRule(
            code=code,
            first_modifier=check.modifiers(section.texts("first_modifier"), f"[codes.{hcpcs}] first_modifier"),
            levels=check.modifiers(section.texts("levels"), f"[codes.{hcpcs}] levels"),
            also_allowed=check.modifiers(section.texts("also_allowed"), f"[codes.{hcpcs}] also_allowed"),
        )
        section.finish()
    table.finish()
    return rules


def _services(profile: Section, codes: dict[str, CodeRule], check: _Checker) -> tuple[Service, ...]:
    services: list[Service] = []
    for section in profile.sections("services"):
        hcpcs = section.text("hcpcs").upper()
        level = section.text("level", "").upper()
        if hcpcs not in codes:
            raise ConfigError(f"{section.where}: code {hcpcs} is not in this profile's [codes]")
        if level and level not in codes[hcpcs].levels:
            raise ConfigError(
                f"{section.where}: '{level}' is not a level modifier of {hcpcs} in [codes.{hcpcs}] levels"
            )
        services.append(
            Service(
                hcpcs=hcpcs,
                level=level,
                name=section.text("name"),
                ages=section.span("ages"),
                daily_units=section.integer("daily_units"),
                monthly_units=section.integer("monthly_units"),
                programs=section.texts("programs"),
                credentials=check.values(section.texts("credentials"), "credential", "credential"),
                settings=check.values(section.texts("settings"), "setting", "setting"),
                staff_ages=section.span("staff_ages"),
            )
        )
        section.finish()
    keys = [s.key for s in services]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ConfigError(f"{check.where}: service(s) {', '.join(duplicated)} defined twice")
    for hcpcs in codes:
        if not any(s.hcpcs == hcpcs for s in services):
            raise ConfigError(f"{check.where}: code {hcpcs} has no [[services]] entry")
    return tuple(services)


def _annual_caps(profile: Section, codes: dict[str, CodeRule]) -> tuple[AnnualCap, ...]:
    caps = []
    for section in profile.sections("annual_caps"):
        cap_codes = tuple(c.upper() for c in section.texts("codes"))
        for code in cap_codes:
            if code not in codes:
                raise ConfigError(f"{section.where}: code {code} is not in this profile's [codes]")
        units = section.integer("units")
        if not cap_codes or not units:
            raise ConfigError(f"{section.where}: an annual cap needs codes and units")
        caps.append(AnnualCap(section.text("name"), cap_codes, units))
        section.finish()
    return tuple(caps)


def _activities(profile: Section, codes: dict[str, CodeRule], check: _Checker) -> Activities:
    section = profile.section("activities")
    if section is None:
        return Activities()
    scoped = tuple(c.upper() for c in section.texts("codes"))
    for code in scoped:
        if code not in codes:
            raise ConfigError(f"{section.where}: code {code} is not in this profile's [codes]")
    soar = None
    soar_section = section.section("soar")
    if soar_section is not None:
        soar = SoarPolicy(
            activity=check.values((soar_section.text("activity"),), "activity", "activity")[0],
            training=check.values((soar_section.text("training"),), "training", "training")[0],
            excluded_contact_types=check.values(
                soar_section.texts("excluded_contact_types"), "contact_type", "contact type"
            ),
        )
        soar_section.finish()
    activities = Activities(
        not_billable=check.values(section.texts("not_billable"), "activity", "activity"),
        need_member_present=check.values(section.texts("need_member_present"), "activity", "activity"),
        codes=scoped,
        soar=soar,
    )
    section.finish()
    return activities


def _eligibility(profile: Section, services: tuple[Service, ...], check: _Checker) -> Eligibility:
    section = profile.section("eligibility")
    if section is None:
        return Eligibility()
    institution = incarceration = detention = None
    if (sub := section.section("institution")) is not None:
        windows = []
        for w in sub.sections("windows"):
            windows.append(DischargeWindow(w.integer("min_stay_days", 0) or 0, w.integer("days_before_discharge") or 0))
            w.finish()
        institution = InstitutionPolicy(
            settings=check.values(sub.texts("settings"), "setting", "setting"),
            windows=tuple(sorted(windows, key=lambda w: -w.min_stay_days)),
            imd_excluded_ages=sub.span("imd_excluded_ages"),
        )
        sub.finish()
    if (sub := section.section("incarceration")) is not None:
        incarceration = IncarcerationPolicy(
            settings=check.values(sub.texts("settings"), "setting", "setting"),
            days_before_admission=sub.integer("days_before_admission", 0) or 0,
        )
        sub.finish()
    if (sub := section.section("detention")) is not None:
        detention = DetentionPolicy(
            setting=check.values((sub.text("setting"),), "setting", "setting")[0],
            billable_days=sub.integer("billable_days") or 0,
            onsite_place_of_service=sub.texts("onsite_place_of_service"),
            then_enrollment=sub.text("then_enrollment", "").upper(),
            then_enrollment_name=sub.text("then_enrollment_name", ""),
        )
        sub.finish()
    only: dict[str, SettingOnlyServices] = {}
    if (sub := section.section("setting_only_services")) is not None:
        known = {s.key for s in services}
        codes = {s.hcpcs for s in services}
        for setting in sub.names():
            table = sub.section(setting)
            assert table is not None
            keys, scoped = table.texts("services"), tuple(c.upper() for c in table.texts("codes"))
            table.finish()
            for key in keys:
                if key not in known:
                    raise ConfigError(f"{table.where}: service '{key}' is not a service of this profile")
            for code in scoped:
                if code not in codes:
                    raise ConfigError(f"{table.where}: code {code} is not in this profile's [codes]")
            only[check.values((setting,), "setting", "setting")[0]] = SettingOnlyServices(keys, scoped)
        sub.finish()
    barred: dict[str, str] = {}
    if (sub := section.section("barred_enrollments")) is not None:
        for enrollment in sub.names():
            barred[enrollment.upper()] = sub.text(enrollment)
        sub.finish()
    eligibility = Eligibility(
        barred_settings=check.values(section.texts("barred_settings"), "setting", "setting"),
        barred_enrollments=barred,
        institution=institution,
        incarceration=incarceration,
        detention=detention,
        setting_only_services=only,
    )
    section.finish()
    return eligibility


def _staff(profile: Section, codes: dict[str, CodeRule], check: _Checker) -> StaffPolicy:
    section = profile.section("staff")
    if section is None:
        return StaffPolicy()
    children = None
    if (sub := section.section("children")) is not None:
        trainings = []
        for t in sub.sections("sed_trainings"):
            ages = t.span("ages")
            if ages is None:
                raise ConfigError(f"{t.where}: needs ages = [low, high]")
            trainings.append((ages[0], ages[1], check.values((t.text("training"),), "training", "training")[0]))
            t.finish()
        child_codes = tuple(c.upper() for c in sub.texts("codes"))
        for code in child_codes:
            if code not in codes:
                raise ConfigError(f"{sub.where}: code {code} is not in this profile's [codes]")
        children = ChildStaffing(
            codes=child_codes,
            max_age=sub.integer("max_age") or 17,
            sed_credential=check.values((sub.text("sed_credential"),), "credential", "credential")[0],
            sed_trainings=tuple(trainings),
            idd_credential=check.values((sub.text("idd_credential"),), "credential", "credential")[0],
        )
        sub.finish()
    by_enrollment = []
    for sub in section.sections("by_enrollment"):
        scoped = tuple(c.upper() for c in sub.texts("codes"))
        for code in scoped:
            if code not in codes:
                raise ConfigError(f"{sub.where}: code {code} is not in this profile's [codes]")
        enrollments = tuple(e.upper() for e in sub.texts("enrollments"))
        credentials = check.values(sub.texts("credentials"), "credential", "credential")
        if not enrollments or not credentials:
            raise ConfigError(f"{sub.where}: needs enrollments and credentials")
        by_enrollment.append(EnrollmentStaffing(enrollments, scoped, credentials, sub.text("name")))
        sub.finish()
    staff = StaffPolicy(
        barred_credentials=check.values(section.texts("barred_credentials"), "credential", "credential"),
        children=children,
        by_enrollment=tuple(by_enrollment),
    )
    section.finish()
    return staff


def _documentation(profile: Section) -> Documentation:
    section = profile.section("documentation")
    if section is None:
        return Documentation()
    documentation = Documentation(
        signed_note=section.flag("signed_note"),
        contact_type=section.flag("contact_type"),
        place_of_service=section.flag("place_of_service"),
    )
    section.finish()
    return documentation


def parse_profile(data: dict, where: str, catalog: Catalog) -> Profile:
    """Build and check a profile from its parsed TOML; `where` names it in errors."""
    section = Section(data, where)
    check = _Checker(catalog, where)
    rounding = section.text("rounding", "midpoint")
    if rounding not in ROUNDINGS:
        raise ConfigError(f"{where}: rounding must be {' or '.join(ROUNDINGS)}, not '{rounding}'")
    families = section.texts("families")
    for family in families:
        if family not in FAMILIES:
            raise ConfigError(f"{where}: '{family}' is not a rule family (CM0 to CM8)")
    codes = _code_rules(section, check)
    services = _services(section, codes, check)
    profile = Profile(
        name=section.text("name"),
        title=section.text("title"),
        payer=section.text("payer"),
        source=section.text("source"),
        source_title=section.text("source_title"),
        rounding=rounding,
        families=families,
        codes=codes,
        services=services,
        annual_caps=_annual_caps(section, codes),
        activities=_activities(section, codes, check),
        eligibility=_eligibility(section, services, check),
        staff=_staff(section, codes, check),
        documentation=_documentation(section),
        catalog=catalog,
        compliance=parse_compliance(section, catalog),
    )
    section.finish()
    return profile


def _profiles_dir(folder: Path | None) -> Path:
    return (folder or code_tables_dir()) / "profiles"


def profile_names(folder: Path | None = None) -> list[str]:
    """Every profile under code_tables/profiles/, by name."""
    return sorted(p.stem for p in _profiles_dir(folder).glob("*.toml"))


@lru_cache(maxsize=16)
def _load(path: Path, folder: Path) -> Profile:
    catalog = load_catalog(folder)
    profile = parse_profile(_read_toml(path), f"profiles/{path.name}", catalog)
    if profile.name != path.stem:
        raise ConfigError(f"profiles/{path.name}: name '{profile.name}' must match the file name '{path.stem}'")
    return profile


def load_profile(name: str, folder: Path | None = None) -> Profile:
    """The profile called `name`; exit 2 with the list of profiles when there is none."""
    folder = (folder or code_tables_dir()).resolve()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name or ""):
        raise ConfigError(f"'{name}' is not a profile name", hint=f"profiles: {', '.join(profile_names(folder))}")
    path = _profiles_dir(folder) / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown profile '{name}'", hint=f"profiles: {', '.join(profile_names(folder))}")
    return _load(path, folder)
