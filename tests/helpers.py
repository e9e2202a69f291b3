"""Running the real validator on small batches written to a temporary folder."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cmclaims.ledger.store import SqliteLedger
from cmclaims.pipeline.validate import ValidateRequest, ValidateResult, validate

TODAY = dt.date(2026, 11, 22)


def new_ledger(path: Path) -> Path:
    """A ledger at `path`, made as `cmclaims ledger init` makes it (validate never creates one); returns `path`.

    Every test that validates with a ledger starts with it. A ledger already
    there is kept, so a test may call it for each night.
    """
    if not path.exists():
        SqliteLedger.create(path).close()
    return path


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    """Write dict rows as CSV; columns default to every key, in first-seen order."""
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Run:
    """A finished run: its result, and its output files read back."""

    result: ValidateResult
    out: Path

    @property
    def summary(self) -> dict:
        return self.result.summary

    @property
    def clean(self) -> list[dict[str, str]]:
        return read_csv(self.out / "clean.csv")

    @property
    def exceptions(self) -> list[dict[str, str]]:
        return read_csv(self.out / "exceptions.csv")

    def dispositions(self) -> dict[str, str]:
        """claim_id -> final disposition; clean lines have theirs in the clean file."""
        fates = {row["claim_id"]: row["disposition"] for row in self.clean}
        for row in self.exceptions:
            fates.setdefault(row["claim_id"], row["disposition"])
        return fates

    def flagged(self, rule: str) -> dict[str, str]:
        """claim_id -> disposition for every finding of `rule`."""
        return {row["claim_id"]: row["disposition"] for row in self.exceptions if row["rule"] == rule}

    def messages(self, rule: str) -> dict[str, str]:
        return {row["claim_id"]: row["message"] for row in self.exceptions if row["rule"] == rule}


def run_lines(
    folder: Path,
    lines: list[dict],
    profile: str,
    *,
    side: dict[str, list[dict]] | None = None,
    today: dt.date = TODAY,
    **options: object,
) -> Run:
    """Validate `lines` (and side files given as rows) with the library, as `cmclaims validate` does."""
    folder.mkdir(parents=True, exist_ok=True)
    export = write_csv(folder / "export.csv", lines)
    side_paths = {name: write_csv(folder / f"{name}.csv", rows) for name, rows in (side or {}).items()}
    out = folder / "out"
    request = ValidateRequest(inputs=[export], profile=profile, out=out, today=today, **side_paths, **options)
    return Run(validate(request), out)
