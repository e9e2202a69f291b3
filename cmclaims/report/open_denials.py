"""Claims the payer denied, as open items: work again until corrected and paid, or written off.

A line cmclaims passed and the payer denied (cmclaims/remit/outcome.py) is
open from the day its remittance was posted, with the denial's CARC as its
reason (`CO-197`), until a later remittance pays it (corrected and billed
again) or finance writes it off after the denial. Only remittances posted on
or before the report's day count, as runs do.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cmclaims.ledger.store import LedgerStore
from cmclaims.remit.ledger_tables import read_tables
from cmclaims.remit.outcome import DENIED, line_outcomes
from cmclaims.report.aging import age_days, bucket_of
from cmclaims.report.dates import local_days, service_days

DENIAL_RULE_NAME = "payer.denied"  # the rule_name of a denial's row; its rule is the CARC (CO-197)


def denied_claims(store: LedgerStore, as_of: dt.date) -> pd.DataFrame:
    """One row per claim whose latest answer, as of `as_of`, is a denial.

    Columns: claim_id, member_id, service_date, hcpcs, modifiers, service, run_id, charge, carc,
    carcs, remarks, denied_at (UTC timestamp), denied_on (local day), file, segment.
    """
    columns = ["claim_id", "member_id", "service_date", "hcpcs", "modifiers", "service", "run_id", "charge",
               "carc", "carcs", "remarks", "denied_at", "denied_on", "file", "segment"]
    reader = getattr(store, "read", None)
    if reader is None:  # a store without the remittance tables' reader has no remittances
        return pd.DataFrame(columns=columns)
    _, lines, adjustments = reader(read_tables)
    if lines.empty:
        return pd.DataFrame(columns=columns)
    counted = local_days(lines["posted_at"]) <= pd.Timestamp(as_of)
    lines = lines[counted & lines["claim_id"].notna()]
    if lines.empty:
        return pd.DataFrame(columns=columns)
    outcomes = line_outcomes(lines, adjustments)
    denied = outcomes[outcomes["outcome"] == DENIED].set_index("claim_id")
    if denied.empty:
        return pd.DataFrame(columns=columns)
    # The remittance line that denied it: the claim's latest answer.
    last = lines[lines["claim_id"].isin(denied.index)].drop_duplicates("claim_id", keep="last").set_index("claim_id")
    return pd.DataFrame({
        "claim_id": denied.index,
        "member_id": last["member_id"].reindex(denied.index).to_numpy(),
        "service_date": denied["service_date"].to_numpy(),
        "hcpcs": denied["hcpcs"].to_numpy(),
        "modifiers": denied["modifiers"].fillna("").str.replace(":", " ").to_numpy(),
        "service": denied["service"].to_numpy(),
        "run_id": denied["run_id"].to_numpy(),
        "charge": (denied["charge_cents"] / 100).round(2).to_numpy(),
        "carc": denied["primary_carc"].to_numpy(),
        "carcs": denied["carcs"].to_numpy(),
        "remarks": denied["remarks"].to_numpy(),
        "denied_at": last["posted_at"].reindex(denied.index).to_numpy(),
        "denied_on": local_days(last["posted_at"].reindex(denied.index)).to_numpy(),
        "file": last["file_name"].reindex(denied.index).to_numpy(),
        "segment": last["segment"].reindex(denied.index).to_numpy(),
    })[columns].reset_index(drop=True)


def open_denials(store: LedgerStore, as_of: dt.date, open_claims: pd.DataFrame, writeoffs: pd.DataFrame,
                 detail_columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(detail rows, finding rows) of the denied claims still open on `as_of`.

    A write-off made after the denial closes it; a claim already open as a
    cmclaims exception is not listed twice.
    """
    denied = denied_claims(store, as_of)
    written = writeoffs[local_days(writeoffs["written_off_at"]) <= pd.Timestamp(as_of)]
    off_at = pd.to_datetime(written.set_index("claim_id")["written_off_at"], utc=True, format="ISO8601")
    off = off_at.reindex(denied["claim_id"].to_numpy()).reset_index(drop=True)
    denied_at = pd.to_datetime(denied["denied_at"], utc=True, format="ISO8601").reset_index(drop=True)
    closed = (off.notna() & (off >= denied_at)).to_numpy()
    denied = denied[~closed & ~denied["claim_id"].isin(open_claims["claim_id"]).to_numpy()].reset_index(drop=True)
    if denied.empty:
        return pd.DataFrame(columns=detail_columns), pd.DataFrame()
    staff = _staff_and_program(store, denied["claim_id"])
    age = age_days(service_days(denied["service_date"]), as_of)
    on = pd.Series(denied["denied_on"]).dt.strftime("%Y-%m-%d").to_numpy()
    remarks = np.where(denied["remarks"].fillna("") != "", " (remarks " + denied["remarks"].fillna("") + ")", "")
    detail = pd.DataFrame({
        "claim_id": denied["claim_id"], "member_id": denied["member_id"], "service_date": denied["service_date"],
        "age_days": age, "aging_bucket": bucket_of(age), "hcpcs": denied["hcpcs"], "modifiers": denied["modifiers"],
        "staff_id": denied["claim_id"].map(staff["staff_id"]), "program": denied["claim_id"].map(staff["program"]),
        "service": denied["service"], "disposition": "denied", "rules": denied["carc"],
        "messages": "denied by the payer: " + denied["carcs"].fillna("") + remarks,
        "charge": denied["charge"], "dollars_held": denied["charge"], "times_rejected": 1,
        "first_rejected": on, "last_rejected": on, "last_run": denied["run_id"],
        "source_file": denied["file"], "source_row": denied["segment"],
    })[detail_columns]
    findings = detail.assign(rule=detail["rules"], rule_name=DENIAL_RULE_NAME, charge_held=detail["dollars_held"],
                             run_id=detail["last_run"])
    return detail, findings


def _staff_and_program(store: LedgerStore, claims: pd.Series) -> pd.DataFrame:
    """Staff and program of the ledger lines the denied claims were billed as."""
    lines = store.lines(columns=["claim_id", "staff_id", "program"]).to_pandas()
    lines = lines[lines["claim_id"].isin(claims)].drop_duplicates("claim_id", keep="last")
    return lines.set_index("claim_id")[["staff_id", "program"]]
