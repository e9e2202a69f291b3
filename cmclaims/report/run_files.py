"""Reading what a run left behind: its output folder, or its record and exceptions in the ledger.

A folder that was tampered with or copied only half way must not crash the
report: whatever cannot be read is kept as a problem, and the reconciliation
fails loudly on it (exit 1) instead of reporting numbers it cannot vouch for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmclaims.errors import ConfigError
from cmclaims.io.writer import PENDING, file_sha256
from cmclaims.ledger.store import LedgerStore
from cmclaims.pipeline.outputs import EXCEPTION_COLUMNS

TEXT_COLUMNS = (
    "claim_id", "source_file", "rule", "rule_name", "severity", "disposition", "message", "member_id",
    "service_date", "hcpcs", "modifiers", "staff_id", "service", "program", "rule_family",
)  # fmt: skip
INTEGER_COLUMNS = ("source_row", "units_billed", "units_allowed")
MONEY_COLUMNS = ("charge", "charge_allowed", "charge_held")
CLEAN_COLUMNS = ("billable_units", "billable_charge", "disposition")

# validate's CSV writer puts an apostrophe before text a spreadsheet would run (cmclaims.io.writer);
# the report takes it off again, and its own writers escape what they write.
_ESCAPED = r"^'[=+\-@\t\r]"
_NUMBER = r"^'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


@dataclass
class RunFiles:
    """One run as far as it could be read: summary, clean file, exceptions, ledger record."""

    label: str  # what the user named: a folder or a run id
    folder: Path | None = None
    summary: dict | None = None
    clean: pd.DataFrame | None = None  # billable_units, billable_charge, disposition per clean line
    exceptions: pd.DataFrame | None = None  # the exceptions file (or the ledger's copy of it)
    ledger_run: dict | None = None
    ledger_findings: pd.DataFrame | None = None
    ledger_lines: pd.DataFrame | None = None  # claim_id, units, charge of the lines the ledger recorded
    ledger_note: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str | None:
        """The run id summary.json or the ledger gives; None when neither could be read."""
        if self.summary is not None:
            return self.summary.get("run_id")
        return self.ledger_run["run_id"] if self.ledger_run else None


def unescape_formulas(table: pa.Table) -> pa.Table:
    """Take off the apostrophe validate's CSV writer put before formula-like text."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            escaped = pc.and_kleene(
                pc.match_substring_regex(column, _ESCAPED), pc.invert(pc.match_substring_regex(column, _NUMBER))
            )
            if pc.any(escaped).as_py():
                column = pc.if_else(escaped, pc.utf8_slice_codeunits(column, 1), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def exceptions_frame(table: pa.Table) -> pd.DataFrame:
    """An exceptions table with every expected column, in the types the report computes with."""
    frame = table.to_pandas()
    for column in EXCEPTION_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series(np.nan if column in INTEGER_COLUMNS + MONEY_COLUMNS else None,
                                      index=frame.index, dtype="float64" if column in INTEGER_COLUMNS
                                      + MONEY_COLUMNS else "object")
    for column in INTEGER_COLUMNS + MONEY_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    return frame


def _read_csv(path: Path, types: dict[str, pa.DataType], columns: list[str] | None) -> pa.Table:
    convert = pacsv.ConvertOptions(column_types=types, include_columns=columns, include_missing_columns=True,
                                   strings_can_be_null=True)
    return pacsv.read_csv(path, convert_options=convert)


def _read_table(path: Path, types: dict[str, pa.DataType], columns: list[str] | None) -> pa.Table:
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        wanted = columns or table.column_names
        present = [c for c in wanted if c in table.column_names]
        table = table.select(present)
        for name in wanted:
            if name not in present:
                table = table.append_column(name, pa.nulls(table.num_rows, types.get(name, pa.string())))
        return table
    return unescape_formulas(_read_csv(path, types, columns))


def _exception_types() -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = {c: pa.string() for c in TEXT_COLUMNS}
    types.update({c: pa.int64() for c in INTEGER_COLUMNS})
    types.update({c: pa.float64() for c in MONEY_COLUMNS})
    return types


def _output_file(folder: Path, stem: str, summary: dict | None) -> Path | None:
    """clean.<ext> / exceptions.<ext>: the format summary.json names, else whichever is there."""
    preferred = ((summary or {}).get("options") or {}).get("output_format")
    for ext in ([preferred] if preferred else []) + ["csv", "parquet"]:
        if (folder / f"{stem}.{ext}").exists():
            return folder / f"{stem}.{ext}"
    return None


def read_folder(folder: Path, run: RunFiles) -> None:
    """Fill `run` from a run's output folder; what cannot be read becomes a problem."""
    run.folder = folder
    summary_path = folder / "summary.json"
    try:
        run.summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if not isinstance(run.summary, dict) or "counts" not in run.summary:
            raise ValueError("it is not a cmclaims run summary")
    except FileNotFoundError:
        run.summary = None
        run.problems.append(f"{summary_path.name} is missing: the folder is not a whole run")
    except (OSError, ValueError) as exc:
        run.summary = None
        run.problems.append(f"{summary_path.name} cannot be read ({type(exc).__name__}: {str(exc)[:80]})")
    clean_path = _output_file(folder, "clean", run.summary)
    if clean_path is None:
        run.problems.append("the clean file (clean.csv or clean.parquet) is missing")
    else:
        try:
            types = {"billable_units": pa.int64(), "billable_charge": pa.float64(), "disposition": pa.string()}
            clean = _read_table(clean_path, types, list(CLEAN_COLUMNS)).to_pandas()
            for column in ("billable_units", "billable_charge"):
                clean[column] = pd.to_numeric(clean[column], errors="coerce").astype("float64")
            run.clean = clean
        except (pa.ArrowException, OSError, ValueError) as exc:
            run.problems.append(f"{clean_path.name} cannot be read ({_short(exc)})")
    exceptions_path = _output_file(folder, "exceptions", run.summary)
    if exceptions_path is None:
        run.problems.append("the exceptions file (exceptions.csv or exceptions.parquet) is missing")
    else:
        try:
            table = _read_table(exceptions_path, _exception_types(), None)
            missing = [c for c in EXCEPTION_COLUMNS if c not in table.column_names]
            if missing:
                run.problems.append(f"{exceptions_path.name} lacks the columns {', '.join(missing)}")
            run.exceptions = exceptions_frame(table)
        except (pa.ArrowException, OSError, ValueError) as exc:
            run.problems.append(f"{exceptions_path.name} cannot be read ({_short(exc)})")
    run.problems.extend(check_files(folder, run.summary))


def check_files(folder: Path, summary: dict | None) -> list[str]:
    """Whether the clean and exceptions files are the ones summary.json vouches for (SHA-256 and rows).

    A run renames its clean file, its exceptions file and summary.json one after
    the other; a kill between two renames leaves a folder mixing two runs, and
    the run's note of what it was renaming (PENDING) says so. A file that
    matches neither was changed after the run.
    """
    files = (summary or {}).get("files")
    if not isinstance(files, dict):
        return []  # a summary from before cmclaims recorded its files: nothing to check against
    pending: dict = {}
    try:
        pending = json.loads((folder / PENDING).read_text(encoding="utf-8")).get("files") or {}
    except (OSError, ValueError, AttributeError):
        pending = {}
    problems = []
    for role in ("clean", "exceptions"):
        expected = files.get(role) or {}
        name = str(expected.get("name", ""))
        path = folder / name
        if not name or "/" in name or not path.is_file():
            problems.append(f"the {role} file summary.json names ({name or 'none'}) is not in the folder")
            continue
        try:
            actual = file_sha256(path)
        except OSError as exc:
            problems.append(f"{name} cannot be read ({exc.strerror or type(exc).__name__})")
            continue
        if actual == expected.get("sha256"):
            continue
        if pending.get(name) == actual:
            problems.append(f"mixed folder: {name} is from a later run stopped while renaming (run it again)")
        else:
            problems.append(f"{name} is not the file summary.json describes (changed after the run)")
    return problems


def _short(exc: BaseException) -> str:
    """What went wrong reading a file, never the text of a row: readers quote the row, and rows hold PHI."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    shape = re.search(r"Expected \d+ columns, got \d+", str(exc))
    if shape:
        return f"a row is cut short or malformed: {shape.group(0).lower()}"
    return f"{type(exc).__name__}; the file is damaged or not a cmclaims output"


def read_ledger_run(store: LedgerStore, run_id: str, run: RunFiles) -> None:
    """Add the ledger's record of the run, its kept exceptions and its recorded lines."""
    record = store.run(run_id)
    if record is None:
        run.ledger_note = f"run {run_id} is not in the ledger {store.path} (a --no-ledger or --dry-run run)"
        return
    run.ledger_run = record
    if record["status"] != "committed":
        run.ledger_note = f"the ledger marks run {run_id} {record['status'].replace('_', ' ')}"
        return
    findings = store.findings([run_id])
    run.ledger_findings = exceptions_frame(findings) if findings.num_rows else exceptions_frame(
        pa.table({c: pa.array([], _exception_types().get(c, pa.string())) for c in EXCEPTION_COLUMNS}))
    run.ledger_lines = store.lines(run_ids=[run_id], columns=["claim_id", "units", "charge", "frequency"]).to_pandas()


def run_id_of_folder(store: LedgerStore, folder: Path) -> str | None:
    """The ledger's last run whose outputs went to `folder`: for a folder that lost its summary.json."""
    where = str(folder.resolve())
    runs = [r for r in store.runs() if r.get("out_dir") == where]
    return max(runs, key=lambda r: r["sequence"])["run_id"] if runs else None


def latest_run_id(store: LedgerStore) -> str:
    """The run that finished last among the committed validate runs: last night's."""
    runs = [r for r in store.runs() if r["kind"] == "validate" and r["status"] == "committed"]
    if not runs:
        raise ConfigError(f"the ledger {store.path} has no committed validate run yet")
    return max(runs, key=lambda r: r["sequence"])["run_id"]
