"""Each remitted claim line's fate across every remittance that answered it.

A line can be answered more than once: paid, then reversed (CLP02 = 22, the
amounts negated), then paid again after a correction; or denied, corrected
and paid in a later 835. The latest adjudication that is not a reversal says
what the payer decided; the net of all of them is what was paid.

    paid in full   the payer accepted the whole line: what it paid, the member's
                   share (group PR: deductible, coinsurance, copay) and the
                   contractual fee-schedule write-down (CO-45) make up the charge
    partly paid    paid, but some of it was refused for another reason
    denied         nothing paid, for a reason other than the member's share
    reversed       the latest answer took a payment back and nothing came since

The "denial" adjustments are every adjustment but group PR and CARC 45; the
largest of them on the latest adjudication is the line's primary CARC
(`CO-197`), the reason a report groups it by.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PAID_IN_FULL = "paid in full"
PARTLY_PAID = "partly paid"
DENIED = "denied"
REVERSED = "reversed"
REVERSAL = "22"
CONTRACTUAL = "45"

OUTCOME_COLUMNS = ["key", "claim_id", "service", "profile", "run_id", "service_date", "hcpcs", "modifiers",
                   "charge_cents", "paid_cents", "patient_cents", "contractual_cents", "denied_cents",
                   "outcome", "primary_carc", "carcs", "remarks", "last_posted", "answers"]


def denial_adjustments(adjustments: pd.DataFrame) -> pd.Series:
    """Which adjustments refuse money (every one but the member's share and the fee-schedule write-down)."""
    return (adjustments["group_code"] != "PR") & (adjustments["carc"] != CONTRACTUAL)


def line_outcomes(lines: pd.DataFrame, adjustments: pd.DataFrame) -> pd.DataFrame:
    """One row per remitted line key: the matched claim_id, or file and line for what matched nothing."""
    if lines.empty:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    lines = lines.reset_index(drop=True).assign(order=lambda f: np.arange(len(f)))
    own = lines["file_sha256"].astype(str) + "#" + lines["line_no"].astype(str)
    lines["key"] = lines["claim_id"].where(lines["claim_id"].notna(), own)
    adjustments = adjustments[adjustments["level"] == "line"]
    adjusted = lines[["file_sha256", "line_no", "key", "order"]].merge(
        adjustments, on=["file_sha256", "line_no"], how="inner")
    adjusted["code"] = adjusted["group_code"] + "-" + adjusted["carc"]
    denial = adjusted[denial_adjustments(adjusted)]

    totals = lines.groupby("key", sort=False).agg(paid_cents=("paid_cents", "sum"),
                                                  patient_cents=("patient_cents", "sum"),
                                                  answers=("order", "size"), last_order=("order", "max"),
                                                  last_posted=("posted_at", "max"))
    answers = lines[lines["claim_status"] != REVERSAL]
    latest = answers.loc[answers.groupby("key")["order"].idxmax()].set_index("key")
    # A key answered only by reversals still needs a row: its latest reversal stands in.
    missing = totals.index.difference(latest.index)
    if len(missing):
        stand_in = lines[lines["key"].isin(missing)]
        latest = pd.concat([latest, stand_in.loc[stand_in.groupby("key")["order"].idxmax()].set_index("key")])
    latest = latest.reindex(totals.index)

    mine = denial[denial["order"].isin(latest["order"])]
    contractual = adjusted[(adjusted["carc"] == CONTRACTUAL) & adjusted["order"].isin(latest["order"])]
    denied_cents = mine.groupby("key")["amount_cents"].sum().reindex(totals.index).fillna(0).astype("int64")
    primary = mine.sort_values(["key", "amount_cents"], ascending=[True, False], kind="stable") \
        .drop_duplicates("key").set_index("key")["code"].reindex(totals.index)
    carcs = adjusted[adjusted["order"].isin(latest["order"])].drop_duplicates(["key", "code"]) \
        .groupby("key")["code"].agg(" ".join).reindex(totals.index)

    latest_paid = latest["paid_cents"].astype("int64")
    status_by_order = lines.set_index("order")["claim_status"]
    reversed_last = (status_by_order.reindex(totals["last_order"]).to_numpy() == REVERSAL)
    outcome = np.select(
        [reversed_last, (latest_paid <= 0).to_numpy() & (denied_cents > 0).to_numpy(),
         (denied_cents > 0).to_numpy()],
        [REVERSED, DENIED, PARTLY_PAID], default=PAID_IN_FULL)
    return pd.DataFrame({
        "key": totals.index,
        "claim_id": latest["claim_id"].to_numpy(),
        "service": latest["service"].to_numpy(),
        "profile": latest["profile"].to_numpy(),
        "run_id": latest["run_id"].to_numpy(),
        "service_date": latest["service_date"].to_numpy(),
        "hcpcs": latest["hcpcs"].to_numpy(),
        "modifiers": latest["modifiers"].to_numpy(),
        "charge_cents": latest["charge_cents"].astype("int64").to_numpy(),
        "paid_cents": totals["paid_cents"].astype("int64").to_numpy(),
        "patient_cents": totals["patient_cents"].astype("int64").to_numpy(),
        "contractual_cents": contractual.groupby("key")["amount_cents"].sum().reindex(totals.index).fillna(0)
        .astype("int64").to_numpy(),
        "denied_cents": denied_cents.to_numpy(),
        "outcome": outcome,
        "primary_carc": primary.to_numpy(),
        "carcs": carcs.fillna("").to_numpy(),
        "remarks": latest["remarks"].fillna("").to_numpy(),
        "last_posted": totals["last_posted"].to_numpy(),
        "answers": totals["answers"].to_numpy(),
    })
