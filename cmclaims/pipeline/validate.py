"""`cmclaims validate`: the nightly job from input files to the three outputs.

    lock the ledger -> read -> normalise -> rules (input, line, ledger, limits)
    -> dispositions -> stage outputs -> commit the ledger -> rename outputs

Crash safety: nothing is renamed into place and nothing enters the ledger
until every output is complete on disk. The ledger commits in one transaction
before the outputs are renamed; a run killed between the two is simply run
again: it is the same run (same inputs), it replaces its own ledger entries
and writes the same outputs. summary.json is renamed last.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import pyarrow as pa

from cmclaims import __version__
from cmclaims.errors import EXIT_FINDINGS, EXIT_INPUT_UNUSABLE, EXIT_OK, ConfigError
from cmclaims.faults import checkpoint
from cmclaims.io.batch import Batch, read_batch
from cmclaims.io.column_map import ExportMap, load_export_map
from cmclaims.io.memory import give_back_freed
from cmclaims.io.reader import SourceFile, file_format
from cmclaims.io.writer import StagedOutputs, write_batches, write_json
from cmclaims.ledger.blocks import BlockWriter, EncodedBlock
from cmclaims.ledger.earlier import EarlierClaims
from cmclaims.ledger.lock import LedgerLock
from cmclaims.ledger.store import SqliteLedger
from cmclaims.ledger.view import LedgerView
from cmclaims.normalize.value_maps import check_value_targets
from cmclaims.pipeline.alarm import input_alarm
from cmclaims.pipeline.checks import Outcome, run_checks
from cmclaims.pipeline.ledger_entries import ledger_lines, retirements, run_record
from cmclaims.pipeline.outputs import clean_file, exceptions_file
from cmclaims.pipeline.partition import context_for
from cmclaims.pipeline.request import ValidateRequest, check_request_files
from cmclaims.pipeline.summary import findings_by_rule, totals
from cmclaims.rules.context import Context
from cmclaims.rules.registry import Rule
from cmclaims.schema.columns import ENCOUNTER
from cmclaims.side.bundle import SideData
from cmclaims.tables import Profile, load_profile

OVER_LIMIT_MODES = ("reject", "cutback")
FORMATS = ("csv", "parquet")
OUTPUT_NAMES = (*(f"{stem}.{fmt}" for stem in ("clean", "exceptions") for fmt in FORMATS), "summary.json")
__all__ = ["ValidateRequest", "ValidateResult", "validate"]


@dataclass
class ValidateResult:
    """A finished run: its summary, its exit code, and (local engine) the context and outcome behind them."""
    summary: dict
    exit_code: int
    context: Context | None = None
    outcome: Outcome | None = None


def run_id_for(profile: str, input_hashes: list[str]) -> str:
    """A run is its inputs: the same export validated again is the same run, and replaces it."""
    digest = hashlib.sha256(json.dumps([profile, sorted(input_hashes)]).encode()).hexdigest()
    return f"run-{digest[:12]}"


def _check_request(request: ValidateRequest) -> None:
    if not request.inputs:
        raise ConfigError("give at least one input file")
    check_request_files(request)
    if request.over_limit not in OVER_LIMIT_MODES:
        raise ConfigError(f"--over-limit must be reject or cutback, not '{request.over_limit}'")
    if request.output_format is not None and request.output_format not in FORMATS:
        raise ConfigError(f"--format must be csv or parquet, not '{request.output_format}'")
    if not 0 <= request.max_input_errors <= 1:
        raise ConfigError(
            f"--max-input-errors must be a share of the lines from 0 to 1, not {request.max_input_errors:g}",
            hint="0.25 lets a quarter of the lines fail the input checks before the night is called broken",
        )


def _open_ledger(request: ValidateRequest, stack: ExitStack) -> SqliteLedger | None:
    """Lock (when writing) and open the ledger; None when the run does not use one."""
    if request.ledger is None:
        return None
    if request.ledger_mode == "write":
        if not request.ledger_locked:
            stack.enter_context(LedgerLock(request.ledger))  # exit 75 at once if another run holds it
        store = SqliteLedger(request.ledger)  # exit 73 when there is no ledger, or not one (never creates)
        stack.callback(store.close)
    else:
        store = SqliteLedger(request.ledger, read_only=True)  # a dry run too: never a silent "nothing billed yet"
        stack.callback(store.close)
    return store


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
        checkpoint(f"after-{name}")

    with ExitStack() as stack:
        store = _open_ledger(request, stack)
        verified = None
        earlier: Future[EarlierClaims] | None = None
        if store is not None and request.ledger_mode == "write":
            # The ledger is checked before this run commits (SPEC section 6), on a thread of its own while the
            # night is read and validated; the writer lock keeps it as checked until the commit.
            checker = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmclaims-check"))
            verified = checker.submit(store.verify_before_commit, own_connection=True)
            # Then, on the same thread, every earlier claim: it does not depend on the batch, and the export's
            # scan leaves a core free meanwhile (cmclaims/ledger/earlier.py). Nothing else uses the ledger's
            # connection until the view takes the claims over.
            earlier = checker.submit(EarlierClaims.read, store)
        profile = load_profile(request.profile)
        export_map = load_export_map(request.column_map) if request.column_map else None
        if export_map is not None:
            check_value_targets(export_map, profile.catalog)
        column_map = export_map.columns if export_map is not None else None
        output_format = request.output_format or file_format(request.inputs[0])
        batch = read_batch(request.inputs, ENCOUNTER, column_map)
        side = SideData.read(request, column_map)
        lap("read")

        ctx = context_for(batch, profile, side, request.today, request.over_limit,
                          export_map.values if export_map else None)
        run_id = run_id_for(profile.name, [f.sha256 for f in batch.files])
        loading: Future[LedgerView] | None = None
        if request.ledger_mode != "off":
            # What the batch needs of the ledger is read on a thread of its own while the input and line
            # rules run (Parquet decoding and Arrow's hash lookups release the GIL); the rules get it as
            # the ledger stage starts. Nothing else uses the ledger's connection meanwhile.
            reader = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmclaims-ledger-read"))
            loading = reader.submit(LedgerView.load, store, ctx, run_id, request.ledger_mode, earlier)
            earlier = None  # the view holds the claims now: released with it
        give_back_freed()  # the parser's blocks and the text they held, before the rules run
        lap("normalise")

        def hand_over_the_ledger(stage: str) -> None:
            if loading is not None and stage == "ledger":
                ctx.ledger = loading.result()  # its errors (a damaged ledger: exit 73) are raised here

        outcome = run_checks(ctx, before_stage=hand_over_the_ledger)
        view = loading.result() if loading is not None else None
        alarm = input_alarm(outcome, ctx.lines.size, request.max_input_errors)
        give_back_freed()  # the rules' temporaries, before the outputs are built
        lap("rules")

        staged = StagedOutputs(request.out, leftovers=OUTPUT_NAMES)
        stack.callback(staged.discard)  # whatever was not committed is removed
        background = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmclaims-ledger"))
        clean = clean_file(ctx, batch, outcome)
        # Arrow writes without the GIL: the clean file and the ledger's blocks are encoded
        # on worker threads while this thread prepares the rest.
        clean_path = staged.stage_in_background(
            f"clean.{output_format}", lambda p: write_batches(clean.schema, clean.pieces(), p, output_format)
        )
        exceptions = exceptions_file(ctx, outcome)
        # A night wrong as a whole records nothing: its few surviving lines are not billed either.
        recording = view is not None and request.ledger_mode == "write" and not alarm["triggered"]
        recorded = ledger_lines(ctx, outcome, encoded=True) if recording else None
        summary = _summary(request, ctx, batch, outcome, run_id, started, output_format, view, recorded)
        summary["input_alarm"] = alarm
        if export_map is not None:
            summary["column_map"] = _column_map_report(export_map, batch, ctx)
        if alarm["triggered"]:
            summary["exit_code"] = EXIT_INPUT_UNUSABLE
            if isinstance(summary["ledger"], dict) and view is not None and request.ledger_mode == "write":
                summary["ledger"]["lines_recorded"] = 0
                summary["ledger"]["not_recorded"] = "more than --max-input-errors of the lines failed the input checks"
        summary["outputs"] = {
            "clean": str(clean_path),
            "exceptions": str(request.out / f"exceptions.{output_format}"),
            "summary": str(request.out / "summary.json"),
        }
        summary["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        prepared = None
        kept: Future[EncodedBlock] | None = None
        if store is not None and view is not None and recorded is not None:
            record = run_record(summary, "validate", str(request.out.resolve()), recorded)
            retired = retirements(ctx, outcome, view)
            view.release()  # what the outputs and the ledger's blocks allocate next reuses its memory
            # The ledger keeps the run's findings: each piece of the exceptions file is handed to their block
            # as it is written (rendered once, never held whole) and compressed on a thread of its own, so
            # that this thread writes on (a 1M-line night's 200,000 findings: 0.13 s of zstd). The lines'
            # blocks and totals are prepared meanwhile, and the findings' block handed over last.
            encoder = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmclaims-findings"))
            findings = BlockWriter(exceptions.schema, encoder)
            exceptions = exceptions.tee(findings.write)
            kept = Future()
            prepared = background.submit(store.prepare_run, record, recorded, retired, kept,
                                         annual_caps=bool(ctx.profile.annual_caps))
        try:
            staged.stage(f"exceptions.{output_format}",
                         lambda p: write_batches(exceptions.schema, exceptions.pieces(), p, output_format))
        except BaseException as exc:
            if kept is not None:
                kept.set_exception(exc)  # the thread waiting for the findings stops too
            raise
        if kept is not None:  # the findings' block is finished on its encoder's thread, after its last batch
            encoder.submit(findings.finish).add_done_callback(lambda done: _pass_on(done, kept))
        # summary.json vouches for the two files it belongs to: a folder mixing two runs is found out.
        summary["files"] = {
            "clean": {"name": clean_path.name, "sha256": staged.sha256(clean_path.name),
                      "rows": summary["counts"]["lines_clean"]},
            "exceptions": {"name": f"exceptions.{output_format}",
                           "sha256": staged.sha256(f"exceptions.{output_format}"), "rows": exceptions.size},
        }
        lap("write")
        summary["timings"] = timings
        staged.stage("summary.json", lambda p: write_json(summary, p))
        staged.wait()
        checkpoint("outputs-staged")

        if verified is not None:
            verified.result()  # a damaged ledger: exit 73, nothing recorded, the staged outputs removed
        if prepared is not None:
            assert store is not None
            store.record_run(prepared.result())
            checkpoint("ledger-committed")
        staged.commit(between=lambda: checkpoint("between-renames"))
    return ValidateResult(summary, summary["exit_code"], ctx, outcome)


def _pass_on(done: Future[EncodedBlock], to: Future[EncodedBlock]) -> None:
    """Settle `to` as `done` was settled."""
    failure = done.exception()
    if failure is not None:
        to.set_exception(failure)
    else:
        to.set_result(done.result())


def _column_map_report(export_map: ExportMap, batch: Batch, ctx: Context) -> dict:
    """What the column map did: headers it names that no input has, and each value mapping's lines."""
    report = ctx.lines.value_maps
    values = report.describe() if report is not None else {"applied": [], "not_in_export": []}
    return {
        "file": str(export_map.path),
        "headers_not_in_export": batch.headers_not_found(export_map.columns, ENCOUNTER),
        "values": values["applied"],
        "values_not_in_export": values["not_in_export"],
    }


def input_entries(files: list[SourceFile]) -> list[dict[str, object]]:
    """summary.json's `inputs`: each file with its SHA-256, format, encoding and lines."""
    return [
        {"file": f.name, "sha256": f.sha256, "format": f.format, "encoding": f.encoding, "lines": f.line_count}
        for f in files
    ]


def _summary(
    request: ValidateRequest,
    ctx: Context,
    batch: Batch,
    outcome: Outcome,
    run_id: str,
    started: dt.datetime,
    output_format: str,
    view: LedgerView | None,
    recorded: pa.Table | None,
) -> dict:
    """summary.json, less what only the end of the run knows (outputs, finish time, timings)."""
    return summary_document(
        request, ctx.profile, input_entries(batch.files), ctx.side.describe(), totals(ctx, outcome),
        findings_by_rule(ctx, outcome), outcome.applied, outcome.skipped, run_id, started, output_format, view,
        None if recorded is None else recorded.num_rows,
    )


def summary_document(
    request: ValidateRequest,
    profile: Profile,
    inputs: list[dict[str, object]],
    side_files: dict,
    counted: dict[str, dict[str, float | int]],
    findings: list[dict[str, object]],
    applied: list[Rule],
    skipped: list[tuple[Rule, str]],
    run_id: str,
    started: dt.datetime,
    output_format: str,
    view: LedgerView | None,
    recorded: int | None,
) -> dict:
    """summary.json from what any engine counted (the local engine over the batch, Dask over partitions)."""
    counts = counted["counts"]
    changed = bool(counts["lines_rejected"] or counts["lines_adjusted"])
    ledger: dict[str, object] = {"mode": "off"}
    if view is not None:
        ledger = view.describe()
        if recorded is not None:
            ledger["lines_recorded"] = recorded
            ledger["execution"] = view.previous_executions + 1
    return {
        "run_id": run_id,
        "cmclaims_version": __version__,
        "started_at": started.isoformat(timespec="seconds"),
        "profile": {"name": profile.name, "title": profile.title, "source": profile.source},
        "code_table_version": profile.table_version,
        "inputs": inputs,
        "side_files": side_files,
        "options": {
            "over_limit": request.over_limit,
            "output_format": output_format,
            "max_input_errors": request.max_input_errors,
        },
        **counted,
        "findings": findings,
        "rules_applied": [r.code for r in applied],
        "rules_skipped": [{"rule": r.code, "name": r.name, "reason": why} for r, why in skipped],
        "ledger": ledger,
        "exit_code": EXIT_FINDINGS if changed else EXIT_OK,
    }
