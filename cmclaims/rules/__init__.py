"""Every check, one module per family; importing this package registers them all.

    input.py          CM0  input and schema
    units.py          CM1  time and units
    limits.py         CM2  daily, monthly, per diem, annual cap, authorizations
    activities.py     CM3  travel and activities that are not case management
    duplicates.py     CM4  duplicates, already billed, overlapping times
    eligibility.py    CM5  member eligibility
    staff.py          CM6  staff qualifications
    documentation.py  CM7  documentation

A new family module only has to exist in this folder: every module here is
imported below, and its `@rule` decorators register its checks.
"""

import importlib
import pkgutil

from cmclaims.rules.registry import REGISTRY, Flags, Rule, get_rule, rule, rules_in_order

_SUPPORT = {"registry", "context", "data", "words", "describe", "schema_failures"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _SUPPORT:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Flags", "Rule", "get_rule", "rule", "rules_in_order"]
