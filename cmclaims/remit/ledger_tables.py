"""The ledger's remittance tables: plain, indexed rows that `sqlite3` can inspect.

They live in the ledger file beside the runs, so that one backup holds what
was billed and what was paid, and one lock keeps a posting and a nightly run
apart. They are created by the first posting, inside its transaction (a
ledger that never saw a remittance has none, and every reader copes), so
they add nothing to the ledger's own schema versions.

    remit_files        one row per posted file, by its SHA-256: a file posted twice is recorded once
    remit_payments     one row per payment (transaction set): payer and trace number, unique
    remit_lines        one row per service line, with the ledger line it matched (claim_id, run_id)
    remit_adjustments  the CAS adjustments of each line: group, CARC, amount, units

Amounts are integer cents.
"""

from __future__ import annotations

import sqlite3

import pandas as pd

from cmclaims.remit.x12_read import ADJUSTMENT_COLUMNS, LINE_COLUMNS, Remittance

TABLES_VERSION = "1"

_STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS remit_files (
        file_sha256 TEXT PRIMARY KEY,
        file_name TEXT NOT NULL,
        posted_at TEXT NOT NULL,           -- UTC
        version TEXT NOT NULL,             -- GS08: 005010X221A1, 004010X091A1
        segments INTEGER NOT NULL,
        claims INTEGER NOT NULL,
        lines INTEGER NOT NULL,
        charge_cents INTEGER NOT NULL,
        paid_cents INTEGER NOT NULL,
        matched INTEGER NOT NULL,
        unmatched INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS remit_payments (
        payer_id TEXT NOT NULL,
        trace TEXT NOT NULL,               -- TRN02: check or EFT trace number
        file_sha256 TEXT NOT NULL REFERENCES remit_files(file_sha256),
        payer TEXT NOT NULL,
        amount_cents INTEGER NOT NULL,
        paid_on TEXT,
        method TEXT NOT NULL,
        PRIMARY KEY (payer_id, trace)
    )""",
    """CREATE TABLE IF NOT EXISTS remit_lines (
        file_sha256 TEXT NOT NULL REFERENCES remit_files(file_sha256),
        line_no INTEGER NOT NULL,          -- order in the file
        segment INTEGER NOT NULL,          -- position of its SVC (or CLP) segment in the file
        trace TEXT, paid_on TEXT,
        patient_control TEXT,              -- CLP01
        payer_claim_id TEXT,               -- CLP07
        claim_status TEXT,                 -- CLP02: 1 processed, 4 denied, 22 reversal ...
        line_control TEXT,                 -- REF*6R as the payer returned it
        member_id TEXT, service_date TEXT, hcpcs TEXT, modifiers TEXT,
        units_billed REAL, units_paid REAL,
        charge_cents INTEGER NOT NULL, paid_cents INTEGER NOT NULL, patient_cents INTEGER NOT NULL,
        remarks TEXT,                      -- RARC (LQ*HE), space-separated
        claim_id TEXT,                     -- the ledger line it pays (NULL: matched nothing)
        run_id TEXT, service TEXT, profile TEXT,
        match TEXT NOT NULL,               -- line_control | member_date_code_units | none
        PRIMARY KEY (file_sha256, line_no)
    )""",
    "CREATE INDEX IF NOT EXISTS remit_lines_claim ON remit_lines (claim_id)",
    "CREATE INDEX IF NOT EXISTS remit_lines_date ON remit_lines (service_date)",
    """CREATE TABLE IF NOT EXISTS remit_adjustments (
        file_sha256 TEXT NOT NULL REFERENCES remit_files(file_sha256),
        line_no INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        level TEXT NOT NULL,               -- line | claim (a claim-level CAS, kept with the claim's first line)
        group_code TEXT NOT NULL,          -- CO PR OA PI CR
        carc TEXT NOT NULL,
        amount_cents INTEGER NOT NULL,
        units REAL,
        PRIMARY KEY (file_sha256, line_no, seq)
    )""",
    "INSERT OR REPLACE INTO meta (key, value) VALUES ('remit_tables_version', '" + TABLES_VERSION + "')",
]
MATCH_COLUMNS = ["claim_id", "run_id", "service", "profile", "match"]


def ensure_tables(db: sqlite3.Connection) -> None:
    """Create the remittance tables if this ledger has none yet (inside the caller's transaction)."""
    for statement in _STATEMENTS:
        db.execute(statement)


def has_tables(db: sqlite3.Connection) -> bool:
    """Whether any remittance was ever posted to this ledger."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'remit_lines'").fetchone() \
        is not None


def posted_file(db: sqlite3.Connection, sha256: str) -> tuple[str, str] | None:
    """(file name, posted at) of a file already posted with this content."""
    if not has_tables(db):
        return None
    return db.execute("SELECT file_name, posted_at FROM remit_files WHERE file_sha256 = ?", (sha256,)).fetchone()


def posted_payment(db: sqlite3.Connection, payer_id: str, trace: str) -> tuple[str, str] | None:
    """(file name, posted at) of the file that already posted this payer's payment trace number."""
    return db.execute(
        "SELECT f.file_name, f.posted_at FROM remit_payments p JOIN remit_files f USING (file_sha256) "
        "WHERE p.payer_id = ? AND p.trace = ?", (payer_id, trace)).fetchone()


def record(db: sqlite3.Connection, remit: Remittance, matches: pd.DataFrame, posted_at: str) -> None:
    """Insert one file's payments, lines (with their matches) and adjustments."""
    lines = remit.lines.merge(matches, on="line_no", how="left")
    matched = int((lines["match"] != "none").sum())
    db.execute(
        "INSERT INTO remit_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (remit.sha256, remit.path.name, posted_at, remit.version, remit.segments,
         int(lines[["trace", "patient_control", "payer_claim_id"]].drop_duplicates().shape[0]), len(lines),
         int(lines["charge_cents"].sum()), int(lines["paid_cents"].sum()), matched, len(lines) - matched),
    )
    db.executemany(
        "INSERT INTO remit_payments VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(p.payer_id, p.trace, remit.sha256, p.payer, p.amount_cents, p.paid_on, p.method) for p in remit.payments],
    )
    columns = [*LINE_COLUMNS, *MATCH_COLUMNS]
    rows = lines[columns].astype(object).where(lines[columns].notna(), None)
    db.executemany(
        f"INSERT INTO remit_lines (file_sha256, {', '.join(columns)}) VALUES (?, {', '.join('?' * len(columns))})",
        [(remit.sha256, *row) for row in rows.itertuples(index=False, name=None)],
    )
    adjustments = remit.adjustments.assign(seq=remit.adjustments.groupby("line_no").cumcount())
    adjustment_columns = ["line_no", "seq", *[c for c in ADJUSTMENT_COLUMNS if c != "line_no"]]
    rows = adjustments[adjustment_columns].astype(object).where(adjustments[adjustment_columns].notna(), None)
    db.executemany(
        f"INSERT INTO remit_adjustments (file_sha256, {', '.join(adjustment_columns)}) "
        f"VALUES (?, {', '.join('?' * len(adjustment_columns))})",
        [(remit.sha256, *row) for row in rows.itertuples(index=False, name=None)],
    )


def read_tables(db: sqlite3.Connection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(files, lines, adjustments) as recorded, in posting order; empty frames when nothing was posted."""
    if not has_tables(db):
        return (pd.DataFrame(columns=["file_sha256", "file_name", "posted_at"]),
                pd.DataFrame(columns=["file_sha256", "posted_at", *LINE_COLUMNS, *MATCH_COLUMNS]),
                pd.DataFrame(columns=["file_sha256", "posted_at", *ADJUSTMENT_COLUMNS]))
    files = pd.read_sql_query("SELECT * FROM remit_files ORDER BY posted_at, rowid", db)
    lines = pd.read_sql_query(
        "SELECT l.*, f.posted_at, f.file_name FROM remit_lines l JOIN remit_files f USING (file_sha256) "
        "ORDER BY f.posted_at, f.rowid, l.line_no", db)
    adjustments = pd.read_sql_query(
        "SELECT a.*, f.posted_at FROM remit_adjustments a JOIN remit_files f USING (file_sha256) "
        "ORDER BY f.posted_at, f.rowid, a.line_no, a.seq", db)
    return files, lines, adjustments
