"""The ledger's tables, its schema version, and the migrations between versions.

Each run's accepted lines are kept per service month as one Parquet block
(`line_blocks`): a night's run writes a few large blobs instead of millions of
rows, and a later run reads only the months (and, for annual caps, the years)
its own lines fall in. `retired` lists originals that a void or replacement
took out of the usage; `finding_blocks` keeps each run's exceptions for
finance's reports; `writeoffs` records what finance wrote off.
"""

from __future__ import annotations

import sqlite3

from cmclaims.errors import ConfigError

SCHEMA_VERSION = 1

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

# version -> statements that bring a ledger from version - 1 to it
MIGRATIONS: dict[int, list[str]] = {1: _VERSION_1}


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
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
