"""`cmclaims validate`: the nightly job from input files to the three outputs.

    read -> normalise -> rules (input, line, ledger, limits) -> dispositions -> outputs

The outputs are staged beside their final names and renamed into place only
when all three are complete, so a failed run leaves last night's files whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cmclaims import __version__
from cmclaims.errors import EXIT_FINDINGS, EXIT_OK, ConfigError
from cmclaims.io.batch import read_batch
from cmclaims.io.column_map import load_column_map
from cmclaims.io.reader import file_format
from cmclaims.io.writer import StagedOutputs, write_json, write_table
from cmclaims.normalize.lines import build_lines
from cmclaims.normalize.services import resolve_services
from cmclaims.normalize.units import compute_units
from cmclaims.pipeline.checks import ADJUSTED, REJECTED, Outcome, run_checks
from cmclaims.pipeline.outputs import clean_table, exceptions_table
from cmclaims.pipeline.summary import findings_by_rule, totals
from cmclaims.rules.context import Context
from cmclaims.schema.columns import ENCOUNTER
from cmclaims.side.bundle import SideData
from cmclaims.tables import load_profile

OVER_LIMIT_MODES = ("reject", "cutback")
FORMATS = ("csv", "parquet")


@dataclass
class ValidateRequest:
    """Everything `cmclaims validate` was asked to do."""

    inputs: list[Path]
    profile: str
    out: Path
    authorizations: Path | None = None
    stays: Path | None = None
    staff: Path | None = None
    column_map: Path | None = None
    over_limit: str = "reject"
    output_format: str | None = None
    today: dt.date = field(default_factory=dt.date.today)


@dataclass
class ValidateResult:
    summary: dict
    exit_code: int
    context: Context
    outcome: Outcome


def run_id_for(profile: str, input_hashes: list[str]) -> str:
    """A run is its inputs: the same export validated again is the same run (and replaces it)."""
    digest = hashlib.sha256(json.dumps([profile, sorted(input_hashes)]).encode()).hexdigest()
    return f"run-{digest[:12]}"


def _check_request(request: ValidateRequest) -> None:
    if not request.inputs:
        raise ConfigError("give at least one input file")
    if request.over_limit not in OVER_LIMIT_MODES:
        raise ConfigError(f"--over-limit must be reject or cutback, not '{request.over_limit}'")
    if request.output_format is not None and request.output_format not in FORMATS:
        raise ConfigError(f"--format must be csv or parquet, not '{request.output_format}'")


def validate(request: ValidateRequest, on_stage: Callable[[str], None] | None = None) -> ValidateResult:
    """Run the whole job; raise a CmclaimsError (with its exit code) when it cannot."""
    _check_request(request)
    started = dt.datetime.now(dt.UTC)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        if on_stage is not None:
            on_stage(name)

    profile = load_profile(request.profile)
    column_map = load_column_map(request.column_map) if request.column_map else None
    output_format = request.output_format or file_format(request.inputs[0])
    batch = read_batch(request.inputs, ENCOUNTER, column_map)
    side = SideData.read(request, column_map)
    lap("read")

    lines = build_lines(batch, profile.catalog, request.today)
    services = resolve_services(lines, profile)
    units = compute_units(lines, services, profile)
    ctx = Context(lines, profile, services, units, request.today, request.over_limit, side=side)
    lap("normalise")

    outcome = run_checks(ctx)
    lap("rules")

    run_id = run_id_for(profile.name, [f.sha256 for f in batch.files])
    summary = {
        "run_id": run_id,
        "cmclaims_version": __version__,
        "started_at": started.isoformat(timespec="seconds"),
        "profile": {"name": profile.name, "title": profile.title, "source": profile.source},
        "code_table_version": profile.table_version,
        "inputs": [
            {"file": f.name, "sha256": f.sha256, "format": f.format, "encoding": f.encoding, "lines": f.line_count}
            for f in batch.files
        ],
        "side_files": side.describe(),
        "options": {"over_limit": request.over_limit, "output_format": output_format},
        **totals(ctx, outcome),
        "findings": findings_by_rule(ctx, outcome),
        "rules_applied": [r.code for r in outcome.applied],
        "rules_skipped": [{"rule": r.code, "name": r.name, "reason": why} for r, why in outcome.skipped],
        "ledger": {"mode": "off"},
    }
    disposition = outcome.disposition
    changed = bool(((disposition == REJECTED) | (disposition == ADJUSTED)).any())
    summary["exit_code"] = EXIT_FINDINGS if changed else EXIT_OK

    staged = StagedOutputs(request.out)
    try:
        clean_path = staged.stage(f"clean.{output_format}", lambda p: write_table(
            clean_table(ctx, batch, outcome), p, output_format))
        exceptions_path = staged.stage(f"exceptions.{output_format}", lambda p: write_table(
            exceptions_table(ctx, outcome), p, output_format))
        lap("write")
        summary["outputs"] = {
            "clean": str(clean_path),
            "exceptions": str(exceptions_path),
            "summary": str(request.out / "summary.json"),
        }
        summary["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        summary["timings"] = timings
        staged.stage("summary.json", lambda p: write_json(summary, p))
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return ValidateResult(summary, summary["exit_code"], ctx, outcome)
