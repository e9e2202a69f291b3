"""Every check, one module per family; importing this package registers them all.

    input.py          CM0  input and schema
    units.py          CM1  time and units
    limits.py         CM2  daily, monthly, per diem, annual cap, authorizations
    activities.py     CM3  travel and activities that are not case management
    duplicates.py     CM4  duplicates, already billed, overlapping times
    eligibility.py    CM5  member eligibility
    staff.py          CM6  staff qualifications
    documentation.py  CM7  documentation
"""

from cmclaims.rules import input, limits, units  # noqa: F401  (registration)
from cmclaims.rules.registry import REGISTRY, Flags, Rule, get_rule, rule, rules_in_order

__all__ = ["REGISTRY", "Flags", "Rule", "get_rule", "rule", "rules_in_order"]
