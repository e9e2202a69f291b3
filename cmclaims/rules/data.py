"""The data a rule needs, and why it is missing when it is (SPEC section 2, `rules_skipped`).

A rule names what it needs (`needs=("activity",)`); before it runs, each need
is looked up here. A missing one skips the rule and says why, in summary.json
and on the terminal: a rule whose data is absent never passes silently.
"""

from __future__ import annotations

from collections.abc import Callable

from cmclaims.rules.context import Context


def _column(name: str) -> Callable[[Context], str | None]:
    def check(ctx: Context) -> str | None:
        return None if ctx.has_column(name) else f"the export has no {name} column"

    return check


def _side(attribute: str, option: str, fallback_column: str | None) -> Callable[[Context], str | None]:
    def check(ctx: Context) -> str | None:
        if getattr(ctx.side, attribute, None) is not None:
            return None
        if fallback_column and ctx.has_column(fallback_column):
            return None
        alternative = f" and no {fallback_column} column" if fallback_column else ""
        return f"no {option} file was given{alternative}"

    return check


def _ledger(ctx: Context) -> str | None:
    return None if ctx.ledger is not None else "the run does not use the ledger (--no-ledger)"


NEEDS: dict[str, Callable[[Context], str | None]] = {
    "activity": _column("activity"),
    "contact_type": _column("contact_type"),
    "member_present": _column("member_present"),
    "place_of_service": _column("place_of_service"),
    "note_signed": _column("note_signed"),
    "program": _column("program"),
    "enrollment": _side("enrollment", "--enrollment", "enrollment"),
    "member_population": _column("member_population"),
    "setting": _side("stays", "--stays", "member_setting"),
    "stay_dates": _side("stays", "--stays", None),
    "credentials": _side("staff", "--staff", "staff_credential"),
    "staff_birth_dates": _side("staff", "--staff", None),
    "plans": _side("plans", "--plans", None),
    "ledger": _ledger,
}


def missing_data(ctx: Context, needs: tuple[str, ...]) -> str | None:
    """Why a rule with these needs cannot run on this batch, or None when it can."""
    reasons = [reason for need in needs if (reason := NEEDS[need](ctx)) is not None]
    return "; ".join(reasons) if reasons else None


# How each need reads in `cmclaims profiles` and `cmclaims rule`.
DESCRIPTIONS: dict[str, str] = {
    "activity": "activity column",
    "contact_type": "contact_type column",
    "member_present": "member_present column",
    "place_of_service": "place_of_service column",
    "note_signed": "note_signed column",
    "program": "program column",
    "enrollment": "--enrollment, or an enrollment column",
    "member_population": "member_population column",
    "setting": "--stays, or a member_setting column",
    "stay_dates": "--stays",
    "credentials": "--staff, or a staff_credential column",
    "staff_birth_dates": "--staff (birth_date)",
    "staff_file": "--staff",
    "plans": "--plans",
    "ledger": "the ledger (not with --no-ledger)",
}


def describe_needs(needs: tuple[str, ...]) -> str:
    """A rule's data needs in words; the export's required columns when it needs nothing more."""
    return "; ".join(DESCRIPTIONS.get(need, need) for need in needs) or "required columns only"
