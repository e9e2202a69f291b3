"""CM7: documentation the payer requires on every billed service (SPEC section 8).

Which documentation a payer requires is data: `[documentation]` in each profile
(`signed_note`, `contact_type`, `place_of_service`). A missing value is held,
not passed: the payer recoups what the record does not support. A batch
without the column at all lists the rule under rules_skipped instead.
"""

from __future__ import annotations

import numpy as np

from cmclaims.rules.context import Context
from cmclaims.rules.describe import service_text, when
from cmclaims.rules.registry import Flags, rule


def _flag(ctx: Context, mask: np.ndarray) -> Flags:
    rows = np.flatnonzero(ctx.checkable & mask)
    return Flags(rows, {"service": service_text(ctx, rows), "when": when(ctx, rows), "profile": ctx.profile.name})


@rule(
    "CM701",
    "documentation.unsigned_note",
    severity="error",
    message="{service} on {when}: the progress note is not signed (note_signed N); "
    "{profile} pays only services with a signed note",
    needs=("note_signed",),
    applies=lambda profile: profile.documentation.signed_note,
)
def unsigned_note(ctx: Context) -> Flags:
    """A service whose progress note is not signed by the service provider.

    What it checks:
        Lines with note_signed N, under a profile that requires a signed note
        (`[documentation] signed_note`; ok-soonercare).
    Why it matters:
        The note's original signature of the service provider is part of the
        documentation every session must have. A service billed on an
        unsigned note is recouped in an audit.
    Example:
        ok-soonercare, T1017 HE HN on 2026-03-04 09:00-10:00, note_signed N.
    How to fix:
        Have the case manager sign the note in the EHR and re-export; the
        line is validated again the next night.
    Source:
        seeds/002 "Documentation Requirements" (4) (original signature of the
        service provider); SPEC section 8 ("A signed note is required").
    """
    return _flag(ctx, ctx.lines.text["note_signed"].has("N"))


@rule(
    "CM702",
    "documentation.signature_unknown",
    severity="error",
    message="{service} on {when}: note_signed is blank, so the note cannot be shown to be signed; "
    "{profile} pays only services with a signed note",
    needs=("note_signed",),
    applies=lambda profile: profile.documentation.signed_note,
)
def signature_unknown(ctx: Context) -> Flags:
    """A service that does not say whether its progress note is signed.

    What it checks:
        Lines with a blank note_signed, under a profile that requires a signed
        note (ok-soonercare). (N is CM701.)
    Why it matters:
        A blank value is not a signature. Billing the line would claim a
        service whose record may not support it, which an audit recoups, so
        the line is held until the export says Y.
    Example:
        ok-soonercare, T1017 HE TF on 2026-03-04 13:00-13:45, note_signed
        empty (the EHR export leaves it blank while a note is in draft).
    How to fix:
        Sign the note, or make the export fill note_signed, and re-export.
    Source:
        seeds/002 "Documentation Requirements" (4); SPEC section 2 (a rule's
        data must never pass silently).
    """
    return _flag(ctx, ~ctx.lines.text["note_signed"].present)


@rule(
    "CM703",
    "documentation.missing_contact_type",
    severity="error",
    message="{service} on {when}: contact_type is blank; {profile} requires the note to say whether the "
    "contact was face to face (face_to_face, telephone, video ...)",
    needs=("contact_type",),
    applies=lambda profile: profile.documentation.contact_type,
)
def missing_contact_type(ctx: Context) -> Flags:
    """A service that does not say how the contact was made.

    What it checks:
        Lines with a blank contact_type, under a profile that requires it
        (`[documentation] contact_type`; mi-dwihn).
    Why it matters:
        The payer requires the record of every case management and supports
        coordination contact to say whether it was face to face. A service
        whose record lacks it does not meet the documentation standard and is
        recouped in an audit.
    Example:
        mi-dwihn, T1017 on 2026-03-04 09:00-09:30 with no contact_type.
    How to fix:
        Record the contact type in the note (face_to_face, telephone, video,
        email, fax, mail, voicemail) and re-export.
    Source:
        seeds/000 "Documentation Requirements" 1 (the date and location of
        contacts, including whether they were face-to-face); SPEC section 8.
    """
    return _flag(ctx, ~ctx.lines.text["contact_type"].present)


@rule(
    "CM704",
    "documentation.missing_place_of_service",
    severity="error",
    message="{service} on {when}: place_of_service is blank; {profile} requires where the contact took place",
    needs=("place_of_service",),
    applies=lambda profile: profile.documentation.place_of_service,
)
def missing_place_of_service(ctx: Context) -> Flags:
    """A service that does not say where it took place.

    What it checks:
        Lines with a blank place_of_service, under a profile that requires it
        (`[documentation] place_of_service`; mi-dwihn).
    Why it matters:
        The payer requires the record of every contact to give its location,
        and a professional claim without a place of service is denied; an
        audit recoups a service whose record lacks it.
    Example:
        mi-dwihn, T1016 on 2026-03-04 10:00-10:45 with no place_of_service.
    How to fix:
        Record the place of service (the two-digit CMS code: 11 office, 12
        home, 99 other ...) in the note and re-export.
    Source:
        seeds/000 "Documentation Requirements" 1 (the date and the location of
        contacts); SPEC section 8.
    """
    return _flag(ctx, ~ctx.lines.text["place_of_service"].present)
