"""`cmclaims rules`, `cmclaims rule CODE`, `cmclaims profiles`: what is checked, and why."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cmclaims.cli import app
from cmclaims.cli.console import stdout
from cmclaims.errors import ConfigError

if TYPE_CHECKING:
    from cmclaims.rules.registry import Rule
    from cmclaims.tables import Profile

# The registry and the tables import numpy and pandas: loaded when a command runs, not at start-up.


def _rule_document(rule: Rule) -> dict[str, object]:
    from cmclaims.rules.registry import DOC_SECTIONS
    from cmclaims.tables import load_profile, profile_names

    return {
        "rule": rule.code,
        "name": rule.name,
        "severity": rule.severity,
        "effect": rule.effect,
        "family": rule.family,
        "summary": rule.summary,
        "needs": list(rule.needs),
        "sections": {title: rule.section(title) for title in DOC_SECTIONS},
        "profiles": [name for name in profile_names() if rule.applies_to(load_profile(name))],
    }


@app.command("rules")
def rules_command(
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """List every rule: code, name, severity and one-line summary.

    \b
    Examples:
      cmclaims rules
      cmclaims rules --json > rules.json
    """
    from cmclaims.rules import rules_in_order
    from cmclaims.rules.registry import FAMILIES

    rules = rules_in_order()
    if as_json:
        print(json.dumps([_rule_document(r) for r in rules], indent=2))
        raise typer.Exit(0)
    table = Table(show_edge=False, pad_edge=False)
    for heading in ("rule", "name", "severity", "summary"):
        table.add_column(heading)
    family = ""
    for rule in rules:
        if rule.family != family:
            family = rule.family
            table.add_row(f"[bold]{family}xx[/bold]", f"[bold]{FAMILIES[family][1]}[/bold]", "", "")
        table.add_row(rule.code, rule.name, rule.severity, rule.summary)
    stdout.print(table)
    raise typer.Exit(0)


@app.command("rule")
def rule_command(
    code: Annotated[str, typer.Argument(help="a rule code such as CM201")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Explain one rule: what it checks, why, an example, how to fix it, and its source.

    \b
    Example:
      cmclaims rule CM201
    """
    from cmclaims.rules import REGISTRY, rules_in_order
    from cmclaims.rules.registry import DOC_SECTIONS

    rules_in_order()
    rule = REGISTRY.get(code.strip().upper())
    if rule is None:
        raise ConfigError(f"there is no rule {code}", hint="`cmclaims rules` lists them")
    document = _rule_document(rule)
    if as_json:
        print(json.dumps(document, indent=2))
        raise typer.Exit(0)
    # The explanation is printed as it is written: `[activities]` or `[values.COLUMN]` in a
    # docstring is text for the reader, not rich markup to be swallowed.
    stdout.print(f"[bold]{rule.code} {rule.name}[/bold] ({rule.what_it_does})")
    stdout.print(rule.summary, markup=False)
    from cmclaims.rules.data import describe_needs

    parts = [(title, rule.section(title)) for title in DOC_SECTIONS]
    parts += [("Data it needs", describe_needs(rule.needs)),
              ("Profiles that enforce it", ", ".join(document["profiles"]) or "none"),  # type: ignore[arg-type]
              ("Message", rule.message)]
    for title, text in parts:
        stdout.print(f"\n[bold]{title}[/bold]")
        stdout.print(text, markup=False)
    raise typer.Exit(0)


def _limit(value: int | None) -> str:
    return str(value) if value else "none"


def _profile_document(profile: Profile) -> dict[str, object]:
    from cmclaims.rules import rules_in_order

    enforced = [r for r in rules_in_order() if r.applies_to(profile)]
    return {
        "name": profile.name,
        "title": profile.title,
        "payer": profile.payer,
        "source": profile.source,
        "source_title": profile.source_title,
        "rounding": profile.rounding,
        "families": list(profile.families),
        "codes": [
            {"hcpcs": c.hcpcs, "unit": c.code.unit_label, "first_modifier": list(c.first_modifier),
             "levels": list(c.levels)}
            for c in profile.codes.values()
        ],
        "services": [
            {"service": s.label, "name": s.name, "ages": list(s.ages) if s.ages else None,
             "daily_units": s.daily_units, "monthly_units": s.monthly_units, "programs": list(s.programs),
             "credentials": list(s.credentials), "settings": list(s.settings),
             "staff_ages": list(s.staff_ages) if s.staff_ages else None}
            for s in profile.services
        ],
        "annual_caps": [{"name": c.name, "codes": list(c.codes), "units": c.units} for c in profile.annual_caps],
        "policy": _policy_lines(profile),
        "rules": [{"rule": r.code, "name": r.name, "needs": list(r.needs)} for r in enforced],
    }


def _policy_lines(profile: Profile) -> list[str]:
    """The profile's policies beyond codes and limits, in a billing analyst's words."""
    lines = []
    activities, eligibility, staff, documentation = (
        profile.activities, profile.eligibility, profile.staff, profile.documentation)
    scope = f" (with {', '.join(activities.codes)})" if activities.codes else ""
    if activities.not_billable:
        lines.append(f"not billable{scope}: travel, {', '.join(activities.not_billable)}")
    else:
        lines.append("not billable: travel (windshield time)")
    if activities.need_member_present:
        lines.append(f"billable only with the member present: {', '.join(activities.need_member_present)}")
    if activities.soar:
        lines.append(f"SOAR ({activities.soar.activity}): only by staff trained in {activities.soar.training}; "
                     f"never by {', '.join(activities.soar.excluded_contact_types)}")
    if eligibility.barred_settings:
        lines.append(f"no case management for members living in: {', '.join(eligibility.barred_settings)}")
    if (institution := eligibility.institution) is not None:
        windows = "; ".join(
            f"the last {w.days_before_discharge} days before discharge"
            + (f" of a stay of {w.min_stay_days}+ days" if w.min_stay_days
               else " of a shorter stay" if len(institution.windows) > 1 else "")
            for w in institution.windows)
        imd = (f"; never for IMD residents aged {institution.imd_excluded_ages[0]}-{institution.imd_excluded_ages[1]}"
               if institution.imd_excluded_ages else "")
        lines.append(f"in an institution ({', '.join(institution.settings)}): only {windows}{imd}")
    if (jail := eligibility.incarceration) is not None:
        lines.append(f"{', '.join(jail.settings)}: not eligible from {jail.days_before_admission} day(s) before "
                     "admission until release")
    if (detention := eligibility.detention) is not None:
        then = f"; then the member is {detention.then_enrollment}" if detention.then_enrollment else ""
        lines.append(f"{detention.setting}: the first {detention.billable_days} days only, and only off site "
                     f"(place of service other than {', '.join(detention.onsite_place_of_service)}){then}")
    if eligibility.institution or eligibility.detention:
        lines.append("stays that follow one another without a gap in the same kind of setting count as one stay")
    if eligibility.barred_enrollments:
        lines.append(f"not reimbursable for enrollments (by dated --enrollment episodes, else the enrollment "
                     f"column): {', '.join(eligibility.barred_enrollments)}")
    for setting, only in eligibility.setting_only_services.items():
        scope = f" (of {', '.join(only.codes)})" if only.codes else ""
        lines.append(f"members living in {setting} may receive{scope} only: {', '.join(only.services)}")
    if staff.barred_credentials:
        lines.append(f"not reimbursable when given by: {', '.join(staff.barred_credentials)}")
    for policy in staff.by_enrollment:
        scope = f" on {', '.join(policy.codes)}" if policy.codes else ""
        lines.append(f"members of {', '.join(policy.enrollments)}{scope}: served only by "
                     f"{' or '.join(policy.credentials)}")
    if (children := staff.children) is not None:
        trainings = ", ".join(f"{t} ({lo}-{hi})" for lo, hi, t in children.sed_trainings)
        lines.append(f"children to age {children.max_age} with {', '.join(children.codes)}: SED needs a "
                     f"{children.sed_credential} trained in {trainings}; IDD needs a {children.idd_credential}")
    required = [name for name, on in (("a signed note", documentation.signed_note),
                                      ("the contact type", documentation.contact_type),
                                      ("the place of service", documentation.place_of_service)) if on]
    if required:
        lines.append(f"documentation: every line needs {' and '.join(required)}")
    return lines


def _render_profile(profile: Profile) -> None:
    from cmclaims.rules.data import describe_needs

    document = _profile_document(profile)
    stdout.print(f"\n[bold]{profile.name}[/bold]: {profile.title}")
    stdout.print(f"payer: {profile.payer}\nsource: seeds/{profile.source} ({profile.source_title})")
    codes = ", ".join(f"{c.hcpcs} ({c.code.unit_label})" for c in profile.codes.values())
    stdout.print(f"codes: {codes}; rounding: {profile.rounding}")
    table = Table(show_edge=False, pad_edge=False)
    for heading in ("service", "name", "ages", "daily", "monthly", "program", "staff"):
        table.add_column(heading)
    for s in profile.services:
        table.add_row(
            s.label, s.name, f"{s.ages[0]}-{s.ages[1]}" if s.ages else "any", _limit(s.daily_units),
            _limit(s.monthly_units), " or ".join(s.programs) or "any",
            " or ".join(s.credentials) or "any",
        )
    stdout.print(table)
    for cap in profile.annual_caps:
        stdout.print(f"annual cap: {cap.units} units a member a calendar year across {', '.join(cap.codes)}; "
                     "more only against a prior authorization")
    for line in _policy_lines(profile):
        stdout.print(line, markup=False)
    rules = Table(title=f"rules enforced (families {', '.join(profile.families)})", title_justify="left",
                  show_edge=False, pad_edge=False)
    for heading in ("rule", "name", "data it needs"):
        rules.add_column(heading)
    for rule in document["rules"]:  # type: ignore[attr-defined]
        rules.add_row(rule["rule"], rule["name"], describe_needs(tuple(rule["needs"])))
    stdout.print(rules)


@app.command("profiles")
def profiles_command(
    name: Annotated[str | None, typer.Argument(help="show one profile")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """The payer profiles: codes, services, limits, the rules each enforces, and its source document.

    \b
    Example:
      cmclaims profiles ok-soonercare
    """
    from cmclaims.tables import load_profile, profile_names

    profiles = [load_profile(name)] if name else [load_profile(n) for n in profile_names()]
    if as_json:
        print(json.dumps([_profile_document(p) for p in profiles], indent=2))
        raise typer.Exit(0)
    for profile in profiles:
        _render_profile(profile)
    raise typer.Exit(0)
