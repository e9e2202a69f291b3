"""The code tables: policy as data, read from `code_tables/` and checked at load.

`load_catalog()` gives the shared codes, modifiers and vocabularies;
`load_profile(name)` gives one payer's profile, validated against the catalogue.
"""

from cmclaims.tables.catalog import Catalog, CodeDef, load_catalog
from cmclaims.tables.profile import (
    AnnualCap,
    CodeRule,
    Profile,
    Service,
    load_profile,
    profile_names,
)

__all__ = [
    "AnnualCap",
    "Catalog",
    "CodeDef",
    "CodeRule",
    "Profile",
    "Service",
    "load_catalog",
    "load_profile",
    "profile_names",
]
