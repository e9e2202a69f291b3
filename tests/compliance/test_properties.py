"""Properties of the contact requirements, on random histories (hypothesis), without a ledger.

A contact can only help: giving a member one more qualifying contact never adds
a finding (CM810 monthly contact, CM811 follow-up after a discharge, CM812
contact during a stay), and taking one away never removes one.

For CM811 and CM812 a contact may be added or removed anywhere. For CM810 the
months a member is served are those between their first and last billed line
(SPEC section 10's "while served", and the issue's own example), so a new line
outside that span would open new months to judge: there the property is over
contacts within the member's service, the lines that define it staying billed
(a billed line becomes, or stops being, a qualifying contact; a qualifying
contact is added inside the span).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.compliance.contacts import check_monthly_contact
from cmclaims.compliance.followups import check_contact_during_stay, check_followup
from cmclaims.compliance.history import Codes, History
from cmclaims.compliance.window import Window
from cmclaims.normalize.values import MISSING, day_number
from cmclaims.tables import load_profile

BASE = day_number(__import__("datetime").date(2026, 1, 1))
WINDOW = Window(BASE, BASE + 180)
MEMBERS = ["M0", "M1", "M2"]
CONTACTS = ["face_to_face", "telephone", "email"]
PLACES = ["12", "11", "99"]

line = st.tuples(st.integers(0, 2), st.integers(0, 200), st.integers(0, 1439), st.integers(0, 2), st.integers(0, 2),
                 st.booleans())
stay = st.tuples(st.integers(0, 2), st.sampled_from(["inpatient", "php", "crisis"]), st.integers(0, 180),
                 st.integers(0, 12), st.one_of(st.none(), st.integers(0, 1439)))


def history(lines: list[tuple]) -> History:
    """A History of (member, day offset, start minute, contact type, place, member present) lines, sorted."""
    ordered = sorted(lines, key=lambda x: (x[0], x[1], x[2]))
    column = lambda i: np.array([x[i] for x in ordered], dtype=np.int64)  # noqa: E731
    size = len(ordered)
    present = np.array([1 if x[5] else 0 for x in ordered], dtype=np.int32)
    texts = {
        "member_id": Codes(column(0).astype(np.int32) if size else np.empty(0, np.int32), pd.Index(MEMBERS)),
        "staff_id": Codes(np.zeros(size, np.int32), pd.Index(["S1"])),
        "hcpcs": Codes(np.zeros(size, np.int32), pd.Index(["T1017"])),
        "contact_type": Codes(column(3).astype(np.int32) if size else np.empty(0, np.int32), pd.Index(CONTACTS)),
        "place_of_service": Codes(column(4).astype(np.int32) if size else np.empty(0, np.int32), pd.Index(PLACES)),
        "member_present": Codes(present, pd.Index(["N", "Y"])),
        "activity": Codes(np.full(size, -1, np.int32), pd.Index([], dtype=object)),
    }
    days = BASE + column(1) if size else np.empty(0, np.int64)
    start = column(2).astype(np.int32) if size else np.empty(0, np.int32)
    return History(texts, days, start, np.full(size, 15, dtype=np.int64))


def stays_frame(stays: list[tuple]) -> pd.DataFrame:
    """Stays of distinct members' own, without overlaps: each member keeps their first stay drawn."""
    first: dict[int, tuple] = {}
    for s in stays:
        first.setdefault(s[0], s)
    rows = list(first.values())
    return pd.DataFrame({
        "member_id": [MEMBERS[s[0]] for s in rows],
        "setting": [s[1] for s in rows],
        "admit_day": np.array([BASE + s[2] for s in rows], dtype=np.int64),
        "discharge_day": np.array([BASE + s[2] + s[3] for s in rows], dtype=np.int64),
        "discharge_minute": np.array([MISSING if s[4] is None else s[4] for s in rows], dtype=np.int64),
        "row": np.arange(1, len(rows) + 1),
    })


def found(outcome) -> set[tuple]:
    return set(zip(outcome.findings["member_id"], outcome.findings["period_start"], strict=True))


def follow_findings(lines: list[tuple], stays: pd.DataFrame) -> set[tuple]:
    """Every CM811 and CM812 finding of both profiles that have follow-ups."""
    out: set[tuple] = set()
    for name in ("az-ahcccs", "pa-performcare"):
        for rule in load_profile(name).compliance.followups:
            out |= {(name, "CM811", *f) for f in found(check_followup(history(lines), WINDOW, rule, stays))}
            if rule.contact_during_stay:
                out |= {(name, "CM812", *f)
                        for f in found(check_contact_during_stay(history(lines), WINDOW, rule, stays))}
    return out


def qualifies_for_followup(x: tuple) -> bool:
    return CONTACTS[x[3]] in ("face_to_face", "telephone") and x[5]


@settings(max_examples=60, deadline=None)
@given(st.lists(line, max_size=25), st.lists(stay, min_size=1, max_size=4), line)
def test_a_follow_up_contact_only_helps(lines: list[tuple], stays: list[tuple], extra: tuple) -> None:
    frame = stays_frame(stays)
    contact = (extra[0], extra[1], extra[2], 0, extra[4], True)  # face to face, member present
    before = follow_findings(lines, frame)
    after = follow_findings([*lines, contact], frame)
    assert after <= before, "adding a contact added a finding"
    qualifying = [i for i, x in enumerate(lines) if qualifies_for_followup(x)]
    if qualifying:
        removed = [x for i, x in enumerate(lines) if i != qualifying[0]]
        assert follow_findings(removed, frame) >= before, "removing a contact removed a finding"


def monthly_findings(lines: list[tuple], stays: pd.DataFrame) -> set[tuple]:
    rule = load_profile("ok-soonercare").compliance.monthly_contact
    assert rule is not None
    return found(check_monthly_contact(history(lines), WINDOW, rule, stays))


@settings(max_examples=60, deadline=None)
@given(st.lists(line, min_size=1, max_size=25), st.lists(stay, max_size=3), st.data())
def test_a_monthly_contact_only_helps(lines: list[tuple], stays: list[tuple], data: st.DataObject) -> None:
    frame = stays_frame(stays)
    before = monthly_findings(lines, frame)
    # A billed line becomes a qualifying contact (face to face at home): never a new finding.
    index = data.draw(st.integers(0, len(lines) - 1))
    upgraded = list(lines)
    upgraded[index] = (*lines[index][:3], 0, 0, lines[index][5])
    assert monthly_findings(upgraded, frame) <= before
    # A qualifying contact added inside the member's billed span: never a new finding.
    member = lines[index][0]
    days = [x[1] for x in lines if x[0] == member]
    day = data.draw(st.integers(min(days), max(days)))
    assert monthly_findings([*lines, (member, day, 600, 0, 0, True)], frame) <= before
    # A qualifying contact that stops qualifying (seen at the office): never one finding fewer.
    downgraded = list(lines)
    downgraded[index] = (*lines[index][:3], 0, 1, lines[index][5])
    assert monthly_findings(downgraded, frame) >= before
