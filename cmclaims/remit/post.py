"""Posting remittances: read every file, match its lines to the ledger, record it once.

Every file is read and checked before anything is written, and all of them
are recorded in one transaction under the ledger's writer lock (the caller
holds it): a malformed file records nothing, from it or from the others. A
file whose content was posted before is recorded once (its SHA-256 is the
key); a different file carrying a payment (payer and trace number) already
posted is refused, since posting it would count that money twice.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd

from cmclaims.errors import InputUnusable
from cmclaims.ledger.store import SqliteLedger
from cmclaims.remit import ledger_tables
from cmclaims.remit.matching import BY_CONTROL_NUMBER, BY_SERVICE, LEDGER_COLUMNS, UNMATCHED, match_lines
from cmclaims.remit.x12_read import Remittance, read_835

UNMATCHED_COLUMNS = ["file", "segment", "patient_control", "line_control", "service_date", "hcpcs", "modifiers",
                     "units_billed", "charge", "paid", "claim_status"]


def ledger_lines(store: SqliteLedger) -> pd.DataFrame:
    """The lines committed runs recorded, in the order the runs committed (latest last)."""
    table = store.lines(columns=[c for c in LEDGER_COLUMNS if c not in ("run_id", "profile")]).to_pandas()
    sequence = {run["run_id"]: run["sequence"] for run in store.runs()}
    table = table.assign(sequence=table["run_id"].map(sequence)).sort_values(["sequence", "block_row"],
                                                                            kind="stable")
    return table[LEDGER_COLUMNS].reset_index(drop=True)


def post_remittances(store: SqliteLedger, paths: list[Path], now: dt.datetime | None = None) -> dict:
    """Read, match and record `paths`; returns what each file added and the lines that matched nothing."""
    remits = _read_all(paths)
    ledger = ledger_lines(store)
    posted_at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")

    def work(db: sqlite3.Connection) -> list[dict]:
        ledger_tables.ensure_tables(db)
        results = []
        for remit in remits:
            earlier = ledger_tables.posted_file(db, remit.sha256)
            if earlier is not None:
                results.append(_skipped(remit, earlier))
                continue
            for payment in remit.payments:
                again = ledger_tables.posted_payment(db, payment.payer_id, payment.trace)
                if again is not None:
                    raise InputUnusable(
                        f"{remit.path}: payment {payment.trace} of payer {payment.payer_id} was already posted "
                        f"from {again[0]} on {again[1][:10]}; posting it again would count it twice; "
                        f"nothing was recorded", hint="the payer may have re-sent it under a new name")
            matches = match_lines(remit.lines, ledger)
            ledger_tables.record(db, remit, matches, posted_at)
            results.append(_posted(remit, matches))
        return results

    files = store.transaction(work)
    unmatched = pd.concat([f.pop("unmatched_lines") for f in files], ignore_index=True) if files else \
        pd.DataFrame(columns=UNMATCHED_COLUMNS)
    return {"files": files, "unmatched": unmatched, "posted_at": posted_at}


def _read_all(paths: list[Path]) -> list[Remittance]:
    """Every file read and checked before anything is recorded; the same content named twice counts once."""
    remits: dict[str, Remittance] = {}
    for path in paths:
        remit = read_835(path)
        remits.setdefault(remit.sha256, remit)
    return list(remits.values())


def _summary(remit: Remittance) -> dict:
    lines = remit.lines
    return {
        "file": str(remit.path), "sha256": remit.sha256, "version": remit.version,
        "payments": [{"payer": p.payer, "payer_id": p.payer_id, "trace": p.trace, "amount": p.amount_cents / 100,
                      "paid_on": p.paid_on} for p in remit.payments],
        "claims": int(lines[["trace", "patient_control", "payer_claim_id"]].drop_duplicates().shape[0]),
        "lines": len(lines),
        "charge": int(lines["charge_cents"].sum()) / 100,
        "paid": int(lines["paid_cents"].sum()) / 100,
        "patient_responsibility": int(lines["patient_cents"].sum()) / 100,
    }


def _skipped(remit: Remittance, earlier: tuple[str, str]) -> dict:
    return {**_summary(remit), "status": "already posted", "posted_before": {"file": earlier[0], "at": earlier[1]},
            "matched_by_control_number": 0, "matched_by_service": 0, "unmatched": 0,
            "unmatched_lines": pd.DataFrame(columns=UNMATCHED_COLUMNS)}


def _posted(remit: Remittance, matches: pd.DataFrame) -> dict:
    how = matches["match"].value_counts()
    missing = remit.lines[matches["match"].to_numpy() == UNMATCHED]
    unmatched = pd.DataFrame({
        "file": remit.path.name, "segment": missing["segment"], "patient_control": missing["patient_control"],
        "line_control": missing["line_control"], "service_date": missing["service_date"],
        "hcpcs": missing["hcpcs"], "modifiers": missing["modifiers"], "units_billed": missing["units_billed"],
        "charge": missing["charge_cents"] / 100, "paid": missing["paid_cents"] / 100,
        "claim_status": missing["claim_status"],
    })[UNMATCHED_COLUMNS]
    return {**_summary(remit), "status": "posted", "matched_by_control_number": int(how.get(BY_CONTROL_NUMBER, 0)),
            "matched_by_service": int(how.get(BY_SERVICE, 0)), "unmatched": int(how.get(UNMATCHED, 0)),
            "unmatched_lines": unmatched}
