"""cmclaims: the pre-billing validator for behavioral-health case management claims."""

__version__ = "0.1.0"
