"""The ledger's tables, its schema version, and the migrations between versions.

Each run's accepted lines are kept per service month as one block
(`line_blocks`; Arrow IPC, or Parquet where an older cmclaims wrote it:
cmclaims/ledger/blocks.py): a night's run writes a few large blobs instead of
millions of rows, and a later run reads only the months (and, for annual
caps, the years) its own lines fall in. `retired` lists originals that a void or replacement
took out of the usage; `finding_blocks` keeps each run's exceptions for
finance's reports; `writeoffs` records what finance wrote off. `meta` holds
the ledger's identity: its id, when it was created, its schema version.

Version 3 keeps each retirement's units (the original's), and version 4 the
running totals per member, code and calendar year, one block per
profile and year (`total_blocks`, cmclaims/ledger/totals.py): the annual caps
read them instead of a year of lines. An older ledger is upgraded in place,
its totals computed from its lines. (A version 3 ledger of this session's
first step kept them as rows, `usage_totals`: version 4 replaces that table.)

Version 5 writes new blocks as Arrow IPC instead of Parquet. Its tables are
those of version 4 and its Parquet blocks stay as they are (both are read);
the version is raised so that an older cmclaims, which reads Parquet only,
refuses the ledger as newer than it knows instead of taking its new blocks
for damage.

Version 6 keeps running totals only for the profiles whose code tables cap
a year (`kept_totals`, cmclaims/ledger/totals.py); an older ledger keeps them
for every profile it has, as before, until a run of a profile without a cap
drops them.

Version 2 gives every ledger its identity (PRAGMA application_id "CMCL" and a
ledger_id): a ledger is created only by `cmclaims ledger init`, and a file
that is not one is refused (cmclaims/ledger/identity.py). A version 1 ledger
(created silently by an older validate) is upgraded in place.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable

from cmclaims.errors import ConfigError
from cmclaims.ledger import totals
from cmclaims.ledger.identity import APPLICATION_ID

SCHEMA_VERSION = 6

_VERSION_1 = [
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        sequence INTEGER NOT NULL,         -- order of the runs' latest executions
        kind TEXT NOT NULL,                -- validate | import
        status TEXT NOT NULL,              -- committed | rolled_back
        profile TEXT NOT NULL,
        code_table_version TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        executions INTEGER NOT NULL,       -- how often this run (these inputs) was run
        inputs TEXT NOT NULL,              -- JSON: [{file, sha256, lines}]
        options TEXT NOT NULL,             -- JSON
        out_dir TEXT,
        lines_in INTEGER NOT NULL,
        lines_clean INTEGER NOT NULL,
        lines_rejected INTEGER NOT NULL,
        lines_adjusted INTEGER NOT NULL,
        lines_warned INTEGER NOT NULL,
        units_in INTEGER NOT NULL,
        units_billable INTEGER NOT NULL,
        charge_in REAL NOT NULL,
        charge_clean REAL NOT NULL,
        charge_rejected REAL NOT NULL,
        charge_billable REAL NOT NULL,
        lines_ledgered INTEGER NOT NULL,   -- accepted lines recorded in line_blocks
        units_ledgered INTEGER NOT NULL
    )""",
    """CREATE TABLE line_blocks (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        profile TEXT NOT NULL,
        month INTEGER NOT NULL,            -- months since 1970-01 of the lines' service dates
        rows INTEGER NOT NULL,
        units INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        data BLOB NOT NULL,                -- Parquet
        PRIMARY KEY (run_id, month)
    )""",
    "CREATE INDEX line_blocks_month ON line_blocks (month, profile)",
    """CREATE TABLE retired (
        claim_id TEXT NOT NULL,            -- a claim billed again after a void is a new line: the
        original_run TEXT NOT NULL,        -- run that billed it is part of its identity
        month INTEGER NOT NULL,
        retired_by TEXT NOT NULL REFERENCES runs(run_id),
        how TEXT NOT NULL,                 -- void | replace
        PRIMARY KEY (claim_id, original_run)
    )""",
    "CREATE INDEX retired_month ON retired (month)",
    "CREATE INDEX retired_by ON retired (retired_by)",
    """CREATE TABLE finding_blocks (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        part INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        data BLOB NOT NULL,                -- Parquet: the run's exceptions rows
        PRIMARY KEY (run_id, part)
    )""",
    """CREATE TABLE writeoffs (
        claim_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        written_off_at TEXT NOT NULL
    )""",
]


def _identity() -> list[str]:
    """The ledger's identity, for a new ledger and for one an older cmclaims created without it."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return [
        f"PRAGMA application_id = {APPLICATION_ID}",
        f"INSERT OR IGNORE INTO meta (key, value) VALUES ('ledger_id', '{uuid.uuid4()}')",
        f"INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', '{now}')",
    ]


_VERSION_3 = [
    "ALTER TABLE retired ADD COLUMN units INTEGER NOT NULL DEFAULT 0",  # the original's units when retired
]
_VERSION_4 = ["DROP TABLE IF EXISTS usage_totals", totals.TOTAL_BLOCKS]
_VERSION_5: list[str] = []  # new blocks are Arrow IPC (cmclaims/ledger/blocks.py); no table changes
_VERSION_6 = [totals.KEPT_TOTALS]

# version -> statements that bring a ledger from version - 1 to it (None: built when applied)
MIGRATIONS: dict[int, list[str] | None] = {1: _VERSION_1, 2: None, 3: _VERSION_3, 4: _VERSION_4, 5: _VERSION_5,
                                           6: _VERSION_6}
# version -> work done after its statements, in the same transaction (computed from the ledger's contents)
FILLS: dict[int, Callable[[sqlite3.Connection], None]] = {3: totals.fill_retired_units, 4: totals.fill_totals,
                                                          6: totals.fill_kept}


def _statements(version: int) -> list[str]:
    fixed = MIGRATIONS[version]
    statements = fixed if fixed is not None else _identity()
    return [*statements, "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', "
                         f"'{version}')"]


def migrate(connection: sqlite3.Connection) -> None:
    """Bring the ledger to SCHEMA_VERSION, one migration at a time, each in its own transaction."""
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise ConfigError(
            f"the ledger has schema version {current}, newer than this cmclaims knows ({SCHEMA_VERSION})",
            hint="upgrade cmclaims",
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(version):
                connection.execute(statement)
            if version in FILLS:
                FILLS[version](connection)
            connection.execute(f"PRAGMA user_version = {version}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
