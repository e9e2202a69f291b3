"""`cmclaims sample`: a realistic synthetic export, for demos, tests and benchmarks."""

from __future__ import annotations
