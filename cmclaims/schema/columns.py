"""The columns of the encounter export and of the side files (SPEC section 2)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FileColumns:
    """The columns one kind of input file has: those it must have, and the rest it may."""

    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()  # (other name, canonical name)
    # (required column, a column that may stand in for it): an export with a duration has no end
    stand_ins: tuple[tuple[str, str], ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        """Every column this kind of file may have."""
        return self.required + self.optional

    def missing(self, matched: set[str] | frozenset[str] | dict[str, str]) -> list[str]:
        """The required columns neither `matched` nor stood in for by a column that is."""
        stand_in = dict(self.stand_ins)
        return [c for c in self.required if c not in matched and stand_in.get(c) not in matched]


MODIFIER_COLUMNS = ("modifier1", "modifier2", "modifier3", "modifier4")

ENCOUNTER = FileColumns(
    kind="encounter export",
    required=(
        "claim_id",
        "member_id",
        "member_dob",
        "service_date",
        "start_time",
        "end_time",
        "hcpcs",
        "staff_id",
    ),
    optional=(
        *MODIFIER_COLUMNS,
        "modifiers",
        "units",
        "travel_minutes",
        "duration_minutes",
        "activity",
        "contact_type",
        "member_present",
        "place_of_service",
        "member_setting",
        "member_population",
        "program",
        "enrollment",
        "staff_credential",
        "note_signed",
        "charge",
        "authorization_id",
        "claim_frequency",
        "original_claim_id",
    ),
    stand_ins=(("end_time", "duration_minutes"),),  # end = start + duration (SPEC section 2)
)

AUTHORIZATIONS = FileColumns(
    kind="authorizations file",
    required=("authorization_id", "member_id", "hcpcs", "start_date", "end_date", "units"),
    optional=("modifier",),
)

STAYS = FileColumns(
    kind="stays file",
    required=("member_id", "setting", "admit_date"),
    optional=("discharge_date", "discharge_time"),  # the time: for follow-ups due within hours (CM811)
)

STAFF = FileColumns(
    kind="staff file",
    required=("staff_id", "credentials"),
    optional=("trainings", "birth_date", "start_date", "end_date"),
)

ENROLLMENT = FileColumns(
    kind="enrollment file",
    required=("member_id", "enrollment", "start_date"),
    optional=("end_date",),
)

PLANS = FileColumns(
    kind="plans file",
    required=("member_id", "plan_type", "signed_date"),
    optional=("signed_by",),
)

# A billing history loaded into the ledger with `cmclaims ledger import`.
HISTORY = FileColumns(
    kind="billing history",
    required=("claim_id", "member_id", "service_date", "hcpcs", "units"),
    optional=(*MODIFIER_COLUMNS, "modifiers", "charge", "authorization_id", "staff_id", "program"),
)

# claim_frequency: an original claim, a replacement of an earlier one, a void of an earlier one.
ORIGINAL, REPLACEMENT, VOID = "1", "7", "8"

# Columns that hold protected health information: never printed, only written to files.
PHI_COLUMNS = frozenset({"member_id", "member_dob", "birth_date"})


def header_key(name: str) -> str:
    """How a header is matched: trimmed, case-insensitive, spaces and hyphens as underscores."""
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip()).lower()
