"""The local engine: the whole batch is one partition, validated in this process.

It is the pipeline as `cmclaims/pipeline/validate.py` runs it (read, the
partition's stages over every line, outputs, ledger commit), at its speed:
no line is converted or moved for it.
"""

from __future__ import annotations

from collections.abc import Callable

from cmclaims.pipeline.request import ValidateRequest
from cmclaims.pipeline.validate import ValidateResult, validate


def validate_locally(request: ValidateRequest, on_stage: Callable[[str], None] | None = None) -> ValidateResult:
    """Validate the whole batch in this process."""
    return validate(request, on_stage)
