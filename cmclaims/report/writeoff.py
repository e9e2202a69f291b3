"""Writing off open exceptions: finance decides a claim will not be billed, and says why; and undoing it.

Only a claim with an open exception can be written off, so that a mistyped
claim id is caught instead of silently recorded. Claims come on the command
line with one `--reason`, or from a file (CSV, `claim_id,reason`, one reason
per claim; `--reason` fills the rows without one). Every write-off of one
command is recorded in one transaction: all of them, or none. A write-off
closes what was open then (see open_items); `--undo` takes write-offs back
(a claim written off by mistake is open again), also all or none.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd

from cmclaims.errors import ConfigError, InputMissing
from cmclaims.ledger.store import SqliteLedger
from cmclaims.report.open_items import load_open_items


def claims_from_file(path: Path, default_reason: str | None) -> list[tuple[str, str]]:
    """(claim_id, reason) pairs from a CSV with claim_id and (optionally) reason columns."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputMissing(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a CSV of claim_id,reason ({type(exc).__name__})") from None
    columns = {c.strip().lower(): c for c in frame.columns}
    if "claim_id" not in columns:
        raise ConfigError(f"{path}: needs a claim_id column (and a reason column, or --reason)")
    claims = frame[columns["claim_id"]].str.strip()
    reasons = frame[columns["reason"]].str.strip() if "reason" in columns else pd.Series("", index=frame.index)
    reasons = reasons.where(reasons != "", (default_reason or "").strip())
    missing = frame.index[(claims != "") & (reasons == "")]
    if len(missing):
        rows = ", ".join(str(i + 1) for i in missing[:10])
        raise ConfigError(f"{path}: row(s) {rows} give no reason", hint="add a reason column or pass --reason")
    keep = claims != ""
    return list(zip(claims[keep], reasons[keep], strict=True))


def write_off_claims(store: SqliteLedger, claims: list[tuple[str, str]], today: dt.date) -> dict:
    """Write off each (claim, reason), all or none; returns the claims and the dollars they held."""
    chosen = dict(claims)  # a claim named twice: its last reason
    if not chosen:
        raise ConfigError("no claim to write off: give claim ids or --file")
    if any(not reason.strip() for reason in chosen.values()):
        raise ConfigError("--reason must say why the claim is written off")
    items = load_open_items(store, today, include_adjusted=True)
    open_claims = items.claims.set_index("claim_id")
    unknown = [claim for claim in chosen if claim not in open_claims.index]
    if unknown:
        raise ConfigError(
            f"no open exception for claim {', '.join(unknown[:10])}" + (" ..." if len(unknown) > 10 else ""),
            hint="`cmclaims report open --detail` lists the open claims; nothing was written off",
        )
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def work(db: sqlite3.Connection) -> None:
        db.executemany("INSERT OR REPLACE INTO writeoffs (claim_id, reason, written_off_at) VALUES (?, ?, ?)",
                       [(claim, reason.strip(), now) for claim, reason in chosen.items()])

    store.transaction(work)
    held = float(open_claims.loc[list(chosen), "dollars_held"].sum())
    reasons = sorted(set(chosen.values()))
    return {"written_off": list(chosen), "reason": reasons[0] if len(reasons) == 1 else reasons,
            "dollars_held": round(held, 2)}


def undo_write_offs(store: SqliteLedger, claims: list[str]) -> dict:
    """Take back the write-offs of `claims` (all must be written off; all or none): they are open again."""
    chosen = list(dict.fromkeys(claims))
    if not chosen:
        raise ConfigError("no claim to take back: give claim ids or --file")
    recorded = store.writeoffs().set_index("claim_id")
    unknown = [claim for claim in chosen if claim not in recorded.index]
    if unknown:
        raise ConfigError(f"claim {', '.join(unknown[:10])} is not written off" + (" ..." if len(unknown) > 10 else ""),
                          hint="nothing was taken back")

    def work(db: sqlite3.Connection) -> None:
        db.executemany("DELETE FROM writeoffs WHERE claim_id = ?", [(claim,) for claim in chosen])

    store.transaction(work)
    return {"undone": chosen, "reasons": {claim: recorded.loc[claim, "reason"] for claim in chosen}}
