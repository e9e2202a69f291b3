"""Writing off open exceptions: finance decides a claim will not be billed, and says why.

Only a claim with an open exception can be written off, so that a mistyped
claim id is caught instead of silently recorded. The write-off is kept in the
ledger (LedgerStore.write_off) with its reason and time, and closes what was
open then (see open_items).
"""

from __future__ import annotations

import datetime as dt

from cmclaims.errors import ConfigError
from cmclaims.ledger.store import LedgerStore
from cmclaims.report.open_items import load_open_items


def write_off_claims(store: LedgerStore, claims: list[str], reason: str, today: dt.date) -> dict:
    """Write off each claim (all or none); returns the claims and the dollars they held."""
    reason = reason.strip()
    if not reason:
        raise ConfigError("--reason must say why the claim is written off")
    items = load_open_items(store, today, include_adjusted=True)
    open_claims = items.claims.set_index("claim_id")
    unknown = [claim for claim in dict.fromkeys(claims) if claim not in open_claims.index]
    if unknown:
        raise ConfigError(
            f"no open exception for claim {', '.join(unknown[:10])}" + (" ..." if len(unknown) > 10 else ""),
            hint="`cmclaims report open --detail` lists the open claims; nothing was written off",
        )
    chosen = list(dict.fromkeys(claims))
    for claim in chosen:
        store.write_off(claim, reason)
    held = float(open_claims.loc[chosen, "dollars_held"].sum())
    return {"written_off": chosen, "reason": reason, "dollars_held": round(held, 2)}
