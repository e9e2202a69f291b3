"""Where the ledger lives: the LedgerStore interface, and its embedded SQLite implementation.

Validation and the ledger commands talk only to `LedgerStore`; a server
database can be added as another implementation without touching the rules.
The SQLite store runs in WAL mode with synchronous=FULL, and every change
(a run, a rollback, an import) is one BEGIN IMMEDIATE transaction: a process
killed at any point leaves the ledger as it was before that change, or after it.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.errors import CannotWrite, ConfigError, LedgerLocked
from cmclaims.faults import checkpoint
from cmclaims.io.private import private_folder, tighten
from cmclaims.ledger import totals
from cmclaims.ledger.blocks import DICTIONARY_COLUMNS, LINE_SCHEMA, EncodedBlock, decode_block, encode_block
from cmclaims.ledger.identity import LedgerUnusable, create_hint, require_ledger_file
from cmclaims.ledger.schema import SCHEMA_VERSION, migrate
from cmclaims.normalize.values import month_of
from cmclaims.schema.columns import VOID

T = TypeVar("T")
RUN_FIELDS = (
    "run_id", "sequence", "kind", "status", "profile", "code_table_version", "started_at", "finished_at", "executions",
    "inputs", "options", "out_dir", "lines_in", "lines_clean", "lines_rejected", "lines_adjusted", "lines_warned",
    "units_in", "units_billable", "charge_in", "charge_clean", "charge_rejected", "charge_billable",
    "lines_ledgered", "units_ledgered",
)  # fmt: skip


@dataclass
class PreparedRun:
    """A run ready to record: its record, its line blocks by month, its retirements, its findings, and what its
    lines add to the running totals (cmclaims/ledger/totals.py)."""

    run: dict
    blocks: list[tuple[int, int, int, str, bytes]]  # month, rows, units, sha256, Parquet
    retired: list[tuple[str, int, str, str]]  # claim_id, month, original run, how
    findings: bytes | None
    finding_rows: int
    lines: pa.Table  # the columns the totals need
    totals: pa.Table  # totals.summed(lines); empty when the run's profile has no annual cap
    annual_caps: bool  # the run's profile caps a year: the ledger keeps its running totals
    # What the run changes in the running totals, as read before the transaction (None: not read), and the
    # totals blocks that change written out: record_run uses them only if the same delta comes out again
    # inside its transaction and each block is still the one they were summed with.
    delta: pa.Table | None = None
    total_writes: list[totals.BlockWrite] | None = None


PAGE_SIZE = 65536  # bytes: SQLite's largest page, for a ledger `ledger init` creates (`SqliteLedger.create`)


class LedgerExists(ConfigError):
    """`ledger init` where a file already is (exit 2): it is never overwritten."""


class LedgerStore(abc.ABC):
    """What cmclaims needs from a ledger, whatever database keeps it."""

    path: Path

    @abc.abstractmethod
    def runs(self) -> list[dict]:
        """Every run, oldest first."""

    @abc.abstractmethod
    def run(self, run_id: str) -> dict | None:
        """One run's record."""

    @abc.abstractmethod
    def lines(
        self,
        months: list[int] | None = None,
        columns: list[str] | None = None,
        run_ids: list[str] | None = None,
        *,
        profile: str | None = None,
        exclude_run: str | None = None,
        dictionary: bool = False,
    ) -> pa.Table:
        """Recorded lines of committed runs, with run_id, profile, month and block_row (its row in its block).

        Filters: `months`, `run_ids`, one `profile`, all runs but `exclude_run`.
        `dictionary` keeps repeating values (member, service, code; run_id, profile and month) dictionary-encoded.
        """

    @abc.abstractmethod
    def retired(self, months: list[int] | None = None) -> pd.DataFrame:
        """Originals taken out by a void or replacement: claim_id, month, original_run, retired_by, how, and the
        units the original billed."""

    @abc.abstractmethod
    def prepare_run(self, run: dict, lines: pa.Table, retired: pd.DataFrame,
                    findings: pa.Table | Future[EncodedBlock], *, annual_caps: bool) -> PreparedRun:
        """Encode what a run will record, without touching the database (safe on another thread); `findings`
        may come already encoded and later (a Future: a validate run encodes them as it writes its exceptions
        file), and are waited for last. `annual_caps`: the run's profile caps a year, so the ledger keeps its
        running totals (cmclaims/ledger/totals.py)."""

    @abc.abstractmethod
    def record_run(self, prepared: PreparedRun) -> int:
        """Record a prepared run in one transaction, replacing what an earlier execution of the
        same run recorded; returns how many times the run has now been executed."""

    @abc.abstractmethod
    def rollback(self, run_id: str, excess: Callable[[pd.DataFrame], pd.DataFrame]) -> dict:
        """Undo a committed run's lines and retirements; its record stays, marked rolled_back.

        `excess(originals)` (cmclaims/ledger/admin.py `limit_excess`) tells, inside the
        transaction, by how much the members of the originals the run's voids and
        replacements took out are over their limits; the rollback is refused when
        bringing those originals back would make any of it grow.
        """

    @abc.abstractmethod
    def totals(self, profile: str, years: list[int], *, dictionary: bool = False) -> pa.Table:
        """The running totals of `profile`'s active lines in `years` (cmclaims/ledger/totals.py): profile, year,
        member_id, hcpcs, authorization_id, units, auth_units; `dictionary` keeps the texts dictionary-encoded."""

    @abc.abstractmethod
    def lines_at(self, where: pd.DataFrame, columns: list[str]) -> pa.Table:
        """The recorded lines named by run_id, month and block_row (as `lines` numbers them), with `columns`."""

    @abc.abstractmethod
    def findings(self, run_ids: list[str] | None = None) -> pa.Table:
        """The exceptions rows kept for runs (all committed runs by default), with run_id."""

    @abc.abstractmethod
    def writeoffs(self) -> pd.DataFrame:
        """claim_id, reason, written_off_at."""

    @abc.abstractmethod
    def write_off(self, claim_id: str, reason: str) -> None:
        """Mark a claim's open exceptions written off."""

    @abc.abstractmethod
    def integrity_problems(self, *, quick: bool = False) -> list[str]:
        """What the database's own integrity check and the ledger's bookkeeping report (empty when sound)."""

    @abc.abstractmethod
    def total_problems(self) -> list[str]:
        """Every running total (and retired original's units) that differs from the lines (`ledger check`)."""

    @abc.abstractmethod
    def verify_before_commit(self, *, own_connection: bool = False) -> None:
        """Raise (exit 73) unless the ledger is sound enough to be written."""

    @abc.abstractmethod
    def compact(self) -> dict[str, int]:
        """Rewrite the ledger with PAGE_SIZE pages and no unused space (`cmclaims ledger compact`): page_size
        and bytes before and after."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""


def _by_month(lines: pa.Table) -> list[tuple[int, pa.Table]]:
    """A run's lines per service month (a block each), in their order within each month: slices where the
    lines come grouped by month (a validate run's, cmclaims/pipeline/ledger_entries.py), copies otherwise."""
    if not lines.num_rows:
        return []
    months = month_of(lines.column("service_day").to_numpy())
    if np.all(months[1:] >= months[:-1]):
        starts = np.flatnonzero(np.diff(months, prepend=months[0] - 1))
        ends = [*starts[1:].tolist(), months.size]
        return [(int(months[a]), lines.slice(a, b - a)) for a, b in zip(starts.tolist(), ends, strict=True)]
    grouped = pd.Series(np.arange(lines.num_rows)).groupby(months).indices
    return [(int(month), lines.take(pa.array(rows))) for month, rows in sorted(grouped.items())]


class LedgerDamaged(CannotWrite):
    """The ledger's file is damaged, or the disk under it failed or is full (exit 73; nothing written)."""


def _database_error(path: Path, exc: sqlite3.Error) -> CannotWrite:
    """An SQLite error as the exit-73 error a user can act on (never an internal error, exit 70)."""
    text = str(exc)
    if "full" in text or ("I/O error" in text and _no_room(path)):
        return CannotWrite(f"{path}: the disk is full; the ledger was not changed ({text})",
                           hint="free space on that disk and run again")
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text or "readonly" in text):
        return CannotWrite(f"{path}: the ledger is busy or read-only ({text}); nothing was changed")
    return LedgerDamaged(f"{path}: the ledger cannot be read or written ({text}); nothing was changed",
                         hint="run `cmclaims ledger check` and restore the ledger from its backup")


def _no_room(path: Path) -> bool:
    """Whether the disk holding `path` has (next to) no space left: SQLite reports a journal it could not
    create there as a disk I/O error."""
    try:
        disk = os.statvfs(path.resolve().parent)
    except OSError:
        return False
    return disk.f_bavail * disk.f_frsize < 1 << 20


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """A store method whose SQLite errors (damage, full disk, I/O) become exit 73, never an internal error."""

    @functools.wraps(method)
    def call(self: SqliteLedger, *args: object, **kwargs: object) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise _database_error(self.path, exc) from exc

    return call


class SqliteLedger(LedgerStore):
    """The default ledger: one SQLite file (WAL), created only by `create` (`cmclaims ledger init`)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Open an existing ledger; LedgerUnusable (exit 73) when `path` holds none.

        `read_only` never writes to it (reports, --dry-run); otherwise an older
        schema is upgraded. Nothing here creates a file.
        """
        self.path = path
        self.real_path = require_ledger_file(path)
        self.read_only = read_only
        try:
            if not read_only:
                tighten(self.real_path)  # a ledger copied in with 0644 is owner-only before this run writes PHI
            self._db = self._connect(read_only)
            self._require_identity()
            if read_only:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version != SCHEMA_VERSION:
                    raise ConfigError(
                        f"{path}: the ledger has schema version {version}, this cmclaims uses {SCHEMA_VERSION}",
                        hint="run once without --dry-run to upgrade it",
                    )
            else:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = FULL")
                self._db.execute("PRAGMA foreign_keys = ON")
                migrate(self._db)
        except sqlite3.Error as exc:
            raise _database_error(path, exc) from exc

    def _connect(self, read_only: bool) -> sqlite3.Connection:
        """A connection that never creates the file (mode=rw or ro).

        It may be used from another thread than the one that opened it, one thread at a time: a validate
        run reads the ledger on a thread while its rules start (cmclaims/pipeline/validate.py).
        """
        uri = f"{self.real_path.as_uri()}?mode={'ro' if read_only else 'rw'}"
        return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=1.0, check_same_thread=False)

    def _require_identity(self) -> None:
        """A cmclaims ledger has its `meta` table with the date it was created; anything else is refused."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        created = None
        if "meta" in tables:
            created = self._db.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()
        if created is None:
            self._db.close()
            raise LedgerUnusable(f"{self.path}: this SQLite file is not a cmclaims ledger (it has no ledger tables)",
                                 hint=create_hint(self.path))

    @classmethod
    def create(cls, path: Path) -> SqliteLedger:
        """Create a new, empty ledger at `path` (`cmclaims ledger init`); never over an existing file."""
        private_folder(path.parent, "ledger folder")  # 0700 whatever the umask (cmclaims.io.private)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise LedgerExists(f"{path}: a file is already there; nothing was changed",
                               hint="`cmclaims ledger check` tells whether it is a sound ledger") from None
        except OSError as exc:
            raise CannotWrite(f"{path}: cannot create the ledger ({exc.strerror})") from exc
        try:
            path.chmod(0o600)  # PHI: the owner only, whatever the umask
            db = sqlite3.connect(path, isolation_level=None)
            try:
                # The ledger is mostly blobs of a few MB, and SQLite reads and writes a blob a page at a time,
                # one system call per page: with SQLite's default 4 KiB pages a 1M-line night against a 5M-line
                # ledger made 55,661 reads and 24,867 writes, with 64 KiB pages (the largest) 3,581 and 1,588,
                # and spent 0.3-0.5 s less in the kernel. Set before anything is written: WAL fixes it.
                db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = FULL")
                migrate(db)
            finally:
                db.close()
        except BaseException as exc:
            path.unlink(missing_ok=True)  # nothing half-created is left to be mistaken for a ledger
            if isinstance(exc, sqlite3.Error):
                raise _database_error(path, exc) from exc
            raise
        return cls(path)

    @_guarded
    def identity(self) -> dict[str, str]:
        """The ledger's id, creation time and schema version (the `meta` table)."""
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _database_error(self.path, exc) from exc
        try:
            result = work(self._db)
            self._db.execute("COMMIT")
            return result
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):  # SQLite rolls back by itself when COMMIT failed (full disk)
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _database_error(self.path, exc) from exc
            raise

    # --- reading ---------------------------------------------------------------------------

    @_guarded
    def runs(self) -> list[dict]:
        """As LedgerStore says."""
        rows = self._db.execute(f"SELECT {', '.join(RUN_FIELDS)} FROM runs ORDER BY sequence").fetchall()
        return [self._run_dict(row) for row in rows]

    @_guarded
    def run(self, run_id: str) -> dict | None:
        """As LedgerStore says."""
        row = self._db.execute(f"SELECT {', '.join(RUN_FIELDS)} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return self._run_dict(row) if row else None

    @staticmethod
    def _run_dict(row: tuple) -> dict:
        record = dict(zip(RUN_FIELDS, row, strict=True))
        record["inputs"] = json.loads(record["inputs"])
        record["options"] = json.loads(record["options"])
        return record

    @_guarded
    def lines(
        self,
        months: list[int] | None = None,
        columns: list[str] | None = None,
        run_ids: list[str] | None = None,
        *,
        profile: str | None = None,
        exclude_run: str | None = None,
        dictionary: bool = False,
    ) -> pa.Table:
        """As LedgerStore says."""
        query = "SELECT b.run_id, b.profile, b.month, b.data FROM line_blocks b JOIN runs r USING (run_id) " \
                "WHERE r.status = 'committed'"
        params: list[object] = []
        for column, values in (("b.month", months), ("b.run_id", run_ids)):
            if values is not None:
                query += f" AND {column} IN ({', '.join('?' * len(values))})"
                params.extend(values)
        if profile is not None:
            query += " AND b.profile = ?"
            params.append(profile)
        if exclude_run is not None:
            query += " AND b.run_id != ?"
            params.append(exclude_run)
        names = list(LINE_SCHEMA.names) if columns is None else columns
        # Repeating texts (member, service, code) can stay dictionary-encoded: no string per line.
        encoded = [c for c in names if dictionary and c in DICTIONARY_COLUMNS]
        tables, blocks, sizes = [], [], []
        for run_id, block_profile, month, data in self._db.execute(query, params):
            tables.append(decode_block(data, names, encoded))
            blocks.append((run_id, block_profile, month))
            sizes.append(tables[-1].num_rows)
        if not tables:
            schema = pa.schema([LINE_SCHEMA.field(c) for c in names])
            tables = [schema.empty_table()]
        table = pa.concat_tables(tables, promote_options="permissive")
        # Per line, the block it came from (run, profile, month) and its row there: one chunk per block,
        # cut from two shared arrays (zeros, and 0, 1, 2, ...) where a block's lines all say the same.
        longest = max(sizes, default=0)
        zeros, counting = np.zeros(longest, np.int32), np.arange(longest, dtype=np.int32)
        for position, (name, kind) in enumerate((("run_id", pa.string()), ("profile", pa.string()),
                                                 ("month", pa.int64()))):
            if dictionary:  # one value per block, not one per line (5M lines: 40 MB of months alone)
                chunks = [pa.DictionaryArray.from_arrays(zeros[:size], pa.array([b[position]], kind))
                          for b, size in zip(blocks, sizes, strict=True)]
                kind = pa.dictionary(pa.int32(), kind)
            else:
                chunks = [pa.repeat(pa.scalar(b[position], kind), size) for b, size in zip(blocks, sizes, strict=True)]
            table = table.append_column(name, pa.chunked_array(chunks, kind))
        return table.append_column("block_row", pa.chunked_array([counting[:size] for size in sizes], pa.int32()))

    @_guarded
    def retired(self, months: list[int] | None = None) -> pd.DataFrame:
        """As LedgerStore says."""
        query = "SELECT claim_id, month, original_run, retired_by, how, units FROM retired"
        params: list[object] = []
        if months is not None:
            query += f" WHERE month IN ({', '.join('?' * len(months))})"
            params.extend(months)
        return pd.DataFrame(
            self._db.execute(query, params).fetchall(),
            columns=["claim_id", "month", "original_run", "retired_by", "how", "units"],
        )

    @_guarded
    def totals(self, profile: str, years: list[int], *, dictionary: bool = False) -> pa.Table:
        """As LedgerStore says."""
        if profile not in totals.kept(self._db):  # a profile that has only now been given an annual cap
            return totals.computed(self._db, profile, years, dictionary=dictionary)
        return totals.read(self._db, profile, years, dictionary=dictionary)  # no years: SQLite's `IN ()` is empty

    @_guarded
    def lines_at(self, where: pd.DataFrame, columns: list[str]) -> pa.Table:
        """As LedgerStore says."""
        found = []
        for (run_id, month), group in where.groupby(["run_id", "month"]):
            block = self.lines([int(month)], columns, [str(run_id)])
            rows = pa.array(np.unique(group["block_row"].to_numpy(np.int64)))
            found.append(block.take(rows))
        if found:
            return pa.concat_tables(found, promote_options="permissive")
        return self.lines([], columns)

    @_guarded
    def findings(self, run_ids: list[str] | None = None) -> pa.Table:
        """As LedgerStore says."""
        query = "SELECT f.run_id, f.data FROM finding_blocks f JOIN runs r USING (run_id) " \
                "WHERE r.status = 'committed'"
        params: list[object] = []
        if run_ids is not None:
            query += f" AND f.run_id IN ({', '.join('?' * len(run_ids))})"
            params.extend(run_ids)
        tables = []
        for run_id, data in self._db.execute(query, params):
            table = decode_block(data)
            tables.append(table.append_column("run_id", pa.array([run_id] * table.num_rows, pa.string())))
        return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})

    @_guarded
    def writeoffs(self) -> pd.DataFrame:
        """As LedgerStore says."""
        rows = self._db.execute("SELECT claim_id, reason, written_off_at FROM writeoffs").fetchall()
        return pd.DataFrame(rows, columns=["claim_id", "reason", "written_off_at"])

    def integrity_problems(self, *, quick: bool = False) -> list[str]:
        """As LedgerStore says; `quick` uses SQLite's quick_check (pages and structure, not index contents).

        Also the ledger's own bookkeeping: each block's SHA-256, and each run's
        recorded lines and units against its blocks. Never raises on a damaged
        file: what cannot be read is itself the problem.
        """
        return self._integrity_problems(self._db, quick)

    def _integrity_problems(self, db: sqlite3.Connection, quick: bool) -> list[str]:
        try:
            return self._problems(db, quick)
        except sqlite3.Error as exc:
            return [f"the database cannot be read ({exc})"]

    def _problems(self, db: sqlite3.Connection, quick: bool) -> list[str]:
        check = "quick_check" if quick else "integrity_check"
        rows = [r[0] for r in db.execute(f"PRAGMA {check}").fetchall()]
        problems = [] if rows == ["ok"] else [f"SQLite {check}: {r}" for r in rows[:20]]
        if problems:
            return problems  # the tables below cannot be trusted now
        problems += [f"foreign key: {row}" for row in db.execute("PRAGMA foreign_key_check").fetchall()]
        blocks = db.execute("SELECT run_id, month, sha256, CAST(data AS BLOB) FROM line_blocks")
        for run_id, month, sha, data in blocks:
            if hashlib.sha256(data).hexdigest() != sha:
                problems.append(f"run {run_id}: the block of month {month} was altered outside cmclaims")
        # A run's record says how many lines and units it recorded; its blocks must hold exactly that.
        mismatched = db.execute(
            "SELECT r.run_id, r.lines_ledgered, r.units_ledgered, COALESCE(SUM(b.rows), 0), COALESCE(SUM(b.units), 0) "
            "FROM runs r LEFT JOIN line_blocks b USING (run_id) WHERE r.status = 'committed' GROUP BY r.run_id "
            "HAVING COALESCE(SUM(b.rows), 0) != r.lines_ledgered OR COALESCE(SUM(b.units), 0) != r.units_ledgered"
        ).fetchall()
        for run_id, lines, units, block_lines, block_units in mismatched:
            problems.append(f"run {run_id}: {block_lines} lines / {block_units} units in its blocks, its record says "
                            f"{lines} / {units}")
        orphans = db.execute(
            "SELECT COUNT(*) FROM line_blocks b JOIN runs r USING (run_id) WHERE r.status != 'committed'"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} blocks of lines belong to runs that were rolled back")
        if db.execute("SELECT COUNT(*) FROM meta WHERE key = 'created_at'").fetchone()[0] != 1:
            problems.append("the ledger's identity (its meta table) is incomplete")
        return problems + totals.sum_problems(db)

    @_guarded
    def total_problems(self) -> list[str]:
        """As LedgerStore says."""
        return totals.total_problems(self._db)

    def verify_before_commit(self, *, own_connection: bool = False) -> None:
        """LedgerDamaged (exit 73) unless the ledger is sound enough to be written: SQLite's quick_check
        and the ledger's bookkeeping. Called under the writer lock, before a run writes anything;
        `own_connection` checks through a connection of its own (to run on another thread)."""
        if own_connection:
            try:
                db = self._connect(read_only=True)
            except sqlite3.Error as exc:
                raise _database_error(self.path, exc) from exc
            try:
                problems = self._integrity_problems(db, quick=True)
            finally:
                db.close()
        else:
            problems = self.integrity_problems(quick=True)
        if problems:
            raise LedgerDamaged(
                f"{self.path}: the ledger is damaged ({problems[0]}{'; ...' if len(problems) > 1 else ''}); "
                "nothing was recorded and no outputs were written",
                hint="run `cmclaims ledger check` and restore the ledger from its backup",
            )

    # --- writing ---------------------------------------------------------------------------

    @_guarded
    def compact(self) -> dict[str, int]:
        """As LedgerStore says. Called under the writer lock.

        SQLite changes a file's page size only by rewriting it (VACUUM), and
        only outside WAL mode, which it leaves only while no other connection
        has the file open: a report or a dry run reading it makes this exit 75,
        nothing changed. VACUUM rewrites the file in one transaction through a
        rollback journal: a crash leaves the ledger as it was, or compacted.
        A damaged ledger is refused first (exit 73), as before any write.
        """
        self.verify_before_commit()
        db = self._db
        before = self._file_shape()
        busy = LedgerLocked(f"{self.path}: another program has the ledger open (a report, a dry run, `sqlite3`); "
                            "nothing was changed", hint="run `cmclaims ledger compact` again when nothing reads it")
        try:
            if db.execute("PRAGMA journal_mode = DELETE").fetchone()[0] != "delete":
                raise busy  # SQLite keeps WAL (and says so) while another connection has the file
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            checkpoint("ledger-compact")
            db.execute("VACUUM")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise busy from exc
        finally:
            with contextlib.suppress(sqlite3.Error):  # else the next writer's open sets it again
                db.execute("PRAGMA journal_mode = WAL")
        after = self._file_shape()
        return {"page_size_before": before[0], "bytes_before": before[1], "page_size": after[0], "bytes": after[1]}

    def _file_shape(self) -> tuple[int, int]:
        """The ledger's page size and its size in bytes (pages times page size)."""
        page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return page_size, page_size * self._db.execute("PRAGMA page_count").fetchone()[0]

    def prepare_run(self, run: dict, lines: pa.Table, retired: pd.DataFrame,
                    findings: pa.Table | Future[EncodedBlock], *, annual_caps: bool) -> PreparedRun:
        """As LedgerStore says."""
        blocks = []
        for month, block in _by_month(lines):
            data = encode_block(block, dictionary=True)
            units = int(pc.sum(block.column("units")).as_py() or 0)
            blocks.append((month, block.num_rows, units, hashlib.sha256(data).hexdigest(), data))
        retirements = list(zip(retired["claim_id"], retired["month"].astype(int).tolist(), retired["original_run"],
                               retired["how"], strict=True))
        counted = lines.select(totals.LINE_COLUMNS)
        summed = totals.summed(counted, run["profile"]) if annual_caps else totals.empty()
        prepared = PreparedRun(run, blocks, retirements, None, 0, counted, summed, annual_caps)
        if not self.read_only and annual_caps:
            self._prepare_totals(prepared)
        # The findings come last: a validate run encodes them as it writes its exceptions file (a Future).
        if isinstance(findings, Future):
            encoded = findings.result()
        else:
            encoded = EncodedBlock(encode_block(findings) if findings.num_rows else None, findings.num_rows)
        prepared.findings, prepared.finding_rows = encoded.data, encoded.rows
        return prepared

    def _prepare_totals(self, prepared: PreparedRun) -> None:
        """The totals blocks the run rewrites, summed and encoded off the transaction, through a connection of
        this thread's own (the writer lock the run holds keeps the ledger as read)."""
        run = prepared.run
        try:
            db = self._connect(read_only=True)
            try:
                kept = totals.kept(db)
                if run["profile"] not in kept:  # its totals start from its lines, in the transaction
                    return
                prepared.delta, _ = totals.run_change(db, run["run_id"], run["profile"], prepared.lines,
                                                      prepared.totals, self._retiring(prepared), kept)
                prepared.total_writes = totals.block_writes(db, prepared.delta)
            finally:
                db.close()
        except (sqlite3.Error, CannotWrite):
            prepared.delta = prepared.total_writes = None  # the transaction reads and reports it itself

    @staticmethod
    def _retiring(prepared: PreparedRun) -> pd.DataFrame:
        return pd.DataFrame(prepared.retired, columns=["claim_id", "month", "original_run", "how"])

    @_guarded
    def record_run(self, prepared: PreparedRun) -> int:
        """As LedgerStore says."""
        run = prepared.run

        def work(db: sqlite3.Connection) -> int:
            previous = db.execute("SELECT executions FROM runs WHERE run_id = ?", (run["run_id"],)).fetchone()
            executions = (previous[0] if previous else 0) + 1
            sequence = db.execute("SELECT COALESCE(MAX(sequence), 0) + 1 FROM runs").fetchone()[0]
            # The totals of the profiles kept before and after this run change by its delta; its own profile's
            # start from the lines once they are written, or are dropped (cmclaims/ledger/totals.py).
            profile, kept = run["profile"], totals.kept(db)
            kept_after = kept | {profile} if prepared.annual_caps else kept - {profile}
            delta, retired_units = totals.run_change(db, run["run_id"], profile, prepared.lines,
                                                     prepared.totals, self._retiring(prepared), kept & kept_after)
            # A run executed again replaces everything its earlier execution recorded.
            for table, column in (("line_blocks", "run_id"), ("finding_blocks", "run_id"), ("retired", "retired_by")):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (run["run_id"],))
            record = {**run, "executions": executions, "sequence": sequence, "inputs": json.dumps(run["inputs"]),
                      "options": json.dumps(run["options"])}
            placeholders = ", ".join(f":{name}" for name in RUN_FIELDS)
            updates = ", ".join(f"{name} = excluded.{name}" for name in RUN_FIELDS if name != "run_id")
            db.execute(
                f"INSERT INTO runs ({', '.join(RUN_FIELDS)}) VALUES ({placeholders}) "
                f"ON CONFLICT (run_id) DO UPDATE SET {updates}",
                record,
            )
            db.executemany(
                "INSERT INTO line_blocks (run_id, profile, month, rows, units, sha256, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run["run_id"], run["profile"], *block) for block in prepared.blocks],
            )
            db.executemany(
                "INSERT OR REPLACE INTO retired (claim_id, month, original_run, how, retired_by, units) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(*retirement, run["run_id"], units)
                 for retirement, units in zip(prepared.retired, retired_units, strict=True)],
            )
            # The running totals change in the same transaction as the lines: by the blocks prepared off the
            # transaction when they were summed with this very delta and blocks, computed here otherwise.
            precomputed = prepared.total_writes is not None and prepared.delta is not None and \
                prepared.delta.equals(delta) and totals.write_blocks(db, prepared.total_writes)
            if not precomputed:
                totals.add(db, delta)
            if profile in kept_after - kept:
                totals.start_keeping(db, profile)
            elif profile in kept - kept_after:
                totals.stop_keeping(db, profile)
            if prepared.findings is not None:
                db.execute(
                    "INSERT INTO finding_blocks (run_id, part, rows, data) VALUES (?, 0, ?, ?)",
                    (run["run_id"], prepared.finding_rows, prepared.findings),
                )
            checkpoint("ledger-transaction")
            return executions

        return self._transaction(work)

    @_guarded
    def rollback(self, run_id: str, excess: Callable[[pd.DataFrame], pd.DataFrame]) -> dict:
        """As LedgerStore says."""
        def work(db: sqlite3.Connection) -> dict:
            run = self.run(run_id)
            if run is None:
                raise ConfigError(f"there is no run {run_id} in {self.path}", hint="`cmclaims ledger runs` lists them")
            if run["status"] != "committed":
                raise ConfigError(f"run {run_id} is already {run['status'].replace('_', ' ')}")
            dependants = db.execute(
                "SELECT DISTINCT retired_by FROM retired WHERE original_run = ? AND retired_by != ?", (run_id, run_id)
            ).fetchall()
            if dependants:
                later = ", ".join(r[0] for r in dependants)
                raise ConfigError(
                    f"later run(s) {later} voided or replaced lines of {run_id}",
                    hint="roll those back first",
                )
            nothing = pd.DataFrame({"claim_id": [], "month": [], "original_run": []})
            delta, _ = totals.run_change(db, run_id, run["profile"], None, None, nothing, totals.kept(db))
            billed_again = self._billed_again(run_id)
            if billed_again:
                raise ConfigError(
                    f"claims that run {run_id} voided or replaced were billed again since, by run(s) "
                    f"{', '.join(billed_again)}: rolling it back would bill them twice",
                    hint="roll those back first",
                )
            originals = pd.DataFrame(db.execute(
                "SELECT claim_id, original_run, month FROM retired WHERE retired_by = ? AND original_run != ?",
                (run_id, run_id)).fetchall(), columns=["claim_id", "original_run", "month"])
            before = excess(originals)
            for table, column in (("line_blocks", "run_id"), ("finding_blocks", "run_id"), ("retired", "retired_by")):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (run_id,))
            db.execute("UPDATE runs SET status = 'rolled_back' WHERE run_id = ?", (run_id,))
            totals.add(db, delta)
            self._refuse_growing_excess(run, before, excess(originals))  # raising undoes the transaction
            return {**run, "status": "rolled_back"}

        return self._transaction(work)

    def _refuse_growing_excess(self, run: dict, before: pd.DataFrame, after: pd.DataFrame) -> None:
        """ConfigError when a member total is further over a limit after the rollback than before it: a void or
        replacement of the run freed units that a later run billed, and its original would come back on top."""
        key = ["kind", "limit", "member_id", "period"]
        grown = after.merge(before[[*key, "excess"]], on=key, how="left", suffixes=("", "_before"))
        grown = grown[grown["excess"] > grown["excess_before"].fillna(0)]
        if grown.empty:
            return
        sequence = {r["run_id"]: r["sequence"] for r in self.runs()}
        later = sorted({r for runs in grown["runs"] for r in runs if sequence.get(r, 0) > run["sequence"]},
                       key=sequence.__getitem__)
        limits = "; ".join(sorted(set(grown["limit"])))
        raise ConfigError(
            f"rolling back {run['run_id']} would bring back the originals its voids or replacements took out, and "
            f"{len(grown)} member totals would then exceed a limit ({limits}): later run(s) "
            f"{', '.join(later) or '(none found)'} billed the units those changes freed; nothing was changed",
            hint="roll those later runs back first",
        )

    def _billed_again(self, run_id: str) -> list[str]:
        """Runs (other than the originals' own) whose active lines bill a claim that `run_id` took out."""
        taken = self._db.execute(
            "SELECT claim_id, original_run FROM retired WHERE retired_by = ? AND original_run != ?", (run_id, run_id)
        ).fetchall()
        if not taken:
            return []
        lines = self.lines(None, ["claim_id", "frequency"]).to_pandas()
        lines = lines[lines["claim_id"].isin({claim for claim, _ in taken}) & (lines["frequency"] != VOID)]
        retired = self.retired()
        gone = pd.MultiIndex.from_frame(retired[["claim_id", "original_run"]])
        lines = lines[~pd.MultiIndex.from_frame(lines[["claim_id", "run_id"]]).isin(gone)]
        own = pd.MultiIndex.from_tuples(taken)
        again = lines[(lines["run_id"] != run_id) & ~pd.MultiIndex.from_frame(lines[["claim_id", "run_id"]]).isin(own)]
        return sorted(set(again["run_id"]))

    @_guarded
    def write_off(self, claim_id: str, reason: str) -> None:
        """As LedgerStore says."""
        self._transaction(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO writeoffs (claim_id, reason, written_off_at) VALUES (?, ?, ?)",
                (claim_id, reason, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
            )
        )

    def close(self) -> None:
        """As LedgerStore says."""
        self._db.close()

    # --- for the tables other rooms keep in the ledger (remittances: cmclaims/remit/) -----------

    def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` in one BEGIN IMMEDIATE transaction: all of it is recorded, or nothing."""
        return self._transaction(work)

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` to read (a read-only ledger stays read-only)."""
        return work(self._db)
