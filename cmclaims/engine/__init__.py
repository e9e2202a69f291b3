"""Engines that run the validation: the whole batch in this process, or partitions on a Dask cluster.

`run(request)` picks the engine the request names (`validate --engine local|dask`).
"""

from __future__ import annotations

from collections.abc import Callable

from cmclaims.pipeline.request import ValidateRequest
from cmclaims.pipeline.validate import ValidateResult

ENGINES = ("local", "dask")


def run(request: ValidateRequest, on_stage: Callable[[str], None] | None = None) -> ValidateResult:
    """Validate with the engine the request names."""
    from cmclaims.engine.inputs import expand_inputs
    from cmclaims.errors import ConfigError

    if request.engine not in ENGINES:
        raise ConfigError(f"--engine must be local or dask, not '{request.engine}'")
    request.inputs = expand_inputs(request.inputs)
    if request.engine == "dask":
        from cmclaims.engine.dask import validate_on_dask

        return validate_on_dask(request, on_stage)
    if request.scheduler is not None:
        raise ConfigError("--scheduler is for --engine dask")
    from cmclaims.engine.local import validate_locally

    return validate_locally(request, on_stage)
